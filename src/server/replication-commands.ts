/**
 * Replication commands the front answers. Until replication exists there are no replicas: WAIT counts
 * none, after waiting as Redis would for replicas that never acknowledge.
 */
import { parseInt64 } from '../commands/context.js';
import { ERR_NOT_INTEGER } from '../protocol/errors.js';
import type { ConnectionHandler } from './connection-commands.js';

/** The longest delay setTimeout takes; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, MAX_TIMER_MS))).then(() => (ms > MAX_TIMER_MS ? sleep(ms - MAX_TIMER_MS) : undefined));
}

/**
 * WAIT numreplicas timeout. Asking for no replica, or
 * running inside EXEC (where nothing blocks), answers at once; otherwise the reply waits out the
 * timeout (0: for ever), since no replica will acknowledge.
 */
const wait: ConnectionHandler = ({ client, writer, argv }) => {
  const replicas = parseInt64(argv[1]);
  if (replicas === undefined) return writer.error(ERR_NOT_INTEGER);
  const timeout = parseInt64(argv[2]);
  if (timeout === undefined) return writer.error('ERR timeout is not an integer or out of range');
  if (timeout < 0) return writer.error('ERR timeout is negative');
  if (replicas <= 0 || client.inExec) return writer.integer(0);
  const forever = new Promise<never>(() => undefined);
  return (timeout === 0 ? forever : sleep(Number(timeout))).then(() => (w) => w.integer(0));
};

export const replicationCommands: Record<string, ConnectionHandler> = { wait };
