/**
 * Multi-step commands whose keys live on several shards (MSETNX here; cross-shard RENAME and COPY and
 * the keyspace commands in keyspace-fanout.ts; DEBUG's shard operations), run atomically and in
 * isolation, as one Redis would run them. One-step commands (MGET MSET DEL …) need less: scatter.ts.
 *
 * Why no shard ever has to be stopped: the front is the only producer of every shard's request ring, so
 * it decides what each shard runs next. A transaction *reserves* its shards: from that instant the front
 * holds back every other command for them (queued here, in arrival order), sends the transaction's own
 * steps, reads their replies, sends further steps if it needs to (MSETNX checks, then sets), and finally
 * releases the shards and sends what it held back. On each involved shard, every other command therefore
 * runs wholly before the transaction (it was sent before the reservation) or wholly after it, and the
 * reservation happens at one instant for all of them: no client can observe half of it.
 *
 * Transactions wait in one FIFO until all their shards are free, so none ever waits for another in a
 * cycle. A client's later commands wait behind its own waiting transaction (the front checks
 * `client.waitingTransactions`), which keeps each client's commands in the order it sent them.
 */
import type { Client } from './client.js';
import { sortStoreBody } from './sort-store.js';
import type { ShardPool } from './shard-pool.js';
import { ONE_REPLY, ZERO_REPLY } from './internal-steps.js';

/** Sends argv to a shard and resolves with the reply bytes (a copy). */
export type ShardCall = (shard: number, argv: readonly Buffer[]) => Promise<Buffer>;

/** What ShardScheduler.submit runs: the shards to hold, and the steps that make the reply. */
export interface TransactionBody {
  shards: ReadonlySet<number>;
  run: (call: ShardCall) => Promise<Buffer>;
}

/** Hands a transaction's reply on, if it has one to hand on after it finished. */
type Delivery = (() => void) | void;

interface Transaction {
  shards: ReadonlySet<number>;
  /**
   * The transaction's steps; the shards are released when it settles. What it returns delivers the
   * reply, once the hooks have heard it finished (the AOF has its writes before the client its answer).
   */
  start: () => Promise<Delivery>;
  /** The client whose command it is; none for the server's own work (a save point's BGSAVE, an AOF rewrite). */
  client: Client | undefined;
  /** The client's later commands wait until it settles, not only until it starts (EXEC). */
  wholly: boolean;
}

/**
 * Told when a transaction takes and releases its shards, before its first step and after its last (the
 * blocked clients keep shards from serving waiters in the middle of a transaction).
 */
export interface TransactionHooks {
  /**
   * Awaited before `started`, if given: resolves once what was sent to `shards` before the transaction
   * took them has run (the propagation stream then tells the transaction's own writes from theirs).
   */
  drainBefore?(shards: ReadonlySet<number>): Promise<void> | undefined;
  /** Returns whether `finished` must be called for this transaction; `exec` says it is a client's EXEC. */
  started(shards: ReadonlySet<number>, exec?: boolean): boolean;
  finished(shards: ReadonlySet<number>): void;
}

export class ShardScheduler {
  hooks: TransactionHooks | undefined = undefined;
  /** For each reserved shard, the sends held back until it is released. */
  private readonly heldBack = new Map<number, (() => void)[]>();
  private readonly waiting: Transaction[] = [];

  constructor(private readonly pool: ShardPool) {}

  /** Whether a transaction holds `shard`: sends to it must then go through `sendOrHold`. */
  isHeld(shard: number): boolean {
    return this.heldBack.size !== 0 && this.heldBack.has(shard);
  }

  /** Sends now, or after the shard's current transaction when it is reserved. */
  sendOrHold(shard: number, send: () => void): void {
    const held = this.heldBack.get(shard);
    if (held === undefined) send();
    else held.push(send);
  }

  /** Queues a transaction over `shards`; `done` receives its reply. */
  submit(client: Client, shards: ReadonlySet<number>, run: (call: ShardCall) => Promise<Buffer>, done: (reply: Buffer) => void): void {
    client.waitingTransactions++;
    // The client's database and protocol now: it may SELECT or HELLO before the last step runs.
    const { db, protocol } = client;
    const call: ShardCall = (shard, argv) => this.pool.call(shard, db, protocol, argv);
    const start = async () => {
      let reply: Buffer;
      try {
        reply = await run(call);
      } catch (error) {
        // A step that throws is a bug in sabre, not in the command: the client gets an error, and the
        // shards are released all the same (execute's finally), so nobody else waits forever.
        reply = internalErrorReply(error);
      }
      return () => done(reply);
    };
    this.waiting.push({ shards, client, start, wholly: false });
    this.startReady();
  }

