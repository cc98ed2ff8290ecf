/**
 * Active defragmentation of collection values: each encoding's allocations moved where the allocator's
 * hint says moving helps (Arena.defragHint), and every reference to a moved allocation rewritten. The
 * per-encoding walks live next to their encodings (list.ts, hash-table.ts, skiplist.ts); this module
 * holds what they share (the Mover, which asks the hint, moves and counts as Redis counts) and the
 * dispatch by encoding, as collection.ts dispatches freeing.
 *
 * A small value is done in one call. A large one (lists by nodes, tables and skiplists by elements) is
 * done in slices from a cursor, as Redis's defrag_later scan does: between slices the collection may
 * change, so every slice starts again from the root its key names now, and the cursor only says where
 * to go on (a list's node index, a table's Dict.scan cursor). A cursor of 0 starts a value; -1 says done.
 *
 * Only the shard's own thread calls this, between commands, and never while a snapshot epoch is open
 * (shard/defrag.ts says why).
 */
import type { Arena } from 'native-free-alloc';
import { CollectionEncoding, collectionEncoding } from './collection.js';
import { packedTotalBytes } from './packed.js';
import { intsetBytes } from './intset.js';
import { listDefragSlice } from './list.js';
import { hashTableDefragSlice } from './hash-table.js';
import { SkipList } from './skiplist.js';

/** Moves allocations the allocator's hint picks, counting Redis's active_defrag_hits and _misses. */
export class Mover {
  /** Allocations moved (active_defrag_hits). */
  hits = 0;
  /** Allocations looked at and left where they were (active_defrag_misses). */
  misses = 0;

  constructor(readonly arena: Arena) {}

  /** Whether moving the allocation would help; a "no" counts as a miss. */
  wants(handle: number): boolean {
    if (this.arena.defragHint(handle)) return true;
    this.misses++;
    return false;
  }

  /** Moves an allocation of `size` bytes that wants() picked; returns its new handle. */
  move(handle: number, size: number): number {
    this.hits++;
    return this.arena.move(handle, size);
  }

  /** The allocation's handle after moving it if the hint says so. */
  readonly relocate = (handle: number, size: number): number => (this.wants(handle) ? this.move(handle, size) : handle);
}

/** Where a collection's defragmentation stands after a slice: its root now, and the cursor to go on from. */
export interface CollectionDefrag {
  root: number;
  /** -1 once the value is done. */
  cursor: number;
}

/**
 * Defragments about `budget` elements (or list nodes) of the collection at `root` from `cursor` (0 for
 * a fresh start, which also moves the root and the structures it names). The caller stores the returned
 * root wherever the old one was named.
 */
export function defragCollectionSlice(arena: Arena, mover: Mover, root: number, cursor: number, budget: number): CollectionDefrag {
  const encoding = collectionEncoding(arena, root);
  if (encoding === CollectionEncoding.Packed) return { root: mover.relocate(root, packedTotalBytes(arena, root)), cursor: -1 };
  if (encoding === CollectionEncoding.Intset) return { root: mover.relocate(root, intsetBytes(arena, root)), cursor: -1 };
  if (encoding === CollectionEncoding.Quicklist) return listDefragSlice(arena, mover, root, cursor, budget);
  if (encoding === CollectionEncoding.HashTable) return hashTableDefragSlice(arena, mover, root, cursor, budget);
  return SkipList.defragSlice(arena, mover, root, cursor, budget);
}
