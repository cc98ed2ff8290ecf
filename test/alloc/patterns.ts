/**
 * Test helpers that stamp an allocation with bytes derived from an id, and verify them later: any
 * overlap between two live allocations, or any write past an allocation, shows up as a mismatch.
 */
import { byteOffsetOf, segmentOf, type ArenaView } from '../../native-free-alloc/src/index.js';

export function patternByte(id: number, i: number): number {
  return (id * 31 + i * 7 + (i >>> 8)) & 255;
}

export function stamp(view: ArenaView, handle: number, size: number, id: number): void {
  const u8 = view.u8[segmentOf(handle)];
  const base = byteOffsetOf(handle);
  for (let i = 0; i < size; i++) u8[base + i] = patternByte(id, i);
}

/** Index of the first wrong byte, or -1 when all `size` bytes carry the pattern of `id`. */
export function firstMismatch(bytes: Uint8Array, size: number, id: number): number {
  for (let i = 0; i < size; i++) if (bytes[i] !== patternByte(id, i)) return i;
  return -1;
}

export function verify(view: ArenaView, handle: number, size: number, id: number): number {
  return firstMismatch(view.bytes(handle, size), size, id);
}
