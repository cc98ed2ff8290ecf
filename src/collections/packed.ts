/**
 * A packed sequence: a small collection's elements, one after another, in ONE arena allocation, as
 * Redis's listpack holds small hashes, sets, sorted sets and list nodes. Small collections are most
 * collections, and one allocation each (instead of one per element) is what makes them cheap.
 *
 * Layout (byte offsets from the allocation's start; multi-byte fields little-endian):
 *   byte 0      the collection encoding tag (CollectionEncoding.Packed): every collection root starts
 *               with its tag, so a key's value says how to read it
 *   bytes 1–3   0
 *   word 1      total bytes: the allocation's exact size, header included
 *   word 2      element count
 *   then the elements, each a header byte and its payload:
 *     0xxxxxxx               an integer 0..127, no payload
 *     10xxxxxx               a string of 0..63 bytes
 *     110xxxxx yyyyyyyy      a string of up to 8191 bytes (13-bit length, high bits first)
 *     0xe0 + u32 length      a longer string
 *     0xf1 / 0xf2 / 0xf3     a signed integer in 2 / 3 / 4 bytes
 *     0xf4                   a signed integer in 8 bytes (low word, then the signed high word)
 *
 * An element is stored as an integer only when its bytes are the canonical decimal text of a safe
 * integer (what Redis's string2ll accepts), so reading it back as text gives the same bytes: the
 * encoding saves room and never changes what a client reads. Larger integers stay strings.
 *
 * Elements are walked forward from the first one (offset PACKED_FIRST); an offset is relative to the
 * allocation, so it stays valid when the allocation moves. Functions that change the size return the
 * handle, which may be new: the caller stores it wherever the old one was.
 *
 * Invariants:
 *   total bytes == PACKED_FIRST + Σ encodedSize(element) == the allocation's size
 *   element count == number of elements
 *
 * Hot path: lookups (packedFind) compare bytes in place in the arena, and reads fill a caller-owned
 * PackedElement, so walking a packed sequence allocates nothing. Every store goes through
 * arena.beforeWrite first (the copy-on-write notification point).
 */
import { byteOffsetOf, segmentOf, type Arena } from 'native-free-alloc';
import { parseRedisInteger } from '../protocol/request-parser.js';

export const PACKED_FIRST = 12;
const P_TOTAL = 1;
const P_COUNT = 2;

const SMALL_INT_MAX = 0x7f;
const TINY_STRING = 0x80;
const TINY_STRING_MAX = 63;
const SHORT_STRING = 0xc0;
const SHORT_STRING_MAX = 8191;
const LONG_STRING = 0xe0;
const INT16 = 0xf1;
const INT24 = 0xf2;
const INT32 = 0xf3;
const INT64 = 0xf4;
const TWO_POW_32 = 4294967296;

/** One element as read by readElement: an integer, or `length` bytes at `at` in segment `segment`'s bytes. */
export class PackedElement {
  isInteger = false;
  integer = 0;
  segment = 0;
  at = 0;
  length = 0;

  /** The element as reply material: a view of the arena (valid until the sequence changes) or its decimal text. */
  value(arena: Arena): Uint8Array | string {
    return this.isInteger ? String(this.integer) : arena.u8[this.segment].subarray(this.at, this.at + this.length);
  }

  /** The element's length as text (HSTRLEN). */
  textLength(): number {
    return this.isInteger ? String(this.integer).length : this.length;
  }
}

/**
 * The integer that `bytes` is the canonical text of, when it can be stored as one, else NaN. Callers
 * compute it once per argument and pass it to packedFind, so a lookup parses nothing per element.
 */
export function packedInteger(bytes: Uint8Array): number {
  if (bytes.length === 0 || bytes.length > 20) return NaN;
  const value = parseRedisInteger(bytes, 0, bytes.length);
  return Number.isSafeInteger(value) ? value : NaN;
}

function integerSize(value: number): number {
  if (value >= 0 && value <= SMALL_INT_MAX) return 1;
  if (value >= -0x8000 && value <= 0x7fff) return 3;
  if (value >= -0x800000 && value <= 0x7fffff) return 4;
  if (value >= -0x80000000 && value <= 0x7fffffff) return 5;
  return 9;
}

