/**
 * The large encoding of a collection whose elements are looked up by bytes (a hash's fields; later a
 * set's members): a Dict (shard/dict.ts) of entries in the key-entry layout, written by
 * shard/entry-store.ts, whose "key" is the element and whose value is the element's value. So a large
 * hash gets the keyspace's incremental rehash, SCAN cursor and random sampling for free, and a field
 * costs one allocation (header, field and a short value together) plus its bucket word.
 *
 * Root: [u8 CollectionEncoding.HashTable, 3 bytes 0][u32 Dict header handle].
 *
 * A field entry's LRU word and expiry are unused (fields have no TTL in Redis 7.0).
 */
import { byteOffsetOf, segmentOf, type Arena } from 'native-free-alloc';
import { Dict } from '../shard/dict.js';
import { ValueType } from '../shard/entry.js';
import { entryStringBytes, freeStringEntry, newEntry, relocateStringEntry, stringEntryUsage } from '../shard/entry-store.js';
import { hashKey } from '../shard/hash.js';
import { readWord, writeWord } from '../shard/arena-words.js';
import { CollectionEncoding } from './collection.js';
import type { CollectionDefrag, Mover } from './defrag.js';

const ROOT_BYTES = 8;
const ROOT_DICT = 1;

/** A new, empty table; returns its root. */
export function hashTableCreate(arena: Arena): number {
  const dict = new Dict(arena);
  let root: number;
  try {
    root = arena.alloc(ROOT_BYTES);
  } catch (error) {
    dict.destroy();
    throw error;
  }
  arena.beforeWrite(root, 0, ROOT_BYTES);
  const words = arena.u32[segmentOf(root)];
  words[byteOffsetOf(root) >>> 2] = CollectionEncoding.HashTable;
  words[(byteOffsetOf(root) >>> 2) + ROOT_DICT] = dict.header;
  return root;
}

/** The table's dictionary (a view object over arena memory; make one per command, not per element). */
export function hashTableDict(arena: Arena, root: number): Dict {
  return new Dict(arena, readWord(arena, root, ROOT_DICT));
}

/** The field entry for `field`, or 0. The dictionary remembers where it was found (for delete/replace). */
export function hashTableFind(dict: Dict, field: Uint8Array): number {
  return dict.find(field, 0, field.length, hashKey(field, 0, field.length));
}

/** Sets field → value; returns true when the field is new. */
export function hashTableSet(arena: Arena, dict: Dict, field: Uint8Array, value: Uint8Array): boolean {
  const hash = hashKey(field, 0, field.length);
  const old = dict.find(field, 0, field.length, hash);
  const entry = newEntry(arena, field, hash, ValueType.String, value, false, 0);
  if (old === 0) {
    dict.insertNew(entry);
    return true;
  }
  dict.replaceFound(old, entry);
  freeStringEntry(arena, old);
  return false;
}

/** Deletes the field; returns whether it was there. */
export function hashTableDelete(arena: Arena, dict: Dict, field: Uint8Array): boolean {
  const entry = hashTableFind(dict, field);
  if (entry === 0) return false;
  dict.unlinkFound(entry);
  freeStringEntry(arena, entry);
  return true;
}

/** A field entry's value bytes (a view valid until the field changes). */
export function hashTableValue(arena: Arena, entry: number): Uint8Array {
  return entryStringBytes(arena, entry);
}

/**
 * Frees the table's field entries bucket by bucket from `from` for about `budget` buckets and entries,
 * then its tables and root; returns the bucket to resume from, or -1 once all is freed.
 */
export function hashTableFreeSlice(arena: Arena, root: number, from: number, budget: number): number {
  const dict = hashTableDict(arena, root);
  const next = dict.visitBuckets(from, budget, (entry) => freeStringEntry(arena, entry));
  if (next >= 0) return next;
  dict.destroy();
  arena.free(root, ROOT_BYTES);
  return -1;
}

/**
 * Active defragmentation (collections/defrag.ts): a fresh start (cursor 0) moves the root, the
 * dictionary's header and tables; then Dict.defragScan steps from `cursor` over about `budget` entries,
 * each field entry and its long value moved if the hint says so.
 */
export function hashTableDefragSlice(arena: Arena, mover: Mover, root: number, cursor: number, budget: number): CollectionDefrag {
  if (cursor === 0) {
    root = mover.relocate(root, ROOT_BYTES);
    const header = hashTableDict(arena, root).defragHeaderAndTables(mover.relocate);
    if (header !== readWord(arena, root, ROOT_DICT)) writeWord(arena, root, ROOT_DICT, header);
  }
  const dict = hashTableDict(arena, root);
  let visited = 0;
  const relocate = (entry: number): number => {
    visited++;
    return relocateStringEntry(arena, entry, mover.relocate);
  };
  do cursor = dict.defragScan(cursor, relocate);
  while (cursor !== 0 && visited < budget);
  return { root, cursor: cursor === 0 ? -1 : cursor };
}

/** Bytes the arena handed out for the table: every entry (long values included), its tables and its root. */
export function hashTableUsage(arena: Arena, root: number): number {
  arena.beforeRead(root, 0, ROOT_BYTES);
  const dict = hashTableDict(arena, root);
  let bytes = dict.allocatedBytes() + arena.usableSize(ROOT_BYTES);
  dict.forEach((entry) => (bytes += stringEntryUsage(arena, entry)));
  return bytes;
}
