/**
 * Word access to structures the shard keeps in its arena (dictionary and database headers, key
 * entries, arrays). Every write goes through the arena's copy-on-write notification point first, so no
 * caller can forget it. Field numbers count 32-bit words from the start of the allocation.
 */
import { byteOffsetOf, segmentOf, type Arena } from 'native-free-alloc';

export function readWord(arena: Arena, handle: number, field: number): number {
  return arena.u32[segmentOf(handle)][(byteOffsetOf(handle) >>> 2) + field];
}

export function writeWord(arena: Arena, handle: number, field: number, value: number): void {
  arena.beforeWrite(handle, field << 2, 4);
  arena.u32[segmentOf(handle)][(byteOffsetOf(handle) >>> 2) + field] = value;
}
