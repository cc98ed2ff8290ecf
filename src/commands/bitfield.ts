/**
 * BITFIELD and BITFIELD_RO (Redis's bitops.c): integers of any width at any bit offset of a string,
 * signed up to i64 and unsigned up to u63 (a u64 could not be replied as a RESP integer).
 *
 * The whole command is parsed before anything runs, so an argument error anywhere leaves the string
 * untouched; then, if any SET or INCRBY is present, the string is created or grown once to the highest
 * bit written (zero bytes, TTL kept) before the first operation, as Redis does, so even an operation
 * that fails on OVERFLOW FAIL leaves the key created or grown. GETs past the end read zeros.
 *
 * Field values are bigints: a field spans up to nine bytes and 64 bits, beyond a double's exactness.
 * BITFIELD is not a scan like BITCOUNT, so a few bigint operations per field are an acceptable cost.
 */
import { ERR_NOT_INTEGER, ERR_SYNTAX } from '../protocol/errors.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import { isKeyword, parseInt64, type CommandHandler, type ExecutionContext } from './context.js';
import { readBitOffset, stringForBitWrite } from './bits.js';
import { stringEntry } from './strings.js';

const ERR_FIELD_TYPE = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';
const ERR_OVERFLOW_TYPE = 'ERR Invalid OVERFLOW type specified';
const ERR_READ_ONLY = 'ERR BITFIELD_RO only supports the GET subcommand';

const INT64_MAX = (1n << 63n) - 1n;
const LETTER_I = 0x69;
const LETTER_U = 0x75;

const enum Opcode {
  Get,
  Set,
  Incrby,
}

const enum Overflow {
  Wrap,
  Sat,
  Fail,
}

interface FieldType {
  signed: boolean;
  bits: number;
}

interface FieldOperation extends FieldType {
  opcode: Opcode;
  offset: number;
  /** SET's value or INCRBY's increment. */
  value: bigint;
  /** The OVERFLOW mode in force where the operation appears. */
  overflow: Overflow;
}

/**
 * `i<bits>` or `u<bits>` (lower case only), or undefined after replying. Redis reads the width as a C
 * string, so it stops at a NUL byte: `u8\0junk` is a u8.
 */
function readFieldType(ctx: ExecutionContext, arg: Uint8Array): FieldType | undefined {
  const signed = arg[0] === LETTER_I;
  if (signed || arg[0] === LETTER_U) {
    const nul = arg.indexOf(0, 1);
    const bits = parseInt64(arg.subarray(1, nul === -1 ? arg.length : nul));
    if (bits !== undefined && bits >= 1 && bits <= (signed ? 64 : 63)) return { signed, bits: Number(bits) };
  }
  ctx.reply.error(ERR_FIELD_TYPE);
  return undefined;
}

function readOverflow(arg: Uint8Array): Overflow | undefined {
  if (isKeyword(arg, 'WRAP')) return Overflow.Wrap;
  if (isKeyword(arg, 'SAT')) return Overflow.Sat;
  if (isKeyword(arg, 'FAIL')) return Overflow.Fail;
  return undefined;
}

/** Every operation of the command, or undefined after an error reply. */
function readOperations(ctx: ExecutionContext, argv: readonly Buffer[]): FieldOperation[] | undefined {
  const operations: FieldOperation[] = [];
  let overflow = Overflow.Wrap;
  for (let j = 2; j < argv.length; j++) {
    const remaining = argv.length - j - 1;
    const name = argv[j];
    let opcode: Opcode;
    if (isKeyword(name, 'GET') && remaining >= 2) opcode = Opcode.Get;
    else if (isKeyword(name, 'SET') && remaining >= 3) opcode = Opcode.Set;
    else if (isKeyword(name, 'INCRBY') && remaining >= 3) opcode = Opcode.Incrby;
    else if (isKeyword(name, 'OVERFLOW') && remaining >= 1) {
      const mode = readOverflow(argv[++j]);
      if (mode === undefined) {
        ctx.reply.error(ERR_OVERFLOW_TYPE);
        return undefined;
      }
      overflow = mode;
      continue;
    } else {
      ctx.reply.error(ERR_SYNTAX);
      return undefined;
    }
    const type = readFieldType(ctx, argv[j + 1]);
    if (type === undefined) return undefined;
    const offset = readBitOffset(ctx, argv[j + 2], type.bits);
    if (offset === undefined) return undefined;
    let value = 0n;
    if (opcode !== Opcode.Get) {
      const parsed = parseInt64(argv[j + 3]);
      if (parsed === undefined) {
        ctx.reply.error(ERR_NOT_INTEGER);
        return undefined;
      }
      value = BigInt(parsed);
    }
    operations.push({ opcode, signed: type.signed, bits: type.bits, offset, value, overflow });
    j += opcode === Opcode.Get ? 2 : 3;
  }
  return operations;
}

// ------------------------------------------------------------------ fields in bytes

/** The bytes a field covers: [first, last], and how many bits of the last byte follow the field. */
function span(offset: number, bits: number): [first: number, last: number, trailing: bigint] {
  const end = offset + bits - 1;
  return [Math.floor(offset / 8), Math.floor(end / 8), BigInt(7 - (end % 8))];
}

