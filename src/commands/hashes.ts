/**
 * The hash commands (Redis's t_hash.c): HSET HSETNX HGET HMGET HMSET HDEL HLEN HSTRLEN HEXISTS HKEYS
 * HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
 *
 * The value lives in shard memory (collections/hash.ts: packed while small, a table of field entries
 * when large); these handlers parse, check types, and write replies straight from arena views.
 * Semantics, errors and the order in which they are detected follow Redis 7.0, including when a hash
 * changes encoding (OBJECT ENCODING is compared with a real redis-server in the tests), and a hash whose
 * last field is deleted is deleted with it.
 */
import { HashValue, type HashBytes } from '../collections/hash.js';
import {
  ERR_HASH_NOT_FLOAT,
  ERR_HASH_NOT_INTEGER,
  ERR_INCR_NAN,
  ERR_INCR_OVERFLOW,
  ERR_NOT_FLOAT,
  ERR_NOT_INTEGER,
  ERR_NOT_LONG,
  ERR_OUT_OF_RANGE,
  ERR_SYNTAX,
  ERR_VALUE_NAN,
  WRONGTYPE,
  wrongArity,
} from '../protocol/errors.js';
import { ValueType } from '../shard/entry.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import { addInt64, argText, isKeyword, parseInt64, type CommandHandler, type ExecutionContext } from './context.js';
import { collectionScan } from './collection-scan.js';
import { addLongDouble, formatLongDouble, parseLongDouble, type LongDouble } from './long-double.js';

const LONG_MAX = 9223372036854775807n;

/** The hash at `key` (entry and value), null when missing, or undefined after replying WRONGTYPE. */
function hashAt(ctx: ExecutionContext, key: Uint8Array): { entry: number; hash: HashValue } | null | undefined {
  const entry = ctx.db.lookup(key);
  if (entry === 0) return null;
  if (ctx.db.type(entry) !== ValueType.Hash) {
    ctx.reply.error(WRONGTYPE);
    return undefined;
  }
  return { entry, hash: new HashValue(ctx.db.arena, ctx.db.collectionRoot(entry)) };
}

/**
 * The hash at `key` for writing, created empty when missing (Redis's hashTypeLookupWriteOrCreate), or
 * undefined after replying WRONGTYPE. A new hash is linked only by commit(), so a command that fails
 * before storing anything leaves no empty key behind.
 */
function hashForWrite(ctx: ExecutionContext, key: Uint8Array): { entry: number; hash: HashValue } | undefined {
  const found = hashAt(ctx, key);
  if (found === undefined) return undefined;
  return found ?? { entry: 0, hash: HashValue.create(ctx.db.arena) };
}

/** Stores the hash's (possibly moved) root in its key, creating the key for a new hash, and signals `event`. */
function commit(ctx: ExecutionContext, key: Uint8Array, target: { entry: number; hash: HashValue }, event: string, dirty = 1): void {
  if (target.entry === 0) target.entry = ctx.db.setCollection(key, ValueType.Hash, target.hash.root);
  else ctx.db.setCollectionRoot(target.entry, target.hash.root);
  ctx.db.changed(key, NotifyType.Hash, event, dirty);
}

// ------------------------------------------------------------------ HSET HMSET HSETNX

function hsetGeneric(multi: boolean): CommandHandler {
  return (ctx, argv) => {
    if (argv.length % 2 === 1) return ctx.reply.error(wrongArity(multi ? 'hmset' : 'hset'));
    const target = hashForWrite(ctx, argv[1]);
    if (target === undefined) return;
    target.hash.convertForArguments(argv, 2, argv.length, ctx.limits);
    let added = 0;
    for (let i = 2; i < argv.length; i += 2) if (target.hash.set(argv[i], argv[i + 1], ctx.limits)) added++;
    // Every pair counts as a change, new or not, as Redis counts them.
    commit(ctx, argv[1], target, 'hset', (argv.length - 2) / 2);
    if (multi) ctx.reply.ok();
    else ctx.reply.integer(added);
  };
}

const hsetnx: CommandHandler = (ctx, argv) => {
  const target = hashForWrite(ctx, argv[1]);
  if (target === undefined) return;
  if (target.hash.exists(argv[2])) return ctx.reply.integer(0);
  target.hash.convertForArguments(argv, 2, 4, ctx.limits);
  target.hash.set(argv[2], argv[3], ctx.limits);
  commit(ctx, argv[1], target, 'hset');
  ctx.reply.integer(1);
};

// ------------------------------------------------------------------ reads

const hget: CommandHandler = (ctx, argv) => {
  const found = hashAt(ctx, argv[1]);
  if (found === undefined) return;
  const value = found?.hash.get(argv[2]);
  if (value === undefined) ctx.reply.nullBulk();
  else ctx.reply.bulk(value);
};

