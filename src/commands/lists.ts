/**
 * The list commands (Redis's t_list.c) but the blocking ones: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN
 * LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP.
 *
 * The value lives in shard memory (collections/list.ts, a quicklist of packed nodes); these handlers
 * parse, check types and reply straight from arena views. Semantics, errors and the order in which they
 * are detected follow Redis 7.0; a list whose last element goes is deleted with it. The two-key commands
 * run here when both keys are on this shard (the front refuses them across shards).
 */
import { ListValue } from '../collections/list.js';
import {
  ERR_INDEX_OUT_OF_RANGE,
  ERR_NOT_INTEGER,
  ERR_NOT_POSITIVE,
  ERR_NO_SUCH_KEY,
  ERR_SYNTAX,
  WRONGTYPE,
  wrongArity,
} from '../protocol/errors.js';
import { ValueType } from '../shard/entry.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import { isKeyword, parseInt64, type CommandHandler, type ExecutionContext } from './context.js';

const LONG_MAX = 9223372036854775807n;
const ERR_RANK_ZERO =
  "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";

interface Found {
  entry: number;
  list: ListValue;
}

/** The list at `key`, null when missing, or undefined after replying WRONGTYPE. */
function listAt(ctx: ExecutionContext, key: Uint8Array): Found | null | undefined {
  const entry = ctx.db.lookup(key);
  if (entry === 0) return null;
  if (ctx.db.type(entry) !== ValueType.List) {
    ctx.reply.error(WRONGTYPE);
    return undefined;
  }
  return { entry, list: new ListValue(ctx.db.arena, ctx.db.collectionRoot(entry)) };
}

/**
 * Stores the list's (possibly moved) root in its key, creating the key for a new list, or deletes the
 * key once the list is empty; then signals `event` with `dirty` changes, and `del` for a deleted key.
 */
function commit(ctx: ExecutionContext, key: Uint8Array, target: Found, event: string, dirty = 1): void {
  if (target.entry === 0) {
    target.entry = ctx.db.setCollection(key, ValueType.List, target.list.root);
    return ctx.db.changed(key, NotifyType.List, event, dirty);
  }
  // The root first: deleting the key frees whatever root its entry names.
  ctx.db.setCollectionRoot(target.entry, target.list.root);
  const emptied = target.list.length === 0;
  if (emptied) ctx.db.delete(key);
  ctx.db.changed(key, NotifyType.List, event, dirty);
  if (emptied) ctx.db.notify(NotifyType.Generic, 'del', key);
}

const popEvent = (atHead: boolean) => (atHead ? 'lpop' : 'rpop');
const pushEvent = (atHead: boolean) => (atHead ? 'lpush' : 'rpush');

/** A 64-bit integer argument as a number (beyond ±2^53 only its magnitude matters to list indexes), or undefined. */
function longArgument(arg: Uint8Array): number | undefined {
  const value = parseInt64(arg);
  return value === undefined ? undefined : Number(value);
}

/**
 * Redis's getRangeLongFromObjectOrReply with a message: an integer ≥ `min`, or undefined after replying
 * `error` (which Redis gives for a non-integer too).
 */
function boundedArgument(ctx: ExecutionContext, arg: Uint8Array, min: number, error: string): number | undefined {
  const value = longArgument(arg);
  if (value !== undefined && value >= min) return value;
  ctx.reply.error(error);
  return undefined;
}

/** LEFT or RIGHT: true for the head, false for the tail, undefined after replying a syntax error. */
function sideArgument(ctx: ExecutionContext, arg: Uint8Array): boolean | undefined {
  if (isKeyword(arg, 'LEFT')) return true;
  if (isKeyword(arg, 'RIGHT')) return false;
  ctx.reply.error(ERR_SYNTAX);
  return undefined;
}

// ------------------------------------------------------------------ pushes

