/**
 * SORT and SORT_RO (Redis's sort.c) over lists, sets and sorted sets: BY (a pattern, or a constant for
 * "no sort"), LIMIT, GET (patterns, `#`, hash fields with `->`), ASC/DESC, ALPHA, and STORE for SORT.
 *
 * Argument checks and their order, the LIMIT clamping, which inputs keep their native order, the numeric
 * weights' parsing and error, and the stored list follow Redis 7.0. ALPHA compares bytes (strcoll in the
 * C locale). BY and GET patterns name other keys: they are looked up in the database the command runs
 * on, that is the sorted key's shard only (Redis Cluster refuses such patterns outright; sabre answers
 * them from the keys that share the sorted key's shard, so hash-tagged keys work). A STORE destination
 * on another shard is written there by the front (server/sort-store.ts) from this shard's result.
 */
import { HashValue } from '../collections/hash.js';
import { ListValue } from '../collections/list.js';
import { SetValue, memberBytes as setMemberBytes } from '../collections/set.js';
import { SortedSetValue, memberBytes as zsetMemberBytes } from '../collections/zset.js';
import { freeCollection } from '../collections/collection.js';
import { ERR_NOT_INTEGER, ERR_SYNTAX, WRONGTYPE } from '../protocol/errors.js';
import { ValueType } from '../shard/entry.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import { listDump } from '../shard/key-dump.js';
import { argText, isKeyword, parseInt64, type CommandHandler, type ExecutionContext } from './context.js';
import { parseSortDouble } from './strtod.js';

const ASTERISK = 0x2a;
const HASH_SIGN = 0x23;

/** One element being sorted: its bytes, and what it sorts by (a number, or bytes for ALPHA BY). */
interface Sortable {
  element: Buffer;
  score: number;
  compareBy: Buffer | undefined;
}

interface SortOptions {
  desc: boolean;
  alpha: boolean;
  limitStart: bigint;
  limitCount: bigint;
  by: Buffer | undefined;
  gets: Buffer[];
  store: Buffer | undefined;
}

/** The pattern as C's string functions see it: up to its first NUL byte. */
function cString(pattern: Buffer): Buffer {
  const nul = pattern.indexOf(0);
  return nul < 0 ? pattern : pattern.subarray(0, nul);
}

/** Parses the options from argv[2]; replies and returns undefined on an error. */
function parseOptions(ctx: ExecutionContext, argv: readonly Buffer[], readonly: boolean): SortOptions | undefined {
  const options: SortOptions = { desc: false, alpha: false, limitStart: 0n, limitCount: -1n, by: undefined, gets: [], store: undefined };
  for (let j = 2; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const arg = argv[j];
    if (isKeyword(arg, 'ASC')) options.desc = false;
    else if (isKeyword(arg, 'DESC')) options.desc = true;
    else if (isKeyword(arg, 'ALPHA')) options.alpha = true;
    else if (isKeyword(arg, 'LIMIT') && left >= 2) {
      const start = parseInt64(argv[j + 1]);
      const count = start === undefined ? undefined : parseInt64(argv[j + 2]);
      if (start === undefined || count === undefined) return void ctx.reply.error(ERR_NOT_INTEGER);
      options.limitStart = BigInt(start);
      options.limitCount = BigInt(count);
      j += 2;
    } else if (!readonly && isKeyword(arg, 'STORE') && left >= 1) options.store = argv[++j];
    else if (isKeyword(arg, 'BY') && left >= 1) options.by = argv[++j];
    else if (isKeyword(arg, 'GET') && left >= 1) options.gets.push(argv[++j]);
    else return void ctx.reply.error(ERR_SYNTAX);
  }
  return options;
}

/**
 * Redis's lookupKeyByPattern: `#` is the element itself; otherwise the first `*` is replaced by the
 * element and the key read as a string, or with `->field` after the `*` as that field of a hash.
 * Undefined when there is no `*`, no such key, or the key has the other type.
 */