const hmget: CommandHandler = (ctx, argv) => {
  const found = hashAt(ctx, argv[1]);
  if (found === undefined) return;
  ctx.reply.arrayHeader(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const value = found?.hash.get(argv[i]);
    if (value === undefined) ctx.reply.nullBulk();
    else ctx.reply.bulk(value);
  }
};

const hlen: CommandHandler = (ctx, argv) => {
  const found = hashAt(ctx, argv[1]);
  if (found !== undefined) ctx.reply.integer(found?.hash.length ?? 0);
};

const hstrlen: CommandHandler = (ctx, argv) => {
  const found = hashAt(ctx, argv[1]);
  if (found === undefined) return;
  const value = found?.hash.get(argv[2]);
  ctx.reply.integer(value === undefined ? 0 : value.length);
};

const hexists: CommandHandler = (ctx, argv) => {
  const found = hashAt(ctx, argv[1]);
  if (found !== undefined) ctx.reply.integer(found?.hash.exists(argv[2]) ? 1 : 0);
};

const FIELDS = 1;
const VALUES = 2;

/** HKEYS, HVALS and HGETALL: a missing key is an empty array (HGETALL: an empty map). */
function getAll(what: number): CommandHandler {
  return (ctx, argv) => {
    const found = hashAt(ctx, argv[1]);
    if (found === undefined) return;
    const length = found?.hash.length ?? 0;
    if (what === (FIELDS | VALUES)) ctx.reply.mapHeader(length);
    else ctx.reply.arrayHeader(length);
    found?.hash.forEach((field, value) => {
      if (what & FIELDS) ctx.reply.bulk(field);
      if (what & VALUES) ctx.reply.bulk(value);
    });
  };
}

// ------------------------------------------------------------------ HDEL

const hdel: CommandHandler = (ctx, argv) => {
  const found = hashAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null) return ctx.reply.integer(0);
  let deleted = 0;
  for (let i = 2; i < argv.length; i++) {
    if (found.hash.delete(argv[i])) deleted++;
    if (found.hash.length === 0) break;
  }
  // The root first: deleting the key frees whatever root its entry names.
  ctx.db.setCollectionRoot(found.entry, found.hash.root);
  if (deleted !== 0) {
    const emptied = found.hash.length === 0;
    if (emptied) ctx.db.delete(argv[1]);
    ctx.db.changed(argv[1], NotifyType.Hash, 'hdel', deleted);
    if (emptied) ctx.db.notify(NotifyType.Generic, 'del', argv[1]);
  }
  ctx.reply.integer(deleted);
};

// ------------------------------------------------------------------ HINCRBY HINCRBYFLOAT

