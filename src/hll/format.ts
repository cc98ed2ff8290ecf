/**
 * Redis's HyperLogLog string format: the 16-byte header, the dense register array, and the mapping of
 * an element to a register and a run length. A HyperLogLog is an ordinary string value, so these bytes
 * are what GET, DUMP and an RDB file show; sabre writes exactly what Redis 7.0 writes.
 *
 *   "HYLL" | encoding (0 dense, 1 sparse) | 3 unused bytes | cached cardinality (8 bytes, little endian)
 *
 * The cached cardinality is valid unless the top bit of its last byte is set. Writers only set that bit
 * (the other seven bytes keep the stale count, as in Redis); PFCOUNT stores a fresh count, clearing it.
 *
 * The dense form is 16384 registers (P = 14) of 6 bits, packed from the least significant bit of each
 * byte: register i occupies bits [6i, 6i + 6) of the little-endian bit stream, 12288 bytes in all. The
 * last register's upper neighbour byte does not exist; reads see 0 there, writes skip it.
 */
import { hashResult, murmurHash64A } from './murmur64a.js';

export const HLL_P = 14;
export const REGISTER_COUNT = 1 << HLL_P;
const REGISTER_MASK = REGISTER_COUNT - 1;
/** Hash bits left after the register index; the run is counted over them plus a sentinel bit. */
export const HLL_Q = 64 - HLL_P;
export const REGISTER_BITS = 6;
const REGISTER_MAX = (1 << REGISTER_BITS) - 1;

export const HEADER_BYTES = 16;
export const DENSE_REGISTER_BYTES = (REGISTER_COUNT * REGISTER_BITS) / 8;
export const DENSE_BYTES = HEADER_BYTES + DENSE_REGISTER_BYTES;

export const ENCODING_OFFSET = 4;
export const ENCODING_DENSE = 0;
export const ENCODING_SPARSE = 1;
const CARDINALITY_OFFSET = 8;
const CACHE_INVALID_BYTE = CARDINALITY_OFFSET + 7;
const CACHE_INVALID_BIT = 0x80;

/** The seed Redis's HyperLogLog hashes elements with. */
const HASH_SEED = 0xadc83b19;

/** Whether `bytes` passes Redis's isHLLObjectOrReply: magic, a known encoding, and the dense size. */
export function isHyperLogLog(bytes: Uint8Array): boolean {
  if (bytes.length < HEADER_BYTES) return false;
  if (bytes[0] !== 0x48 || bytes[1] !== 0x59 || bytes[2] !== 0x4c || bytes[3] !== 0x4c) return false;
  const encoding = bytes[ENCODING_OFFSET];
  if (encoding > ENCODING_SPARSE) return false;
  return encoding !== ENCODING_DENSE || bytes.length === DENSE_BYTES;
}

export function isDense(hll: Uint8Array): boolean {
  return hll[ENCODING_OFFSET] === ENCODING_DENSE;
}

/** Writes the header of a fresh HyperLogLog of `encoding` with a zero, valid cache. */
export function writeHeader(hll: Uint8Array, encoding: number): void {
  hll.set([0x48, 0x59, 0x4c, 0x4c, encoding, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
}

export function invalidateCache(hll: Uint8Array): void {
  hll[CACHE_INVALID_BYTE] |= CACHE_INVALID_BIT;
}

/** The cached cardinality (a bigint past 2^53, only ever in a hand-made string), or -1 when invalid. */
export function cachedCardinality(hll: Uint8Array): number | bigint {
  if (hll[CACHE_INVALID_BYTE] & CACHE_INVALID_BIT) return -1;
  const low = readUint32(hll, CARDINALITY_OFFSET);
  const high = readUint32(hll, CARDINALITY_OFFSET + 4);
  if (high < 0x200000) return high * 0x100000000 + low;
  return (BigInt(high) << 32n) | BigInt(low);
}

function readUint32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

/** Stores a cardinality (below 2^53: an estimate of at most 2^64 / 2^11 distinct hashes) as valid. */
export function storeCardinality(hll: Uint8Array, cardinality: number): void {
  let rest = cardinality;
  for (let i = 0; i < 8; i++) {
    hll[CARDINALITY_OFFSET + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

/** Register `index` of a dense register array (the bytes after the header). */
export function denseRegister(registers: Uint8Array, index: number): number {
  const bit = index * REGISTER_BITS;
  const byte = bit >>> 3;
  const shift = bit & 7;
  const upper = byte + 1 < registers.length ? registers[byte + 1] : 0;
  return ((registers[byte] >>> shift) | (upper << (8 - shift))) & REGISTER_MAX;
}

export function setDenseRegister(registers: Uint8Array, index: number, value: number): void {
  const bit = index * REGISTER_BITS;
  const byte = bit >>> 3;
  const shift = bit & 7;
  registers[byte] = (registers[byte] & ~(REGISTER_MAX << shift)) | (value << shift);
  if (shift > 8 - REGISTER_BITS) {
    const upperShift = 8 - shift;
    registers[byte + 1] = (registers[byte + 1] & ~(REGISTER_MAX >>> upperShift)) | (value >>> upperShift);
  }
}

/**
 * The register an element lands in and the run it offers, packed as `run << HLL_P | register`: the low
 * 14 bits of the hash pick the register, and the run is 1 + the number of zero bits above them, counted
 * from bit 14 up, with a sentinel at bit 64 so the run is at most HLL_Q + 1.
 */
export function elementPattern(element: Uint8Array): number {
  murmurHash64A(element, HASH_SEED);
  const { high, low } = hashResult;
  const index = low & REGISTER_MASK;
  const lowRun = low >>> HLL_P;
  let run: number;
  if (lowRun !== 0) run = trailingZeros(lowRun) + 1;
  else if (high !== 0) run = 32 - HLL_P + trailingZeros(high) + 1;
  else run = HLL_Q + 1;
  return (run << HLL_P) | index;
}

function trailingZeros(word: number): number {
  return 31 - Math.clz32(word & -word);
}

export const patternRegister = (pattern: number): number => pattern & REGISTER_MASK;
export const patternRun = (pattern: number): number => pattern >>> HLL_P;