function push(atHead: boolean, onlyExisting: boolean): CommandHandler {
  return (ctx, argv) => {
    const found = listAt(ctx, argv[1]);
    if (found === undefined) return;
    if (found === null && onlyExisting) return ctx.reply.integer(0);
    const target = found ?? { entry: 0, list: ListValue.create(ctx.db.arena) };
    const fill = ctx.limits['list-max-listpack-size'];
    for (let i = 2; i < argv.length; i++) target.list.push(argv[i], atHead, fill);
    commit(ctx, argv[1], target, pushEvent(atHead), argv.length - 2);
    ctx.reply.integer(target.list.length);
  };
}

// ------------------------------------------------------------------ pops

function pop(atHead: boolean): CommandHandler {
  return (ctx, argv) => {
    // The table's arity says "at least 2"; Redis checks the upper bound in the command.
    if (argv.length > 3) return ctx.reply.error(wrongArity(atHead ? 'lpop' : 'rpop'));
    const withCount = argv.length === 3;
    let count = 1;
    if (withCount) {
      const parsed = boundedArgument(ctx, argv[2], 0, ERR_NOT_POSITIVE);
      if (parsed === undefined) return;
      count = parsed;
    }
    const found = listAt(ctx, argv[1]);
    if (found === undefined) return;
    if (found === null) return withCount ? ctx.reply.nullArray() : ctx.reply.nullBulk();
    if (!withCount) {
      ctx.reply.bulk(found.list.pop(atHead));
      return commit(ctx, argv[1], found, popEvent(atHead));
    }
    const popped = Math.min(count, found.list.length);
    ctx.reply.arrayHeader(popped);
    for (let i = 0; i < popped; i++) ctx.reply.bulk(found.list.pop(atHead));
    if (popped > 0) commit(ctx, argv[1], found, popEvent(atHead), popped);
  };
}

/**
 * LMPOP's arguments (numkeys key [key …] LEFT|RIGHT [COUNT count], from argv[1]): the key positions'
 * end, the side and the count, or undefined after replying the error. BLMPOP checks them before its timeout.
 */
export function lmpopArguments(ctx: ExecutionContext, argv: readonly Buffer[]): { sideAt: number; atHead: boolean; count: number } | undefined {
  const numkeys = boundedArgument(ctx, argv[1], 1, 'ERR numkeys should be greater than 0');
  if (numkeys === undefined) return undefined;
  const sideAt = 2 + numkeys;
  if (sideAt >= argv.length) return void ctx.reply.error(ERR_SYNTAX);
  const atHead = sideArgument(ctx, argv[sideAt]);
  if (atHead === undefined) return undefined;
  let count = -1;
  for (let j = sideAt + 1; j < argv.length; j++) {
    if (count === -1 && isKeyword(argv[j], 'COUNT') && j < argv.length - 1) {
      const parsed = boundedArgument(ctx, argv[++j], 1, 'ERR count should be greater than 0');
      if (parsed === undefined) return undefined;
      count = parsed;
    } else return void ctx.reply.error(ERR_SYNTAX);
  }
  return { sideAt, atHead, count: count === -1 ? 1 : count };
}

const LPOP = Buffer.from('LPOP');
const RPOP = Buffer.from('RPOP');

/** LMPOP numkeys key [key …] LEFT|RIGHT [COUNT count]. */
const lmpop: CommandHandler = (ctx, argv) => {
  const parsed = lmpopArguments(ctx, argv);
  if (parsed === undefined) return;
  const { sideAt, atHead, count } = parsed;
  for (let k = 2; k < sideAt; k++) {
    const found = listAt(ctx, argv[k]);
    if (found === undefined) return;
    if (found === null) continue;
    const popped = Math.min(count, found.list.length);
    ctx.reply.arrayHeader(2);
    ctx.reply.bulk(argv[k]);
    ctx.reply.arrayHeader(popped);
    for (let i = 0; i < popped; i++) ctx.reply.bulk(found.list.pop(atHead));
    // LMPOP and BLMPOP propagate as the pop of the key they took from, with the count asked for.
    ctx.propagate?.rewrite([atHead ? LPOP : RPOP, argv[k], Buffer.from(String(count))]);
    return commit(ctx, argv[k], found, popEvent(atHead), popped);
  }
  ctx.reply.nullArray();
};