const hincrby: CommandHandler = (ctx, argv) => {
  const increment = parseInt64(argv[3]);
  if (increment === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  const target = hashForWrite(ctx, argv[1]);
  if (target === undefined) return;
  const current = target.hash.get(argv[2]);
  const value = current === undefined ? 0 : parseInt64(typeof current === 'string' ? Buffer.from(current, 'latin1') : current);
  if (value === undefined) return ctx.reply.error(ERR_HASH_NOT_INTEGER);
  const sum = addInt64(value, increment);
  if (sum === undefined) return ctx.reply.error(ERR_INCR_OVERFLOW);
  target.hash.set(argv[2], Buffer.from(String(sum), 'latin1'), ctx.limits);
  commit(ctx, argv[1], target, 'hincrby');
  ctx.reply.integer(sum);
};

const ZERO: LongDouble = { negative: false, mantissa: 0n, exponent: 0 };

const HSET = Buffer.from('HSET');

const hincrbyfloat: CommandHandler = (ctx, argv) => {
  const increment = parseLongDouble(argText(argv[3]));
  if (increment === undefined) return ctx.reply.error(ERR_NOT_FLOAT);
  if (typeof increment === 'string') return ctx.reply.error(ERR_VALUE_NAN);
  const target = hashForWrite(ctx, argv[1]);
  if (target === undefined) return;
  const current = target.hash.get(argv[2]);
  const value = current === undefined ? ZERO : parseLongDouble(typeof current === 'string' ? current : argText(current));
  if (value === undefined) return ctx.reply.error(ERR_HASH_NOT_FLOAT);
  const sum = typeof value === 'string' ? undefined : addLongDouble(value, increment);
  if (sum === undefined) return ctx.reply.error(ERR_INCR_NAN);
  const text = formatLongDouble(sum);
  const bytes = Buffer.from(text, 'latin1');
  target.hash.set(argv[2], bytes, ctx.limits);
  commit(ctx, argv[1], target, 'hincrbyfloat');
  // The sum as computed here, so that a replay cannot round differently.
  ctx.propagate?.rewrite([HSET, argv[1], argv[2], bytes]);
  ctx.reply.bulk(text);
};

// ------------------------------------------------------------------ HRANDFIELD

/** Writes HRANDFIELD's pairs: fields, or (WITHVALUES) field/value pairs, flat in RESP2 and nested in RESP3. */
function replyPairs(ctx: ExecutionContext, pairs: readonly (readonly [HashBytes, HashBytes])[], withValues: boolean): void {
  const nested = withValues && ctx.reply.protocol === 3;
  ctx.reply.arrayHeader(withValues && !nested ? pairs.length * 2 : pairs.length);
  for (const [field, value] of pairs) {
    if (nested) ctx.reply.arrayHeader(2);
    ctx.reply.bulk(field);
    if (withValues) ctx.reply.bulk(value);
  }
}

const hrandfield: CommandHandler = (ctx, argv) => {
  if (argv.length === 2) {
    const found = hashAt(ctx, argv[1]);
    if (found === undefined) return;
    if (found === null) return ctx.reply.nullBulk();
    const [field] = found.hash.pairAt(Math.floor(Math.random() * found.hash.length), Math.random);
    return ctx.reply.bulk(field);
  }
  const count = parseInt64(argv[2]);
  if (count === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  if (count < -LONG_MAX) return ctx.reply.error(ERR_NOT_LONG);
  if (argv.length > 4 || (argv.length === 4 && !isKeyword(argv[3], 'WITHVALUES'))) return ctx.reply.error(ERR_SYNTAX);
  const withValues = argv.length === 4;
  if (withValues && (count < -(LONG_MAX / 2n) || count > LONG_MAX / 2n)) return ctx.reply.error(ERR_OUT_OF_RANGE);
  const found = hashAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null || count === 0) return ctx.reply.arrayHeader(0);
  const hash = found.hash;
  const size = hash.length;
  const pairs: (readonly [HashBytes, HashBytes])[] = [];
  if (count < 0) {
    // Repetitions allowed: each pick is independent.
    const picks = -Number(count);
    for (let i = 0; i < picks; i++) pairs.push(hash.pairAt(Math.floor(Math.random() * size), Math.random));
  } else if (count >= size) {
    hash.forEach((field, value) => pairs.push([copyOf(field), copyOf(value)]));
  } else if (!hash.isPacked && Number(count) * 3 <= size) {
    pairs.push(...hash.sampleDistinct(Number(count), Math.random));
  } else {
    // A large share of the hash: a partial shuffle of all of it (Redis's "CASE 3").
    const all: [HashBytes, HashBytes][] = [];
    hash.forEach((field, value) => all.push([copyOf(field), copyOf(value)]));
    for (let i = 0; i < Number(count); i++) {
      const j = i + Math.floor(Math.random() * (all.length - i));
      [all[i], all[j]] = [all[j], all[i]];
      pairs.push(all[i]);
    }
  }
  replyPairs(ctx, pairs, withValues);
};

function copyOf(bytes: HashBytes): HashBytes {
  return typeof bytes === 'string' ? bytes : Buffer.from(bytes);
}

// ------------------------------------------------------------------ HSCAN

const asBytes = (item: HashBytes): Uint8Array => (typeof item === 'string' ? Buffer.from(item, 'latin1') : item);

const hscan = collectionScan<[HashBytes, HashBytes]>({
  open: (ctx, key) => {
    const found = hashAt(ctx, key);
    if (found === null || found === undefined) return found;
    const hash = found.hash;
    return {
      whole: () => {
        if (!hash.isPacked) return undefined;
        const pairs: [HashBytes, HashBytes][] = [];
        hash.forEach((field, value) => pairs.push([copyOf(field), copyOf(value)]));
        return pairs;
      },
      step: (cursor, into) => hash.scanStep(cursor, into as [Buffer, Buffer][]),
    };
  },
  name: ([field]) => asBytes(field),
  width: 2,
  write: (reply, [field, value]) => {
    reply.bulk(field);
    reply.bulk(value);
  },
});

export const hashCommands: Readonly<Record<string, CommandHandler>> = {
  hset: hsetGeneric(false),
  hmset: hsetGeneric(true),
  hsetnx,
  hget,
  hmget,
  hlen,
  hstrlen,
  hexists,
  hkeys: getAll(FIELDS),
  hvals: getAll(VALUES),
  hgetall: getAll(FIELDS | VALUES),
  hdel,
  hincrby,
  hincrbyfloat,
  hrandfield,
  hscan,
};
