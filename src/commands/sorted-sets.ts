/**
 * The sorted set commands (Redis's t_zset.c): ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK
 * ZCOUNT ZLEXCOUNT ZRANGE ZRANGESTORE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREVRANGE
 * ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZUNION ZINTER ZDIFF
 * ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN. The ZUNION family also takes plain sets as inputs.
 *
 * The value lives in shard memory (collections/zset.ts: packed while small, a skiplist when large). Every
 * range — by rank, score or lex — is turned into an interval of ascending ranks [start, end) first, so
 * reading, counting, storing and removing a range share one path. Argument checks, their order, error
 * texts and encoding conversions follow Redis 7.0 (compared with a real redis-server in the tests); a
 * sorted set whose last member goes is deleted with it.
 *
 * Scores reply as doubles (ReplyWriter.double: RESP3 `,` doubles, RESP2 bulk strings in `%.17g`).
 */
import { SortedSetValue, memberBytes, type MemberBytes } from '../collections/zset.js';
import { compareMembers } from '../collections/skiplist.js';
import { SetValue, memberBytes as setMemberBytes } from '../collections/set.js';
import { freeCollection } from '../collections/collection.js';
import {
  ERR_MIN_MAX_NOT_FLOAT,
  ERR_NOT_FLOAT,
  ERR_NOT_INTEGER,
  ERR_NOT_LONG,
  ERR_NOT_POSITIVE,
  ERR_OUT_OF_RANGE,
  ERR_SYNTAX,
  WRONGTYPE,
} from '../protocol/errors.js';
import { formatDouble } from '../protocol/reply-writer.js';
import { ValueType } from '../shard/entry.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import { argText, isKeyword, parseInt64, type CommandHandler, type ExecutionContext } from './context.js';
import { collectionScan } from './collection-scan.js';
import { parseDouble, parseRangeDouble } from './strtod.js';

const LONG_MAX = 9223372036854775807n;
const ERR_LEX_RANGE = 'ERR min or max not valid string range item';
const ERR_NAN_SCORE = 'ERR resulting score is not a number (NaN)';

type Found = { entry: number; zset: SortedSetValue };

/**
 * The sorted set at `key`, null when missing, or undefined after replying WRONGTYPE. `reading`: the
 * source of ZRANGESTORE, which Redis reads with lookupKeyRead.
 */
function zsetAt(ctx: ExecutionContext, key: Uint8Array, reading = false): Found | null | undefined {
  const entry = reading ? ctx.db.lookupRead(key) : ctx.db.lookup(key);
  if (entry === 0) return null;
  if (ctx.db.type(entry) !== ValueType.ZSet) {
    ctx.reply.error(WRONGTYPE);
    return undefined;
  }
  return { entry, zset: new SortedSetValue(ctx.db.arena, ctx.db.collectionRoot(entry)) };
}

/**
 * Records the set's (possibly moved) root in its key, deleting the key when the set is empty; signals
 * `event` with `dirty` changes, and `del` for a deleted key.
 */
function commit(ctx: ExecutionContext, key: Uint8Array, found: Found, event: string, dirty: number): void {
  ctx.db.setCollectionRoot(found.entry, found.zset.root);
  const emptied = found.zset.length === 0;
  if (emptied) ctx.db.delete(key);
  ctx.db.changed(key, NotifyType.Zset, event, dirty);
  if (emptied) ctx.db.notify(NotifyType.Generic, 'del', key);
}

/** A 64-bit integer argument as a number (ranks and counts never need more), or undefined. */
function parseLong(arg: Uint8Array): number | undefined {
  const value = parseInt64(arg);
  return value === undefined ? undefined : Number(value);
}

// ------------------------------------------------------------------ ranges

/** A score range bound: zslParseRange's "(" for exclusive, any strtod number (±inf too). */
interface ScoreRange {
  min: number;
  max: number;
  minExclusive: boolean;
  maxExclusive: boolean;
}

function parseScoreBound(arg: Uint8Array): { value: number; exclusive: boolean } | undefined {
  const text = argText(arg);
  const exclusive = text.startsWith('(');
  const value = parseRangeDouble(exclusive ? text.slice(1) : text);
  return value === undefined ? undefined : { value, exclusive };
}

function parseScoreRange(minArg: Uint8Array, maxArg: Uint8Array): ScoreRange | undefined {
  const min = parseScoreBound(minArg);
  const max = parseScoreBound(maxArg);
  if (min === undefined || max === undefined) return undefined;
  return { min: min.value, max: max.value, minExclusive: min.exclusive, maxExclusive: max.exclusive };
}

/** A lex bound: "-" and "+" are the ends, "[x" and "(x" inclusive and exclusive. */
type LexBound = { kind: 'min' } | { kind: 'max' } | { kind: 'value'; bytes: Buffer; exclusive: boolean };

function parseLexBound(arg: Buffer): LexBound | undefined {
  if (arg.length === 1 && arg[0] === 0x2d) return { kind: 'min' };
  if (arg.length === 1 && arg[0] === 0x2b) return { kind: 'max' };
  if (arg.length > 0 && (arg[0] === 0x28 || arg[0] === 0x5b)) return { kind: 'value', bytes: arg.subarray(1), exclusive: arg[0] === 0x28 };
  return undefined;
}

interface LexRange {
  min: LexBound;
  max: LexBound;
}

