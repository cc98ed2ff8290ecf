/**
 * An intset: a set of 64-bit integers as one sorted array in ONE arena allocation, as Redis's intset.c
 * holds a small set whose members are all integers. Every element has the same width, the smallest of
 * 2, 4 or 8 bytes that fits them all; adding a value that does not fit rewrites the array at the wider
 * width ("upgrade"), and the width never narrows again (as in Redis).
 *
 * Layout (byte offsets from the allocation's start; multi-byte fields little-endian):
 *   byte 0      the collection encoding tag (CollectionEncoding.Intset)
 *   byte 1      the element width in bytes: 2, 4 or 8
 *   bytes 2–3   0
 *   word 1      element count
 *   then count elements of `width` bytes each, signed, in strictly ascending order
 *
 * Invariants:
 *   allocation size == INTSET_FIRST + count × width
 *   element[i] < element[i + 1]
 *
 * A value is a number when it is a safe integer and a bigint only beyond (so one value has one
 * representation and `===` compares values). Functions that change the size return the handle, which
 * may be new: the caller stores it wherever the old one was.
 */
import { byteOffsetOf, segmentOf, type Arena } from 'native-free-alloc';

/** An intset member: a safe integer as a number, a larger int64 as a bigint. */
export type IntsetValue = number | bigint;

const INTSET_FIRST = 8;
const I_WIDTH = 1;
const I_COUNT = 1;
const TWO_POW_32 = 4294967296;

function widthOf(value: IntsetValue): number {
  if (value >= -0x8000 && value <= 0x7fff) return 2;
  if (value >= -0x80000000 && value <= 0x7fffffff) return 4;
  return 8;
}

function widthAt(arena: Arena, handle: number): number {
  return arena.u8[segmentOf(handle)][byteOffsetOf(handle) + I_WIDTH];
}

export function intsetCount(arena: Arena, handle: number): number {
  return arena.u32[segmentOf(handle)][(byteOffsetOf(handle) >>> 2) + I_COUNT];
}

/** The allocation's size (for freeing it, and for memory figures). */
export function intsetBytes(arena: Arena, handle: number): number {
  return INTSET_FIRST + intsetCount(arena, handle) * widthAt(arena, handle);
}

/** A new, empty intset (of 2-byte width) whose first byte is `tag`. */
export function intsetCreate(arena: Arena, tag: number): number {
  const handle = arena.alloc(INTSET_FIRST);
  arena.beforeWrite(handle, 0, INTSET_FIRST);
  const u8 = arena.u8[segmentOf(handle)];
  const at = byteOffsetOf(handle);
  u8.fill(0, at, at + INTSET_FIRST);
  u8[at] = tag;
  u8[at + I_WIDTH] = 2;
  return handle;
}

export function intsetFree(arena: Arena, handle: number): void {
  arena.free(handle, intsetBytes(arena, handle));
}

/** Bytes the arena handed out for the intset. */
export function intsetUsage(arena: Arena, handle: number): number {
  arena.beforeRead(handle, 0, INTSET_FIRST);
  const bytes = intsetBytes(arena, handle);
  arena.beforeRead(handle, 0, bytes);
  return arena.usableSize(bytes);
}

/** Element `index` (0 ≤ index < count). */
export function intsetGet(arena: Arena, handle: number, index: number): IntsetValue {
  const width = widthAt(arena, handle);
  return readValue(arena.u8[segmentOf(handle)], byteOffsetOf(handle) + INTSET_FIRST + index * width, width);
}

function readValue(u8: Uint8Array, at: number, width: number): IntsetValue {
  if (width === 2) return ((u8[at] | (u8[at + 1] << 8)) << 16) >> 16;
  const low = u8[at] | (u8[at + 1] << 8) | (u8[at + 2] << 16) | (u8[at + 3] << 24);
  if (width === 4) return low;
  const high = u8[at + 4] | (u8[at + 5] << 8) | (u8[at + 6] << 16) | (u8[at + 7] << 24);
  const value = high * TWO_POW_32 + (low >>> 0);
  return Number.isSafeInteger(value) ? value : (BigInt(high) << 32n) | BigInt(low >>> 0);
}

