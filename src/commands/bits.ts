/**
 * The bit commands on strings (Redis's bitops.c): SETBIT GETBIT BITCOUNT BITPOS BITOP. BITFIELD, which
 * shares the offset rules and the string growth here, is in bitfield.ts.
 *
 * A string is a bit array numbered from the most significant bit of its first byte. Offsets are limited
 * to 2^32 bits (512 MB, proto-max-bulk-len), and a write past the end grows the string in place with
 * zero bytes (Database.resizeString, as SETRANGE does), keeping its TTL. Reads past the end see zeros.
 *
 * BITCOUNT and BITPOS are the hot paths: they scan up to 512 MB, so the middle of a range is read as
 * 32-bit words (a popcount by SWAR, a search that skips whole words of the byte it does not want), and
 * only the unaligned edges go byte by byte, through a 256-entry popcount table.
 *
 * Range arithmetic (negative indexes, clamping, BYTE|BIT units) and the order in which errors are found
 * are Redis 7.0's, quirks included; the differential tests compare every reply with a real redis-server.
 */
import { ERR_BIT_OFFSET, ERR_BIT_VALUE, ERR_NOT_INTEGER, ERR_SYNTAX } from '../protocol/errors.js';
import { ExpiryChange } from '../shard/database.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import { isKeyword, parseInt64, type CommandHandler, type ExecutionContext } from './context.js';
import { MAX_STRING_LENGTH, stringEntry } from './strings.js';

/** Offsets must stay below this many bits (Redis: offset >> 3 < proto-max-bulk-len). */
const BIT_OFFSET_LIMIT = MAX_STRING_LENGTH * 8;
const HASH_SIGN = 0x23; // '#'

const ERR_BITPOS_BIT = 'ERR The bit argument must be 1 or 0.';
const ERR_BITOP_NOT = 'ERR BITOP NOT must be called with a single source key.';

// ------------------------------------------------------------------ shared with BITFIELD

/**
 * A bit offset argument as Redis's getBitOffsetFromArgument reads it, or undefined after replying
 * ERR_BIT_OFFSET. With `fieldBits` (BITFIELD's type width), `#n` means n × fieldBits; the product wraps
 * at 64 bits as Redis's C multiplication does, so `#2305843009213693952` of a u8 is offset 0 there too.
 */
export function readBitOffset(ctx: ExecutionContext, arg: Uint8Array, fieldBits = 0): number | undefined {
  const scaled = fieldBits > 0 && arg.length > 0 && arg[0] === HASH_SIGN;
  let offset = parseInt64(scaled ? arg.subarray(1) : arg);
  if (offset !== undefined && scaled) offset = BigInt.asIntN(64, BigInt(offset) * BigInt(fieldBits));
  if (offset === undefined || offset < 0 || offset >= BIT_OFFSET_LIMIT) {
    ctx.reply.error(ERR_BIT_OFFSET);
    return undefined;
  }
  return Number(offset);
}

/**
 * The string at `key`, at least `length` bytes long: created as zeros when missing, grown in place with
 * zeros when shorter (its TTL kept). Returns the entry (-1 after replying WRONGTYPE) and whether it was
 * created or grown, which Redis counts as a change even when no bit then changes. Redis's
 * lookupStringForBitCommand; it allocates before any bit changes, so an -OOM leaves the value intact.
 */
export function stringForBitWrite(ctx: ExecutionContext, key: Buffer, length: number): readonly [entry: number, grown: boolean] {
  const entry = stringEntry(ctx, key);
  if (entry < 0) return [entry, false];
  if (entry === 0) return [ctx.db.setString(key, new Uint8Array(length), ExpiryChange.Clear), true];
  return ctx.db.stringBytes(entry).length < length ? [ctx.db.resizeString(entry, length), true] : [entry, false];
}

// ------------------------------------------------------------------ scanning primitives (hot)

const BYTE_POPCOUNT = Uint8Array.from({ length: 256 }, (_, byte) => {
  let count = 0;
  for (let v = byte; v !== 0; v &= v - 1) count++;
  return count;
});

/** Below this many bytes a word view costs more than it saves. */
const WORD_SCAN_MIN = 32;

