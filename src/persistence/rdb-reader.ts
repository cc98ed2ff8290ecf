/**
 * Reads one value of any RDB type Redis 7.0 (and 7.2's listpack sets) may write or still load: plain
 * lists, sets, hashes and sorted sets, their ziplist, zipmap-free listpack and intset blobs, and both
 * quicklist forms. The value comes back as plain elements (RdbValue) plus whether it came packed; what
 * encoding it takes in sabre is decided when it is stored (rdb-store.ts), by the shard's limits, as
 * Redis decides on load.
 *
 * Modules and streams are refused with an error that says so: sabre has neither.
 */
import { parseDouble } from '../commands/strtod.js';
import { ValueType } from '../shard/entry.js';
import { decodeIntset } from './intset-blob.js';
import { decodeListpack } from './listpack.js';
import { QuicklistContainer, RdbType } from './rdb-format.js';
import { RdbFormatError, type RdbInput } from './rdb-input.js';
import { decodeZiplist } from './ziplist.js';

export type RdbValue =
  | { type: ValueType.String; bytes: Buffer }
  | { type: ValueType.List; items: Buffer[] }
  | { type: ValueType.Set; members: Buffer[] }
  | { type: ValueType.Hash; pairs: Buffer[] }
  | { type: ValueType.ZSet; members: Buffer[]; scores: number[] };

/** Whether the first byte of a value (its type) is one sabre reads. */
export function isValueType(type: number): boolean {
  return (type >= RdbType.String && type <= RdbType.ZSet2) || (type >= RdbType.HashZipmap && type <= RdbType.StreamListpacks3);
}

/** Decodes a blob (listpack, ziplist, intset), turning its error into one at the blob's offset. */
function blob(input: RdbInput, decode: (bytes: Uint8Array) => Buffer[]): Buffer[] {
  const start = input.at;
  const bytes = input.string();
  try {
    return decode(bytes);
  } catch (error) {
    if (error instanceof RdbFormatError) throw error;
    return input.fail((error as Error).message, start);
  }
}

function strings(input: RdbInput, count: number): Buffer[] {
  const items = new Array<Buffer>(count);
  for (let i = 0; i < count; i++) items[i] = input.string();
  return items;
}

function even(input: RdbInput, items: Buffer[], start: number): Buffer[] {
  if (items.length % 2 !== 0) input.fail('odd number of elements in a pair blob', start);
  return items;
}

/** A sorted set from alternating member / score-text elements (ziplist and listpack forms). */
function sortedSetFromPairs(input: RdbInput, items: Buffer[], start: number): RdbValue {
  even(input, items, start);
  const members: Buffer[] = [];
  const scores: number[] = [];
  for (let i = 0; i < items.length; i += 2) {
    const score = parseDouble(items[i + 1].toString('latin1'));
    if (score === undefined) input.fail('bad score in a sorted set blob', start);
    members.push(items[i]);
    scores.push(score);
  }
  return { type: ValueType.ZSet, members, scores };
}

/** Reads the value of RDB type `type` at the input's position. */
export function readValue(input: RdbInput, type: number): RdbValue {
  const start = input.at;
  switch (type) {
    case RdbType.String:
      return { type: ValueType.String, bytes: input.string() };
    case RdbType.List:
      return { type: ValueType.List, items: strings(input, input.count()) };
    case RdbType.Set:
      return { type: ValueType.Set, members: strings(input, input.count()) };
    case RdbType.SetIntset:
      return { type: ValueType.Set, members: blob(input, decodeIntset) };
    case RdbType.SetListpack:
      return { type: ValueType.Set, members: blob(input, decodeListpack) };
    case RdbType.Hash:
      return { type: ValueType.Hash, pairs: strings(input, input.count(2) * 2) };
    case RdbType.HashZiplist:
      return { type: ValueType.Hash, pairs: even(input, blob(input, decodeZiplist), start) };
    case RdbType.HashListpack:
      return { type: ValueType.Hash, pairs: even(input, blob(input, decodeListpack), start) };
    case RdbType.ZSet:
    case RdbType.ZSet2: {
      const count = input.count(2);
      const members: Buffer[] = [];
      const scores: number[] = [];
      for (let i = 0; i < count; i++) {
        members.push(input.string());
        scores.push(type === RdbType.ZSet2 ? input.doubleLE() : input.textDouble());
      }
      if (scores.some(Number.isNaN)) input.fail('NaN score in a sorted set', start);
      return { type: ValueType.ZSet, members, scores };
    }
    case RdbType.ZSetZiplist:
      return sortedSetFromPairs(input, blob(input, decodeZiplist), start);
    case RdbType.ZSetListpack:
      return sortedSetFromPairs(input, blob(input, decodeListpack), start);
    case RdbType.ListZiplist:
      return { type: ValueType.List, items: blob(input, decodeZiplist) };
    case RdbType.ListQuicklist:
    case RdbType.ListQuicklist2: {
      const nodes = input.count();
      const items: Buffer[] = [];
      for (let node = 0; node < nodes; node++) {
        const container = type === RdbType.ListQuicklist2 ? input.length() : QuicklistContainer.Packed;
        if (container === QuicklistContainer.Plain) {
          items.push(input.string());
          continue;
        }
        if (container !== QuicklistContainer.Packed) input.fail(`unknown quicklist container ${container}`);
        const nodeItems = blob(input, type === RdbType.ListQuicklist2 ? decodeListpack : decodeZiplist);
        if (nodeItems.length === 0) input.fail('empty quicklist node');
        for (const item of nodeItems) items.push(item);
      }
      return { type: ValueType.List, items };
    }
    case RdbType.ModulePre:
    case RdbType.Module2:
      return input.fail('the RDB holds a module value, and sabre does not support modules', start - 1);
    case RdbType.StreamListpacks:
    case RdbType.StreamListpacks2:
    case RdbType.StreamListpacks3:
      return input.fail('the RDB holds a stream, which sabre does not support yet', start - 1);
    case RdbType.HashZipmap:
      return input.fail('the RDB holds a zipmap hash (Redis 2.x), which sabre does not read', start - 1);
  }
  return input.fail(`unknown value type ${type}`, start - 1);
}