function parseLexRange(minArg: Buffer, maxArg: Buffer): LexRange | undefined {
  const min = parseLexBound(minArg);
  const max = parseLexBound(maxArg);
  return min === undefined || max === undefined ? undefined : { min, max };
}

/** Ascending ranks [start, end) of the elements whose scores are in `range`. */
function scoreInterval(zset: SortedSetValue, range: ScoreRange): [number, number] {
  const start = zset.countWhile((score) => (range.minExclusive ? score <= range.min : score < range.min));
  const end = zset.countWhile((score) => (range.maxExclusive ? score < range.max : score <= range.max));
  return [start, Math.max(start, end)];
}

/** How many elements sort below the lower lex bound (`lower`), or up to the upper one. */
function lexCount(zset: SortedSetValue, bound: LexBound, lower: boolean): number {
  if (bound.kind === 'min') return 0;
  if (bound.kind === 'max') return zset.length;
  const { bytes, exclusive } = bound;
  const belowLower = lower !== exclusive;
  return zset.countWhile((_, member) => {
    const order = compareMembers(member(), bytes);
    return belowLower ? order < 0 : order <= 0;
  });
}

/** Whether `member` is at or above the lower bound (`lower`), or at or below the upper one. */
function withinLexBound(member: Uint8Array, bound: LexBound, lower: boolean): boolean {
  if (bound.kind !== 'value') return lower === (bound.kind === 'min');
  const order = compareMembers(member, bound.bytes);
  if (order === 0) return !bound.exclusive;
  return lower ? order > 0 : order < 0;
}

/**
 * A lex range over a packed set, walked as Redis walks a listpack: after checking the range against
 * the first and last members, from the first member at or above min (last at or below max when
 * reversed), skipping `offset` members unchecked, then taking members while they stay within the
 * other bound. Lex ranges are meant for members of one score, where this is the plain interval; over
 * mixed scores this reproduces Redis's answers too.
 */
function packedLexSelection(zset: SortedSetValue, range: LexRange, reverse: boolean, offset: number, limit: number): [number, number] {
  const members = copyRange(zset, 0, zset.length).map(([member]) => member);
  const count = members.length;
  const { min, max } = range;
  const order = min.kind === 'value' && max.kind === 'value' ? compareMembers(min.bytes, max.bytes) : min.kind === 'min' || max.kind === 'max' ? -1 : 1;
  const exclusive = (min.kind !== 'value' || min.exclusive) || (max.kind !== 'value' || max.exclusive);
  if (order > 0 || (order === 0 && exclusive) || count === 0) return [0, 0];
  if (!withinLexBound(members[count - 1], min, true) || !withinLexBound(members[0], max, false)) return [0, 0];
  const fits = (taken: number) => limit < 0 || taken < limit;
  if (!reverse) {
    const first = members.findIndex((member) => withinLexBound(member, min, true));
    if (first < 0 || !withinLexBound(members[first], max, false)) return [0, 0];
    const start = Math.min(first + offset, count);
    let end = start;
    while (end < count && fits(end - start) && withinLexBound(members[end], max, false)) end++;
    return [start, end];
  }
  let last = count - 1;
  while (last >= 0 && !withinLexBound(members[last], max, false)) last--;
  if (last < 0 || !withinLexBound(members[last], min, true)) return [0, 0];
  const end = last - offset + 1;
  let start = end;
  while (start > 0 && fits(end - start) && withinLexBound(members[start - 1], min, true)) start--;
  return end <= 0 ? [0, 0] : [start, end];
}

function lexInterval(zset: SortedSetValue, range: LexRange): [number, number] {
  const start = lexCount(zset, range.min, true);
  return [start, Math.max(start, lexCount(zset, range.max, false))];
}

/** Ascending ranks [start, end) of Redis's rank range start..stop (negative from the end, inclusive). */
function rankInterval(length: number, start: number, stop: number): [number, number] {
  if (start < 0) start += length;
  if (stop < 0) stop += length;
  if (start < 0) start = 0;
  if (start > stop || start >= length) return [0, 0];
  return [start, Math.min(stop, length - 1) + 1];
}

// ------------------------------------------------------------------ replies

/** Writes members (and scores): flat in RESP2, [member, score] pairs in RESP3 when with scores. */
function replyHeader(ctx: ExecutionContext, count: number, withScores: boolean): void {
  ctx.reply.arrayHeader(withScores && ctx.reply.protocol === 2 ? count * 2 : count);
}

function replyElement(ctx: ExecutionContext, member: MemberBytes, score: number, withScores: boolean): void {
  if (withScores && ctx.reply.protocol === 3) ctx.reply.arrayHeader(2);
  ctx.reply.bulk(member);
  if (withScores) ctx.reply.double(score);
}

// ------------------------------------------------------------------ ZADD ZINCRBY

const NX = 1;
const XX = 2;
const GT = 4;
const LT = 8;
const CH = 16;
const INCR = 32;
const ZADD_FLAGS: readonly [string, number][] = [
  ['NX', NX],
  ['XX', XX],
  ['CH', CH],
  ['INCR', INCR],
  ['GT', GT],
  ['LT', LT],
];