function stringHeaderSize(length: number): number {
  return length <= TINY_STRING_MAX ? 1 : length <= SHORT_STRING_MAX ? 2 : 5;
}

/** The bytes `item` takes as an element. */
export function encodedSize(item: Uint8Array): number {
  const integer = packedInteger(item);
  return Number.isNaN(integer) ? stringHeaderSize(item.length) + item.length : integerSize(integer);
}

// ---------------------------------------------------------------- header

function word(arena: Arena, handle: number, field: number): number {
  return arena.u32[segmentOf(handle)][(byteOffsetOf(handle) >>> 2) + field];
}

function setWord(arena: Arena, handle: number, field: number, value: number): void {
  arena.beforeWrite(handle, field << 2, 4);
  arena.u32[segmentOf(handle)][(byteOffsetOf(handle) >>> 2) + field] = value;
}

export function packedCount(arena: Arena, handle: number): number {
  return word(arena, handle, P_COUNT);
}

/** The allocation's size (for freeing it, and for memory figures). */
export function packedTotalBytes(arena: Arena, handle: number): number {
  return word(arena, handle, P_TOTAL);
}

/** A new, empty sequence whose first byte is `tag`. */
export function packedCreate(arena: Arena, tag: number): number {
  const handle = arena.alloc(PACKED_FIRST);
  arena.beforeWrite(handle, 0, PACKED_FIRST);
  const words = arena.u32[segmentOf(handle)];
  const w = byteOffsetOf(handle) >>> 2;
  words[w] = tag;
  words[w + P_TOTAL] = PACKED_FIRST;
  words[w + P_COUNT] = 0;
  return handle;
}

export function packedFree(arena: Arena, handle: number): void {
  arena.free(handle, packedTotalBytes(arena, handle));
}

/** Bytes the arena handed out for the sequence (its size class slot or pages). */
export function packedUsage(arena: Arena, handle: number): number {
  arena.beforeRead(handle, 0, PACKED_FIRST);
  const total = packedTotalBytes(arena, handle);
  arena.beforeRead(handle, 0, total);
  return arena.usableSize(total);
}

// ---------------------------------------------------------------- reading

/** Fills `into` with the element at `offset` and returns the offset of the next one. */
export function readElement(arena: Arena, handle: number, offset: number, into: PackedElement): number {
  const segment = segmentOf(handle);
  const u8 = arena.u8[segment];
  const at = byteOffsetOf(handle) + offset;
  const head = u8[at];
  into.segment = segment;
  if (head <= SMALL_INT_MAX) {
    into.isInteger = true;
    into.integer = head;
    return offset + 1;
  }
  if (head < SHORT_STRING) return stringAt(into, at + 1, head & TINY_STRING_MAX, offset + 1);
  if (head < LONG_STRING) return stringAt(into, at + 2, ((head & 0x1f) << 8) | u8[at + 1], offset + 2);
  if (head === LONG_STRING) return stringAt(into, at + 5, (u8[at + 1] | (u8[at + 2] << 8) | (u8[at + 3] << 16) | (u8[at + 4] << 24)) >>> 0, offset + 5);
  into.isInteger = true;
  into.integer = integerAt(u8, at, head);
  return offset + (head === INT16 ? 3 : head === INT24 ? 4 : head === INT32 ? 5 : 9);
}

function stringAt(into: PackedElement, at: number, length: number, headerEnd: number): number {
  into.isInteger = false;
  into.at = at;
  into.length = length;
  return headerEnd + length;
}

const skipped = new PackedElement();

/** The offset of the element after the one at `offset`. */
export function packedNext(arena: Arena, handle: number, offset: number): number {
  return readElement(arena, handle, offset, skipped);
}

/** The offset of element `index` (0 ≤ index ≤ count; count gives the end offset). */
export function packedOffsetOf(arena: Arena, handle: number, index: number): number {
  let offset = PACKED_FIRST;
  for (let i = 0; i < index; i++) offset = readElement(arena, handle, offset, skipped);
  return offset;
}

