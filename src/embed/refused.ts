/**
 * Commands an embedded client does not run, and why. They are refused before anything is sent, with a
 * PoolError naming what to use instead; over pool.listen() a socket client still runs them all.
 *
 * - Output that is not a reply to a request (SUBSCRIBE and the rest of Pub/Sub's subscribed mode,
 *   MONITOR, CLIENT TRACKING's pushes) has nobody to go to in a request/response API.
 * - CLIENT REPLY OFF/SKIP leaves requests unanswered, and HELLO 3 changes the reply protocol under
 *   callers that expect RESP2's shapes.
 * - QUIT and SHUTDOWN end the connection or the pool: pool.close() does that.
 * - Blocking commands (BLPOP …) hold their connection until served; on a connection shared by every
 *   caller of a thread that would stall them all, so they run on a dedicated one (pool.client()).
 */
import { isBlockingCommand } from '../commands/blocking.js';
import { PoolError } from './reply-error.js';

const REFUSED: ReadonlyMap<string, string> = new Map([
  ['subscribe', 'Pub/Sub subscriptions have no place in a request/response client: subscribe through pool.listen() and a Redis client'],
  ['psubscribe', 'Pub/Sub subscriptions have no place in a request/response client: subscribe through pool.listen() and a Redis client'],
  ['ssubscribe', 'Pub/Sub subscriptions have no place in a request/response client: subscribe through pool.listen() and a Redis client'],
  ['unsubscribe', 'an embedded client never subscribes'],
  ['punsubscribe', 'an embedded client never subscribes'],
  ['sunsubscribe', 'an embedded client never subscribes'],
  ['monitor', 'MONITOR streams other clients\' commands: run it through pool.listen() and redis-cli'],
  ['hello', 'embedded clients speak RESP2 only'],
  ['quit', 'use close()'],
  ['shutdown', 'use pool.close()'],
  ['sync', 'replication runs over pool.listen()'],
  ['psync', 'replication runs over pool.listen()'],
]);

const REFUSED_CLIENT_SUBCOMMANDS: ReadonlyMap<string, string> = new Map([
  ['reply', 'every embedded request gets its reply'],
  ['tracking', 'tracking invalidations are pushes, which an embedded client does not take: use pool.listen()'],
]);

/** Throws PoolError if an embedded client may not run `name` (with `subcommand`); `dedicated` connections may block. */
export function refuseEmbedded(name: string, subcommand: string | undefined, dedicated: boolean): void {
  const lower = name.toLowerCase();
  const why = REFUSED.get(lower) ?? (lower === 'client' && subcommand !== undefined ? REFUSED_CLIENT_SUBCOMMANDS.get(subcommand.toLowerCase()) : undefined);
  if (why !== undefined) throw new PoolError(`${lower.toUpperCase()}${lower === 'client' ? ` ${subcommand!.toUpperCase()}` : ''} is not allowed in embedded mode: ${why}`);
  if (!dedicated && isBlockingCommand(lower)) {
    throw new PoolError(`${lower.toUpperCase()} blocks its connection, which this one shares with every caller: run it on a dedicated connection (pool.client())`);
  }
}