function zaddGeneric(ctx: ExecutionContext, argv: readonly Buffer[], initialFlags: number): void {
  let flags = initialFlags;
  let at = 2;
  for (; at < argv.length; at++) {
    const flag = ZADD_FLAGS.find(([name]) => isKeyword(argv[at], name));
    if (flag === undefined) break;
    flags |= flag[1];
  }
  const pairs = argv.length - at;
  if (pairs % 2 !== 0 || pairs === 0) return ctx.reply.error(ERR_SYNTAX);
  if (flags & NX && flags & XX) return ctx.reply.error('ERR XX and NX options at the same time are not compatible');
  if ((flags & GT && flags & NX) || (flags & LT && flags & NX) || (flags & GT && flags & LT)) {
    return ctx.reply.error('ERR GT, LT, and/or NX options at the same time are not compatible');
  }
  if (flags & INCR && pairs > 2) return ctx.reply.error('ERR INCR option supports a single increment-element pair');
  const scores: number[] = [];
  for (let i = at; i < argv.length; i += 2) {
    const score = parseDouble(argText(argv[i]));
    if (score === undefined) return ctx.reply.error(ERR_NOT_FLOAT);
    scores.push(score);
  }
  const key = argv[1];
  const found = zsetAt(ctx, key);
  if (found === undefined) return;
  if (found === null && flags & XX) return flags & INCR ? ctx.reply.nullBulk() : ctx.reply.integer(0);
  // A new set is linked to its key only once it holds something, so an -OOM leaves no empty key.
  const large = ctx.limits['zset-max-listpack-entries'] === 0 || argv[at + 1].length > ctx.limits['zset-max-listpack-value'];
  const target = found ?? { entry: 0, zset: SortedSetValue.create(ctx.db.arena, large) };
  const zset = target.zset;
  let added = 0;
  let updated = 0;
  let processed = 0;
  let lastScore = 0;
  let failure: string | undefined;
  try {
    for (let i = 0; i < scores.length; i++) {
      const member = argv[at + 2 * i + 1];
      let score = scores[i];
      const current = zset.score(member);
      if (current !== undefined) {
        if (flags & NX) continue;
        if (flags & INCR) score += current;
        if (Number.isNaN(score)) {
          failure = ERR_NAN_SCORE;
          break;
        }
        if ((flags & LT && score >= current) || (flags & GT && score <= current)) continue;
        if (score !== current) {
          zset.setScore(member, score);
          updated++;
        }
      } else {
        if (flags & XX) continue;
        zset.convertIfNeeded(member, ctx.limits);
        zset.insert(member, score);
        added++;
      }
      processed++;
      lastScore = score;
    }
  } finally {
    if (target.entry !== 0) ctx.db.setCollectionRoot(target.entry, zset.root);
    else if (zset.length > 0) ctx.db.setCollection(key, ValueType.ZSet, zset.root);
    else freeCollection(ctx.db.arena, zset.root);
    if (added + updated !== 0) ctx.db.changed(key, NotifyType.Zset, flags & INCR ? 'zincr' : 'zadd', added + updated);
  }
  if (failure !== undefined) return ctx.reply.error(failure);
  if (!(flags & INCR)) return ctx.reply.integer(flags & CH ? added + updated : added);
  if (processed > 0) ctx.reply.double(lastScore);
  else ctx.reply.nullBulk();
}

const zadd: CommandHandler = (ctx, argv) => zaddGeneric(ctx, argv, 0);

const zincrby: CommandHandler = (ctx, argv) => zaddGeneric(ctx, argv, INCR);

// ------------------------------------------------------------------ single-member reads and ZREM

const zrem: CommandHandler = (ctx, argv) => {
  const found = zsetAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null) return ctx.reply.integer(0);
  let removed = 0;
  for (let i = 2; i < argv.length && found.zset.length > 0; i++) if (found.zset.remove(argv[i])) removed++;
  if (removed !== 0) commit(ctx, argv[1], found, 'zrem', removed);
  ctx.reply.integer(removed);
};

const zcard: CommandHandler = (ctx, argv) => {
  const found = zsetAt(ctx, argv[1]);
  if (found !== undefined) ctx.reply.integer(found?.zset.length ?? 0);
};

const zscore: CommandHandler = (ctx, argv) => {
  const found = zsetAt(ctx, argv[1]);
  if (found === undefined) return;
  const score = found?.zset.score(argv[2]);
  if (score === undefined) ctx.reply.nullBulk();
  else ctx.reply.double(score);
};

const zmscore: CommandHandler = (ctx, argv) => {
  const found = zsetAt(ctx, argv[1]);
  if (found === undefined) return;
  ctx.reply.arrayHeader(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const score = found?.zset.score(argv[i]);
    if (score === undefined) ctx.reply.nullBulk();
    else ctx.reply.double(score);
  }
};

function zrankGeneric(reverse: boolean): CommandHandler {
  return (ctx, argv) => {
    const found = zsetAt(ctx, argv[1]);
    if (found === undefined) return;
    const rank = found === null ? -1 : found.zset.rank(argv[2]);
    if (rank < 0) return ctx.reply.nullBulk();
    ctx.reply.integer(reverse ? found!.zset.length - 1 - rank : rank);
  };
}

// ------------------------------------------------------------------ ZCOUNT ZLEXCOUNT

