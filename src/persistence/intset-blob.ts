/**
 * Redis's intset as RDB stores it (RDB_TYPE_SET_INTSET): u32 width (2, 4 or 8), u32 count, then the
 * members ascending, each `width` bytes, signed little-endian. The width is the narrowest that holds
 * every member, as Redis's intset keeps it after adds (it never narrows, but a set loaded or built
 * fresh has the narrowest), so a set's blob is the one Redis writes.
 */
import { ByteWriter } from './byte-writer.js';
import { integerText } from './rdb-integer.js';

export type IntsetMember = number | bigint;

function widthOf(value: IntsetMember): number {
  if (value >= -32768 && value < 32768) return 2;
  if (value >= -(2 ** 31) && value < 2 ** 31) return 4;
  return 8;
}

/** The blob of `members` (any order), appended to `out` (cleared first). */
export function encodeIntset(out: ByteWriter, members: IntsetMember[], width?: number): void {
  const sorted = [...members].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bytes = width ?? sorted.reduce<number>((widest, value) => Math.max(widest, widthOf(value)), 2);
  out.clear();
  out.uint32LE(bytes);
  out.uint32LE(sorted.length);
  for (const value of sorted) {
    if (bytes === 2) out.bytes(Uint8Array.of(Number(value) & 0xff, (Number(value) >> 8) & 0xff));
    else if (bytes === 4) out.uint32LE(Number(value) >>> 0);
    else out.int64LE(BigInt(value));
  }
}

/** The members of an intset blob as decimal text; throws on a malformed blob. */
export function decodeIntset(blob: Uint8Array): Buffer[] {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.length);
  if (bytes.length < 8) throw new Error('corrupt intset: too short');
  const width = bytes.readUInt32LE(0);
  const count = bytes.readUInt32LE(4);
  if ((width !== 2 && width !== 4 && width !== 8) || bytes.length !== 8 + width * count) throw new Error('corrupt intset: bad size');
  const members: Buffer[] = [];
  for (let at = 8; at < bytes.length; at += width) {
    members.push(integerText(width === 2 ? bytes.readInt16LE(at) : width === 4 ? bytes.readInt32LE(at) : bytes.readBigInt64LE(at)));
  }
  return members;
}