function lookupByPattern(ctx: ExecutionContext, pattern: Buffer, element: Buffer): Buffer | undefined {
  const searchable = cString(pattern);
  if (searchable.length === 1 && searchable[0] === HASH_SIGN) return element;
  const star = searchable.indexOf(ASTERISK);
  if (star < 0) return undefined;
  const arrow = searchable.indexOf('->', star + 1, 'latin1');
  const hasField = arrow >= 0 && arrow + 2 < searchable.length;
  const key = Buffer.concat([pattern.subarray(0, star), element, pattern.subarray(star + 1, hasField ? arrow : pattern.length)]);
  const entry = ctx.db.lookupRead(key);
  if (entry === 0) return undefined;
  const type = ctx.db.type(entry);
  if (!hasField) return type === ValueType.String ? Buffer.from(ctx.db.stringBytes(entry)) : undefined;
  if (type !== ValueType.Hash) return undefined;
  const value = new HashValue(ctx.db.arena, ctx.db.collectionRoot(entry)).get(pattern.subarray(arrow + 2));
  return value === undefined ? undefined : Buffer.from(typeof value === 'string' ? Buffer.from(value, 'latin1') : value);
}

/** Every element of the list, set or sorted set at `entry`, as copies, in the value's own order. */
function elementsOf(ctx: ExecutionContext, entry: number, type: ValueType): Buffer[] {
  const root = ctx.db.collectionRoot(entry);
  const elements: Buffer[] = [];
  if (type === ValueType.List) {
    const list = new ListValue(ctx.db.arena, root);
    list.forRange(0, list.length, (value) => elements.push(typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value)));
  } else if (type === ValueType.Set) {
    new SetValue(ctx.db.arena, root).forEach((member) => elements.push(Buffer.from(setMemberBytes(member))));
  } else {
    const zset = new SortedSetValue(ctx.db.arena, root);
    zset.forRange(0, zset.length, false, (member) => elements.push(Buffer.from(zsetMemberBytes(member))));
  }
  return elements;
}

/** Redis's SORT converts the sorted set it reads to a skiplist, whatever its size (OBJECT ENCODING shows it). */
function convertToSkiplist(ctx: ExecutionContext, entry: number): void {
  const zset = new SortedSetValue(ctx.db.arena, ctx.db.collectionRoot(entry));
  if (!zset.isPacked) return;
  zset.convertToSkiplist();
  ctx.db.setCollectionRoot(entry, zset.root);
}

/** Redis's sortCompare, before DESC inverts it. */
function comparator(alpha: boolean, byPattern: boolean): (a: Sortable, b: Sortable) => number {
  if (!alpha) return (a, b) => (a.score > b.score ? 1 : a.score < b.score ? -1 : Buffer.compare(a.element, b.element));
  if (!byPattern) return (a, b) => Buffer.compare(a.element, b.element);
  return (a, b) => {
    if (a.compareBy === undefined || b.compareBy === undefined) return a.compareBy === b.compareBy ? 0 : a.compareBy === undefined ? -1 : 1;
    return Buffer.compare(a.compareBy, b.compareBy);
  };
}

/** LIMIT's [start, end] (inclusive) over `length` elements, clamped as Redis clamps it (64-bit arithmetic). */
function limitRange(options: SortOptions, length: number): [number, number] {
  const size = BigInt(length);
  const start = options.limitStart < 0n ? 0n : options.limitStart;
  let end = options.limitCount < 0n ? size - 1n : BigInt.asIntN(64, start + options.limitCount - 1n);
  let first = start;
  if (first >= size) {
    first = size - 1n;
    end = size - 2n;
  }
  if (end >= size) end = size - 1n;
  return [Number(first), Number(end)];
}

/**
 * SORT (`readonly` false) or SORT_RO. With `dumpInstead`, a STORE is not written here but replied as the
 * stored list's key dump (empty for no list): the front writes it on the destination's shard.
 */
