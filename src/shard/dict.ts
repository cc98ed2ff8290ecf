/**
 * A shard's key dictionary: chained hashing with incremental rehash, as Redis's dict.c does it, but with
 * every byte in the shard's arena (native-free-alloc): the header, both bucket tables and the entries.
 * Nothing per key lives on the JavaScript heap, and a snapshot worker can walk the same structure
 * through the arena's copy-on-write reads.
 *
 * Why incremental rehash: growing to twice the buckets moves every entry, which at 10 million keys would
 * stall the shard for a second. Instead the new table is allocated (an mmap'd segment: no memset, O(1))
 * and buckets move a few at a time: one step per lookup or insert, and more from the shard's idle loop
 * (rehashForMilliseconds), so no command ever waits for more than a handful of buckets.
 *
 * While rehashing, table 0 buckets below `rehashIndex` are empty, lookups try table 0 then table 1, and
 * inserts go to table 1.
 *
 * Invariants:
 *   used0 + used1                        == number of entries reachable from both tables
 *   rehashing  <=>  table1 != 0          and then buckets [0, rehashIndex) of table 0 are empty
 *   every entry e in bucket b of table t: hash(e) & (size(t) - 1) == b
 *
 * Every store into arena memory is preceded by arena.beforeWrite(), the copy-on-write notification point
 * (one branch when no snapshot is running).
 */
import { AllocatorError, MAX_RUN_PAGES, PAGE_SIZE, byteOffsetOf, segmentOf, type Arena } from 'native-free-alloc';
import { readWord, writeWord } from './arena-words.js';
import { E_HASH, E_KEY_LENGTH, E_FLAGS_BYTE, E_NEXT, HEADER_BYTES as ENTRY_HEADER_BYTES, keyOffset } from './entry.js';

/** Header words. */
const H_TABLE0 = 0;
const H_SIZE_LOG0 = 1;
const H_USED0 = 2;
const H_TABLE1 = 3;
const H_SIZE_LOG1 = 4;
const H_USED1 = 5;
/** Rehash index + 1; 0 when not rehashing (the header is zeroed memory at birth). */
const H_REHASH = 6;
const HEADER_BYTES = 32;

const INITIAL_SIZE_LOG = 2;
/** Shrink when fewer than 1 in 10 buckets would be used (Redis's HASHTABLE_MIN_FILL). */
const MIN_FILL_PERCENT = 10;
/** Empty buckets a rehash step may skip per bucket it was asked to move (Redis: 10). */
const EMPTY_VISITS_PER_STEP = 10;

export class Dict {
  readonly header: number;
  private readonly arena: Arena;
  /** Where the link to the entry last found by find() lives: segment and u32 index of that word. */
  private linkSegment = 0;
  private linkWord = 0;
  private linkHandle = 0;
  private linkByte = 0;
  private foundInTable1 = false;

  constructor(arena: Arena, header?: number) {
    this.arena = arena;
    if (header !== undefined) {
      this.header = header;
      return;
    }
    this.header = arena.alloc(HEADER_BYTES);
    arena.beforeWrite(this.header, 0, HEADER_BYTES);
    arena.bytes(this.header, HEADER_BYTES).fill(0);
    const table = this.newTable(INITIAL_SIZE_LOG);
    this.setHeader(H_TABLE0, table);
    this.setHeader(H_SIZE_LOG0, INITIAL_SIZE_LOG);
  }

  // ---------------------------------------------------------------- header access

  private headerWord(field: number): number {
    return readWord(this.arena, this.header, field);
  }

  private setHeader(field: number, value: number): void {
    writeWord(this.arena, this.header, field, value);
  }

  /**
   * The entry count. It and the walks below (forEachWhile, entries, allocatedBytes) are what a snapshot
   * reads of a dictionary, so they announce the header (beforeRead); lookups and writes never run there.
   */
  get size(): number {
    this.arena.beforeRead(this.header, 0, HEADER_BYTES);
    return this.headerWord(H_USED0) + this.headerWord(H_USED1);
  }

  get rehashing(): boolean {
    return this.headerWord(H_REHASH) !== 0;
  }

