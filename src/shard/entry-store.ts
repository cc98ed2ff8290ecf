/**
 * Writing, reading and freeing entries in the layout of entry.ts, for every dictionary that holds them:
 * a database's keys, and a large hash's fields (whose entry "key" is the field and whose value is the
 * field's value). One implementation, so both kinds stay byte-for-byte the same layout.
 *
 * An external string value is its own allocation: [u32 length][u32 capacity][capacity bytes].
 * A collection value (type other than String) is always External: its value word is the handle of the
 * collection's root, which collections/collection.ts frees.
 *
 * Stores go through arena.beforeWrite first, as everywhere in shard memory.
 */
import { byteOffsetOf, segmentOf, type Arena } from 'native-free-alloc';
import { readWord, writeWord } from './arena-words.js';
import {
  E_ENCODING_BYTE,
  E_FLAGS_BYTE,
  E_HASH,
  E_KEY_LENGTH,
  E_LRU,
  E_TYPE_BYTE,
  E_VALUE,
  EntryFlag,
  HEADER_BYTES,
  INLINE_VALUE_MAX,
  type ValueType,
  entrySize,
  keyOffset,
} from './entry.js';

export const EXTERNAL_HEADER_BYTES = 8;

export function entryFlags(arena: Arena, entry: number): number {
  return arena.u8[segmentOf(entry)][byteOffsetOf(entry) + E_FLAGS_BYTE];
}

export function entryType(arena: Arena, entry: number): ValueType {
  return arena.u8[segmentOf(entry)][byteOffsetOf(entry) + E_TYPE_BYTE] as ValueType;
}

/** The entry's key bytes, as a view into the arena (valid until the entry changes). */
export function entryKeyBytes(arena: Arena, entry: number): Uint8Array {
  const at = byteOffsetOf(entry) + keyOffset(entryFlags(arena, entry));
  return arena.u8[segmentOf(entry)].subarray(at, at + readWord(arena, entry, E_KEY_LENGTH));
}

/** A string value's bytes, as a view into the arena (valid until the entry changes). */
export function entryStringBytes(arena: Arena, entry: number): Uint8Array {
  const flags = entryFlags(arena, entry);
  if (flags & EntryFlag.External) {
    const value = readWord(arena, entry, E_VALUE);
    const at = byteOffsetOf(value) + EXTERNAL_HEADER_BYTES;
    return arena.u8[segmentOf(value)].subarray(at, at + readWord(arena, value, 0));
  }
  const at = byteOffsetOf(entry) + keyOffset(flags) + readWord(arena, entry, E_KEY_LENGTH);
  return arena.u8[segmentOf(entry)].subarray(at, at + readWord(arena, entry, E_VALUE));
}

export function newExternalString(arena: Arena, value: Uint8Array): number {
  const handle = arena.alloc(EXTERNAL_HEADER_BYTES + value.length);
  arena.beforeWrite(handle, 0, EXTERNAL_HEADER_BYTES + value.length);
  const words = arena.u32[segmentOf(handle)];
  const w = byteOffsetOf(handle) >>> 2;
  words[w] = value.length;
  words[w + 1] = value.length;
  arena.u8[segmentOf(handle)].set(value, byteOffsetOf(handle) + EXTERNAL_HEADER_BYTES);
  return handle;
}

export function freeExternalString(arena: Arena, handle: number): void {
  arena.free(handle, EXTERNAL_HEADER_BYTES + readWord(arena, handle, 1));
}

/**
 * A new, unlinked entry for `key` (whose hashKey is `hash`) of type `type` holding `value`: string bytes
 * (inline up to INLINE_VALUE_MAX, else in an external allocation made here), or the handle of a value
 * that lives elsewhere (a collection's root). With `hasExpire`, the caller writes the expiry words.
 * If the entry cannot be allocated, nothing stays allocated.
 */
