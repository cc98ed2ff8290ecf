/**
 * Shared by the keyspace tests: replies read back into values, key lists as sorted sets (KEYS and SCAN
 * order their keys by hash, which differs between sabre and Redis), a whole SCAN iteration, and keys
 * chosen to land on a given shard of a sabre started with --shards N.
 */
import { expect } from 'vitest';
import { keySlot, SLOT_COUNT } from '../../src/cluster/slot.js';
import { ReplyReader, type RespValue } from '../../src/protocol/reply-reader.js';
import type { RedisConnection } from './differential.js';

export function parseReply(bytes: Buffer): RespValue {
  const reader = new ReplyReader();
  reader.feed(bytes);
  const reply = reader.next();
  if (reply === undefined || reader.pendingBytes !== 0) throw new Error(`not one whole reply: ${JSON.stringify(bytes.toString('latin1'))}`);
  return reply;
}

/** The elements of an array reply of bulk strings, as latin1 text. */
export function bulkStrings(reply: RespValue): string[] {
  if (reply.type !== 'array' || reply.value === null) throw new Error(`not an array: ${JSON.stringify(reply)}`);
  return reply.value.map((item) => {
    if (item.type !== 'bulk' || item.value === null) throw new Error(`not a bulk string: ${JSON.stringify(item)}`);
    return item.value.toString('latin1');
  });
}

/** A KEYS reply's keys, sorted; any other reply as its bytes, so that errors still compare exactly. */
export function sortedKeys(bytes: Buffer): string {
  const reply = parseReply(bytes);
  return reply.type === 'array' ? JSON.stringify(bulkStrings(reply).sort()) : bytes.toString('latin1');
}

export interface ScanRun {
  /** Every key returned, in order, repeats included. */
  keys: string[];
  /** Every cursor the server returned, the final 0 included. */
  cursors: bigint[];
}

/** SCAN from cursor 0 until the server returns 0 again, with `options` (MATCH, COUNT, TYPE) on each call. */
export async function scanAll(connection: RedisConnection, options: readonly string[] = [], maxCalls = 100_000): Promise<ScanRun> {
  const run: ScanRun = { keys: [], cursors: [] };
  let cursor = '0';
  for (let calls = 0; calls < maxCalls; calls++) {
    const [bytes] = await connection.run([['SCAN', cursor, ...options].map((arg) => Buffer.from(arg, 'latin1'))]);
    const reply = parseReply(bytes);
    if (reply.type !== 'array' || reply.value === null || reply.value.length !== 2) throw new Error(`SCAN answered ${bytes.toString('latin1')}`);
    const [next, keys] = reply.value;
    if (next.type !== 'bulk' || next.value === null) throw new Error(`SCAN cursor is not a bulk string: ${bytes.toString('latin1')}`);
    cursor = next.value.toString('latin1');
    run.cursors.push(BigInt(cursor));
    run.keys.push(...bulkStrings(keys));
    if (cursor === '0') return run;
  }
  throw new Error(`SCAN did not end within ${maxCalls} calls`);
}

/** The shard the front routes `key` to, with `shards` shards (contiguous slot ranges, as front.ts assigns them). */
export function shardOfKey(key: string, shards: number): number {
  return Math.floor((keySlot(Buffer.from(key, 'latin1')) * shards) / SLOT_COUNT);
}

/** A key named `${prefix}N` on each shard, for the first N that lands there. */
export function keyPerShard(prefix: string, shards: number): string[] {
  const keys: string[] = [];
  for (let shard = 0; shard < shards; shard++) {
    let n = 0;
    while (shardOfKey(`${prefix}${n}`, shards) !== shard) n++;
    keys.push(`${prefix}${n}`);
  }
  return keys;
}

/** The three-shard sabre the sharded tests run against. */
export const SHARDS = 3;

/** keyPerShard for SHARDS shards, checked to be one key on each. */
export function keysOnEveryShard(prefix: string): string[] {
  const keys = keyPerShard(prefix, SHARDS);
  expect(new Set(keys.map((key) => shardOfKey(key, SHARDS))).size).toBe(SHARDS);
  return keys;
}

/** A reply as text: a bulk string's bytes, anything else as JSON. */
export const text = (value: RespValue): string => (value.type === 'bulk' && value.value !== null ? value.value.toString('latin1') : JSON.stringify(value));

/** The elements of an array, set or map reply, flattened. */
export function elements(value: RespValue): RespValue[] {
  if (value.type === 'map') return value.value.flat();
  if (value.type === 'set') return value.value;
  return value.type === 'array' && value.value !== null ? value.value : [];
}

/** A flat field, value, field, value list as sorted JSON pairs, to compare where order is the hash table's. */
export function pairsOf(items: readonly RespValue[]): string[] {
  const pairs: string[] = [];
  for (let i = 0; i + 1 < items.length; i += 2) pairs.push(JSON.stringify([text(items[i]), text(items[i + 1])]));
  return pairs.sort();
}

/**
 * HRANDFIELD's or ZRANDMEMBER's reply reduced to what chance does not decide: its length, whether it is
 * nested (RESP3 pairs), and whether its names are distinct (with a negative count repeats are chance).
 * RESP2 flattens WITHVALUES / WITHSCORES into name, value, name, value: only the even places are names.
 */
export function randomPairsShape(reply: RespValue, repeats: boolean, withValues: boolean): string {
  if (reply.type !== 'array' || reply.value === null) return reply.type === 'bulk' ? (reply.value === null ? 'null' : 'bulk') : JSON.stringify(reply);
  const nested = reply.value.length > 0 && reply.value[0].type === 'array';
  const flat = reply.value.map(text);
  const names = nested ? reply.value.map((pair) => text(elements(pair)[0])) : withValues ? flat.filter((_, i) => i % 2 === 0) : flat;
  return JSON.stringify({ length: reply.value.length, nested, distinct: repeats || new Set(names).size === names.length });
}

/** Two HSCAN or ZSCAN replies that each hold a whole collection (cursor 0): the same pairs, in any order. */
export function sameWholeScan(ours: RespValue, theirs: RespValue): boolean {
  const [cursorA, itemsA] = elements(ours);
  const [cursorC, itemsC] = elements(theirs);
  return text(cursorA) === '0' && text(cursorC) === '0' && JSON.stringify(pairsOf(elements(itemsA))) === JSON.stringify(pairsOf(elements(itemsC)));
}

/** Two HRANDFIELD or ZRANDMEMBER replies to `argv` with the same randomPairsShape. */
export function sameRandomPairs(argv: readonly Buffer[], ours: RespValue, theirs: RespValue): boolean {
  const repeats = argv.length > 2 && argv[2][0] === 0x2d;
  const withValues = argv.length > 3;
  return randomPairsShape(ours, repeats, withValues) === randomPairsShape(theirs, repeats, withValues);
}
