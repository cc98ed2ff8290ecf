/**
 * The string commands (Redis's t_string.c): GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET
 * MSETNX APPEND STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT GETRANGE SUBSTR SETRANGE.
 *
 * Semantics, error wording and the order in which errors are detected follow Redis 7.0 (the differential
 * tests compare every reply byte with a real redis-server). Values are read as views of shard memory and
 * written straight into the reply, so a GET copies its value once, into the output buffer.
 *
 * Multi-key commands here (MGET, MSET, MSETNX) act on one database; spreading them over shards, with
 * every involved shard held still, is the router's job.
 */
import {
  ERR_DECR_OVERFLOW,
  ERR_INCR_NAN,
  ERR_INCR_OVERFLOW,
  ERR_NOT_FLOAT,
  ERR_NOT_INTEGER,
  ERR_OFFSET_OUT_OF_RANGE,
  ERR_SYNTAX,
  WRONGTYPE,
  wrongArity,
} from '../protocol/errors.js';
import { ExpiryChange, type ExpiryTime } from '../shard/database.js';
import { StringForm, ValueType } from '../shard/entry.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import {
  addInt64,
  argText,
  isInt64Min,
  isKeyword,
  parseInt64,
  type CommandHandler,
  type ExecutionContext,
} from './context.js';
import { deletion } from '../shard/propagation.js';
import { readExpiry, type ExpiryRule } from './expiry.js';
import { addLongDouble, formatLongDouble, parseLongDouble, type LongDouble } from './long-double.js';

/** Largest string SETRANGE and APPEND may build: proto-max-bulk-len's default. */
export const MAX_STRING_LENGTH = 512 * 1024 * 1024;
const ERR_STRING_TOO_LONG = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';

/**
 * The string entry for `key`, 0 when missing, or -1 after replying WRONGTYPE. `reading`: looked up as
 * Redis's lookupKeyRead in a write command (GETDEL, GETEX, SET GET), so a miss counts and is notified.
 */
export function stringEntry(ctx: ExecutionContext, key: Uint8Array, reading = false): number {
  const entry = reading ? ctx.db.lookupRead(key) : ctx.db.lookup(key);
  if (entry !== 0 && ctx.db.type(entry) !== ValueType.String) {
    ctx.reply.error(WRONGTYPE);
    return -1;
  }
  return entry;
}

// ------------------------------------------------------------------ SET and its relatives

const SET_NX = 1;
const SET_XX = 2;
const SET_GET = 4;
const SET_KEEPTTL = 8;
const SET_PERSIST = 16;
const SET_EX = 32;
const SET_PX = 64;
const SET_EXAT = 128;
const SET_PXAT = 256;
const ANY_EXPIRE = SET_EX | SET_PX | SET_EXAT | SET_PXAT;

interface StringOptions {
  flags: number;
  expire: Buffer | undefined;
}

/**
 * Redis's parseExtendedStringArgumentsOrReply: options from `from` on, for SET (`forSet`) or GETEX.
 * Undefined after a syntax error reply.
 */
function readStringOptions(ctx: ExecutionContext, argv: readonly Buffer[], from: number, forSet: boolean): StringOptions | undefined {
  let flags = 0;
  let expire: Buffer | undefined;
  for (let j = from; j < argv.length; j++) {
    const opt = argv[j];
    const next = j + 1 < argv.length ? argv[j + 1] : undefined;
    if (forSet && isKeyword(opt, 'NX') && !(flags & SET_XX)) flags |= SET_NX;
    else if (forSet && isKeyword(opt, 'XX') && !(flags & SET_NX)) flags |= SET_XX;
    else if (forSet && isKeyword(opt, 'GET')) flags |= SET_GET;
    else if (forSet && isKeyword(opt, 'KEEPTTL') && !(flags & (SET_PERSIST | ANY_EXPIRE))) flags |= SET_KEEPTTL;
    else if (!forSet && isKeyword(opt, 'PERSIST') && !(flags & (SET_KEEPTTL | ANY_EXPIRE))) flags |= SET_PERSIST;
    else {
      const unit = isKeyword(opt, 'EX') ? SET_EX : isKeyword(opt, 'PX') ? SET_PX : isKeyword(opt, 'EXAT') ? SET_EXAT : isKeyword(opt, 'PXAT') ? SET_PXAT : 0;
      if (unit === 0 || next === undefined || flags & (SET_KEEPTTL | SET_PERSIST | (ANY_EXPIRE & ~unit))) {
        ctx.reply.error(ERR_SYNTAX);
        return undefined;
      }
      flags |= unit;
      expire = next;
      j++;
    }
  }
  return { flags, expire };
}

