/**
 * What every collection value has in common: its root, the allocation a key entry's value word points
 * to, starts with a tag byte naming its encoding, so that code holding only the key can free or
 * describe the value without knowing the command family that made it.
 *
 *   Packed      a packed sequence (packed.ts): the small encoding (Redis's listpack)
 *   HashTable   [u8 tag, 3 bytes 0][u32 Dict header handle]: a dictionary of entries whose key is the
 *               element (hash field) and whose value is its value (hash-table.ts); a large set's
 *               members are its keys, with empty values
 *   Quicklist   a list's root: its node records, each node a packed sequence (list.ts)
 *   Skiplist    a sorted set's skiplist and member index (skiplist.ts)
 *   Intset      a sorted array of integers (intset.ts): a small set whose members are all integers
 *
 * Freeing a collection frees every allocation it owns: a large hash's every field entry, its tables
 * and its root; a list's every node and its root. Its usage (MEMORY USAGE) is the sum of the bytes the
 * arena handed out for those same allocations, found by the same walk.
 */
import { byteOffsetOf, segmentOf, type Arena } from 'native-free-alloc';
import { packedFree, packedUsage } from './packed.js';
import { hashTableDict, hashTableFreeSlice, hashTableUsage } from './hash-table.js';
import { listFreeSlice, listNodeCount, listUsage } from './list.js';
import { SkipList } from './skiplist.js';
import { intsetFree, intsetUsage } from './intset.js';

export const enum CollectionEncoding {
  Packed = 1,
  HashTable = 2,
  Quicklist = 3,
  Skiplist = 4,
  Intset = 5,
}

export function collectionEncoding(arena: Arena, root: number): CollectionEncoding {
  return arena.u8[segmentOf(root)][byteOffsetOf(root)] as CollectionEncoding;
}

export function freeCollection(arena: Arena, root: number): void {
  freeCollectionSlice(arena, root, 0, Infinity);
}

/**
 * Frees part of a collection, about `budget` of its allocations, from `cursor` (0 at first, then what
 * the previous call returned); returns the cursor to resume from, or -1 once every allocation, root
 * included, is freed. In between, the collection is half freed: only its owner may call this, and only
 * for a collection nothing else can reach any more (background freeing, shard/lazy-free.ts).
 */
export function freeCollectionSlice(arena: Arena, root: number, cursor: number, budget: number): number {
  const encoding = collectionEncoding(arena, root);
  if (encoding === CollectionEncoding.Quicklist) return listFreeSlice(arena, root, cursor, budget);
  if (encoding === CollectionEncoding.Skiplist) return new SkipList(arena, root).freeSlice(cursor, budget);
  if (encoding === CollectionEncoding.HashTable) return hashTableFreeSlice(arena, root, cursor, budget);
  if (encoding === CollectionEncoding.Packed) packedFree(arena, root);
  else intsetFree(arena, root);
  return -1;
}

/**
 * The work of freeing a collection, counted as Redis's lazyfreeGetFreeEffort counts it: a list's
 * nodes, a table's or skiplist's elements, 1 for a single-allocation encoding.
 */
export function collectionFreeEffort(arena: Arena, root: number): number {
  const encoding = collectionEncoding(arena, root);
  if (encoding === CollectionEncoding.Quicklist) return listNodeCount(arena, root);
  if (encoding === CollectionEncoding.Skiplist) return new SkipList(arena, root).length;
  if (encoding === CollectionEncoding.HashTable) return hashTableDict(arena, root).size;
  return 1;
}

/** Bytes the arena handed out for every allocation the collection owns. */
export function collectionUsage(arena: Arena, root: number): number {
  arena.beforeRead(root, 0, 1);
  const encoding = collectionEncoding(arena, root);
  if (encoding === CollectionEncoding.Packed) return packedUsage(arena, root);
  if (encoding === CollectionEncoding.Quicklist) return listUsage(arena, root);
  if (encoding === CollectionEncoding.Skiplist) return new SkipList(arena, root).usage();
  if (encoding === CollectionEncoding.Intset) return intsetUsage(arena, root);
  return hashTableUsage(arena, root);
}