/** A uniformly random element index, for a non-empty sequence of `count / stride` records of `stride` elements. */
export function packedRandomIndex(arena: Arena, handle: number, random: () => number, stride = 1): number {
  return Math.floor(random() * (packedCount(arena, handle) / stride)) * stride;
}

/**
 * The offset of the first element equal to `needle` (whose packedInteger is `needleInteger`) among the
 * elements at indexes 0, stride, 2·stride, …, or -1. Hash fields are stride 2 (field, value, …).
 *
 * Hot path: a small hash's every HGET and HSET walks here, linearly as a listpack lookup does. The
 * walk reads element headers straight from the segment's bytes instead of through readElement (no
 * object writes, no call per element), and since integer-looking text is always stored as an integer,
 * an integer needle only compares against integer elements and a text needle only against text of its
 * own length.
 */
export function packedFind(arena: Arena, handle: number, needle: Uint8Array, needleInteger: number, stride = 1): number {
  const u8 = arena.u8[segmentOf(handle)];
  const base = byteOffsetOf(handle);
  const end = base + packedTotalBytes(arena, handle);
  const integerNeedle = !Number.isNaN(needleInteger);
  const needleLength = needle.length;
  let at = base + PACKED_FIRST;
  let phase = 0;
  while (at < end) {
    const head = u8[at];
    let size: number;
    if (head <= SMALL_INT_MAX) {
      if (phase === 0 && integerNeedle && head === needleInteger) return at - base;
      size = 1;
    } else if (head <= LONG_STRING) {
      let header: number;
      let length: number;
      if (head < SHORT_STRING) {
        header = 1;
        length = head & TINY_STRING_MAX;
      } else if (head < LONG_STRING) {
        header = 2;
        length = ((head & 0x1f) << 8) | u8[at + 1];
      } else {
        header = 5;
        length = (u8[at + 1] | (u8[at + 2] << 8) | (u8[at + 3] << 16) | (u8[at + 4] << 24)) >>> 0;
      }
      if (phase === 0 && !integerNeedle && length === needleLength && sameBytes(u8, at + header, needle)) return at - base;
      size = header + length;
    } else {
      size = head === INT16 ? 3 : head === INT24 ? 4 : head === INT32 ? 5 : 9;
      if (phase === 0 && integerNeedle && integerAt(u8, at, head) === needleInteger) return at - base;
    }
    at += size;
    if (++phase === stride) phase = 0;
  }
  return -1;
}

function sameBytes(u8: Uint8Array, at: number, needle: Uint8Array): boolean {
  for (let i = 0; i < needle.length; i++) if (u8[at + i] !== needle[i]) return false;
  return true;
}

/** The value of the multi-byte integer element at `at`, whose header byte is `head`. */
function integerAt(u8: Uint8Array, at: number, head: number): number {
  if (head === INT16) return ((u8[at + 1] | (u8[at + 2] << 8)) << 16) >> 16;
  if (head === INT24) return ((u8[at + 1] | (u8[at + 2] << 8) | (u8[at + 3] << 16)) << 8) >> 8;
  const low = u8[at + 1] | (u8[at + 2] << 8) | (u8[at + 3] << 16) | (u8[at + 4] << 24);
  if (head === INT32) return low;
  const high = u8[at + 5] | (u8[at + 6] << 8) | (u8[at + 7] << 16) | (u8[at + 8] << 24);
  return high * TWO_POW_32 + (low >>> 0);
}

// ---------------------------------------------------------------- writing

/** Writes `item`'s element encoding at absolute byte `at` of segment bytes `u8` (room already made). */
function writeElement(u8: Uint8Array, at: number, item: Uint8Array): void {
  const integer = packedInteger(item);
  if (!Number.isNaN(integer)) {
    const size = integerSize(integer);
    if (size === 1) u8[at] = integer;
    else if (size === 9) {
      const low = integer >>> 0;
      const high = Math.floor(integer / TWO_POW_32);
      u8[at] = INT64;
      writeLe(u8, at + 1, low, 4);
      writeLe(u8, at + 5, high, 4);
    } else {
      u8[at] = size === 3 ? INT16 : size === 4 ? INT24 : INT32;
      writeLe(u8, at + 1, integer, size - 1);
    }
    return;
  }
  const length = item.length;
  if (length <= TINY_STRING_MAX) u8[at++] = TINY_STRING | length;
  else if (length <= SHORT_STRING_MAX) {
    u8[at++] = SHORT_STRING | (length >>> 8);
    u8[at++] = length & 0xff;
  } else {
    u8[at++] = LONG_STRING;
    writeLe(u8, at, length, 4);
    at += 4;
  }
  u8.set(item, at);
}