/** The field's bits as an unsigned integer, most significant first; bytes past the end read as zero. */
function readField(bytes: Uint8Array, offset: number, bits: number): bigint {
  const [first, last, trailing] = span(offset, bits);
  let window = 0n;
  for (let i = first; i <= last; i++) window = (window << 8n) | BigInt(i < bytes.length ? bytes[i] : 0);
  return BigInt.asUintN(bits, window >> trailing);
}

/** Stores the low `bits` bits of `value` in the field; the string already covers it. */
function writeField(bytes: Uint8Array, offset: number, bits: number, value: bigint): void {
  const [first, last, trailing] = span(offset, bits);
  let window = 0n;
  for (let i = first; i <= last; i++) window = (window << 8n) | BigInt(bytes[i]);
  const mask = ((1n << BigInt(bits)) - 1n) << trailing;
  window = (window & ~mask) | ((BigInt.asUintN(bits, value) << trailing) & mask);
  for (let i = last; i >= first; i--) {
    bytes[i] = Number(window & 0xffn);
    window >>= 8n;
  }
}

// ------------------------------------------------------------------ SET and INCRBY arithmetic

/**
 * Whether `sum` (= value + increment, exact) leaves the type's range: 1 above, -1 below, 0 inside.
 * One quirk of Redis's int64 arithmetic is kept: for a signed type narrower than 64 bits, max − value
 * is computed in int64, and when a SET value is so negative that this wraps, Redis takes it for an
 * overflow upwards (OVERFLOW SAT then stores max, not min).
 */
function overflowDirection(type: FieldType, value: bigint, sum: bigint, min: bigint, max: bigint): -1 | 0 | 1 {
  if (type.signed && type.bits < 64 && max - value > INT64_MAX) return 1;
  if (sum > max) return 1;
  if (sum < min) return -1;
  return 0;
}

/** What applyWrite did to the field. */
const enum Written {
  Refused,
  Unchanged,
  Changed,
}

/** Runs one SET or INCRBY and replies with its result (SET: the old value; INCRBY: the new one). */
function applyWrite(ctx: ExecutionContext, bytes: Uint8Array, op: FieldOperation): Written {
  const { signed, bits } = op;
  const stored = readField(bytes, op.offset, bits);
  const old = signed ? BigInt.asIntN(bits, stored) : stored;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -max - 1n : 0n;
  // Redis takes an unsigned SET's value as a uint64: a negative one is a huge number, above the range.
  const value = op.opcode === Opcode.Set ? (signed ? op.value : BigInt.asUintN(64, op.value)) : old;
  const sum = op.opcode === Opcode.Set ? value : value + op.value;
  const direction = overflowDirection(op, value, sum, min, max);
  let result = sum;
  if (direction !== 0) {
    if (op.overflow === Overflow.Fail) {
      ctx.reply.nullBulk();
      return Written.Refused;
    }
    if (op.overflow === Overflow.Sat) result = direction > 0 ? max : min;
    else result = signed ? BigInt.asIntN(bits, sum) : BigInt.asUintN(bits, sum);
  }
  writeField(bytes, op.offset, bits, result);
  ctx.reply.integer(op.opcode === Opcode.Set ? old : result);
  return BigInt.asUintN(bits, result) !== stored ? Written.Changed : Written.Unchanged;
}

function readValue(bytes: Uint8Array, op: FieldOperation): bigint {
  const stored = readField(bytes, op.offset, op.bits);
  return op.signed ? BigInt.asIntN(op.bits, stored) : stored;
}

// ------------------------------------------------------------------ the commands

function bitfieldGeneric(readOnlyCommand: boolean): CommandHandler {
  return (ctx, argv) => {
    const operations = readOperations(ctx, argv);
    if (operations === undefined) return;
    let highestBit = -1;
    for (const op of operations) if (op.opcode !== Opcode.Get) highestBit = Math.max(highestBit, op.offset + op.bits - 1);
    let bytes: Uint8Array;
    let grown = false;
    if (highestBit < 0) {
      const entry = stringEntry(ctx, argv[1], true);
      if (entry < 0) return;
      bytes = entry === 0 ? EMPTY : ctx.db.stringBytes(entry);
    } else {
      if (readOnlyCommand) return ctx.reply.error(ERR_READ_ONLY);
      const [entry, created] = stringForBitWrite(ctx, argv[1], Math.floor(highestBit / 8) + 1);
      if (entry < 0) return;
      bytes = ctx.db.stringBytes(entry);
      grown = created;
    }
    ctx.reply.arrayHeader(operations.length);
    let changes = 0;
    for (const op of operations) {
      if (op.opcode === Opcode.Get) ctx.reply.integer(readValue(bytes, op));
      else {
        // A write counts when it changed bits, or made the string: Redis's 7.0 rule; a refused one never.
        const written = applyWrite(ctx, bytes, op);
        if (written === Written.Changed || (written === Written.Unchanged && grown)) changes++;
      }
    }
    if (changes !== 0) ctx.db.changed(argv[1], NotifyType.String, 'setbit', changes);
  };
}
const EMPTY = new Uint8Array(0);

export const bitfieldCommands: Readonly<Record<string, CommandHandler>> = {
  bitfield: bitfieldGeneric(false),
  bitfield_ro: bitfieldGeneric(true),
};
