/**
 * The front's end of the propagation stream (shard/propagation.ts): every shard's applied writes, in
 * each shard's execution order, handed to the consumers (the AOF now, replication later). Shards keep
 * a stream only while some consumer listens (ShardOp.Propagate), so a server with neither pays nothing.
 *
 * Order across shards. Shards own disjoint keys, so any interleaving of their streams that keeps each
 * shard's order replays to the same keyspace; what must not be split is an operation that spans shards
 * (an EXEC, a cross-shard MSETNX, RENAME or SUNIONSTORE, FLUSHALL). While such a transaction holds its
 * shards (ShardScheduler hooks), their records are gathered into a group and go out at its end as one
 * MULTI … EXEC, the way Redis propagates a transaction: an EXEC always, any other only when it made more
 * than one record. Before a group opens, the commands sent to its shards before the transaction took
 * them are waited for (ShardOp.Barrier), so their writes go out on their own, before their replies (as
 * appendfsync always needs), and the group holds the transaction's writes (and its shards' own expiry
 * deletions meanwhile).
 *
 * Keyspace-wide commands (FLUSHALL, FLUSHDB, SWAPDB) run on every shard and come back once per shard;
 * they go out once, when the last shard's arrives: by then every shard's earlier writes are out before it.
 */
import { ShardOp } from '../shard/frames.js';
import { NO_DB, RecordKind, readRecords } from '../shard/propagation.js';
import type { ShardPool } from './shard-pool.js';
import type { TransactionHooks } from './multi-shard.js';

/** Receives the stream: `db` is the database a command ran in, or NO_DB for MULTI and EXEC. */
export interface PropagationConsumer {
  feed(db: number, command: Uint8Array): void;
}

const MULTI = Buffer.from('*1\r\n$5\r\nMULTI\r\n');
const EXEC = Buffer.from('*1\r\n$4\r\nEXEC\r\n');
/** Commands every shard runs and propagates alike, recognised by their RESP name (lower case). */
const KEYSPACE_WIDE = new Set(['flushall', 'flushdb', 'swapdb']);

/**
 * Whether a RESP command is FLUSHALL, FLUSHDB or SWAPDB. Runs for every record: those have fewer than
 * ten arguments and a name of six to eight letters starting with f or s, so `*N\r\n$L\r\n` puts the
 * name at byte 8, and most commands are ruled out by two bytes before any string is made.
 */
function isKeyspaceWide(command: Uint8Array): boolean {
  const length = command[5] - 0x30;
  const first = command[8] | 0x20;
  if (command[2] !== 0x0d || command[6] !== 0x0d || length < 6 || length > 8 || (first !== 0x66 && first !== 0x73)) return false;
  return KEYSPACE_WIDE.has(Buffer.from(command.buffer, command.byteOffset + 8, length).toString('latin1').toLowerCase());
}

interface Group {
  shards: ReadonlySet<number>;
  /** An EXEC: wrapped even around a single record. */
  exec: boolean;
  records: { db: number; command: Buffer }[];
}

export class PropagationStream {
  private readonly consumers = new Set<PropagationConsumer>();
  /** The open group of each held shard. */
  private readonly groupOf = new Map<number, Group>();
  /** Keyspace-wide records seen from how many shards so far (they go out at the last). */
  private readonly wideSeen = new Map<string, number>();

  constructor(private readonly pool: ShardPool) {
    pool.onPropagated((shard, bytes) => this.receive(shard, bytes));
  }

  /** Whether anyone consumes the stream. */
  get active(): boolean {
    return this.consumers.size !== 0;
  }

  /**
   * Adds a consumer; the first one turns the shards' streams on. The caller holds every shard (or runs
   * before any client), so the consumer sees every write after this instant and none before.
   */
  async add(consumer: PropagationConsumer): Promise<void> {
    this.consumers.add(consumer);
    if (this.consumers.size === 1) await this.switchShards(true);
  }

  async remove(consumer: PropagationConsumer): Promise<void> {
    if (!this.consumers.delete(consumer)) return;
    if (this.consumers.size === 0) await this.switchShards(false);
  }

  private async switchShards(on: boolean): Promise<void> {
    await Promise.all(Array.from({ length: this.pool.size }, (_, shard) => this.pool.operation(shard, ShardOp.Propagate, { on })));
  }

  /** Wraps the scheduler's hooks so that every transaction's records form one group. */
  hooks(inner: TransactionHooks): TransactionHooks {
    const innerFinishes = new WeakSet<ReadonlySet<number>>();
    return {
      drainBefore: (shards) => {
        if (!this.active) return undefined;
        return Promise.all([...shards].map((shard) => this.pool.operation(shard, ShardOp.Barrier, null))).then(() => undefined);
      },
      started: (shards, exec) => {
        if (inner.started(shards, exec)) innerFinishes.add(shards);
        if (!this.active) return innerFinishes.has(shards);
        const group: Group = { shards, exec: exec === true, records: [] };
        for (const shard of shards) this.groupOf.set(shard, group);
        return true;
      },
      finished: (shards) => {
        for (const shard of shards) {
          const group = this.groupOf.get(shard);
          if (group !== undefined && group.shards === shards) this.closeGroup(group);
        }
        if (innerFinishes.delete(shards)) inner.finished(shards);
      },
    };
  }

  /**
   * Sends out what the open groups of `shards` gathered so far, leaving them open and empty: an AOF
   * rewrite does this before it switches files, so that nothing written before its snapshot lands after it.
   */
  drainGroups(): void {
    for (const group of new Set(this.groupOf.values())) {
      this.emitGroup(group);
      group.records = [];
    }
  }

  private closeGroup(group: Group): void {
    for (const shard of group.shards) if (this.groupOf.get(shard) === group) this.groupOf.delete(shard);
    this.emitGroup(group);
  }

  private emitGroup(group: Group): void {
    const records = group.records;
    if (records.length === 0) return;
    const wrap = group.exec || records.length > 1;
    if (wrap) this.emit(NO_DB, MULTI);
    for (const { db, command } of records) this.emit(db, command);
    if (wrap) this.emit(NO_DB, EXEC);
  }

  private receive(shard: number, bytes: Uint8Array): void {
    if (this.consumers.size === 0) return;
    const group = this.groupOf.get(shard);
    for (const { kind, db, command } of readRecords(bytes)) {
      if (kind === RecordKind.Command && !this.lastOfWide(db, command)) continue;
      if (group === undefined) this.emit(db, command);
      // Within a group a unit's own MULTI and EXEC go: the group is one transaction already.
      else if (kind === RecordKind.Command) group.records.push({ db, command: Buffer.from(command) });
    }
  }

  /** False for a keyspace-wide command some shard has yet to propagate. */
  private lastOfWide(db: number, command: Uint8Array): boolean {
    if (this.pool.size === 1 || !isKeyspaceWide(command)) return true;
    const signature = `${db}:${Buffer.from(command).toString('latin1')}`;
    const seen = (this.wideSeen.get(signature) ?? 0) + 1;
    if (seen === this.pool.size) this.wideSeen.delete(signature);
    else this.wideSeen.set(signature, seen);
    return seen === this.pool.size;
  }

  private emit(db: number, command: Uint8Array): void {
    for (const consumer of this.consumers) consumer.feed(db, command);
  }
}