// ------------------------------------------------------------------ LMOVE RPOPLPUSH

function move(ctx: ExecutionContext, source: Uint8Array, destination: Uint8Array, fromHead: boolean, toHead: boolean): void {
  const from = listAt(ctx, source);
  if (from === undefined) return;
  if (from === null) return ctx.reply.nullBulk();
  const sameKey = Buffer.compare(source, destination) === 0;
  const to = sameKey ? from : listAt(ctx, destination);
  if (to === undefined) return;
  const value = from.list.pop(fromHead);
  const target = to ?? { entry: 0, list: ListValue.create(ctx.db.arena) };
  target.list.push(typeof value === 'string' ? Buffer.from(value, 'latin1') : value, toHead, ctx.limits['list-max-listpack-size']);
  // Redis signals the push, then the pop (and the source's deletion): one change in all.
  commit(ctx, destination, target, pushEvent(toHead), 0);
  if (sameKey) ctx.db.changed(source, NotifyType.List, popEvent(fromHead));
  else commit(ctx, source, from, popEvent(fromHead));
  ctx.reply.bulk(value);
}

const lmove: CommandHandler = (ctx, argv) => {
  const fromHead = sideArgument(ctx, argv[3]);
  if (fromHead === undefined) return;
  const toHead = sideArgument(ctx, argv[4]);
  if (toHead === undefined) return;
  move(ctx, argv[1], argv[2], fromHead, toHead);
};

const rpoplpush: CommandHandler = (ctx, argv) => move(ctx, argv[1], argv[2], false, true);

// ------------------------------------------------------------------ reads

const llen: CommandHandler = (ctx, argv) => {
  const found = listAt(ctx, argv[1]);
  if (found !== undefined) ctx.reply.integer(found?.list.length ?? 0);
};

/** Redis's start/end clamping for LRANGE and LTRIM: the first index and how many, or a count ≤ 0 for none. */
function clampRange(start: number, end: number, length: number): [number, number] {
  if (start < 0) start += length;
  if (end < 0) end += length;
  if (start < 0) start = 0;
  if (start > end || start >= length) return [0, 0];
  if (end >= length) end = length - 1;
  return [start, end - start + 1];
}

const lrange: CommandHandler = (ctx, argv) => {
  const start = longArgument(argv[2]);
  const end = longArgument(argv[3]);
  if (start === undefined || end === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  const found = listAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null) return ctx.reply.arrayHeader(0);
  const [first, count] = clampRange(start, end, found.list.length);
  ctx.reply.arrayHeader(count);
  found.list.forRange(first, count, (value) => ctx.reply.bulk(value));
};

/** An index argument resolved against the list's length, or -1 when outside it. */
function resolveIndex(index: number, length: number): number {
  const resolved = index < 0 ? length + index : index;
  return resolved >= 0 && resolved < length ? resolved : -1;
}

const lindex: CommandHandler = (ctx, argv) => {
  const found = listAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null) return ctx.reply.nullBulk();
  const index = longArgument(argv[2]);
  if (index === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  const at = resolveIndex(index, found.list.length);
  if (at < 0) ctx.reply.nullBulk();
  else ctx.reply.bulk(found.list.get(at));
};