const zcount: CommandHandler = (ctx, argv) => {
  const range = parseScoreRange(argv[2], argv[3]);
  if (range === undefined) return ctx.reply.error(ERR_MIN_MAX_NOT_FLOAT);
  const found = zsetAt(ctx, argv[1]);
  if (found === undefined) return;
  const [start, end] = found === null ? [0, 0] : scoreInterval(found.zset, range);
  ctx.reply.integer(end - start);
};

const zlexcount: CommandHandler = (ctx, argv) => {
  const range = parseLexRange(argv[2], argv[3]);
  if (range === undefined) return ctx.reply.error(ERR_LEX_RANGE);
  const found = zsetAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null) return ctx.reply.integer(0);
  const request: RangeRequest = { type: RangeType.Lex, reverse: false, withScores: false, offset: 0, limit: -1, minArg: argv[2], maxArg: argv[3] };
  const [start, end] = selectedInterval(found.zset, request, { lex: range });
  ctx.reply.integer(end - start);
};

// ------------------------------------------------------------------ ZRANGE and its variants

const enum RangeType {
  Auto,
  Rank,
  Score,
  Lex,
}

interface RangeRequest {
  type: RangeType;
  reverse: boolean;
  withScores: boolean;
  offset: number;
  /** -1: no LIMIT. */
  limit: number;
  minArg: Buffer;
  maxArg: Buffer;
}

/**
 * Redis's zrangeGenericCommand's argument steps, from `keyIndex` (the source key: 2 for ZRANGESTORE,
 * which takes no WITHSCORES); the range type and direction are preset by the legacy commands. Returns the request, or undefined after replying an error.
 */