  /**
   * Queues a client's server operation over `shards` (DEBUG SLEEP, POPULATE, EXEC): it runs with them
   * held. With `wholly`, the client's later commands wait until it has finished: EXEC may SELECT or
   * SUBSCRIBE on the client's behalf, which what the client sent next must see.
   */
  submitOperation(client: Client | undefined, shards: ReadonlySet<number>, work: () => Promise<Delivery>, wholly = false): void {
    if (client !== undefined) client.waitingTransactions++;
    this.waiting.push({ shards, client, start: work, wholly });
    this.startReady();
  }

  private startReady(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      for (const shard of next.shards) if (this.heldBack.has(shard)) return;
      this.waiting.shift();
      for (const shard of next.shards) this.heldBack.set(shard, []);
      if (!next.wholly) this.releaseClient(next.client);
      void this.execute(next);
    }
  }

  /**
   * Keeps the client's later commands waiting, as a queued transaction does, until the returned
   * release is called (BGSAVE's wait for its epochs to be queued).
   */
  holdClient(client: Client): () => void {
    client.waitingTransactions++;
    return () => this.releaseClient(client);
  }

  private releaseClient(client: Client | undefined): void {
    if (client === undefined) return;
    client.waitingTransactions--;
    client.releaseDeferred();
  }

  private async execute(transaction: Transaction): Promise<void> {
    const settling = this.hooks?.drainBefore?.(transaction.shards);
    if (settling !== undefined) await settling;
    const hooked = this.hooks?.started(transaction.shards, transaction.wholly) ?? false;
    let deliver: Delivery;
    try {
      deliver = await transaction.start();
    } finally {
      if (hooked) this.hooks?.finished(transaction.shards);
      if (transaction.wholly) this.releaseClient(transaction.client);
      for (const shard of transaction.shards) {
        const held = this.heldBack.get(shard)!;
        this.heldBack.delete(shard);
        for (const send of held) this.sendOrHold(shard, send);
      }
      this.startReady();
    }
    deliver?.();
  }
}

/**
 * The reply for a step that threw: a bug in sabre, not in the command, answered as an error so that the
 * client is not left waiting and the shards it held are released.
 */
export function internalErrorReply(error: unknown): Buffer {
  return Buffer.from(`-ERR sabre internal error: ${(error as Error).message.replace(/[\r\n]/g, ' ')}\r\n`);
}

/** The positions of a multi-key command's keys, grouped by the shard each key lives on. */
export function split(keys: readonly Buffer[], shardOf: (key: Buffer) => number): Map<number, number[]> {
  const byShard = new Map<number, number[]>();
  keys.forEach((key, index) => {
    const shard = shardOf(key);
    const list = byShard.get(shard);
    if (list === undefined) byShard.set(shard, [index]);
    else list.push(index);
  });
  return byShard;
}

const INTEGER = /^:(-?\d+)\r\n$/;

export function sumIntegers(replies: readonly Buffer[]): Buffer {
  let total = 0;
  for (const reply of replies) {
    const match = INTEGER.exec(reply.toString('latin1'));
    // An error from any part is the command's error (none of these commands can fail half way).
    if (match === null) return reply;
    total += Number(match[1]);
  }
  return Buffer.from(`:${total}\r\n`);
}

/**
 * The transaction body of a multi-step command across shards, or undefined for any other command:
 * MSETNX checks every key, then sets, with the shards held in between; SORT … STORE sorts on the
 * sorted key's shard and writes on the destination's (sort-store.ts). `shardOf` gives a key's shard.
 */
export function multiShardBody(name: string, argv: readonly Buffer[], shardOf: (key: Buffer) => number): TransactionBody | undefined {
  if (name === 'sort') return sortStoreBody(argv, shardOf);
  if (name === 'msetnx') {
    const keys: Buffer[] = [];
    for (let i = 1; i < argv.length; i += 2) keys.push(argv[i]);
    const byShard = split(keys, shardOf);
    const setParts = (call: ShardCall) =>
      Promise.all([...byShard].map(([shard, indexes]) => call(shard, [Buffer.from('MSET'), ...indexes.flatMap((i) => [argv[1 + 2 * i], argv[2 + 2 * i]])])));
    return {
      shards: new Set(byShard.keys()),
      run: async (call) => {
        // MSETNX: nothing is set if any key exists, and the shards stay reserved between check and set.
        const existing = sumIntegers(
          await Promise.all([...byShard].map(([shard, indexes]) => call(shard, [Buffer.from('EXISTS'), ...indexes.map((i) => keys[i])]))),
        );
        if (!existing.equals(ZERO_REPLY)) return ZERO_REPLY;
        await setParts(call);
        return ONE_REPLY;
      },
    };
  }
  return undefined;
}