const lpos: CommandHandler = (ctx, argv) => {
  let rank = 1;
  let count = -1;
  let maxLength = 0;
  for (let j = 3; j < argv.length; j++) {
    const more = j < argv.length - 1;
    if (isKeyword(argv[j], 'RANK') && more) {
      const parsed = parseInt64(argv[++j]);
      if (parsed === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
      // Redis 7.0 lets the int64 minimum through and negates it in place, which leaves it negative and
      // makes every match count: the first match from the tail.
      rank = typeof parsed === 'bigint' && parsed < -LONG_MAX ? -1 : Number(parsed);
      if (rank === 0) return ctx.reply.error(ERR_RANK_ZERO);
    } else if (isKeyword(argv[j], 'COUNT') && more) {
      const parsed = boundedArgument(ctx, argv[++j], 0, "ERR COUNT can't be negative");
      if (parsed === undefined) return;
      count = parsed;
    } else if (isKeyword(argv[j], 'MAXLEN') && more) {
      const parsed = boundedArgument(ctx, argv[++j], 0, "ERR MAXLEN can't be negative");
      if (parsed === undefined) return;
      maxLength = parsed;
    } else return ctx.reply.error(ERR_SYNTAX);
  }
  const found = listAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null) return count === -1 ? ctx.reply.nullBulk() : ctx.reply.arrayHeader(0);
  const fromTail = rank < 0;
  const skip = Math.abs(rank) - 1;
  const indexes: number[] = [];
  let matches = 0;
  found.list.findEach(argv[2], fromTail, maxLength, (index) => {
    if (matches++ < skip) return true;
    indexes.push(index);
    return count > 0 ? indexes.length < count : count === 0;
  });
  if (count !== -1) {
    ctx.reply.arrayHeader(indexes.length);
    for (const index of indexes) ctx.reply.integer(index);
  } else if (indexes.length === 0) ctx.reply.nullBulk();
  else ctx.reply.integer(indexes[0]);
};

// ------------------------------------------------------------------ edits

const lset: CommandHandler = (ctx, argv) => {
  const found = listAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null) return ctx.reply.error(ERR_NO_SUCH_KEY);
  const index = longArgument(argv[2]);
  if (index === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  const at = resolveIndex(index, found.list.length);
  if (at < 0) return ctx.reply.error(ERR_INDEX_OUT_OF_RANGE);
  found.list.set(at, argv[3]);
  commit(ctx, argv[1], found, 'lset');
  ctx.reply.ok();
};

const linsert: CommandHandler = (ctx, argv) => {
  let after: boolean;
  if (isKeyword(argv[2], 'AFTER')) after = true;
  else if (isKeyword(argv[2], 'BEFORE')) after = false;
  else return ctx.reply.error(ERR_SYNTAX);
  const found = listAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null) return ctx.reply.integer(0);
  if (!found.list.insertAtPivot(argv[3], after, argv[4], ctx.limits['list-max-listpack-size'])) return ctx.reply.integer(-1);
  commit(ctx, argv[1], found, 'linsert');
  ctx.reply.integer(found.list.length);
};

const lrem: CommandHandler = (ctx, argv) => {
  const count = longArgument(argv[2]);
  if (count === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  const found = listAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null) return ctx.reply.integer(0);
  const removed = found.list.removeMatching(argv[3], Math.abs(count), count < 0);
  if (removed !== 0) commit(ctx, argv[1], found, 'lrem', removed);
  ctx.reply.integer(removed);
};

const ltrim: CommandHandler = (ctx, argv) => {
  const start = longArgument(argv[2]);
  const end = longArgument(argv[3]);
  if (start === undefined || end === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  const found = listAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null) return ctx.reply.ok();
  const length = found.list.length;
  const [first, count] = clampRange(start, end, length);
  if (count === 0) found.list.deleteRange(0, length);
  else {
    found.list.deleteRange(first + count, length - first - count);
    found.list.deleteRange(0, first);
  }
  // Redis notifies LTRIM even when it removes nothing; the changes are the elements removed.
  commit(ctx, argv[1], found, 'ltrim', length - count);
  ctx.reply.ok();
};

export const listCommands: Readonly<Record<string, CommandHandler>> = {
  lpush: push(true, false),
  rpush: push(false, false),
  lpushx: push(true, true),
  rpushx: push(false, true),
  lpop: pop(true),
  rpop: pop(false),
  lmpop,
  lmove,
  rpoplpush,
  llen,
  lrange,
  lindex,
  lpos,
  lset,
  linsert,
  lrem,
  ltrim,
};