function parseRangeRequest(
  ctx: ExecutionContext,
  argv: readonly Buffer[],
  keyIndex: number,
  presetType: RangeType,
  presetReverse: boolean | undefined,
): RangeRequest | undefined {
  const store = keyIndex === 2;
  let type = presetType;
  let reverse = presetReverse;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = keyIndex + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    if (!store && isKeyword(argv[j], 'WITHSCORES')) withScores = true;
    else if (isKeyword(argv[j], 'LIMIT') && left >= 2) {
      const parsedOffset = parseLong(argv[j + 1]);
      const parsedLimit = parsedOffset === undefined ? undefined : parseLong(argv[j + 2]);
      if (parsedOffset === undefined || parsedLimit === undefined) {
        ctx.reply.error(ERR_NOT_INTEGER);
        return undefined;
      }
      offset = parsedOffset;
      limit = parsedLimit;
      j += 2;
    } else if (reverse === undefined && isKeyword(argv[j], 'REV')) reverse = true;
    else if (type === RangeType.Auto && isKeyword(argv[j], 'BYLEX')) type = RangeType.Lex;
    else if (type === RangeType.Auto && isKeyword(argv[j], 'BYSCORE')) type = RangeType.Score;
    else {
      ctx.reply.error(ERR_SYNTAX);
      return undefined;
    }
  }
  if (type === RangeType.Auto) type = RangeType.Rank;
  reverse ??= false;
  if (limit !== -1 && type === RangeType.Rank) {
    ctx.reply.error('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
    return undefined;
  }
  if (withScores && type === RangeType.Lex) {
    ctx.reply.error('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
    return undefined;
  }
  // Score and lex ranges of a reversed request are given as max, min.
  const swap = reverse && type !== RangeType.Rank;
  return { type, reverse, withScores, offset, limit, minArg: argv[keyIndex + (swap ? 2 : 1)], maxArg: argv[keyIndex + (swap ? 1 : 2)] };
}

/** The parsed range of a request (Redis checks it before looking the key up), or undefined after replying. */
type ParsedRange = { rank: [number, number] } | { score: ScoreRange } | { lex: LexRange };

function parseRangeBounds(ctx: ExecutionContext, request: RangeRequest): ParsedRange | undefined {
  if (request.type === RangeType.Rank) {
    const start = parseLong(request.minArg);
    const stop = start === undefined ? undefined : parseLong(request.maxArg);
    if (start === undefined || stop === undefined) return void ctx.reply.error(ERR_NOT_INTEGER);
    return { rank: [start, stop] };
  }
  if (request.type === RangeType.Score) {
    const score = parseScoreRange(request.minArg, request.maxArg);
    if (score === undefined) return void ctx.reply.error(ERR_MIN_MAX_NOT_FLOAT);
    return { score };
  }
  const lex = parseLexRange(request.minArg, request.maxArg);
  if (lex === undefined) return void ctx.reply.error(ERR_LEX_RANGE);
  return { lex };
}

/**
 * The ascending ranks [start, end) a request selects, LIMIT applied, to be visited from the top when
 * reversed.
 */
function selectedInterval(zset: SortedSetValue, request: RangeRequest, range: ParsedRange): [number, number] {
  const length = zset.length;
  if ('rank' in range) {
    const [start, stop] = range.rank;
    const [from, to] = rankInterval(length, start, stop);
    // A reversed rank range counts from the top: map it onto ascending ranks.
    return request.reverse ? [length - to, length - from] : [from, to];
  }
  if (request.offset < 0) return [0, 0];
  if ('lex' in range && zset.isPacked) return packedLexSelection(zset, range.lex, request.reverse, request.offset, request.limit);
  let [start, end] = 'score' in range ? scoreInterval(zset, range.score) : lexInterval(zset, range.lex);
  const count = end - start;
  const skip = Math.min(request.offset, count);
  const take = request.limit < 0 ? count - skip : Math.min(request.limit, count - skip);
  if (request.reverse) {
    end -= skip;
    start = end - take;
  } else {
    start += skip;
    end = start + take;
  }
  return [start, end];
}

function zrangeGeneric(presetType: RangeType, presetReverse: boolean | undefined): CommandHandler {
  return (ctx, argv) => {
    const request = parseRangeRequest(ctx, argv, 1, presetType, presetReverse);
    if (request === undefined) return;
    const range = parseRangeBounds(ctx, request);
    if (range === undefined) return;
    const found = zsetAt(ctx, argv[1]);
    if (found === undefined) return;
    if (found === null) return ctx.reply.arrayHeader(0);
    const [start, end] = selectedInterval(found.zset, request, range);
    replyHeader(ctx, end - start, request.withScores);
    found.zset.forRange(start, end, request.reverse, (member, score) => replyElement(ctx, member, score, request.withScores));
  };
}

/** Writes `elements` (in order) as the sorted set `key` and signals `event`, or deletes `key` when there are none; replies the count. */
function storeResult(ctx: ExecutionContext, key: Uint8Array, elements: readonly (readonly [Uint8Array, number])[], large: boolean, packAfter: boolean, event: string): void {
  if (elements.length === 0) {
    ctx.db.deleteChanged(key);
    return ctx.reply.integer(0);
  }
  const zset = SortedSetValue.create(ctx.db.arena, large);
  try {
    for (const [member, score] of elements) {
      zset.convertIfNeeded(member, ctx.limits);
      zset.insert(member, score);
    }
    if (packAfter) zset.packIfSmall(ctx.limits);
  } catch (error) {
    freeCollection(ctx.db.arena, zset.root);
    throw error;
  }
  ctx.db.setCollection(key, ValueType.ZSet, zset.root);
  ctx.db.changed(key, NotifyType.Zset, event);
  ctx.reply.integer(elements.length);
}

const zrangestore: CommandHandler = (ctx, argv) => {
  const request = parseRangeRequest(ctx, argv, 2, RangeType.Auto, undefined);
  if (request === undefined) return;
  const range = parseRangeBounds(ctx, request);
  if (range === undefined) return;
  const found = zsetAt(ctx, argv[2], true);
  if (found === undefined) return;
  const elements: [Buffer, number][] = [];
  let large = false;
  if (found !== null) {
    const [start, end] = selectedInterval(found.zset, request, range);
    // Redis sizes the destination from a rank range's length; score and lex ranges start packed.
    large = 'rank' in range && end - start > ctx.limits['zset-max-listpack-entries'];
    found.zset.forRange(start, end, request.reverse, (member, score) => elements.push([Buffer.from(memberBytes(member)), score]));
  }
  storeResult(ctx, argv[1], elements, large, false, 'zrangestore');
};

// ------------------------------------------------------------------ ZREMRANGEBY*

function zremrangeGeneric(type: RangeType, event: string): CommandHandler {
  return (ctx, argv) => {
    const request: RangeRequest = { type, reverse: false, withScores: false, offset: 0, limit: -1, minArg: argv[2], maxArg: argv[3] };
    const range = parseRangeBounds(ctx, request);
    if (range === undefined) return;
    const found = zsetAt(ctx, argv[1]);
    if (found === undefined) return;
    if (found === null) return ctx.reply.integer(0);
    const [start, end] = selectedInterval(found.zset, request, range);
    found.zset.deleteRange(start, end);
    if (end > start) commit(ctx, argv[1], found, event, end - start);
    ctx.reply.integer(end - start);
  };
}

// ------------------------------------------------------------------ ZPOPMIN ZPOPMAX ZMPOP

/**
 * Redis's genericZpopCommand: pops up to `count` from the first non-empty key of `keys` (after a
 * WRONGTYPE check of the keys before it). `withKey` is ZMPOP's shape: [key, [[member, score], …]].
 */
const ZPOPMIN = Buffer.from('ZPOPMIN');
const ZPOPMAX = Buffer.from('ZPOPMAX');

function popGeneric(ctx: ExecutionContext, keys: readonly Buffer[], max: boolean, count: number, nested: boolean, withKey: boolean): void {
  let found: Found | null = null;
  let key: Buffer | undefined;
  for (const candidate of keys) {
    const at = zsetAt(ctx, candidate);
    if (at === undefined) return;
    if (at !== null) {
      found = at;
      key = candidate;
      break;
    }
  }
  if (found === null || key === undefined) return withKey ? ctx.reply.nullArray() : ctx.reply.arrayHeader(0);
  if (count === 0) return ctx.reply.arrayHeader(0);
  const zset = found.zset;
  const popped = Math.min(count, zset.length);
  if (withKey) {
    ctx.reply.arrayHeader(2);
    ctx.reply.bulk(key);
    ctx.reply.arrayHeader(popped);
  } else ctx.reply.arrayHeader(nested ? popped : popped * 2);
  const [start, end] = max ? [zset.length - popped, zset.length] : [0, popped];
  zset.forRange(start, end, max, (member, score) => {
    if (nested) ctx.reply.arrayHeader(2);
    ctx.reply.bulk(member);
    ctx.reply.double(score);
  });
  zset.deleteRange(start, end);
  commit(ctx, key, found, max ? 'zpopmax' : 'zpopmin', popped);
  // ZMPOP and BZMPOP propagate as the pop of the key they took from, with the count asked for.
  if (withKey) ctx.propagate?.rewrite([max ? ZPOPMAX : ZPOPMIN, key, Buffer.from(String(count))]);
}

function zpopGeneric(max: boolean): CommandHandler {
  return (ctx, argv) => {
    if (argv.length > 3) return ctx.reply.error(ERR_SYNTAX);
    let count = -1;
    if (argv.length === 3) {
      const parsed = parseLong(argv[2]);
      if (parsed === undefined || parsed < 0) return ctx.reply.error(ERR_NOT_POSITIVE);
      count = parsed;
    }
    popGeneric(ctx, [argv[1]], max, count === -1 ? 1 : count, ctx.reply.protocol === 3 && count !== -1, false);
  };
}

/** A count-like argument within [1, LONG_MAX], replying `message` otherwise (getRangeLongFromObjectOrReply). */
function parsePositive(ctx: ExecutionContext, arg: Uint8Array, message: string): number | undefined {
  const value = parseInt64(arg);
  if (value === undefined || value < 1) return void ctx.reply.error(message);
  return Number(value);
}

/**
 * ZMPOP's arguments (numkeys key [key …] MIN|MAX [COUNT count], from argv[1]): the key positions' end,
 * the side and the count, or undefined after replying the error. BZMPOP checks them before its timeout.
 */
export function zmpopArguments(ctx: ExecutionContext, argv: readonly Buffer[]): { whereAt: number; max: boolean; count: number } | undefined {
  const numKeys = parsePositive(ctx, argv[1], 'ERR numkeys should be greater than 0');
  if (numKeys === undefined) return undefined;
  const whereAt = 2 + numKeys;
  if (whereAt >= argv.length) return void ctx.reply.error(ERR_SYNTAX);
  const max = isKeyword(argv[whereAt], 'MAX');
  if (!max && !isKeyword(argv[whereAt], 'MIN')) return void ctx.reply.error(ERR_SYNTAX);
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    if (count === -1 && isKeyword(argv[j], 'COUNT') && j + 1 < argv.length) {
      const parsed = parsePositive(ctx, argv[++j], 'ERR count should be greater than 0');
      if (parsed === undefined) return undefined;
      count = parsed;
    } else return void ctx.reply.error(ERR_SYNTAX);
  }
  return { whereAt, max, count: count === -1 ? 1 : count };
}

