/**
 * MULTI, EXEC, DISCARD, WATCH and UNWATCH, with Redis 7.0's replies and errors.
 *
 * MULTI starts queueing: every later command of the client but EXEC, DISCARD, MULTI, WATCH, QUIT and
 * RESET is checked (unknown command, arity) and answered +QUEUED, or refused, which dooms the
 * transaction to -EXECABORT (the front's `queue` and `refuse`). EXEC runs the queue with every shard
 * the commands (and watched keys) need held at once, through the same scheduler as any multi-shard
 * command, so no other client sees a partial transaction and transactions never wait in a cycle.
 *
 * WATCH registers each key on its shard, which marks the watch touched at every change of the key
 * Redis would count (KeyspaceSignals, with Redis's rules for keys already expired when watched). EXEC,
 * with the shards held, asks them: a touched (or since expired) key aborts the transaction with a null
 * reply, as Redis does.
 */
import type { CommandSpec } from '../commands/table.js';
import type { ConnectionHandler } from './connection-commands.js';

/** A client's transaction in the making (between MULTI and EXEC). */
export class QueuedTransaction {
  readonly commands: { spec: CommandSpec; argv: Buffer[] }[] = [];
  /** A command was refused while queueing: EXEC answers EXECABORT. */
  failed = false;
}

/** A key the client watches (its shard keeps the watch's state). */
export interface WatchedKey {
  db: number;
  key: Buffer;
  shard: number;
}

/** The commands that run at once even between MULTI and EXEC. */
export const RUN_IN_MULTI: ReadonlySet<string> = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

export const ERR_EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';
export const ERR_NOT_IN_MULTI = 'ERR Command not allowed inside a transaction';

/** A watch's identity: database and key bytes. */
export function watchName(db: number, key: Buffer): string {
  return `${db}:${key.toString('latin1')}`;
}

export const transactionCommands: Record<string, ConnectionHandler> = {
  multi: ({ client, writer }) => {
    if (client.transaction !== undefined) return writer.error('ERR MULTI calls can not be nested');
    client.transaction = new QueuedTransaction();
    writer.ok();
  },

  exec: ({ client, writer, server, position }) => {
    const transaction = client.transaction;
    if (transaction === undefined) return writer.error('ERR EXEC without MULTI');
    client.transaction = undefined;
    return server.exec(client, transaction, position).then((reply) => (w) => w.raw(reply));
  },

  discard: ({ client, writer, server }) => {
    if (client.transaction === undefined) return writer.error('ERR DISCARD without MULTI');
    client.transaction = undefined;
    server.unwatch(client);
    writer.ok();
  },

  watch: ({ client, writer, server, argv }) => {
    if (client.transaction !== undefined) return writer.error('ERR WATCH inside MULTI is not allowed');
    return server.watch(client, argv.slice(1)).then(() => (w) => w.ok());
  },

  unwatch: ({ client, writer, server }) => {
    server.unwatch(client);
    writer.ok();
  },
};
