/**
 * The clients blocked on this shard's keys (Redis's db->blocking_keys and server.ready_keys): for each
 * awaited key, its waiters in the order they blocked, and the awaited keys that a command has made ready
 * since the shard last served its waiters.
 *
 * A waiter is known by its token: the id of the request that blocked (the front's, unique while it
 * waits). It is either a blocked command, which the shard serves itself right after the command that
 * made its key ready (Shard.serveBlocked), before any other request runs; or notify-only, for a command
 * whose keys live on several shards: the shard only tells the front that the key is ready, and the front
 * retries the command with the shards held (blocked-clients.ts on the front).
 *
 * Invariants: a waiter is in byToken iff it is in the queue of each of its keys; a key has a queue iff
 * someone waits on it; a name is in readyNames iff it is in `ready`.
 */
import { watchName } from './keyspace-signals.js';

export interface Waiter {
  token: number;
  db: number;
  protocol: 2 | 3;
  /** The blocking command (a copy: request bytes are only lent); undefined for a notify-only waiter. */
  argv: Buffer[] | undefined;
  /** Its keys by watchName (db and key bytes). */
  names: string[];
}

/** The reply a blocked command gives the front instead of its own: a 0 byte (no RESP reply starts so), then the timeout in ms. */
export function blockedReply(timeoutMs: number): Buffer {
  return Buffer.from(`\0${timeoutMs}`, 'latin1');
}

/** The timeout in a blockedReply, or undefined for any other reply. */
export function blockedTimeout(reply: Uint8Array): number | undefined {
  if (reply.length === 0 || reply[0] !== 0) return undefined;
  return Number(Buffer.from(reply.buffer, reply.byteOffset + 1, reply.length - 1).toString('latin1'));
}

export class BlockedWaiters {
  private readonly byKey = new Map<string, Waiter[]>();
  private readonly byToken = new Map<number, Waiter>();
  private readonly ready: { db: number; key: Buffer }[] = [];
  private readonly readyNames = new Set<string>();
  /** Set while a transaction holds the shard: ready keys wait until it is over (ShardOp.HoldWaiters). */
  held = false;

  /** Blocked waiters (notify-only ones included). */
  get count(): number {
    return this.byToken.size;
  }

  /** Whether ready keys wait to be served, and may be now. */
  get anyReady(): boolean {
    return this.ready.length !== 0 && !this.held;
  }

  add(token: number, db: number, protocol: 2 | 3, argv: Buffer[] | undefined, keys: readonly Uint8Array[]): void {
    const names = [...new Set(keys.map((key) => watchName(db, key)))];
    const waiter: Waiter = { token, db, protocol, argv, names };
    this.byToken.set(token, waiter);
    for (const name of names) {
      const queue = this.byKey.get(name);
      if (queue === undefined) this.byKey.set(name, [waiter]);
      else queue.push(waiter);
    }
  }

  /** Forgets a waiter; returns whether it was still waiting. */
  remove(token: number): boolean {
    const waiter = this.byToken.get(token);
    if (waiter === undefined) return false;
    this.byToken.delete(token);
    for (const name of waiter.names) {
      const queue = this.byKey.get(name)!;
      queue.splice(queue.indexOf(waiter), 1);
      if (queue.length === 0) this.byKey.delete(name);
    }
    return true;
  }

  /** KeyspaceSignals.keyReady: a list or sorted set was stored under `key`. */
  readonly keyReady = (db: number, key: Uint8Array): void => {
    if (this.byKey.size === 0) return;
    const name = watchName(db, key);
    if (!this.byKey.has(name) || this.readyNames.has(name)) return;
    this.readyNames.add(name);
    this.ready.push({ db, key: Buffer.from(key) });
  };

  /** KeyspaceSignals.databaseReady: every key awaited in `db` may be ready (serving checks). */
  readonly databaseReady = (db: number): void => {
    const prefix = `${db}:`;
    for (const name of this.byKey.keys()) {
      if (name.startsWith(prefix)) this.keyReady(db, Buffer.from(name.slice(prefix.length), 'latin1'));
    }
  };

  /** The oldest key made ready and not yet taken. */
  takeReady(): { db: number; key: Buffer } | undefined {
    const next = this.ready.shift();
    if (next !== undefined) this.readyNames.delete(watchName(next.db, next.key));
    return next;
  }

  /** The waiters on a key, oldest first (a copy: serving them removes them). */
  waitersOn(db: number, key: Uint8Array): Waiter[] {
    return [...(this.byKey.get(watchName(db, key)) ?? [])];
  }
}