  /** Bucket counts of table 0 and table 1 (0 when not rehashing). */
  buckets(): [number, number] {
    return [1 << this.headerWord(H_SIZE_LOG0), this.rehashing ? 1 << this.headerWord(H_SIZE_LOG1) : 0];
  }

  private newTable(sizeLog: number): number {
    const bytes = 4 << sizeLog;
    const table = this.arena.alloc(bytes);
    // Tables past the page-run limit get a segment of their own, freshly mapped and already zero:
    // clearing 64 MiB by hand would be the very stall incremental rehashing avoids, and would make
    // every page resident at once. Smaller ones may reuse freed memory and are cleared.
    if (bytes <= MAX_RUN_PAGES * PAGE_SIZE) {
      this.arena.beforeWrite(table, 0, bytes);
      this.arena.bytes(table, bytes).fill(0);
    }
    return table;
  }

  // ---------------------------------------------------------------- lookup

  /**
   * The entry whose key equals bytes[start, start+length) (with `hash` = hashKey of those bytes), or 0.
   * Remembers where the link to it lives, for unlinkFound() and replaceFound().
   * Hot path: hashes are compared before keys, and key bytes are compared in place in the arena.
   */
  find(bytes: Uint8Array, start: number, length: number, hash: number): number {
    if (this.rehashing) this.rehashStep(1);
    const arena = this.arena;
    const u32 = arena.u32;
    const u8 = arena.u8;
    const hs = segmentOf(this.header);
    const hw = byteOffsetOf(this.header) >>> 2;
    const tables = u32[hs][hw + H_REHASH] !== 0 ? 2 : 1;
    for (let t = 0; t < tables; t++) {
      const table = u32[hs][hw + (t === 0 ? H_TABLE0 : H_TABLE1)];
      const mask = (1 << u32[hs][hw + (t === 0 ? H_SIZE_LOG0 : H_SIZE_LOG1)]) - 1;
      let linkSegment = segmentOf(table);
      let linkWord = (byteOffsetOf(table) >>> 2) + (hash & mask);
      let linkHandle = table;
      let linkByte = (hash & mask) << 2;
      let entry = u32[linkSegment][linkWord];
      while (entry !== 0) {
        const es = segmentOf(entry);
        const eo = byteOffsetOf(entry);
        const words = u32[es];
        const ew = eo >>> 2;
        if (words[ew + E_HASH] === hash && words[ew + E_KEY_LENGTH] === length) {
          const entryBytes = u8[es];
          const keyAt = eo + keyOffset(entryBytes[eo + E_FLAGS_BYTE]);
          let same = true;
          for (let i = 0; i < length; i++) {
            if (entryBytes[keyAt + i] !== bytes[start + i]) {
              same = false;
              break;
            }
          }
          if (same) {
            this.linkSegment = linkSegment;
            this.linkWord = linkWord;
            this.linkHandle = linkHandle;
            this.linkByte = linkByte;
            this.foundInTable1 = t === 1;
            return entry;
          }
        }
        linkSegment = es;
        linkWord = ew + E_NEXT;
        linkHandle = entry;
        linkByte = E_NEXT << 2;
        entry = words[ew + E_NEXT];
      }
    }
    return 0;
  }

  /** Removes the entry last returned by find() from its chain (the caller frees it). */
  unlinkFound(entry: number): void {
    const next = this.arena.u32[segmentOf(entry)][(byteOffsetOf(entry) >>> 2) + E_NEXT];
    this.arena.beforeWrite(this.linkHandle, this.linkByte, 4);
    this.arena.u32[this.linkSegment][this.linkWord] = next;
    const used = this.foundInTable1 ? H_USED1 : H_USED0;
    this.setHeader(used, this.headerWord(used) - 1);
    this.shrinkIfSparse();
  }

  /** Puts `replacement` where the entry last returned by find() was (same key, moved or resized). */
  replaceFound(old: number, replacement: number): void {
    const next = this.arena.u32[segmentOf(old)][(byteOffsetOf(old) >>> 2) + E_NEXT];
    writeWord(this.arena, replacement, E_NEXT, next);
    this.arena.beforeWrite(this.linkHandle, this.linkByte, 4);
    this.arena.u32[this.linkSegment][this.linkWord] = replacement;
  }