const zmpop: CommandHandler = (ctx, argv) => {
  const parsed = zmpopArguments(ctx, argv);
  if (parsed === undefined) return;
  popGeneric(ctx, argv.slice(2, parsed.whereAt), parsed.max, parsed.count, true, true);
};

// ------------------------------------------------------------------ ZRANDMEMBER

const zrandmember: CommandHandler = (ctx, argv) => {
  if (argv.length === 2) {
    const found = zsetAt(ctx, argv[1]);
    if (found === undefined) return;
    if (found === null) return ctx.reply.nullBulk();
    return ctx.reply.bulk(found.zset.randomElement(Math.random)[0]);
  }
  const count = parseInt64(argv[2]);
  if (count === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  if (count < -LONG_MAX) return ctx.reply.error(ERR_NOT_LONG);
  if (argv.length > 4 || (argv.length === 4 && !isKeyword(argv[3], 'WITHSCORES'))) return ctx.reply.error(ERR_SYNTAX);
  const withScores = argv.length === 4;
  if (withScores && (count < -(LONG_MAX / 2n) || count > LONG_MAX / 2n)) return ctx.reply.error(ERR_OUT_OF_RANGE);
  const found = zsetAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null || count === 0) return ctx.reply.arrayHeader(0);
  const zset = found.zset;
  const size = zset.length;
  const picks: [Buffer, number][] = [];
  if (count < 0) {
    // Repetitions allowed: each pick is independent.
    for (let i = -Number(count); i > 0; i--) picks.push(zset.randomElement(Math.random));
  } else if (!zset.isPacked && Number(count) * 3 <= size) {
    // A small share of a large set: sample until enough distinct members (Redis's "CASE 4").
    const chosen = new Map<string, [Buffer, number]>();
    while (chosen.size < Number(count)) {
      const element = zset.randomElement(Math.random);
      chosen.set(element[0].toString('latin1'), element);
    }
    picks.push(...chosen.values());
  } else {
    const all = copyRange(zset, 0, size);
    const wanted = Math.min(Number(count), size);
    // A partial shuffle picks `wanted` distinct elements uniformly.
    for (let i = 0; i < wanted; i++) {
      const j = i + Math.floor(Math.random() * (all.length - i));
      [all[i], all[j]] = [all[j], all[i]];
      picks.push(all[i]);
    }
  }
  replyHeader(ctx, picks.length, withScores);
  for (const [member, score] of picks) replyElement(ctx, member, score, withScores);
};

function copyRange(zset: SortedSetValue, start: number, end: number): [Buffer, number][] {
  const copies: [Buffer, number][] = [];
  zset.forRange(start, end, false, (member, score) => copies.push([Buffer.from(memberBytes(member)), score]));
  return copies;
}

// ------------------------------------------------------------------ ZUNION ZINTER ZDIFF (and STORE, ZINTERCARD)

const enum SetOp {
  Union,
  Inter,
  Diff,
}

const enum Aggregate {
  Sum,
  Min,
  Max,
}

