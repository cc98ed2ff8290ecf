/**
 * Redis's sparse HyperLogLog encoding: after the header, a run-length code of the 16384 registers.
 *
 *   ZERO   00xxxxxx            xxxxxx + 1 registers (1..64) at 0
 *   XZERO  01xxxxxx yyyyyyyy   xxxxxxyyyyyyyy + 1 registers (1..16384) at 0
 *   VAL    1vvvvvxx            xx + 1 registers (1..4) at vvvvv + 1 (1..32)
 *
 * A fresh HyperLogLog is one XZERO of 16384. Setting a register splits the opcode that covers it into
 * at most three (zeros or the old value before, the new VAL, zeros or the old value after), then merges
 * equal neighbouring VALs among the few opcodes around the change. The code this produces is not the
 * shortest possible one, and Redis's bytes depend on exactly these steps, so they are followed to the
 * letter: the opcode before the change is where merging starts, five opcodes are looked at, a merge
 * looks at the merged opcode again.
 *
 * The sparse form turns dense when a register needs a value above 32, or when a split would make the
 * string longer than hll-sparse-max-bytes (header included).
 *
 * A sparse string is edited in a Workspace (a growable copy) and written back to the key once: sparse
 * strings are small, and a split moves the rest of the string anyway.
 */
import {
  DENSE_BYTES,
  ENCODING_DENSE,
  ENCODING_OFFSET,
  ENCODING_SPARSE,
  HEADER_BYTES,
  REGISTER_COUNT,
  denseRegister,
  setDenseRegister,
  writeHeader,
} from './format.js';

const VAL_BIT = 0x80;
const XZERO_BIT = 0x40;
const ZERO_MAX_LENGTH = 64;
export const VAL_MAX_VALUE = 32;
const VAL_MAX_LENGTH = 4;
/** hll-sparse-max-bytes at its default; the commands use the configured value (CollectionLimits). */
export const SPARSE_MAX_BYTES = 3000;
/** How many opcodes from the one before a change are looked at for merges. */
const MERGE_SCAN_OPCODES = 5;

/** A HyperLogLog being edited: bytes[0, length) is the string. */
export class Workspace {
  bytes = new Uint8Array(DENSE_BYTES);
  length = 0;

  /** Loads a copy of `hll`. */
  load(hll: Uint8Array): void {
    this.reserve(hll.length);
    this.bytes.set(hll);
    this.length = hll.length;
  }