export function newEntry(arena: Arena, key: Uint8Array, hash: number, type: ValueType, value: Uint8Array | number, hasExpire: boolean, lru: number): number {
  const external = typeof value === 'number' || value.length > INLINE_VALUE_MAX;
  const inlineLength = external ? 0 : (value as Uint8Array).length;
  const size = entrySize(key.length, inlineLength, hasExpire);
  const valueHandle = typeof value === 'number' ? value : external ? newExternalString(arena, value) : 0;
  let entry: number;
  try {
    entry = arena.alloc(size);
  } catch (error) {
    if (external && typeof value !== 'number') freeExternalString(arena, valueHandle);
    throw error;
  }
  arena.beforeWrite(entry, 0, size);
  const words = arena.u32[segmentOf(entry)];
  const bytes = arena.u8[segmentOf(entry)];
  const at = byteOffsetOf(entry);
  const w = at >>> 2;
  words[w + E_HASH] = hash;
  words[w + E_LRU] = lru;
  bytes[at + E_TYPE_BYTE] = type;
  bytes[at + E_FLAGS_BYTE] = (hasExpire ? EntryFlag.HasExpire : 0) | (external ? EntryFlag.External : 0);
  bytes[at + E_ENCODING_BYTE] = 0;
  bytes[at + E_ENCODING_BYTE + 1] = 0;
  words[w + E_KEY_LENGTH] = key.length;
  const keyAt = at + keyOffset(bytes[at + E_FLAGS_BYTE]);
  bytes.set(key, keyAt);
  if (external) words[w + E_VALUE] = valueHandle;
  else {
    words[w + E_VALUE] = inlineLength;
    bytes.set(value as Uint8Array, keyAt + key.length);
  }
  return entry;
}

/** The size an entry's own allocation was made with (entry.ts's invariant). */
export function entryShellSize(arena: Arena, entry: number): number {
  arena.beforeRead(entry, 0, HEADER_BYTES);
  const flags = entryFlags(arena, entry);
  const inlineLength = flags & EntryFlag.External ? 0 : readWord(arena, entry, E_VALUE);
  return entrySize(readWord(arena, entry, E_KEY_LENGTH), inlineLength, (flags & EntryFlag.HasExpire) !== 0);
}

/** Frees an unlinked entry's own allocation, leaving an external value to whoever holds it now. */
export function freeEntryShell(arena: Arena, entry: number): void {
  arena.free(entry, entryShellSize(arena, entry));
}

/** Bytes the arena handed out for the entry's own allocation (its size class slot or pages). */
export function entryShellUsage(arena: Arena, entry: number): number {
  const size = entryShellSize(arena, entry);
  arena.beforeRead(entry, 0, size);
  return arena.usableSize(size);
}

/** Bytes the arena handed out for an entry holding a string value, external value included. */
export function stringEntryUsage(arena: Arena, entry: number): number {
  const shell = entryShellUsage(arena, entry);
  if ((entryFlags(arena, entry) & EntryFlag.External) === 0) return shell;
  const value = readWord(arena, entry, E_VALUE);
  arena.beforeRead(value, 0, EXTERNAL_HEADER_BYTES);
  const size = EXTERNAL_HEADER_BYTES + readWord(arena, value, 1);
  arena.beforeRead(value, 0, size);
  return shell + arena.usableSize(size);
}

/** Frees an unlinked entry holding a string value, external value included. */
export function freeStringEntry(arena: Arena, entry: number): void {
  if (entryFlags(arena, entry) & EntryFlag.External) freeExternalString(arena, readWord(arena, entry, E_VALUE));
  freeEntryShell(arena, entry);
}

/**
 * Active defragmentation of an entry holding a string (a hash field, a set member): its external value
 * and its own allocation, each moved if `relocate` (handle, size → handle afterwards) moves it. Returns
 * the entry's handle afterwards; the caller relinks it.
 */
export function relocateStringEntry(arena: Arena, entry: number, relocate: (handle: number, size: number) => number): number {
  if (entryFlags(arena, entry) & EntryFlag.External) {
    const value = readWord(arena, entry, E_VALUE);
    const moved = relocate(value, EXTERNAL_HEADER_BYTES + readWord(arena, value, 1));
    if (moved !== value) writeWord(arena, entry, E_VALUE, moved);
  }
  return relocate(entry, entryShellSize(arena, entry));
}