  // ---------------------------------------------------------------- insert

  /** Adds an entry whose key is not present (the caller checked with find()). Its hash word must be set. */
  insertNew(entry: number): void {
    this.expandIfNeeded();
    const rehashing = this.rehashing;
    const hash = this.arena.u32[segmentOf(entry)][(byteOffsetOf(entry) >>> 2) + E_HASH];
    const table = this.headerWord(rehashing ? H_TABLE1 : H_TABLE0);
    const mask = (1 << this.headerWord(rehashing ? H_SIZE_LOG1 : H_SIZE_LOG0)) - 1;
    this.pushToBucket(table, hash & mask, entry);
    const used = rehashing ? H_USED1 : H_USED0;
    this.setHeader(used, this.headerWord(used) + 1);
  }

  private pushToBucket(table: number, bucket: number, entry: number): void {
    const tableWords = this.arena.u32[segmentOf(table)];
    const slot = (byteOffsetOf(table) >>> 2) + bucket;
    writeWord(this.arena, entry, E_NEXT, tableWords[slot]);
    this.arena.beforeWrite(table, bucket << 2, 4);
    tableWords[slot] = entry;
  }

  // ---------------------------------------------------------------- resizing

  private expandIfNeeded(): void {
    if (this.rehashing) return;
    const used = this.headerWord(H_USED0);
    const sizeLog = this.headerWord(H_SIZE_LOG0);
    if (used < 1 << sizeLog) return;
    try {
      this.startRehash(sizeLog + 1);
    } catch (error) {
      // No memory for a bigger table: keep this one (chains get longer; nothing is lost), as Redis's
      // dictTryExpand does. The next insert tries again.
      if (!(error instanceof AllocatorError)) throw error;
    }
  }

  private shrinkIfSparse(): void {
    if (this.rehashing) return;
    const sizeLog = this.headerWord(H_SIZE_LOG0);
    const used = this.headerWord(H_USED0);
    if (sizeLog <= INITIAL_SIZE_LOG || used * 100 >= (1 << sizeLog) * MIN_FILL_PERCENT) return;
    let target = INITIAL_SIZE_LOG;
    while (1 << target < used) target++;
    this.startRehash(target);
  }

  private startRehash(sizeLog: number): void {
    this.setHeader(H_TABLE1, this.newTable(sizeLog));
    this.setHeader(H_SIZE_LOG1, sizeLog);
    this.setHeader(H_USED1, 0);
    this.setHeader(H_REHASH, 1);
  }

  /**
   * Moves up to `buckets` non-empty buckets of table 0 into table 1, visiting at most ten times as many
   * empty ones. Returns true while rehashing goes on.
   */
  rehashStep(buckets: number): boolean {
    const arena = this.arena;
    const u32 = arena.u32;
    let index = this.headerWord(H_REHASH) - 1;
    if (index < 0) return false;
    const table0 = this.headerWord(H_TABLE0);
    const size0 = 1 << this.headerWord(H_SIZE_LOG0);
    const table1 = this.headerWord(H_TABLE1);
    const mask1 = (1 << this.headerWord(H_SIZE_LOG1)) - 1;
    const words0 = u32[segmentOf(table0)];
    const base0 = byteOffsetOf(table0) >>> 2;
    let moved = this.headerWord(H_USED1);
    let remaining = this.headerWord(H_USED0);
    let emptyVisits = buckets * EMPTY_VISITS_PER_STEP;
    while (buckets > 0 && index < size0) {
      let entry = words0[base0 + index];
      if (entry === 0) {
        index++;
        if (--emptyVisits === 0) break;
        continue;
      }
      while (entry !== 0) {
        const words = u32[segmentOf(entry)];
        const ew = byteOffsetOf(entry) >>> 2;
        const next = words[ew + E_NEXT];
        this.pushToBucket(table1, words[ew + E_HASH] & mask1, entry);
        moved++;
        remaining--;
        entry = next;
      }
      arena.beforeWrite(table0, index << 2, 4);
      words0[base0 + index] = 0;
      index++;
      buckets--;
    }
    this.setHeader(H_USED0, remaining);
    this.setHeader(H_USED1, moved);
    if (index < size0) {
      this.setHeader(H_REHASH, index + 1);
      return true;
    }
    // Table 1 becomes table 0.
    arena.free(table0, 4 * size0);
    this.setHeader(H_TABLE0, table1);
    this.setHeader(H_SIZE_LOG0, this.headerWord(H_SIZE_LOG1));
    this.setHeader(H_USED0, moved);
    this.setHeader(H_TABLE1, 0);
    this.setHeader(H_SIZE_LOG1, 0);
    this.setHeader(H_USED1, 0);
    this.setHeader(H_REHASH, 0);
    return false;
  }