function sortGeneric(readonly: boolean, dumpInstead: boolean): CommandHandler {
  return (ctx, argv) => {
    const options = parseOptions(ctx, argv, readonly);
    if (options === undefined) return;
    // Read as Redis's lookupKeyRead, STORE or not: the hit or miss counts and a miss is notified.
    const entry = ctx.db.lookupRead(argv[1]);
    const type = entry === 0 ? ValueType.List : ctx.db.type(entry);
    if (type !== ValueType.List && type !== ValueType.Set && type !== ValueType.ZSet) return ctx.reply.error(WRONGTYPE);
    // BY without a `*` sorts nothing: lists and sorted sets keep their order (reversed by DESC).
    let dontSort = options.by !== undefined && !cString(options.by).includes(ASTERISK);
    let alpha = options.alpha;
    let by = options.by;
    if (dontSort && type === ValueType.Set && options.store !== undefined) {
      // A set has no order of its own worth storing: Redis sorts it ALPHA instead.
      dontSort = false;
      alpha = true;
      by = undefined;
    }
    if (type === ValueType.ZSet) convertToSkiplist(ctx, entry);
    let elements = entry === 0 ? [] : elementsOf(ctx, entry, type);
    let [start, end] = limitRange(options, elements.length);
    if (dontSort && type !== ValueType.Set) {
      if (options.desc) elements.reverse();
      elements = end >= start ? elements.slice(start, end + 1) : [];
      end -= start;
      start = 0;
    }
    let vector: Sortable[] = elements.map((element) => ({ element, score: 0, compareBy: undefined }));
    let conversionError = false;
    if (!dontSort) {
      for (const item of vector) {
        const value = by === undefined ? item.element : lookupByPattern(ctx, by, item.element);
        if (value === undefined) continue;
        if (alpha) {
          if (by !== undefined) item.compareBy = value;
        } else {
          const score = parseSortDouble(argText(value));
          if (score === undefined) conversionError = true;
          else item.score = score;
        }
      }
      const compare = comparator(alpha, by !== undefined);
      vector = vector.sort(options.desc ? (a, b) => -compare(a, b) : compare);
    }
    const selected = end >= start ? vector.slice(start, end + 1) : [];
    const outputs = options.gets.length === 0 ? selected.length : options.gets.length * selected.length;
    if (conversionError) return ctx.reply.error("ERR One or more scores can't be converted into double");
    if (options.store === undefined) {
      ctx.reply.arrayHeader(outputs);
      for (const { element } of selected) {
        if (options.gets.length === 0) ctx.reply.bulk(element);
        for (const pattern of options.gets) {
          const value = lookupByPattern(ctx, pattern, element);
          if (value === undefined) ctx.reply.nullBulk();
          else ctx.reply.bulk(value);
        }
      }
      return;
    }
    const items = storedItems(ctx, selected, options.gets);
    if (dumpInstead) return ctx.reply.bulk(items.length === 0 ? Buffer.alloc(0) : listDump(items));
    storeList(ctx, options.store, items);
    ctx.reply.integer(outputs);
  };
}

/** What STORE puts in the list: the elements, or what each GET finds for them ("" for nothing). */
function storedItems(ctx: ExecutionContext, selected: readonly Sortable[], gets: readonly Buffer[]): Buffer[] {
  const items: Buffer[] = [];
  for (const { element } of selected) {
    if (gets.length === 0) items.push(element);
    for (const pattern of gets) items.push(lookupByPattern(ctx, pattern, element) ?? Buffer.alloc(0));
  }
  return items;
}

/**
 * STORE: the items as a list at `key` (replacing it and its TTL), or no key when there are none. Each
 * item stored is a change to Redis.
 */
function storeList(ctx: ExecutionContext, key: Buffer, items: readonly Buffer[]): void {
  if (items.length === 0) {
    ctx.db.deleteChanged(key);
    return;
  }
  const list = ListValue.create(ctx.db.arena);
  try {
    const fill = ctx.limits['list-max-listpack-size'];
    for (const item of items) list.push(item, false, fill);
  } catch (error) {
    freeCollection(ctx.db.arena, list.root);
    throw error;
  }
  ctx.db.setCollection(key, ValueType.List, list.root);
  ctx.db.changed(key, NotifyType.List, 'sortstore', items.length);
}

export const sortCommands: Readonly<Record<string, CommandHandler>> = {
  sort: sortGeneric(false, false),
  sort_ro: sortGeneric(true, false),
};

/** `_sabre.sort-dump key …SORT's options`: SORT … STORE whose destination is on another shard (see sortGeneric). */
export const INTERNAL_SORT_DUMP = '_sabre.sort-dump';

export const internalSortCommands: Readonly<Record<string, CommandHandler>> = {
  [INTERNAL_SORT_DUMP]: sortGeneric(false, true),
};
