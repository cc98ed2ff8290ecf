/**
 * Shard operations (ShardOp): work the front asks of a shard that is not a client's command. Each takes
 * one JSON argument and answers JSON.
 */
import { BACKGROUND_PART_TAG, loadRdbShare, rdbPartPath, writeRdbPart } from '../persistence/rdb-files.js';
import { writeAofPart } from '../persistence/aof-base.js';
import { keySlot, shardOfSlot } from '../cluster/slot.js';
import { ExpiryChange } from './database.js';
import { ShardOp } from './frames.js';
import type { Shard } from './shard.js';
import type { ShardSettings } from './settings.js';
import { Propagation } from './propagation.js';

interface PopulateArgs {
  db: number;
  count: number;
  prefix: string;
  size: number;
  shard: number;
  shards: number;
}

/** Writes `value` in decimal at `at`; returns where it ended. */
function writeDecimal(target: Buffer, at: number, value: number): number {
  return at + target.write(String(value), at, 'latin1');
}

/**
 * DEBUG POPULATE as Redis does it: keys `prefix:N` for N below count, values `value:N` (cut or
 * zero-padded to `size` when size > 0), existing keys left alone. Every shard walks all N and keeps the
 * keys of its own slots, so the shards fill in parallel with no traffic between them. Keys and values
 * are built in two reused buffers (the database copies them into the arena), so a million keys leave
 * no garbage behind in the shard's JavaScript heap.
 */
function populate(shard: Shard, args: PopulateArgs): number {
  const db = shard.databases[args.db];
  const prefix = Buffer.from(`${args.prefix}:`, 'latin1');
  const key = Buffer.alloc(prefix.length + 20);
  prefix.copy(key);
  const value = Buffer.alloc(Math.max(args.size, 32));
  value.write('value:', 'latin1');
  let added = 0;
  for (let i = 0; i < args.count; i++) {
    const keyBytes = key.subarray(0, writeDecimal(key, prefix.length, i));
    if (shardOfSlot(keySlot(keyBytes), args.shards) !== args.shard || db.lookup(keyBytes) !== 0) continue;
    const textEnd = writeDecimal(value, 6, i);
    let valueBytes: Buffer;
    if (args.size === 0) valueBytes = value.subarray(0, textEnd);
    else {
      if (textEnd < args.size) value.fill(0, textEnd, args.size);
      valueBytes = value.subarray(0, args.size);
    }
    db.setString(keyBytes, valueBytes, ExpiryChange.Clear);
    added++;
  }
  return added;
}

/** The keys of the WATCH operations, which travel base64-encoded in their JSON argument. */
interface WatchArgs {
  db: number;
  keys: string[];
  /** The watching client's id. */
  watcher: number;
}

/** WATCH, its undoing and EXEC's question; expiry is judged by the clock now, as Redis judges it. */
function watchOperation(shard: Shard, operation: number, { db, keys, watcher }: WatchArgs): boolean | undefined {
  shard.tick();
  const signals = shard.signals;
  const decoded = keys.map((key) => Buffer.from(key, 'base64'));
  if (operation === ShardOp.WatchTouched) return decoded.some((key) => signals.touched(db, key, watcher));
  for (const key of decoded) {
    if (operation === ShardOp.Watch) signals.watch(db, key, watcher);
    else signals.unwatch(db, key, watcher);
  }
  return undefined;
}

/** BlockNotify's and Unblock's argument (Unblock needs only the token). */
interface BlockArgs {
  token: number;
  db: number;
  /** base64, as WatchArgs' keys. */
  keys: string[];
}

/** Blocks this thread, as Redis's DEBUG SLEEP blocks its one thread. */
function sleep(millis: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, millis);
}

/**
 * The occupancy of every data page of a shard's arena, walked on the shard's own thread, so it is exact.
 * `pages` holds four numbers per page, flat to keep the JSON small: PageKind, slot size (run size for
 * runs), live slots, slot capacity.
 */
export interface ShardPageMap {
  pages: number[];
  /** Segment and page index of each page, in the same order (two numbers per page). */
  places: number[];
}