  /**
   * The shard's idle work, as Redis's cron does it: starts a shrink if the table has become sparse, then
   * rehashes in steps of 100 buckets until done or `milliseconds` have passed.
   */
  rehashForMilliseconds(milliseconds: number): void {
    const deadline = performance.now() + milliseconds;
    for (;;) {
      if (!this.rehashing) this.shrinkIfSparse();
      if (!this.rehashing) return;
      this.rehashStep(100);
      if (performance.now() >= deadline) return;
    }
  }

  // ---------------------------------------------------------------- iteration

  /**
   * One SCAN step with Redis's guarantees: every entry present for the whole scan is returned at least
   * once, even across resizes, because the cursor counts buckets in reversed-bit order, so the buckets
   * it has covered stay covered when the table doubles or halves. Returns the next cursor (0: done).
   */
  scan(cursor: number, visit: (entry: number) => void): number {
    const u32 = this.arena.u32;
    return this.scanBuckets(cursor, (table, bucket) => {
      let entry = u32[segmentOf(table)][(byteOffsetOf(table) >>> 2) + bucket];
      while (entry !== 0) {
        const next = u32[segmentOf(entry)][(byteOffsetOf(entry) >>> 2) + E_NEXT];
        visit(entry);
        entry = next;
      }
    });
  }

  /**
   * One step of active defragmentation over the same cursor as scan() (so it survives resizes between
   * steps): `relocate` gets each entry of the step's buckets and returns its handle afterwards, moved
   * or not; a moved entry is relinked where its chain pointed to it. Returns the next cursor (0: done).
   */
  defragScan(cursor: number, relocate: (entry: number) => number): number {
    const arena = this.arena;
    return this.scanBuckets(cursor, (table, bucket) => {
      let linkHandle = table;
      let linkField = bucket;
      for (let entry = readWord(arena, table, bucket); entry !== 0; ) {
        const moved = relocate(entry);
        if (moved !== entry) writeWord(arena, linkHandle, linkField, moved);
        linkHandle = moved;
        linkField = E_NEXT;
        entry = readWord(arena, moved, E_NEXT);
      }
    });
  }

  /** The bucket walk of one scan step: `bucket` of `table` for each bucket the cursor covers. */
  private scanBuckets(cursor: number, emit: (table: number, bucket: number) => void): number {
    // An empty dictionary ends the scan at once, as Redis's dictScan does, however large its table.
    if (this.size === 0) return 0;
    let v = cursor >>> 0;
    if (!this.rehashing) {
      const mask = (1 << this.headerWord(H_SIZE_LOG0)) - 1;
      emit(this.headerWord(H_TABLE0), v & mask);
      v |= ~mask;
      return nextReversedCursor(v);
    }
    let small = H_TABLE0;
    let large = H_TABLE1;
    if (this.headerWord(H_SIZE_LOG0) > this.headerWord(H_SIZE_LOG1)) [small, large] = [large, small];
    const smallMask = (1 << this.headerWord(small === H_TABLE0 ? H_SIZE_LOG0 : H_SIZE_LOG1)) - 1;
    const largeMask = (1 << this.headerWord(large === H_TABLE0 ? H_SIZE_LOG0 : H_SIZE_LOG1)) - 1;
    emit(this.headerWord(small), v & smallMask);
    // Then every bucket of the larger table that expands the smaller table's bucket.
    do {
      emit(this.headerWord(large), v & largeMask);
      v |= ~largeMask;
      v = nextReversedCursor(v);
    } while (v & (smallMask ^ largeMask));
    return v >>> 0;
  }