function expiryRule(flags: number, command: string): ExpiryRule {
  return { seconds: (flags & (SET_EX | SET_EXAT)) !== 0, relative: (flags & (SET_EX | SET_PX)) !== 0, positiveOnly: true, command };
}

const SET = Buffer.from('SET');
const PXAT = Buffer.from('PXAT');
const KEEPTTL = Buffer.from('KEEPTTL');
const PEXPIREAT = Buffer.from('PEXPIREAT');
const PERSIST = Buffer.from('PERSIST');

/** The core of SET, SETNX, SETEX and PSETEX (Redis's setGenericCommand); an expiry given is notified as `expire`. */
function setGeneric(ctx: ExecutionContext, key: Buffer, value: Buffer, options: StringOptions, command: string, okReply?: () => void): void {
  const { flags, expire } = options;
  let expireAt: ExpiryTime = flags & SET_KEEPTTL ? ExpiryChange.Keep : ExpiryChange.Clear;
  if (expire !== undefined) {
    const when = readExpiry(ctx, expire, expiryRule(flags, command));
    if (when === undefined) return;
    expireAt = when;
  }
  if (flags & SET_GET) {
    const old = stringEntry(ctx, key, true);
    if (old < 0) return;
    if (old === 0) ctx.reply.nullBulk();
    else ctx.reply.bulk(ctx.db.stringBytes(old));
  }
  // Only NX and XX need to know whether the key exists; a plain SET leaves that to setString's own lookup.
  const found = flags & (SET_NX | SET_XX) ? ctx.db.lookup(key) !== 0 : false;
  if ((flags & SET_NX && found) || (flags & SET_XX && !found)) {
    if (!(flags & SET_GET)) {
      if (okReply === undefined) ctx.reply.nullBulk();
      else ctx.reply.integer(0);
    }
    return;
  }
  ctx.db.setString(key, value, expireAt);
  ctx.db.changed(key, NotifyType.String, 'set');
  if (expire !== undefined) {
    ctx.db.notify(NotifyType.Generic, 'expire', key);
    // Redis propagates any relative or second expiry as SET key value PXAT <ms>, other flags dropped.
    if (!(flags & SET_PXAT)) ctx.propagate?.rewrite([SET, key, value, PXAT, Buffer.from(String(expireAt))]);
  }
  if (!(flags & SET_GET)) {
    if (okReply === undefined) ctx.reply.ok();
    else okReply();
  }
}

const set: CommandHandler = (ctx, argv) => {
  const options = readStringOptions(ctx, argv, 3, true);
  if (options === undefined) return;
  // Without an expiry (which rewrites the whole command) SET … GET propagates without its GET.
  if (options.flags & SET_GET && options.expire === undefined) ctx.propagate?.rewrite(argv.filter((arg, i) => i < 3 || !isKeyword(arg, 'GET')));
  setGeneric(ctx, argv[1], argv[2], options, 'set');
};

const setnx: CommandHandler = (ctx, argv) =>
  setGeneric(ctx, argv[1], argv[2], { flags: SET_NX, expire: undefined }, 'setnx', () => ctx.reply.integer(1));

const setex: CommandHandler = (ctx, argv) => setGeneric(ctx, argv[1], argv[3], { flags: SET_EX, expire: argv[2] }, 'setex');