function pageMap(shard: Shard): ShardPageMap {
  const pages: number[] = [];
  const places: number[] = [];
  for (const page of shard.arena.pages()) {
    pages.push(page.kind, page.slotSize, page.live, page.capacity);
    places.push(page.segment, page.page);
  }
  // Published counters may lag the owner by a few calls: publish them, so an INFO sent next matches the map.
  shard.arena.publishStats();
  return { pages, places };
}

/** What SAVE and loading send every shard (the front adds `shard` and `shards`); DEBUG RELOAD adds flush and merge. */
interface RdbFileArgs {
  target: string;
  compression: boolean;
  shard: number;
  shards: number;
  flush?: boolean;
  merge?: boolean;
}

/** A failed write or a bad file is reported, not thrown: the shard goes on serving. */
function rdbFileOperation(shard: Shard, operation: number, args: RdbFileArgs): { keys: number; dirty: number; expiredSkipped?: number } | { error: string } {
  try {
    const dirty = shard.signals.dirty;
    if (operation === ShardOp.SaveRdbPart) return { keys: writeRdbPart(shard.databases, rdbPartPath(args.target, args.shard), { compression: args.compression }), dirty };
    if (operation === ShardOp.SaveAofPart) return { keys: writeAofPart(shard.databases, rdbPartPath(args.target, args.shard)), dirty };
    return { ...loadRdbShare(shard, args.target, args.shard, args.shards, { flush: args.flush === true, merge: args.merge === true }), dirty };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

export function runOperation(shard: Shard, operation: number, argument: Uint8Array | undefined): Buffer {
  const args: unknown = argument === undefined ? undefined : JSON.parse(Buffer.from(argument).toString('utf8'));
  let result: unknown;
  if (operation === ShardOp.Stats) result = shard.stats();
  else if (operation === ShardOp.Sleep) result = sleep((args as { millis: number }).millis);
  else if (operation === ShardOp.Populate) result = populate(shard, args as PopulateArgs);
  else if (operation === ShardOp.Configure) shard.configure(args as Partial<ShardSettings>);
  else if (operation === ShardOp.Purge) result = shard.arena.purge();
  else if (operation === ShardOp.Watch || operation === ShardOp.Unwatch || operation === ShardOp.WatchTouched) result = watchOperation(shard, operation, args as WatchArgs);
  else if (operation === ShardOp.Track) shard.signals.tracking = (args as { on: boolean }).on ? 1 : 0;
  else if (operation === ShardOp.BlockNotify) {
    const { token, db } = args as BlockArgs;
    shard.waiters.add(token, db, 2, undefined, (args as BlockArgs).keys.map((key) => Buffer.from(key, 'base64')));
  } else if (operation === ShardOp.Unblock) result = shard.waiters.remove((args as BlockArgs).token);
  else if (operation === ShardOp.PageMap) result = pageMap(shard);
  else if (operation === ShardOp.HoldWaiters) shard.waiters.held = (args as { held: boolean }).held;
  else if (operation === ShardOp.Barrier) result = null;
  else if (operation === ShardOp.Propagate) shard.signals.propagation = (args as { on: boolean }).on ? (shard.signals.propagation ?? new Propagation()) : undefined;
  else if (operation === ShardOp.SaveRdbPart || operation === ShardOp.SaveAofPart || operation === ShardOp.LoadRdb) result = rdbFileOperation(shard, operation, args as RdbFileArgs);
  else if (operation === ShardOp.BeginSnapshot) {
    const { target, compression, shard: index } = args as RdbFileArgs;
    result = { started: shard.snapshots.begin(rdbPartPath(target, index, BACKGROUND_PART_TAG), compression), dirty: shard.signals.dirty };
  } else if (operation === ShardOp.SnapshotStatus) result = shard.snapshots.status();
  else if (operation === ShardOp.PrepareSnapshot) shard.snapshots.prepare();
  else throw new Error(`unknown shard operation ${operation}`);
  return Buffer.from(JSON.stringify(result ?? null));
}