  /**
   * Moves the header and tables where `relocate` (handle, size → handle) says, for a dictionary only its
   * owner's root names (a collection's): returns the header's handle afterwards, which the root stores.
   * This view is stale after a move; make a new one from the returned header.
   */
  defragHeaderAndTables(relocate: (handle: number, size: number) => number): number {
    for (const [field, sizeField] of [[H_TABLE0, H_SIZE_LOG0], [H_TABLE1, H_SIZE_LOG1]] as const) {
      const table = this.headerWord(field);
      if (table === 0) continue;
      const moved = relocate(table, 4 << this.headerWord(sizeField));
      if (moved !== table) this.setHeader(field, moved);
    }
    return relocate(this.header, HEADER_BYTES);
  }

  /** Calls `visit` for every entry, in no particular order (tests, snapshot walks, FLUSHDB). */
  forEach(visit: (entry: number) => void): void {
    this.forEachWhile((entry) => {
      visit(entry);
      return true;
    });
  }

  /**
   * Every entry's handle. Links are followed with peekWord, so over a snapshot (SnapshotPages) the walk
   * fetches the tables but no entry's page: entries lie on unrelated pages in hash order.
   */
  entries(): Uint32Array {
    this.arena.beforeRead(this.header, 0, HEADER_BYTES);
    const entries = new Uint32Array(this.size);
    let count = 0;
    const tables = this.rehashing ? 2 : 1;
    for (let t = 0; t < tables; t++) {
      const table = this.headerWord(t === 0 ? H_TABLE0 : H_TABLE1);
      const size = 1 << this.headerWord(t === 0 ? H_SIZE_LOG0 : H_SIZE_LOG1);
      this.arena.beforeRead(table, 0, size * 4);
      const buckets = this.arena.u32[segmentOf(table)];
      const first = byteOffsetOf(table) >>> 2;
      for (let bucket = 0; bucket < size; bucket++) {
        for (let entry = buckets[first + bucket]; entry !== 0; entry = this.arena.peekWord(entry, E_NEXT)) entries[count++] = entry;
      }
    }
    return entries.subarray(0, count);
  }

  /**
   * Calls `visit` for entries, in no particular order, while it returns true; returns false when it
   * stopped. A walk that can stop is what makes SINTERCARD … LIMIT cost the members it needs, not the
   * whole set: forEach cannot be left early. A visit may free its entry (its link is read first).
   */
  forEachWhile(visit: (entry: number) => boolean): boolean {
    this.arena.beforeRead(this.header, 0, HEADER_BYTES);
    const u32 = this.arena.u32;
    const tables = this.rehashing ? 2 : 1;
    for (let t = 0; t < tables; t++) {
      const table = this.headerWord(t === 0 ? H_TABLE0 : H_TABLE1);
      const size = 1 << this.headerWord(t === 0 ? H_SIZE_LOG0 : H_SIZE_LOG1);
      this.arena.beforeRead(table, 0, size * 4);
      const buckets = u32[segmentOf(table)];
      const first = byteOffsetOf(table) >>> 2;
      for (let bucket = 0; bucket < size; bucket++) {
        for (let entry = buckets[first + bucket]; entry !== 0; ) {
          this.arena.beforeRead(entry, 0, ENTRY_HEADER_BYTES);
          const next = u32[segmentOf(entry)][(byteOffsetOf(entry) >>> 2) + E_NEXT];
          if (!visit(entry)) return false;
          entry = next;
        }
      }
    }
    return true;
  }