  /** Makes it a fresh, empty sparse HyperLogLog (cache valid, count 0). */
  loadEmpty(): void {
    writeHeader(this.bytes, ENCODING_SPARSE);
    this.length = HEADER_BYTES + writeZeros(this.bytes, HEADER_BYTES, REGISTER_COUNT);
  }

  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  reserve(length: number): void {
    if (length <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(length, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /** Turns the sparse string into the dense one; false (unchanged) when the sparse code is corrupt. */
  toDense(): boolean {
    const dense = new Uint8Array(DENSE_BYTES);
    if (!sparseToDense(this.view(), dense)) return false;
    this.reserve(DENSE_BYTES);
    this.bytes.set(dense);
    this.length = DENSE_BYTES;
    return true;
  }
}

const isZero = (op: number): boolean => (op & (VAL_BIT | XZERO_BIT)) === 0;
const isXZero = (op: number): boolean => (op & (VAL_BIT | XZERO_BIT)) === XZERO_BIT;
const isVal = (op: number): boolean => (op & VAL_BIT) !== 0;
const valValue = (op: number): number => ((op >>> 2) & 0x1f) + 1;
const valLength = (op: number): number => (op & 3) + 1;
const valOp = (value: number, length: number): number => VAL_BIT | ((value - 1) << 2) | (length - 1);

/** Writes the shortest zero opcode for `length` (1..16384) registers at `at`; returns its size. */
function writeZeros(bytes: Uint8Array, at: number, length: number): number {
  if (length <= ZERO_MAX_LENGTH) {
    bytes[at] = length - 1;
    return 1;
  }
  bytes[at] = XZERO_BIT | ((length - 1) >>> 8);
  bytes[at + 1] = (length - 1) & 0xff;
  return 2;
}

/** The registers an opcode covers and its size in bytes, left in `opcode` by readOpcode(). */
const opcode = { span: 0, size: 0 };

/** Reads the opcode at `at` of hll[0, end); a truncated XZERO reads 0 past the end, as Redis's sds terminator. */
function readOpcode(hll: Uint8Array, at: number, end: number): void {
  const op = hll[at];
  if (isVal(op)) {
    opcode.span = valLength(op);
    opcode.size = 1;
  } else if (isXZero(op)) {
    opcode.span = (((op & 0x3f) << 8) | (at + 1 < end ? hll[at + 1] : 0)) + 1;
    opcode.size = 2;
  } else {
    opcode.span = (op & 0x3f) + 1;
    opcode.size = 1;
  }
}

/**
 * Calls `onValues(value, first, length)` for each VAL run of a sparse HyperLogLog, in register order,
 * and returns whether the code covers exactly the 16384 registers (Redis's validity test). Decoding
 * stops, invalid, at a VAL run that would pass the last register, so no register outside is touched.
 */
export function forEachSparseRun(
  hll: Uint8Array,
  onValues: (value: number, first: number, length: number) => void,
  onZeros?: (length: number) => void,
): boolean {
  const end = hll.length;
  let index = 0;
  for (let at = HEADER_BYTES; at < end; at += opcode.size) {
    readOpcode(hll, at, end);
    if (isVal(hll[at])) {
      if (index + opcode.span > REGISTER_COUNT) return false;
      onValues(valValue(hll[at]), index, opcode.span);
    } else onZeros?.(opcode.span);
    index += opcode.span;
  }
  return index === REGISTER_COUNT;
}

/** Decodes a sparse HyperLogLog into `dense` (DENSE_BYTES of zeros), header included; false if corrupt. */
export function sparseToDense(sparse: Uint8Array, dense: Uint8Array): boolean {
  const registers = dense.subarray(HEADER_BYTES);
  const valid = forEachSparseRun(sparse, (value, first, length) => {
    for (let i = first; i < first + length; i++) setDenseRegister(registers, i, value);
  });
  if (!valid) return false;
  dense.set(sparse.subarray(0, HEADER_BYTES));
  dense[ENCODING_OFFSET] = ENCODING_DENSE;
  return true;
}

/** PFDEBUG DECODE's text: each opcode as "z:len", "Z:len" or "v:value,len", space-separated. */
export function describeSparse(hll: Uint8Array): string {
  const parts: string[] = [];
  for (let at = HEADER_BYTES; at < hll.length; at += opcode.size) {
    const op = hll[at];
    readOpcode(hll, at, hll.length);
    if (isVal(op)) parts.push(`v:${valValue(op)},${opcode.span}`);
    else parts.push(`${isXZero(op) ? 'Z' : 'z'}:${opcode.span}`);
  }
  return parts.join(' ');
}

/** Sets dense register `index` to `run` if that is higher: 1 when it changed, else 0. */
export function denseSet(registers: Uint8Array, index: number, run: number): 0 | 1 {
  if (denseRegister(registers, index) >= run) return 0;
  setDenseRegister(registers, index, run);
  return 1;
}

/** The replacement opcodes of a split, built here (at most 2 + 1 + 2 bytes). */
const sequence = new Uint8Array(5);

/**
 * Raises register `index` of the sparse HyperLogLog in `hll` to `run` if that is higher, turning it
 * dense when needed (see the module comment): 1 when a register changed, 0 when not, -1 when the
 * string is corrupt (an edit made before noticing stays, as in Redis).
 */
export function sparseSet(hll: Workspace, index: number, run: number, maxBytes: number): -1 | 0 | 1 {
  if (run > VAL_MAX_VALUE) return promote(hll, index, run);
  const bytes = hll.bytes;
  const end = hll.length;
  // Find the opcode covering `index`, the one before it, and the first register it covers.
  let at = HEADER_BYTES;
  let previous = -1;
  let first = 0;
  while (at < end) {
    readOpcode(bytes, at, end);
    if (index <= first + opcode.span - 1) break;
    previous = at;
    first += opcode.span;
    at += opcode.size;
  }
  if (at >= end) return -1;
  const { span, size } = opcode;
  const op = bytes[at];
  if (isVal(op) && valValue(op) >= run) return 0;
  if ((isVal(op) || isZero(op)) && span === 1) {
    bytes[at] = valOp(run, 1);
  } else {
    // Split: what the opcode held before `index`, the new value, what it held after.
    const last = first + span - 1;
    let length = 0;
    if (isVal(op)) {
      const old = valValue(op);
      if (index !== first) sequence[length++] = valOp(old, index - first);
      sequence[length++] = valOp(run, 1);
      if (index !== last) sequence[length++] = valOp(old, last - index);
    } else {
      if (index !== first) length += writeZeros(sequence, length, index - first);
      sequence[length++] = valOp(run, 1);
      if (index !== last) length += writeZeros(sequence, length, last - index);
    }
    const growth = length - size;
    if (growth > 0 && end + growth > maxBytes) return promote(hll, index, run);
    hll.reserve(end + growth);
    hll.bytes.copyWithin(at + length, at + size, end);
    hll.bytes.set(sequence.subarray(0, length), at);
    hll.length = end + growth;
  }
  mergeValues(hll, previous < 0 ? HEADER_BYTES : previous);
  return 1;
}

/** Merges equal adjacent VALs among the MERGE_SCAN_OPCODES opcodes from `at`. */
function mergeValues(hll: Workspace, at: number): void {
  const bytes = hll.bytes;
  let end = hll.length;
  for (let budget = MERGE_SCAN_OPCODES; at < end && budget > 0; budget--) {
    const op = bytes[at];
    if (!isVal(op)) {
      at += isXZero(op) ? 2 : 1;
      continue;
    }
    if (at + 1 < end && isVal(bytes[at + 1])) {
      const next = bytes[at + 1];
      const length = valLength(op) + valLength(next);
      if (valValue(op) === valValue(next) && length <= VAL_MAX_LENGTH) {
        bytes[at + 1] = valOp(valValue(op), length);
        bytes.copyWithin(at, at + 1, end);
        end--;
        // The merged opcode may merge with the one after it too: look at the same place again.
        continue;
      }
    }
    at++;
  }
  hll.length = end;
}

/** Turns the HyperLogLog dense and sets the register there (always a change: sparse values stop at 32). */
function promote(hll: Workspace, index: number, run: number): -1 | 1 {
  if (!hll.toDense()) return -1;
  setDenseRegister(hll.bytes.subarray(HEADER_BYTES, DENSE_BYTES), index, run);
  return 1;
}