/** Bytes from `at` to the next 4-byte boundary of the underlying buffer (word views must be aligned). */
function bytesToAlignment(bytes: Uint8Array, at: number): number {
  return (4 - ((bytes.byteOffset + at) & 3)) & 3;
}

/** The 32-bit words of bytes[at, at + 4 × count), which must start aligned. */
function wordView(bytes: Uint8Array, at: number, count: number): Int32Array {
  return new Int32Array(bytes.buffer, bytes.byteOffset + at, count);
}

/** Set bits in a 32-bit word: the SWAR reduction (pairs, nibbles, bytes, then one multiply sums the bytes). */
function popcount32(word: number): number {
  let x = word - ((word >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Set bits in bytes[from, to). */
export function countBits(bytes: Uint8Array, from: number, to: number): number {
  let count = 0;
  let at = from;
  if (to - at >= WORD_SCAN_MIN) {
    for (const head = at + bytesToAlignment(bytes, at); at < head; at++) count += BYTE_POPCOUNT[bytes[at]];
    const words = (to - at) >>> 2;
    const view = wordView(bytes, at, words);
    for (let w = 0; w < words; w++) count += popcount32(view[w]);
    at += words * 4;
  }
  for (; at < to; at++) count += BYTE_POPCOUNT[bytes[at]];
  return count;
}

/**
 * The first byte index in [from, to) that holds a `bit` (a byte other than 0x00 when looking for a 1,
 * other than 0xff when looking for a 0), or `to`.
 */
function firstByteWithBit(bytes: Uint8Array, from: number, to: number, bit: 0 | 1): number {
  const empty = bit === 1 ? 0x00 : 0xff;
  let at = from;
  if (to - at >= WORD_SCAN_MIN) {
    for (const head = at + bytesToAlignment(bytes, at); at < head; at++) if (bytes[at] !== empty) return at;
    const words = (to - at) >>> 2;
    const view = wordView(bytes, at, words);
    const emptyWord = bit === 1 ? 0 : -1;
    let w = 0;
    while (w < words && view[w] === emptyWord) w++;
    at += w * 4;
  }
  for (; at < to; at++) if (bytes[at] !== empty) return at;
  return to;
}

/** Position (0 = most significant) of the first 1 in the low 8 bits of `candidates`, which are not all 0. */
function firstSetInByte(candidates: number): number {
  return Math.clz32(candidates) - 24;
}

/**
 * The position of the first `bit` within bit positions [fromBit, toBit] of `bytes` (toBit inclusive and
 * inside the string), or -1.
 */
export function findBit(bytes: Uint8Array, fromBit: number, toBit: number, bit: 0 | 1): number {
  // XOR turns the sought bit into a 1 in every byte, so one search serves both values.
  const flip = bit === 1 ? 0 : 0xff;
  const firstByte = Math.floor(fromBit / 8);
  const lastByte = Math.floor(toBit / 8);
  const headMask = 0xff >>> fromBit % 8;
  const tailMask = (0xff << (7 - (toBit % 8))) & 0xff;
  if (firstByte === lastByte) {
    const candidates = (bytes[firstByte] ^ flip) & headMask & tailMask;
    return candidates === 0 ? -1 : firstByte * 8 + firstSetInByte(candidates);
  }
  const head = (bytes[firstByte] ^ flip) & headMask;
  if (head !== 0) return firstByte * 8 + firstSetInByte(head);
  const found = firstByteWithBit(bytes, firstByte + 1, lastByte, bit);
  if (found < lastByte) return found * 8 + firstSetInByte(bytes[found] ^ flip);
  const tail = (bytes[lastByte] ^ flip) & tailMask;
  return tail === 0 ? -1 : lastByte * 8 + firstSetInByte(tail);
}

// ------------------------------------------------------------------ SETBIT GETBIT

const setbit: CommandHandler = (ctx, argv) => {
  const offset = readBitOffset(ctx, argv[2]);
  if (offset === undefined) return;
  const value = parseInt64(argv[3]);
  if (value !== 0 && value !== 1) return ctx.reply.error(ERR_BIT_VALUE);
  const byte = Math.floor(offset / 8);
  const [entry, grown] = stringForBitWrite(ctx, argv[1], byte + 1);
  if (entry < 0) return;
  const bytes = ctx.db.stringBytes(entry);
  const mask = 0x80 >>> offset % 8;
  const old = bytes[byte] & mask;
  bytes[byte] = value === 1 ? bytes[byte] | mask : bytes[byte] & ~mask;
  if (grown || (old !== 0) !== (value === 1)) ctx.db.changed(argv[1], NotifyType.String, 'setbit');
  ctx.reply.integer(old === 0 ? 0 : 1);
};

const getbit: CommandHandler = (ctx, argv) => {
  const offset = readBitOffset(ctx, argv[2]);
  if (offset === undefined) return;
  const entry = stringEntry(ctx, argv[1]);
  if (entry < 0) return;
  const byte = Math.floor(offset / 8);
  const bytes = entry === 0 ? undefined : ctx.db.stringBytes(entry);
  const bit = bytes === undefined || byte >= bytes.length ? 0 : (bytes[byte] >>> (7 - (offset % 8))) & 1;
  ctx.reply.integer(bit);
};

// ------------------------------------------------------------------ BITCOUNT BITPOS

/** BYTE or BIT after a range; undefined after a syntax error reply. */
function readRangeUnit(ctx: ExecutionContext, arg: Uint8Array): 'byte' | 'bit' | undefined {
  if (isKeyword(arg, 'BIT')) return 'bit';
  if (isKeyword(arg, 'BYTE')) return 'byte';
  ctx.reply.error(ERR_SYNTAX);
  return undefined;
}

/**
 * Redis's range rule over `total` units: negative indexes count from the end, then both ends are
 * clamped into the string; an empty result has first > last. Indexes beyond ±2^53 only ever clamp, so
 * reading them as (rounded) numbers gives the exact answer.
 */
function clampRange(start: number | bigint, end: number | bigint, total: number): [first: number, last: number] {
  let first = Number(start);
  let last = Number(end);
  if (first < 0) first += total;
  if (last < 0) last += total;
  if (first < 0) first = 0;
  if (last < 0) last = 0;
  if (last >= total) last = total - 1;
  return [first, last];
}

/** [first, last] bit positions of a clamped range in `unit`s. */
function bitSpan(first: number, last: number, unit: 'byte' | 'bit'): [firstBit: number, lastBit: number] {
  return unit === 'bit' ? [first, last] : [first * 8, last * 8 + 7];
}

const bitcount: CommandHandler = (ctx, argv) => {
  const entry = stringEntry(ctx, argv[1]);
  if (entry < 0) return;
  // A missing key counts 0 whatever the arguments: Redis looks it up before reading them.
  if (entry === 0) return ctx.reply.integer(0);
  const bytes = ctx.db.stringBytes(entry);
  let firstBit = 0;
  let lastBit = bytes.length * 8 - 1;
  if (argv.length === 4 || argv.length === 5) {
    const start = parseInt64(argv[2]);
    const end = parseInt64(argv[3]);
    if (start === undefined || end === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
    // Compared before any rounding: both may be beyond 2^53.
    if (start < 0 && end < 0 && start > end) return ctx.reply.integer(0);
    const unit = argv.length === 5 ? readRangeUnit(ctx, argv[4]) : 'byte';
    if (unit === undefined) return;
    const [first, last] = clampRange(start, end, unit === 'bit' ? bytes.length * 8 : bytes.length);
    if (first > last) return ctx.reply.integer(0);
    [firstBit, lastBit] = bitSpan(first, last, unit);
  } else if (argv.length !== 2) return ctx.reply.error(ERR_SYNTAX);
  if (firstBit > lastBit) return ctx.reply.integer(0);
  const firstByte = Math.floor(firstBit / 8);
  const lastByte = Math.floor(lastBit / 8);
  let count = countBits(bytes, firstByte, lastByte + 1);
  // Bits of the edge bytes outside the range were counted with the whole bytes: take them back.
  count -= BYTE_POPCOUNT[bytes[firstByte] & ~(0xff >>> firstBit % 8) & 0xff];
  count -= BYTE_POPCOUNT[bytes[lastByte] & (0xff >>> ((lastBit % 8) + 1))];
  ctx.reply.integer(count);
};

const bitpos: CommandHandler = (ctx, argv) => {
  const bit = parseInt64(argv[2]);
  if (bit === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  if (bit !== 0 && bit !== 1) return ctx.reply.error(ERR_BITPOS_BIT);
  const entry = stringEntry(ctx, argv[1]);
  if (entry < 0) return;
  // A missing key is an endless run of zeros.
  if (entry === 0) return ctx.reply.integer(bit === 1 ? -1 : 0);
  const bytes = ctx.db.stringBytes(entry);
  let firstBit = 0;
  let lastBit = bytes.length * 8 - 1;
  const endGiven = argv.length >= 5;
  if (argv.length >= 4 && argv.length <= 6) {
    const start = parseInt64(argv[3]);
    if (start === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
    const unit = argv.length === 6 ? readRangeUnit(ctx, argv[5]) : 'byte';
    if (unit === undefined) return;
    const end = endGiven ? parseInt64(argv[4]) : -1;
    if (end === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
    const [first, last] = clampRange(start, end, unit === 'bit' ? bytes.length * 8 : bytes.length);
    if (first > last) return ctx.reply.integer(-1);
    [firstBit, lastBit] = bitSpan(first, last, unit);
  } else if (argv.length !== 3) return ctx.reply.error(ERR_SYNTAX);
  if (firstBit > lastBit) return ctx.reply.integer(-1);
  const found = findBit(bytes, firstBit, lastBit, bit);
  // Looking for a 0 with no end given, the string counts as followed by zeros.
  if (found === -1 && bit === 0 && !endGiven) return ctx.reply.integer(lastBit + 1);
  ctx.reply.integer(found);
};

// ------------------------------------------------------------------ BITOP

const enum BitOperation {
  And,
  Or,
  Xor,
  Not,
}

function readBitOperation(arg: Uint8Array): BitOperation | undefined {
  if (isKeyword(arg, 'AND')) return BitOperation.And;
  if (isKeyword(arg, 'OR')) return BitOperation.Or;
  if (isKeyword(arg, 'XOR')) return BitOperation.Xor;
  if (isKeyword(arg, 'NOT')) return BitOperation.Not;
  return undefined;
}

/** Combines `sources` into a fresh array as long as the longest; shorter sources count as zero-padded. */
function combine(operation: BitOperation, sources: readonly Uint8Array[], length: number): Uint8Array {
  const result = new Uint8Array(length);
  const first = sources[0];
  if (operation === BitOperation.Not) {
    for (let i = 0; i < length; i++) result[i] = ~first[i];
    return result;
  }
  result.set(first);
  for (let s = 1; s < sources.length; s++) {
    const source = sources[s];
    const n = source.length;
    if (operation === BitOperation.And) {
      for (let i = 0; i < n; i++) result[i] &= source[i];
      result.fill(0, n);
    } else if (operation === BitOperation.Or) {
      for (let i = 0; i < n; i++) result[i] |= source[i];
    } else {
      for (let i = 0; i < n; i++) result[i] ^= source[i];
    }
  }
  return result;
}

/**
 * BITOP op dest key [key …]: missing sources are empty strings; an empty result deletes dest. Keys on
 * several shards are the router's concern: this runs with all of them in one database.
 */
const bitop: CommandHandler = (ctx, argv) => {
  const operation = readBitOperation(argv[1]);
  if (operation === undefined) return ctx.reply.error(ERR_SYNTAX);
  if (operation === BitOperation.Not && argv.length !== 4) return ctx.reply.error(ERR_BITOP_NOT);
  const entries: number[] = [];
  for (let i = 3; i < argv.length; i++) {
    const entry = stringEntry(ctx, argv[i], true);
    if (entry < 0) return;
    entries.push(entry);
  }
  // Views are taken once every lookup is done: a lookup may delete an expired key, never move another.
  const sources = entries.map((entry) => (entry === 0 ? EMPTY : ctx.db.stringBytes(entry)));
  const length = sources.reduce((longest, source) => Math.max(longest, source.length), 0);
  if (length === 0) ctx.db.deleteChanged(argv[2]);
  else {
    ctx.db.setString(argv[2], combine(operation, sources, length), ExpiryChange.Clear);
    ctx.db.changed(argv[2], NotifyType.String, 'set');
  }
  ctx.reply.integer(length);
};
const EMPTY = new Uint8Array(0);

export const bitCommands: Readonly<Record<string, CommandHandler>> = {
  setbit,
  getbit,
  bitcount,
  bitpos,
  bitop,
};