const psetex: CommandHandler = (ctx, argv) => setGeneric(ctx, argv[1], argv[3], { flags: SET_PX, expire: argv[2] }, 'psetex');

// ------------------------------------------------------------------ reads

const get: CommandHandler = (ctx, argv) => {
  const entry = stringEntry(ctx, argv[1]);
  if (entry === 0) ctx.reply.nullBulk();
  else if (entry > 0) ctx.reply.bulk(ctx.db.stringBytes(entry));
};

const getset: CommandHandler = (ctx, argv) => {
  const entry = stringEntry(ctx, argv[1], true);
  if (entry < 0) return;
  if (entry === 0) ctx.reply.nullBulk();
  else ctx.reply.bulk(ctx.db.stringBytes(entry));
  ctx.db.setString(argv[1], argv[2], ExpiryChange.Clear);
  ctx.db.changed(argv[1], NotifyType.String, 'set');
  ctx.propagate?.rewrite([SET, argv[1], argv[2]]);
};

const getdel: CommandHandler = (ctx, argv) => {
  const entry = stringEntry(ctx, argv[1], true);
  if (entry < 0) return;
  if (entry === 0) return ctx.reply.nullBulk();
  ctx.reply.bulk(ctx.db.stringBytes(entry));
  ctx.db.deleteChanged(argv[1], ctx.db.lazyFree.settings['lazyfree-lazy-user-del']);
  // Redis propagates it as DEL, whichever way it freed the value.
  ctx.propagate?.rewrite(deletion(argv[1], false));
};

const getex: CommandHandler = (ctx, argv) => {
  const options = readStringOptions(ctx, argv, 2, false);
  if (options === undefined) return;
  const entry = stringEntry(ctx, argv[1], true);
  if (entry === 0) return ctx.reply.nullBulk();
  if (entry < 0) return;
  let when: ExpiryTime | undefined;
  if (options.expire !== undefined) {
    when = readExpiry(ctx, options.expire, expiryRule(options.flags, 'getex'));
    if (when === undefined) return;
  }
  ctx.reply.bulk(ctx.db.stringBytes(entry));
  if (when !== undefined) {
    if (options.flags & (SET_EXAT | SET_PXAT) && when <= ctx.now) {
      const lazily = ctx.db.lazyFree.settings['lazyfree-lazy-expire'];
      ctx.db.deleteChanged(argv[1], lazily);
      ctx.propagate?.rewrite(deletion(argv[1], lazily));
    } else {
      ctx.db.setExpire(argv[1], when);
      ctx.db.changed(argv[1], NotifyType.Generic, 'expire');
      ctx.propagate?.rewrite([PEXPIREAT, argv[1], Buffer.from(String(when))]);
    }
  } else if (options.flags & SET_PERSIST && ctx.db.expireAt(entry) !== -1) {
    ctx.db.setExpire(argv[1], ExpiryChange.Clear);
    ctx.db.changed(argv[1], NotifyType.Generic, 'persist');
    ctx.propagate?.rewrite([PERSIST, argv[1]]);
  }
};

const mget: CommandHandler = (ctx, argv) => {
  ctx.reply.arrayHeader(argv.length - 1);
  for (let i = 1; i < argv.length; i++) {
    const entry = ctx.db.lookup(argv[i]);
    if (entry === 0 || ctx.db.type(entry) !== ValueType.String) ctx.reply.nullBulk();
    else ctx.reply.bulk(ctx.db.stringBytes(entry));
  }
};

const strlen: CommandHandler = (ctx, argv) => {
  const entry = stringEntry(ctx, argv[1]);
  if (entry >= 0) ctx.reply.integer(entry === 0 ? 0 : ctx.db.stringBytes(entry).length);
};