function writeValue(u8: Uint8Array, at: number, width: number, value: IntsetValue): void {
  const big = BigInt.asUintN(64, BigInt(value));
  const low = Number(big & 0xffffffffn);
  const high = Number(big >> 32n);
  for (let i = 0; i < Math.min(width, 4); i++) u8[at + i] = (low >>> (8 * i)) & 0xff;
  for (let i = 4; i < width; i++) u8[at + i] = (high >>> (8 * (i - 4))) & 0xff;
}

/** The index of `value`, or -(insertion index) - 1 when it is absent (binary search). */
export function intsetSearch(arena: Arena, handle: number, value: IntsetValue): number {
  const width = widthAt(arena, handle);
  if (widthOf(value) > width) return value < 0 ? -1 : -intsetCount(arena, handle) - 1;
  const u8 = arena.u8[segmentOf(handle)];
  const base = byteOffsetOf(handle) + INTSET_FIRST;
  let low = 0;
  let high = intsetCount(arena, handle) - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const current = readValue(u8, base + middle * width, width);
    if (current === value) return middle;
    if (current < value) low = middle + 1;
    else high = middle - 1;
  }
  return -low - 1;
}

function setCount(arena: Arena, handle: number, count: number): void {
  arena.beforeWrite(handle, I_COUNT << 2, 4);
  arena.u32[segmentOf(handle)][(byteOffsetOf(handle) >>> 2) + I_COUNT] = count;
}

/** Adds `value` unless present; returns the (possibly new) handle and whether it was added. */
export function intsetAdd(arena: Arena, handle: number, value: IntsetValue): { handle: number; added: boolean } {
  const width = widthAt(arena, handle);
  if (widthOf(value) > width) return { handle: upgradeAndAdd(arena, handle, value), added: true };
  const found = intsetSearch(arena, handle, value);
  if (found >= 0) return { handle, added: false };
  const index = -found - 1;
  const count = intsetCount(arena, handle);
  const total = INTSET_FIRST + count * width;
  handle = arena.realloc(handle, total, total + width);
  const base = byteOffsetOf(handle);
  const at = INTSET_FIRST + index * width;
  arena.beforeWrite(handle, at, total + width - at);
  const u8 = arena.u8[segmentOf(handle)];
  u8.copyWithin(base + at + width, base + at, base + total);
  writeValue(u8, base + at, width, value);
  setCount(arena, handle, count + 1);
  return { handle, added: true };
}

/**
 * Rewrites the set at the width `value` needs, with `value` added: it is beyond every element, so it
 * goes first when negative and last when positive.
 */
function upgradeAndAdd(arena: Arena, handle: number, value: IntsetValue): number {
  const oldWidth = widthAt(arena, handle);
  const width = widthOf(value);
  const count = intsetCount(arena, handle);
  const grown = arena.alloc(INTSET_FIRST + (count + 1) * width);
  arena.beforeWrite(grown, 0, INTSET_FIRST + (count + 1) * width);
  const from = arena.u8[segmentOf(handle)];
  const to = arena.u8[segmentOf(grown)];
  const fromBase = byteOffsetOf(handle);
  const toBase = byteOffsetOf(grown);
  to.set(from.subarray(fromBase, fromBase + INTSET_FIRST), toBase);
  to[toBase + I_WIDTH] = width;
  const shift = value < 0 ? 1 : 0;
  for (let i = 0; i < count; i++) {
    writeValue(to, toBase + INTSET_FIRST + (i + shift) * width, width, readValue(from, fromBase + INTSET_FIRST + i * oldWidth, oldWidth));
  }
  writeValue(to, toBase + INTSET_FIRST + (shift === 1 ? 0 : count) * width, width, value);
  arena.u32[segmentOf(grown)][(toBase >>> 2) + I_COUNT] = count + 1;
  arena.free(handle, INTSET_FIRST + count * oldWidth);
  return grown;
}

/** Removes element `index`; returns the (possibly new) handle. */
export function intsetRemoveAt(arena: Arena, handle: number, index: number): number {
  const width = widthAt(arena, handle);
  const count = intsetCount(arena, handle);
  const total = INTSET_FIRST + count * width;
  const at = INTSET_FIRST + index * width;
  const base = byteOffsetOf(handle);
  arena.beforeWrite(handle, at, total - width - at);
  arena.u8[segmentOf(handle)].copyWithin(base + at, base + at + width, base + total);
  setCount(arena, handle, count - 1);
  return arena.realloc(handle, total, total - width);
}