function writeLe(u8: Uint8Array, at: number, value: number, bytes: number): void {
  for (let i = 0; i < bytes; i++) u8[at + i] = (value >>> (8 * i)) & 0xff;
}

/**
 * Replaces the `removeBytes` bytes at `offset` (holding `removeCount` elements) with `items`, resizing
 * the allocation, and returns the (possibly new) handle. Every edit is this one move of the tail.
 */
function splice(arena: Arena, handle: number, offset: number, removeBytes: number, removeCount: number, items: readonly Uint8Array[]): number {
  let insertBytes = 0;
  for (const item of items) insertBytes += encodedSize(item);
  const total = packedTotalBytes(arena, handle);
  const newTotal = total - removeBytes + insertBytes;
  const tailFrom = offset + removeBytes;
  const tailTo = offset + insertBytes;
  if (newTotal < total) {
    // Shrinking: move the tail down while the allocation still holds it, then give the room back.
    const base = byteOffsetOf(handle);
    arena.beforeWrite(handle, tailTo, total - tailFrom);
    arena.u8[segmentOf(handle)].copyWithin(base + tailTo, base + tailFrom, base + total);
    handle = arena.realloc(handle, total, newTotal);
  } else if (newTotal > total) {
    handle = arena.realloc(handle, total, newTotal);
    const base = byteOffsetOf(handle);
    arena.beforeWrite(handle, tailTo, total - tailFrom);
    arena.u8[segmentOf(handle)].copyWithin(base + tailTo, base + tailFrom, base + total);
  }
  const u8 = arena.u8[segmentOf(handle)];
  let at = byteOffsetOf(handle) + offset;
  arena.beforeWrite(handle, offset, insertBytes);
  for (const item of items) {
    writeElement(u8, at, item);
    at += encodedSize(item);
  }
  setWord(arena, handle, P_TOTAL, newTotal);
  setWord(arena, handle, P_COUNT, packedCount(arena, handle) - removeCount + items.length);
  return handle;
}

/** Appends `items` at the end. */
export function packedAppend(arena: Arena, handle: number, ...items: Uint8Array[]): number {
  return splice(arena, handle, packedTotalBytes(arena, handle), 0, 0, items);
}

/** Inserts `items` before the element at `offset` (or at the end, with the end offset). */
export function packedInsertAt(arena: Arena, handle: number, offset: number, ...items: Uint8Array[]): number {
  return splice(arena, handle, offset, 0, 0, items);
}

/** Replaces the element at `offset` with `item`. */
export function packedReplaceAt(arena: Arena, handle: number, offset: number, item: Uint8Array): number {
  return splice(arena, handle, offset, packedNext(arena, handle, offset) - offset, 1, [item]);
}

/** Deletes `count` consecutive elements starting at `offset`. */
export function packedDeleteAt(arena: Arena, handle: number, offset: number, count = 1): number {
  let end = offset;
  for (let i = 0; i < count; i++) end = packedNext(arena, handle, end);
  return splice(arena, handle, offset, end - offset, count, []);
}

/**
 * Whether an element read by readElement equals `needle` (whose packedInteger is `needleInteger`),
 * compared in place: what a list's LREM, LPOS and LINSERT ask of every element they pass.
 */
export function packedElementEquals(arena: Arena, element: PackedElement, needle: Uint8Array, needleInteger: number): boolean {
  if (element.isInteger) return element.integer === needleInteger;
  if (element.length !== needle.length || !Number.isNaN(needleInteger)) return false;
  const u8 = arena.u8[element.segment];
  for (let i = 0; i < needle.length; i++) if (u8[element.at + i] !== needle[i]) return false;
  return true;
}