/** GETRANGE's index arithmetic, exactly as Redis 7.0 does it (quirks included). */
const getrange: CommandHandler = (ctx, argv) => {
  const startArg = parseInt64(argv[2]);
  const endArg = parseInt64(argv[3]);
  if (startArg === undefined || endArg === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  const entry = stringEntry(ctx, argv[1]);
  if (entry < 0) return;
  if (entry === 0) return ctx.reply.bulk('');
  const value = ctx.db.stringBytes(entry);
  const length = value.length;
  // Compared before rounding to numbers: both may be beyond 2^53, where only this test needs exactness.
  if (startArg < 0 && endArg < 0 && startArg > endArg) return ctx.reply.bulk('');
  let start = Number(startArg);
  let end = Number(endArg);
  if (start < 0) start = length + start;
  if (end < 0) end = length + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= length) end = length - 1;
  if (start > end || length === 0) return ctx.reply.bulk('');
  ctx.reply.bulk(value.subarray(start, end + 1));
};

// ------------------------------------------------------------------ writes of several keys

const mset: CommandHandler = (ctx, argv) => {
  if (argv.length % 2 === 0) return ctx.reply.error(wrongArity('mset'));
  setAll(ctx, argv);
  ctx.reply.ok();
};

const msetnx: CommandHandler = (ctx, argv) => {
  if (argv.length % 2 === 0) return ctx.reply.error(wrongArity('msetnx'));
  for (let i = 1; i < argv.length; i += 2) if (ctx.db.lookup(argv[i]) !== 0) return ctx.reply.integer(0);
  setAll(ctx, argv);
  ctx.reply.integer(1);
};

/** MSET's and MSETNX's writes: each key set and signalled in turn. */
function setAll(ctx: ExecutionContext, argv: readonly Buffer[]): void {
  for (let i = 1; i < argv.length; i += 2) {
    ctx.db.setString(argv[i], argv[i + 1], ExpiryChange.Clear);
    ctx.db.changed(argv[i], NotifyType.String, 'set');
  }
}

// ------------------------------------------------------------------ in-place changes

const append: CommandHandler = (ctx, argv) => {
  const entry = stringEntry(ctx, argv[1]);
  if (entry < 0) return;
  if (entry === 0) {
    ctx.db.setString(argv[1], argv[2], ExpiryChange.Clear);
    ctx.db.changed(argv[1], NotifyType.String, 'append');
    return ctx.reply.integer(argv[2].length);
  }
  const before = ctx.db.stringBytes(entry).length;
  if (before + argv[2].length > MAX_STRING_LENGTH) return ctx.reply.error(ERR_STRING_TOO_LONG);
  const resized = ctx.db.resizeString(entry, before + argv[2].length);
  ctx.db.stringBytes(resized).set(argv[2], before);
  ctx.db.setStringForm(resized, StringForm.Raw);
  ctx.db.changed(argv[1], NotifyType.String, 'append');
  ctx.reply.integer(before + argv[2].length);
};