  /**
   * Visits entries bucket by bucket from `position` (table 0's buckets, then table 1's) until `budget`
   * buckets and entries have been passed; returns the position to resume from, or -1 once every bucket
   * is done. A visit may free its entry (its link is read first). Resuming is only valid while nothing
   * else changes the dictionary: it serves walks over a dictionary no one else can reach any more
   * (background freeing, lazy-free.ts).
   */
  visitBuckets(position: number, budget: number, visit: (entry: number) => void): number {
    const u32 = this.arena.u32;
    const size0 = 1 << this.headerWord(H_SIZE_LOG0);
    const end = this.rehashing ? size0 + (1 << this.headerWord(H_SIZE_LOG1)) : size0;
    const table0 = this.headerWord(H_TABLE0);
    const table1 = this.headerWord(H_TABLE1);
    let spent = 0;
    for (; position < end; position++) {
      if (spent >= budget) return position;
      const table = position < size0 ? table0 : table1;
      const bucket = position < size0 ? position : position - size0;
      let entry = u32[segmentOf(table)][(byteOffsetOf(table) >>> 2) + bucket];
      spent++;
      while (entry !== 0) {
        const next = u32[segmentOf(entry)][(byteOffsetOf(entry) >>> 2) + E_NEXT];
        visit(entry);
        entry = next;
        spent++;
      }
    }
    return -1;
  }

  /**
   * A random entry, or 0 when empty: from a random bucket, the first non-empty bucket at or after it,
   * then a random entry of its chain. Hot path for eviction sampling: scanning on from one random
   * position reads neighbouring words instead of drawing again per empty bucket, which matters in a
   * table made sparse by deletions that has not shrunk yet. Keys after a run of empty buckets are a
   * little likelier; that favours no age of key, which is all sampling for eviction needs. (Redis's
   * dictGetFairRandomKey does better on long chains by sampling; chains here stay short.)
   */
  randomEntry(random: () => number): number {
    const size = this.size;
    if (size === 0) return 0;
    const u32 = this.arena.u32;
    const useTable1 = this.rehashing && random() < this.headerWord(H_USED1) / size;
    const table = this.headerWord(useTable1 ? H_TABLE1 : H_TABLE0);
    const mask = (1 << this.headerWord(useTable1 ? H_SIZE_LOG1 : H_SIZE_LOG0)) - 1;
    const words = u32[segmentOf(table)];
    const base = byteOffsetOf(table) >>> 2;
    let bucket = Math.floor(random() * (mask + 1));
    // Table 0 buckets below the rehash index are empty while rehashing; the other table holds entries then.
    for (let probed = 0; words[base + bucket] === 0; probed++) {
      if (probed > mask) return this.randomEntry(random);
      bucket = (bucket + 1) & mask;
    }
    let entry = words[base + bucket];
    let length = 0;
    for (let e = entry; e !== 0; e = u32[segmentOf(e)][(byteOffsetOf(e) >>> 2) + E_NEXT]) length++;
    for (let skip = Math.floor(random() * length); skip > 0; skip--) entry = u32[segmentOf(entry)][(byteOffsetOf(entry) >>> 2) + E_NEXT];
    return entry;
  }

  /** Bytes the arena handed out for this dictionary's own header and tables (not its entries). */
  allocatedBytes(): number {
    const arena = this.arena;
    arena.beforeRead(this.header, 0, HEADER_BYTES);
    const tables = arena.usableSize(4 << this.headerWord(H_SIZE_LOG0)) + (this.rehashing ? arena.usableSize(4 << this.headerWord(H_SIZE_LOG1)) : 0);
    return arena.usableSize(HEADER_BYTES) + tables;
  }

  /** Frees the tables and the header; the caller has freed (or still owns) the entries. */
  destroy(): void {
    if (this.rehashing) this.arena.free(this.headerWord(H_TABLE1), 4 << this.headerWord(H_SIZE_LOG1));
    this.arena.free(this.headerWord(H_TABLE0), 4 << this.headerWord(H_SIZE_LOG0));
    this.arena.free(this.header, HEADER_BYTES);
  }
}

/** Increments the reversed bits of `v` (Redis's scan cursor arithmetic). */
function nextReversedCursor(v: number): number {
  let r = reverseBits(v >>> 0);
  r = (r + 1) >>> 0;
  return reverseBits(r);
}

function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
}
