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
import { hashTableFree, hashTableUsage } from './hash-table.js';
import { listFree, listUsage } from './list.js';
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
  const encoding = collectionEncoding(arena, root);
  if (encoding === CollectionEncoding.Packed) packedFree(arena, root);
  else if (encoding === CollectionEncoding.Quicklist) listFree(arena, root);
  else if (encoding === CollectionEncoding.Skiplist) new SkipList(arena, root).free();
  else if (encoding === CollectionEncoding.Intset) intsetFree(arena, root);
  else hashTableFree(arena, root);
}

/** Bytes the arena handed out for every allocation the collection owns. */
export function collectionUsage(arena: Arena, root: number): number {
  const encoding = collectionEncoding(arena, root);
  if (encoding === CollectionEncoding.Packed) return packedUsage(arena, root);
  if (encoding === CollectionEncoding.Quicklist) return listUsage(arena, root);
  if (encoding === CollectionEncoding.Skiplist) return new SkipList(arena, root).usage();
  if (encoding === CollectionEncoding.Intset) return intsetUsage(arena, root);
  return hashTableUsage(arena, root);
}