const setrange: CommandHandler = (ctx, argv) => {
  const offsetArg = parseInt64(argv[2]);
  if (offsetArg === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  if (offsetArg < 0) return ctx.reply.error(ERR_OFFSET_OUT_OF_RANGE);
  const offset = Number(offsetArg);
  const value = argv[3];
  const entry = stringEntry(ctx, argv[1]);
  if (entry < 0) return;
  if (entry === 0) {
    if (value.length === 0) return ctx.reply.integer(0);
    if (offset + value.length > MAX_STRING_LENGTH) return ctx.reply.error(ERR_STRING_TOO_LONG);
    const fresh = new Uint8Array(offset + value.length);
    fresh.set(value, offset);
    ctx.db.setStringForm(ctx.db.setString(argv[1], fresh, ExpiryChange.Clear), StringForm.Raw);
    ctx.db.changed(argv[1], NotifyType.String, 'setrange');
    return ctx.reply.integer(fresh.length);
  }
  const length = ctx.db.stringBytes(entry).length;
  if (value.length === 0) return ctx.reply.integer(length);
  if (offset + value.length > MAX_STRING_LENGTH) return ctx.reply.error(ERR_STRING_TOO_LONG);
  const resized = offset + value.length > length ? ctx.db.resizeString(entry, offset + value.length) : entry;
  ctx.db.stringBytes(resized).set(value, offset);
  ctx.db.setStringForm(resized, StringForm.Raw);
  ctx.db.changed(argv[1], NotifyType.String, 'setrange');
  ctx.reply.integer(Math.max(length, offset + value.length));
};

/** Replaces a string's bytes, keeping its TTL (INCR and friends overwrite the value only), and signals `event`. */
function overwriteKeepingTtl(ctx: ExecutionContext, key: Buffer, entry: number, text: string, form: StringForm, event: string): void {
  const bytes = Buffer.from(text, 'latin1');
  let written: number;
  if (entry === 0) written = ctx.db.setString(key, bytes, ExpiryChange.Clear);
  else {
    written = ctx.db.resizeString(entry, bytes.length);
    ctx.db.stringBytes(written).set(bytes);
  }
  ctx.db.setStringForm(written, form);
  ctx.db.changed(key, NotifyType.String, event);
}

function incrementBy(ctx: ExecutionContext, key: Buffer, delta: number | bigint): void {
  const entry = stringEntry(ctx, key);
  if (entry < 0) return;
  let current: number | bigint = 0;
  if (entry !== 0) {
    const stored = ctx.db.stringBytes(entry);
    const parsed = stored.length <= 20 ? parseInt64(stored) : undefined;
    if (parsed === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
    current = parsed;
  }
  const result = addInt64(current, delta);
  if (result === undefined) return ctx.reply.error(ERR_INCR_OVERFLOW);
  overwriteKeepingTtl(ctx, key, entry, result.toString(), StringForm.AsSet, 'incrby');
  ctx.reply.integer(result);
}

const incr: CommandHandler = (ctx, argv) => incrementBy(ctx, argv[1], 1);
const decr: CommandHandler = (ctx, argv) => incrementBy(ctx, argv[1], -1);

const incrby: CommandHandler = (ctx, argv) => {
  const delta = parseInt64(argv[2]);
  if (delta === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  incrementBy(ctx, argv[1], delta);
};

const decrby: CommandHandler = (ctx, argv) => {
  const delta = parseInt64(argv[2]);
  if (delta === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  // -LLONG_MIN does not exist: Redis refuses it with its own wording.
  if (isInt64Min(delta)) return ctx.reply.error(ERR_DECR_OVERFLOW);
  incrementBy(ctx, argv[1], typeof delta === 'bigint' ? -delta : -delta);
};

/** INCRBYFLOAT computes in an emulated x87 long double, as Redis does (see long-double.ts). */
const incrbyfloat: CommandHandler = (ctx, argv) => {
  const entry = stringEntry(ctx, argv[1]);
  if (entry < 0) return;
  const current = entry === 0 ? ZERO : parseLongDouble(argText(ctx.db.stringBytes(entry)));
  const delta = parseLongDouble(argText(argv[2]));
  if (current === undefined || delta === undefined) return ctx.reply.error(ERR_NOT_FLOAT);
  const sum = typeof current === 'string' || typeof delta === 'string' ? undefined : addLongDouble(current, delta);
  if (sum === undefined) return ctx.reply.error(ERR_INCR_NAN);
  const text = formatLongDouble(sum);
  overwriteKeepingTtl(ctx, argv[1], entry, text, StringForm.Text, 'incrbyfloat');
  // The sum as computed here, so that a replay cannot round differently.
  ctx.propagate?.rewrite([SET, argv[1], Buffer.from(text, 'latin1'), KEEPTTL]);
  ctx.reply.bulk(text);
};
const ZERO: LongDouble = { negative: false, mantissa: 0n, exponent: 0 };

export const stringCommands: Readonly<Record<string, CommandHandler>> = {
  get,
  set,
  setnx,
  setex,
  psetex,
  getset,
  getdel,
  getex,
  mget,
  mset,
  msetnx,
  append,
  strlen,
  incr,
  decr,
  incrby,
  decrby,
  incrbyfloat,
  getrange,
  substr: getrange,
  setrange,
};
