/**
 * Shard operations (ShardOp): work the front asks of a shard that is not a client's command. Each takes
 * one JSON argument and answers JSON.
 */
import { keySlot, shardOfSlot } from '../cluster/slot.js';
import { ExpiryChange } from './database.js';
import { ShardOp } from './frames.js';
import type { Shard } from './shard.js';

interface PopulateArgs {
  db: number;
  count: number;
  prefix: string;
  size: number;
  shard: number;
  shards: number;
}

/**
 * DEBUG POPULATE as Redis does it: keys `prefix:N` for N below count, values `value:N` (cut or
 * zero-padded to `size` when size > 0), existing keys left alone. Every shard walks all N and keeps the
 * keys of its own slots, so the shards fill in parallel with no traffic between them.
 */
function populate(shard: Shard, args: PopulateArgs): number {
  const db = shard.databases[args.db];
  let added = 0;
  for (let i = 0; i < args.count; i++) {
    const key = Buffer.from(`${args.prefix}:${i}`);
    if (shardOfSlot(keySlot(key), args.shards) !== args.shard || db.lookup(key) !== 0) continue;
    const text = Buffer.from(`value:${i}`);
    let value = text;
    if (args.size > 0) {
      value = Buffer.alloc(args.size);
      text.copy(value, 0, 0, Math.min(args.size, text.length));
    }
    db.setString(key, value, ExpiryChange.Clear);
    added++;
  }
  return added;
}

/** Blocks this thread, as Redis's DEBUG SLEEP blocks its one thread. */
function sleep(millis: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, millis);
}

export function runOperation(shard: Shard, operation: number, argument: Uint8Array | undefined): Buffer {
  const args: unknown = argument === undefined ? undefined : JSON.parse(Buffer.from(argument).toString('utf8'));
  let result: unknown;
  if (operation === ShardOp.Stats) result = shard.stats();
  else if (operation === ShardOp.Sleep) result = sleep((args as { millis: number }).millis);
  else if (operation === ShardOp.Populate) result = populate(shard, args as PopulateArgs);
  else throw new Error(`unknown shard operation ${operation}`);
  return Buffer.from(JSON.stringify(result ?? null));
}