function aggregate(how: Aggregate, target: number, value: number): number {
  if (how === Aggregate.Min) return value < target ? value : target;
  if (how === Aggregate.Max) return value > target ? value : target;
  const sum = target + value;
  return Number.isNaN(sum) ? 0 : sum;
}

interface Source {
  elements: [Buffer, number][];
  weight: number;
  scores: Map<string, number>;
}

/** A ZINTERCARD input read in place, unlike a Source: nothing is copied, and the walk can stop at LIMIT. */
interface MembershipView {
  readonly size: number;
  has(member: Uint8Array): boolean;
  /** Visits members while `visit` returns true. */
  forEachWhile(visit: (member: Uint8Array) => boolean): void;
}

const EMPTY_VIEW: MembershipView = { size: 0, has: () => false, forEachWhile: () => undefined };

/** The sorted set or plain set at `key` as a MembershipView, or undefined after replying WRONGTYPE. */
function membershipViewAt(ctx: ExecutionContext, key: Uint8Array): MembershipView | undefined {
  const entry = ctx.db.lookup(key);
  if (entry === 0) return EMPTY_VIEW;
  const type = ctx.db.type(entry);
  if (type === ValueType.ZSet) {
    const zset = new SortedSetValue(ctx.db.arena, ctx.db.collectionRoot(entry));
    return { size: zset.length, has: (member) => zset.score(member) !== undefined, forEachWhile: (visit) => zset.forEachWhile((member) => visit(memberBytes(member))) };
  }
  if (type !== ValueType.Set) return void ctx.reply.error(WRONGTYPE);
  const set = new SetValue(ctx.db.arena, ctx.db.collectionRoot(entry));
  return { size: set.size, has: (member) => set.has(member), forEachWhile: (visit) => set.forEachWhile((member) => visit(setMemberBytes(member))) };
}

/** How many members every view has, counting no further than `limit` (0: no limit): Redis's zinterCard walk. */
function intersectionCardinality(views: MembershipView[], limit: number): number {
  const [smallest, ...others] = views.sort((a, b) => a.size - b.size);
  let cardinality = 0;
  smallest.forEachWhile((member) => {
    if (others.every((view) => view.has(member))) cardinality++;
    return limit === 0 || cardinality < limit;
  });
  return cardinality;
}

/**
 * The elements of the sorted set or plain set at `key` (a set's members score 1, as Redis 7.0 takes
 * them), [] when missing, or undefined after replying WRONGTYPE for any other type.
 */
function scoredElementsAt(ctx: ExecutionContext, key: Uint8Array, reading: boolean): [Buffer, number][] | undefined {
  const entry = reading ? ctx.db.lookupRead(key) : ctx.db.lookup(key);
  if (entry === 0) return [];
  const type = ctx.db.type(entry);
  if (type === ValueType.ZSet) {
    const zset = new SortedSetValue(ctx.db.arena, ctx.db.collectionRoot(entry));
    return copyRange(zset, 0, zset.length);
  }
  if (type !== ValueType.Set) return void ctx.reply.error(WRONGTYPE);
  const elements: [Buffer, number][] = [];
  new SetValue(ctx.db.arena, ctx.db.collectionRoot(entry)).forEach((member) => elements.push([Buffer.from(setMemberBytes(member)), 1]));
  return elements;
}

const STORE_EVENTS: Readonly<Record<SetOp, string>> = { [SetOp.Union]: 'zunionstore', [SetOp.Inter]: 'zinterstore', [SetOp.Diff]: 'zdiffstore' };

/**
 * Redis's zunionInterDiffGenericCommand (inputs may be plain sets): `numKeysIndex` names the numkeys argument; `store` is the
 * destination key (the STORE forms), and `cardinalityOnly` ZINTERCARD.
 */
