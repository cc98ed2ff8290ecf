/**
 * What a command handler works with, and the argument parsing every family shares. Handlers run on the
 * thread that owns the shard (its worker, or a thread holding the shard for a multi-shard operation);
 * they read and write the selected database and write their reply, and never see sockets.
 *
 * `now` is fixed for the whole command, as Redis caches the time per command, so a command that reads a
 * TTL and then writes sees one instant.
 */
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { parseRedisInteger } from '../protocol/request-parser.js';
import type { Database } from '../shard/database.js';
import type { CollectionLimits } from '../collections/limits.js';
import type { Propagation } from '../shard/propagation.js';

export interface ExecutionContext {
  db: Database;
  reply: ReplyWriter;
  now: number;
  /** Every database of the shard, for the commands that reach across them (MOVE, COPY DB, SWAPDB, FLUSHALL). */
  databases: Database[];
  /** The index of `db` in `databases` (the client's SELECTed database). */
  dbIndex: number;
  /** When collections change encoding (the shard's copy of the configuration). */
  limits: CollectionLimits;
  /**
   * Lets a blocking command (blocking.ts) block when its keys are empty; absent where it must answer
   * null instead (inside MULTI/EXEC, the front's own requests, the scratch shard).
   */
  blocker?: Blocker;
  /**
   * The shard's propagation stream while someone consumes it: handlers whose effect is not replayable
   * as sent (relative expiry, random pops, float increments) say here what to propagate instead.
   */
  propagate?: Propagation;
}

/** The shard's side of blocking: registers the running command as waiting on `keys` and writes the marker reply. */
export interface Blocker {
  block(keys: readonly Buffer[], timeoutMs: number): void;
}

export type CommandHandler = (ctx: ExecutionContext, argv: readonly Buffer[]) => void;

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * A 64-bit integer argument or stored value, as Redis's string2ll reads it (no '+', no leading zeros,
 * no spaces, within int64), or undefined. Small values stay numbers; beyond 2^53 the text is read again
 * as a bigint, so arithmetic near the int64 limits is exact.
 */
export function parseInt64(bytes: Uint8Array): number | bigint | undefined {
  const value = parseRedisInteger(bytes, 0, bytes.length);
  if (Number.isNaN(value)) return undefined;
  if (Number.isSafeInteger(value)) return value;
  return BigInt(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1'));
}

/** a + b within int64, or undefined on overflow. */
export function addInt64(a: number | bigint, b: number | bigint): number | bigint | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  const sum = BigInt(a) + BigInt(b);
  if (sum > INT64_MAX || sum < INT64_MIN) return undefined;
  return Number.isSafeInteger(Number(sum)) ? Number(sum) : sum;
}

export function isInt64Min(value: number | bigint): boolean {
  return value === INT64_MIN;
}

/** Case-insensitive comparison of an argument with an upper-case ASCII keyword, without allocating. */
export function isKeyword(arg: Uint8Array, keyword: string): boolean {
  if (arg.length !== keyword.length) return false;
  for (let i = 0; i < arg.length; i++) {
    let c = arg[i];
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== keyword.charCodeAt(i)) return false;
  }
  return true;
}

export function argText(arg: Uint8Array): string {
  return Buffer.from(arg.buffer, arg.byteOffset, arg.length).toString('latin1');
}