function setOperation(op: SetOp, numKeysIndex: number, store: boolean, cardinalityOnly: boolean): CommandHandler {
  return (ctx, argv) => {
    const name = argText(argv[0]).toLowerCase();
    const numKeys = parseLong(argv[numKeysIndex]);
    if (numKeys === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
    if (numKeys < 1) return ctx.reply.error(`ERR at least 1 input key is needed for '${name}' command`);
    if (numKeys > argv.length - numKeysIndex - 1) return ctx.reply.error(ERR_SYNTAX);
    const sources: Source[] = [];
    const views: MembershipView[] = [];
    let j = numKeysIndex + 1;
    for (let i = 0; i < numKeys; i++, j++) {
      if (cardinalityOnly) {
        const view = membershipViewAt(ctx, argv[j]);
        if (view === undefined) return;
        views.push(view);
        continue;
      }
      const elements = scoredElementsAt(ctx, argv[j], store);
      if (elements === undefined) return;
      sources.push({ elements, weight: 1, scores: new Map(elements.map(([member, score]) => [member.toString('latin1'), score])) });
    }
    let how = Aggregate.Sum;
    let withScores = false;
    let limit = 0;
    while (j < argv.length) {
      const remaining = argv.length - j;
      if (op !== SetOp.Diff && !cardinalityOnly && remaining >= numKeys + 1 && isKeyword(argv[j], 'WEIGHTS')) {
        j++;
        for (const source of sources) {
          const weight = parseDouble(argText(argv[j++]));
          if (weight === undefined) return ctx.reply.error('ERR weight value is not a float');
          source.weight = weight;
        }
      } else if (op !== SetOp.Diff && !cardinalityOnly && remaining >= 2 && isKeyword(argv[j], 'AGGREGATE')) {
        const chosen = argv[j + 1];
        if (isKeyword(chosen, 'SUM')) how = Aggregate.Sum;
        else if (isKeyword(chosen, 'MIN')) how = Aggregate.Min;
        else if (isKeyword(chosen, 'MAX')) how = Aggregate.Max;
        else return ctx.reply.error(ERR_SYNTAX);
        j += 2;
      } else if (!store && !cardinalityOnly && isKeyword(argv[j], 'WITHSCORES')) {
        withScores = true;
        j++;
      } else if (cardinalityOnly && remaining >= 2 && isKeyword(argv[j], 'LIMIT')) {
        const parsed = parseLong(argv[j + 1]);
        if (parsed === undefined || parsed < 0) return ctx.reply.error("ERR LIMIT can't be negative");
        limit = parsed;
        j += 2;
      } else return ctx.reply.error(ERR_SYNTAX);
    }
    if (cardinalityOnly) return ctx.reply.integer(intersectionCardinality(views, limit));
    // Smallest first, as Redis orders the inputs (it affects only the order scores are summed in).
    if (op !== SetOp.Diff) sources.sort((a, b) => a.elements.length - b.elements.length);
    const result = new Map<string, [Buffer, number]>();
    if (op === SetOp.Inter) {
      const [first, ...rest] = sources;
      for (const [member, memberScore] of first.elements) {
        let score = first.weight * memberScore;
        if (Number.isNaN(score)) score = 0;
        const text = member.toString('latin1');
        let inAll = true;
        for (const source of rest) {
          const other = source.scores.get(text);
          if (other === undefined) {
            inAll = false;
            break;
          }
          score = aggregate(how, score, other * source.weight);
        }
        if (!inAll) continue;
        result.set(text, [member, score]);
      }
    } else if (op === SetOp.Union) {
      for (const source of sources) {
        for (const [member, memberScore] of source.elements) {
          let score = source.weight * memberScore;
          if (Number.isNaN(score)) score = 0;
          const text = member.toString('latin1');
          const existing = result.get(text);
          if (existing === undefined) result.set(text, [member, score]);
          else existing[1] = aggregate(how, existing[1], score);
        }
      }
    } else {
      const [first, ...rest] = sources;
      for (const [member, score] of first.elements) {
        const text = member.toString('latin1');
        if (!rest.some((source) => source.scores.has(text))) result.set(text, [member, score]);
      }
    }
    const sorted = [...result.values()].sort(([memberA, a], [memberB, b]) => (a < b ? -1 : a > b ? 1 : compareMembers(memberA, memberB)));
    if (store) return storeResult(ctx, argv[1], sorted, true, true, STORE_EVENTS[op]);
    replyHeader(ctx, sorted.length, withScores);
    for (const [member, score] of sorted) replyElement(ctx, member, score, withScores);
  };
}

// ------------------------------------------------------------------ ZSCAN

const zscan = collectionScan<[Buffer, number]>({
  open: (ctx, key) => {
    const found = zsetAt(ctx, key);
    if (found === null || found === undefined) return found;
    const zset = found.zset;
    return {
      whole: () => (zset.isPacked ? copyRange(zset, 0, zset.length) : undefined),
      step: (cursor, into) => zset.scanStep(cursor, into),
    };
  },
  name: ([member]) => member,
  width: 2,
  write: (reply, [member, score]) => {
    reply.bulk(member);
    reply.bulk(formatDouble(score));
  },
});

export const sortedSetCommands: Readonly<Record<string, CommandHandler>> = {
  zadd,
  zincrby,
  zrem,
  zcard,
  zscore,
  zmscore,
  zrank: zrankGeneric(false),
  zrevrank: zrankGeneric(true),
  zcount,
  zlexcount,
  zrange: zrangeGeneric(RangeType.Auto, undefined),
  zrangestore,
  zrangebyscore: zrangeGeneric(RangeType.Score, false),
  zrevrangebyscore: zrangeGeneric(RangeType.Score, true),
  zrangebylex: zrangeGeneric(RangeType.Lex, false),
  zrevrangebylex: zrangeGeneric(RangeType.Lex, true),
  zrevrange: zrangeGeneric(RangeType.Rank, true),
  zremrangebyrank: zremrangeGeneric(RangeType.Rank, 'zremrangebyrank'),
  zremrangebyscore: zremrangeGeneric(RangeType.Score, 'zremrangebyscore'),
  zremrangebylex: zremrangeGeneric(RangeType.Lex, 'zremrangebylex'),
  zpopmin: zpopGeneric(false),
  zpopmax: zpopGeneric(true),
  zmpop,
  zrandmember,
  zunion: setOperation(SetOp.Union, 1, false, false),
  zinter: setOperation(SetOp.Inter, 1, false, false),
  zdiff: setOperation(SetOp.Diff, 1, false, false),
  zunionstore: setOperation(SetOp.Union, 2, true, false),
  zinterstore: setOperation(SetOp.Inter, 2, true, false),
  zdiffstore: setOperation(SetOp.Diff, 2, true, false),
  zintercard: setOperation(SetOp.Inter, 1, false, true),
  zscan,
};
