/**
 * The owner side of an arena: the one thread that allocates, frees, moves allocations and runs
 * copy-on-write snapshot epochs. Any number of other threads attach as readers (see reader.ts).
 *
 * Allocation paths, by size:
 * - up to 16 KiB: a slot in a slab of the request's size class. Each class fills its lowest-addressed
 *   slab that has a free slot (as jemalloc does), so live data drifts towards low segments and high ones
 *   empty out, which is what lets defragmentation give whole segments back. The partial slabs of a class
 *   are found through a two-level bitmap: segments that have one (owner-side), then head pages within the
 *   segment (in its metadata). A slot is found with one `clz32` over the first non-full word of the
 *   slab's bitmap. All of this lives in metadata pages, so neither allocating nor freeing writes to a
 *   data page: a snapshot in progress never needs a page copied because of allocator bookkeeping.
 * - up to 64 pages: a run of contiguous free pages in a regular segment, first fit over segments in index
 *   order, so low segments fill up and high ones tend to empty and be released.
 * - beyond: a dedicated segment sized to the object, unmapped as soon as it is freed.
 *
 * Frees are sized (`free(handle, size)`, like C++'s sized delete and mimalloc's `mi_free_size`): the
 * caller always knows how big its object is, and passing it lets the requested-bytes counter stay exact
 * without storing a size per slot. The size is checked against the slot's class or run length, so a wrong
 * size is refused rather than silently corrupting the counters.
 *
 * Invariants (checked by check.ts, in tests and when `debug` is on):
 *   liveSlots(class)      == Σ over the class's slabs of popcount(bitmap)
 *   capacitySlots(class)  == slabs(class) × slotsPerSlab(class)
 *   allocatedBytes        == Σ_class liveSlots × size + runPages × 4096 + dedicatedBytes
 *                            (dedicatedBytes counts the data pages of dedicated segments)
 *   activePages           == |{ data page : pageLive > 0 }| + runPages + dedicated data pages
 *   committedBytes        == Σ segment byteLength (regular, dedicated and copy segments)
 *   partial bits(class)   == { head pages of the class's slabs with liveSlots < slotsPerSlab }
 *   current slab(class)   == the lowest global page id among them, or -1
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  C_CURRENT_SLAB,
  C_SEGMENT_VERSION,
  C_SNAPSHOT_ACTIVE,
  C_SNAPSHOT_EPOCH,
  C_STATS_SEQ,
  CS_CAPACITY,
  CS_FIELDS,
  CS_FULL_SLABS,
  CS_LIVE,
  CS_SLABS,
  S_ACTIVE_PAGES,
  S_ALLOCATED,
  S_CLASS_BASE,
  S_COMMITTED,
  S_COW_PAGES,
  S_COW_PEAK_PAGES,
  S_DEDICATED_BYTES,
  S_LAST_COW_PAGES,
  S_LIVE_ALLOCATIONS,
  S_MOVES,
  S_PEAK_COMMITTED,
  S_REQUESTED,
  S_RUN_PAGES,
  S_SEGMENTS,
  S_SEGMENTS_RELEASED,
  S_TOTAL_ALLOCS,
  S_TOTAL_FREES,
  createControl,
} from './control.js';
import { AllocatorError } from './errors.js';
import {
  COPY_SEGMENT_PAGES,
  D_COW_COPY,
  D_COW_EPOCH,
  D_LIVE_SLOTS,
  D_PAGE_LIVE,
  D_SPAN,
  D_STATE,
  DESCRIPTOR_WORDS,
  BITMAP_WORDS_PER_PAGE,
  HEADER_WORDS,
  H_DATA_PAGES,
  H_FIRST_DATA_PAGE,
  H_FREE_DATA_PAGES,
  H_INDEX,
  H_KIND,
  H_USED_PAGE_BITS,
  MAX_SEGMENTS,
  NONE,
  PAGE_SHIFT,
  PAGE_SIZE,
  PAGES_PER_SEGMENT,
  PARTIAL_WORDS_PER_CLASS,
  PageKind,
  REGULAR_BITMAPS_OFFSET,
  REGULAR_PARTIAL_OFFSET,
  REGULAR_DATA_PAGES,
  REGULAR_METADATA_PAGES,
  SEGMENT_SIZE,
  SegmentKind,
  byteOffsetOf,
  dedicatedSegmentBytes,
  globalPageId,
  makeHandle,
  segmentOf,
} from './layout.js';
import { CLASS_SIZES, CLASS_SLAB_PAGES, CLASS_SLOTS, MAX_SMALL_SIZE, classOf, usableSize } from './size-classes.js';
import { ArenaView, fixedWords, type SegmentInfo } from './view.js';
import { statsFromBlock, type ArenaStats } from './stats.js';
import { checkArena } from './check.js';

/** Largest object placed in a page run inside a regular segment; larger ones get their own segment. */
export const MAX_RUN_PAGES = 64;
/** Calls between two publications of the stats block to readers. */
const PUBLISH_EVERY = 64;
const BITMAP_BASE_WORD = REGULAR_BITMAPS_OFFSET >>> 2;
const PARTIAL_BASE_WORD = REGULAR_PARTIAL_OFFSET >>> 2;
const PAGE_ID_SHIFT = 8; // log2(PAGES_PER_SEGMENT)

export interface ArenaOptions {
  /** Most bytes of segments the arena may hold at once; allocations beyond fail with ENOMEM. */
  memoryLimit?: number;
  /** Largest single allocation; larger requests fail with ETOOLARGE. Default 512 MiB + 64 KiB. */
  maxAllocationSize?: number;
  /**
   * Empty regular segments kept instead of released, to absorb alloc/free churn without a round trip to
   * the OS each time. The arena keeps max(retainEmptySegments, regular segments / 8). Default 2.
   */
  retainEmptySegments?: number;
  /** Check every invariant after every call (slow; for tests). */
  debug?: boolean;
}

/** A transferable description from which another thread attaches a reader (see ArenaReader.attach). */
export interface ArenaDescription {
  control: SharedArrayBuffer;
  segments: SegmentInfo[];
  /** The segment-table version the list above corresponds to. */
  version: number;
  port: MessagePort;
}

/** Messages from the owner to its readers, in the order segments come and go. */
export type SegmentMessage = { op: 'add'; segment: SegmentInfo } | { op: 'drop'; index: number };

function newSegmentBuffer(bytes: number): SharedArrayBuffer {
  // Growable on purpose: see layout.ts (V8 mmaps growable buffers, so freeing one returns its memory).
  // Every view of it must have an explicit length: see fixedBytes() in view.ts.
  return new SharedArrayBuffer(bytes, { maxByteLength: bytes });
}

export class Arena extends ArenaView {
  readonly memoryLimit: number;
  readonly maxAllocationSize: number;
  readonly retainEmptySegments: number;
  private readonly debug: boolean;
  private readonly words: Int32Array;
  /**
   * The owner's counters: a private copy of the stats block, updated with plain stores on every call.
   * publishStats() copies it into the shared block under the sequence lock every PUBLISH_EVERY calls and
   * whenever a segment comes or goes, so readers see a consistent picture at most a few calls old
   * without the owner paying two atomic stores per allocation (measured: a quarter of a small alloc+free).
   */
  private readonly st: Float64Array;
  private callsSincePublish = 0;
  private publishDue = false;
  private regularSegments = 0;
  /** Per class, one bit per segment index: the segment holds a slab of the class with a free slot. */
  private readonly partialSegments: Int32Array[] = CLASS_SIZES.map(() => new Int32Array(MAX_SEGMENTS >>> 5));
  private readonly buffers: SharedArrayBuffer[] = [];
  /** Regular segments with at least one free data page, ascending. */
  private readonly openSegments: number[] = [];
  /** Largest free run a regular segment may have (an upper bound; exact after a failed search). */
  private readonly runHint: number[] = [];
  private readonly freeIndexes: number[] = [];
  private nextIndex = 1;
  private emptySegments = 0;
  private readonly readers = new Set<MessagePort>();
  /** Snapshot epoch in which each segment was created: segments born in the current epoch need no COW. */
  private readonly bornEpoch: number[] = [];
  private snapshotActive = false;
  private epoch = 0;
  private readonly copySegments: number[] = [];
  private copyPagesUsed = COPY_SEGMENT_PAGES;
  private readonly releaseAfterSnapshot = new Set<number>();
  /** Segments from this index up are to be emptied by defragmentation (planSegmentCompaction). */
  private compactFrom = MAX_SEGMENTS;

  constructor(options: ArenaOptions = {}) {
    super(createControl());
    this.memoryLimit = options.memoryLimit ?? Number.MAX_SAFE_INTEGER;
    this.maxAllocationSize = options.maxAllocationSize ?? 512 * 1024 * 1024 + 64 * 1024;
    this.retainEmptySegments = options.retainEmptySegments ?? 2;
    this.debug = options.debug ?? false;
    this.words = this.controlViews.words;
    this.st = new Float64Array(this.controlViews.stats.length);
  }

  /** Copies the owner's counters into the shared stats block under the sequence lock. */
  publishStats(): void {
    const words = this.words;
    Atomics.store(words, C_STATS_SEQ, words[C_STATS_SEQ] + 1);
    this.controlViews.stats.set(this.st);
    Atomics.store(words, C_STATS_SEQ, words[C_STATS_SEQ] + 1);
    this.callsSincePublish = 0;
    this.publishDue = false;
  }

  /** Ends every public call that changes the heap: publishes when due, checks invariants in debug mode. */
  private endCall(): void {
    if (++this.callsSincePublish >= PUBLISH_EVERY || this.publishDue) this.publishStats();
    if (this.debug) checkArena(this);
  }

  /** Bytes allocated now, from the owner's own counter: cheaper than stats() for a check made per command. */
  get allocatedBytes(): number {
    return this.st[S_ALLOCATED];
  }

  /** The owner's counters are always current: no lock needed on its own thread. */
  override stats(): ArenaStats {
    return statsFromBlock(this.st);
  }

  // ---------------------------------------------------------------- allocation

  /** Allocates `size` bytes (0 ≤ size ≤ maxAllocationSize) and returns its handle. Contents are unspecified. */
  alloc(size: number): number {
    if (!(size >= 0 && size <= this.maxAllocationSize) || !Number.isInteger(size)) this.refuseSize(size);
    let handle: number;
    if (size <= MAX_SMALL_SIZE) handle = this.allocSmall(classOf(size));
    else {
      const pages = (size + PAGE_SIZE - 1) >>> PAGE_SHIFT;
      handle = pages <= MAX_RUN_PAGES ? this.allocRun(pages) : this.allocDedicated(pages);
    }
    const st = this.st;
    st[S_REQUESTED] += size;
    st[S_LIVE_ALLOCATIONS]++;
    st[S_TOTAL_ALLOCS]++;
    this.endCall();
    return handle;
  }

  private refuseSize(size: number): never {
    if (typeof size === 'number' && size > this.maxAllocationSize) {
      throw new AllocatorError('ETOOLARGE', `cannot allocate ${size} bytes: the limit is ${this.maxAllocationSize}`);
    }
    throw new AllocatorError('EINVALID', `allocation size must be a whole number of bytes, got ${String(size)}`);
  }

  private allocSmall(cls: number): number {
    const words = this.words;
    let slab = words[C_CURRENT_SLAB + cls];
    if (slab === NONE) slab = this.newSlab(cls);
    const segment = slab >>> PAGE_ID_SHIFT;
    const page = slab & (PAGES_PER_SEGMENT - 1);
    const meta = this.i32[segment];
    const d = HEADER_WORDS + page * DESCRIPTOR_WORDS;
    // Bits past the last slot were set when the slab was made, so the first word that is not all ones
    // always yields a valid slot: lowest clear bit = lowest set bit of ~word.
    let w = BITMAP_BASE_WORD + page * BITMAP_WORDS_PER_PAGE;
    let word = meta[w];
    while (word === -1) word = meta[++w];
    const inverse = ~word;
    const lowest = inverse & -inverse;
    meta[w] = word | lowest;
    const slot = ((w - BITMAP_BASE_WORD - page * BITMAP_WORDS_PER_PAGE) << 5) + 31 - Math.clz32(lowest);
    const size = CLASS_SIZES[cls];
    const live = ++meta[d + D_LIVE_SLOTS];
    const st = this.st;
    const cs = S_CLASS_BASE + cls * CS_FIELDS;
    st[cs + CS_LIVE]++;
    st[S_ALLOCATED] += size;
    if (live === CLASS_SLOTS[cls]) {
      this.unmarkPartial(cls, slab);
      st[cs + CS_FULL_SLABS]++;
    }
    const start = slot * size;
    this.addPageLive(meta, d, start, size, 1);
    return makeHandle(segment, (page << PAGE_SHIFT) + start);
  }

  /** Adjusts the live count of every page that bytes [start, start+size) of the slab at `d` overlap. */
  private addPageLive(meta: Int32Array, d: number, start: number, size: number, delta: 1 | -1): void {
    const first = start >>> PAGE_SHIFT;
    const last = (start + size - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last; p++) {
      const pd = d + p * DESCRIPTOR_WORDS + D_PAGE_LIVE;
      const before = meta[pd];
      meta[pd] = before + delta;
      if (delta === 1 ? before === 0 : before === 1) this.st[S_ACTIVE_PAGES] += delta;
    }
  }

  private newSlab(cls: number): number {
    const pages = CLASS_SLAB_PAGES[cls];
    const id = this.takePages(pages);
    const segment = id >>> PAGE_ID_SHIFT;
    const page = id & (PAGES_PER_SEGMENT - 1);
    const meta = this.i32[segment];
    const d = HEADER_WORDS + page * DESCRIPTOR_WORDS;
    meta[d + D_STATE] = PageKind.SlabHead | (cls << 8);
    meta[d + D_SPAN] = pages;
    meta[d + D_LIVE_SLOTS] = 0;
    for (let p = 1; p < pages; p++) {
      const t = d + p * DESCRIPTOR_WORDS;
      meta[t + D_STATE] = PageKind.SlabTail | (cls << 8);
      meta[t + D_SPAN] = p;
    }
    const bitmap = BITMAP_BASE_WORD + page * BITMAP_WORDS_PER_PAGE;
    const slots = CLASS_SLOTS[cls];
    meta.fill(0, bitmap, bitmap + pages * BITMAP_WORDS_PER_PAGE);
    meta.fill(-1, bitmap + ((slots + 31) >>> 5), bitmap + pages * BITMAP_WORDS_PER_PAGE);
    if (slots & 31) meta[bitmap + (slots >>> 5)] = -1 << (slots & 31);
    const cs = S_CLASS_BASE + cls * CS_FIELDS;
    this.st[cs + CS_SLABS]++;
    this.st[cs + CS_CAPACITY] += slots;
    this.markPartial(cls, id);
    return id;
  }

  private allocRun(pages: number): number {
    const id = this.takePages(pages);
    const segment = id >>> PAGE_ID_SHIFT;
    const page = id & (PAGES_PER_SEGMENT - 1);
    const meta = this.i32[segment];
    const d = HEADER_WORDS + page * DESCRIPTOR_WORDS;
    meta[d + D_STATE] = PageKind.RunHead;
    meta[d + D_SPAN] = pages;
    for (let p = 1; p < pages; p++) {
      meta[d + p * DESCRIPTOR_WORDS + D_STATE] = PageKind.RunTail;
      meta[d + p * DESCRIPTOR_WORDS + D_SPAN] = p;
    }
    this.st[S_RUN_PAGES] += pages;
    this.st[S_ACTIVE_PAGES] += pages;
    this.st[S_ALLOCATED] += pages << PAGE_SHIFT;
    return makeHandle(segment, page << PAGE_SHIFT);
  }

  private allocDedicated(pages: number): number {
    const bytes = dedicatedSegmentBytes(pages);
    const index = this.addSegment(SegmentKind.Dedicated, bytes, pages);
    const meta = this.i32[index];
    const d = this.metaWords[index] + HEADER_WORDS;
    meta[d + D_STATE] = PageKind.RunHead;
    meta[d + D_SPAN] = pages;
    const st = this.st;
    st[S_DEDICATED_BYTES] += pages << PAGE_SHIFT;
    st[S_ACTIVE_PAGES] += pages;
    st[S_ALLOCATED] += pages << PAGE_SHIFT;
    return makeHandle(index, 0);
  }

  // ---------------------------------------------------------------- pages and segments

  /** Takes `n` contiguous free data pages from the lowest regular segment that has them. */
  private takePages(n: number): number {
    for (const segment of this.openSegments) {
      if (this.runHint[segment] < n) continue;
      const page = this.findRun(segment, n);
      if (page >= 0) return this.markPagesUsed(segment, page, n);
    }
    const segment = this.addSegment(SegmentKind.Regular, SEGMENT_SIZE, REGULAR_DATA_PAGES);
    return this.markPagesUsed(segment, REGULAR_METADATA_PAGES, n);
  }

  /** First page of a run of `n` free pages in `segment`, or -1 (and the hint then records the largest run). */
  private findRun(segment: number, n: number): number {
    const meta = this.i32[segment];
    if (n === 1) {
      // One page (most slabs): the lowest clear bit of the first word that is not all ones.
      for (let w = 0; w < PAGES_PER_SEGMENT >>> 5; w++) {
        const word = meta[H_USED_PAGE_BITS + w];
        if (word !== -1) {
          const inverse = ~word;
          return (w << 5) + 31 - Math.clz32(inverse & -inverse);
        }
      }
      this.runHint[segment] = 0;
      return -1;
    }
    let run = 0;
    let best = 0;
    let start = 0;
    for (let page = REGULAR_METADATA_PAGES; page < PAGES_PER_SEGMENT; page++) {
      const word = meta[H_USED_PAGE_BITS + (page >>> 5)];
      if (word === -1 && (page & 31) === 0) {
        run = 0;
        page += 31;
        continue;
      }
      if (word & (1 << (page & 31))) {
        run = 0;
        continue;
      }
      if (run === 0) start = page;
      if (++run === n) return start;
      if (run > best) best = run;
    }
    this.runHint[segment] = best;
    return -1;
  }

  private markPagesUsed(segment: number, page: number, n: number): number {
    const meta = this.i32[segment];
    for (let p = page; p < page + n; p++) meta[H_USED_PAGE_BITS + (p >>> 5)] |= 1 << (p & 31);
    const before = meta[H_FREE_DATA_PAGES];
    meta[H_FREE_DATA_PAGES] = before - n;
    if (before === REGULAR_DATA_PAGES) this.emptySegments--;
    if (before === n) this.openSegments.splice(this.openSegments.indexOf(segment), 1);
    return globalPageId(segment, page);
  }

  private releasePages(segment: number, page: number, n: number): void {
    const meta = this.i32[segment];
    for (let p = page; p < page + n; p++) {
      meta[H_USED_PAGE_BITS + (p >>> 5)] &= ~(1 << (p & 31));
      const d = HEADER_WORDS + p * DESCRIPTOR_WORDS;
      // The COW words stay: a page copied in this epoch keeps pointing at its copy if it is reused.
      meta.fill(0, d, d + D_COW_EPOCH);
    }
    const free = meta[H_FREE_DATA_PAGES] + n;
    meta[H_FREE_DATA_PAGES] = free;
    this.runHint[segment] = PAGES_PER_SEGMENT;
    if (free === n) this.insertOpen(segment);
    if (free === REGULAR_DATA_PAGES) {
      this.emptySegments++;
      this.trimEmptySegments();
    }
  }

  /**
   * Releases empty regular segments, highest index first, until at most `keep` remain. The default keeps
   * max(retainEmptySegments, regular segments / 8): slack that grows with the heap, as jemalloc keeps
   * dirty pages in proportion to it, and shrinks back to the floor as the heap empties.
   */
  private trimEmptySegments(keep = -1): number {
    if (this.snapshotActive) return 0;
    let released = 0;
    const open = this.openSegments;
    for (let i = open.length - 1; i >= 0 && this.emptySegments > 0; i--) {
      const limit = keep >= 0 ? keep : Math.max(this.retainEmptySegments, this.regularSegments >>> 3);
      if (this.emptySegments <= limit) break;
      const index = open[i];
      if (this.i32[index][H_FREE_DATA_PAGES] === REGULAR_DATA_PAGES) {
        this.releaseSegment(index);
        released++;
      }
    }
    return released;
  }

  private insertOpen(segment: number): void {
    const open = this.openSegments;
    let i = open.length;
    while (i > 0 && open[i - 1] > segment) i--;
    open.splice(i, 0, segment);
  }

  private addSegment(kind: SegmentKind, bytes: number, dataPages: number): number {
    const st = this.st;
    if (st[S_COMMITTED] + bytes > this.memoryLimit) {
      throw new AllocatorError(
        'ENOMEM',
        `out of memory: ${st[S_COMMITTED]} bytes committed, ${bytes} more would pass the ${this.memoryLimit} byte limit`,
      );
    }
    const index = this.freeIndexes.length > 0 ? this.freeIndexes.pop()! : this.nextIndex++;
    if (index >= MAX_SEGMENTS) {
      this.nextIndex--;
      throw new AllocatorError('ENOMEM', `out of segment indexes (${MAX_SEGMENTS - 1} segments)`);
    }
    const buffer = newSegmentBuffer(bytes);
    const metaWord = kind === SegmentKind.Dedicated ? (dataPages << PAGE_SHIFT) >>> 2 : 0;
    const meta = fixedWords(buffer);
    meta[metaWord + H_KIND] = kind;
    meta[metaWord + H_INDEX] = index;
    meta[metaWord + H_DATA_PAGES] = dataPages;
    if (kind === SegmentKind.Regular) {
      meta[H_FIRST_DATA_PAGE] = REGULAR_METADATA_PAGES;
      meta[H_FREE_DATA_PAGES] = REGULAR_DATA_PAGES;
      for (let p = 0; p < REGULAR_METADATA_PAGES; p++) {
        meta[H_USED_PAGE_BITS + (p >>> 5)] |= 1 << (p & 31);
        meta[HEADER_WORDS + p * DESCRIPTOR_WORDS + D_STATE] = PageKind.Metadata;
      }
      this.runHint[index] = PAGES_PER_SEGMENT;
      this.emptySegments++;
      this.regularSegments++;
      this.insertOpen(index);
    }
    const info: SegmentInfo = { index, buffer, kind, metaWord };
    this.buffers[index] = buffer;
    this.installSegment(info);
    this.bornEpoch[index] = this.epoch;
    st[S_COMMITTED] += bytes;
    st[S_SEGMENTS]++;
    if (st[S_COMMITTED] > st[S_PEAK_COMMITTED]) st[S_PEAK_COMMITTED] = st[S_COMMITTED];
    this.publishDue = true;
    this.announce({ op: 'add', segment: info });
    return index;
  }

  private releaseSegment(index: number): void {
    if (this.snapshotActive) {
      // The snapshot may still read this segment's pages as they were at the epoch's start.
      this.releaseAfterSnapshot.add(index);
      return;
    }
    if (this.kinds[index] === SegmentKind.Regular) {
      this.emptySegments--;
      this.regularSegments--;
      const at = this.openSegments.indexOf(index);
      if (at >= 0) this.openSegments.splice(at, 1);
    }
    const st = this.st;
    st[S_COMMITTED] -= this.buffers[index].byteLength;
    st[S_SEGMENTS]--;
    st[S_SEGMENTS_RELEASED]++;
    this.buffers[index] = undefined as unknown as SharedArrayBuffer;
    this.removeSegment(index);
    this.freeIndexes.push(index);
    this.freeIndexes.sort((a, b) => b - a);
    this.publishDue = true;
    this.announce({ op: 'drop', index });
  }

  private announce(message: SegmentMessage): void {
    // Post before bumping the version: a reader that sees the new version finds the message already
    // queued on its port (postMessage enqueues synchronously) and can drain it at once.
    for (const port of this.readers) port.postMessage(message);
    Atomics.add(this.words, C_SEGMENT_VERSION, 1);
  }

  protected missingSegment(): void {
    // The owner creates every segment, so a handle naming an unknown one is simply invalid.
  }

  // ---------------------------------------------------------------- partial slabs, lowest first

  /** Notes that slab `id` of class `cls` has a free slot; it becomes the current slab if it is the lowest. */
  private markPartial(cls: number, id: number): void {
    const segment = id >>> PAGE_ID_SHIFT;
    const page = id & (PAGES_PER_SEGMENT - 1);
    this.i32[segment][PARTIAL_BASE_WORD + cls * PARTIAL_WORDS_PER_CLASS + (page >>> 5)] |= 1 << (page & 31);
    this.partialSegments[cls][segment >>> 5] |= 1 << (segment & 31);
    const current = this.words[C_CURRENT_SLAB + cls];
    if (current === NONE || id < current) this.words[C_CURRENT_SLAB + cls] = id;
  }

  /** Notes that slab `id` is full or gone; if it was the current slab, the next lowest takes over. */
  private unmarkPartial(cls: number, id: number): void {
    const segment = id >>> PAGE_ID_SHIFT;
    const page = id & (PAGES_PER_SEGMENT - 1);
    const meta = this.i32[segment];
    const base = PARTIAL_BASE_WORD + cls * PARTIAL_WORDS_PER_CLASS;
    meta[base + (page >>> 5)] &= ~(1 << (page & 31));
    let any = 0;
    for (let w = 0; w < PARTIAL_WORDS_PER_CLASS; w++) any |= meta[base + w];
    if (any === 0) this.partialSegments[cls][segment >>> 5] &= ~(1 << (segment & 31));
    if (this.words[C_CURRENT_SLAB + cls] === id) this.words[C_CURRENT_SLAB + cls] = this.lowestPartialFrom(cls, id);
  }

  /**
   * The lowest partial slab of the class at or after page id `from`. Nothing below `from` needs looking
   * at: the current slab is always the lowest partial one, and only it is ever searched from.
   */
  private lowestPartialFrom(cls: number, from: number): number {
    let segment = from >>> PAGE_ID_SHIFT;
    let firstBit = from & (PAGES_PER_SEGMENT - 1);
    const bySegment = this.partialSegments[cls];
    for (;;) {
      const meta = this.i32[segment];
      const base = PARTIAL_BASE_WORD + cls * PARTIAL_WORDS_PER_CLASS;
      for (let w = firstBit >>> 5; w < PARTIAL_WORDS_PER_CLASS; w++) {
        const word = meta[base + w] & (w === firstBit >>> 5 ? -1 << (firstBit & 31) : -1);
        if (word !== 0) return globalPageId(segment, (w << 5) + 31 - Math.clz32(word & -word));
      }
      segment = this.nextPartialSegment(bySegment, segment + 1);
      if (segment === NONE) return NONE;
      firstBit = 0;
    }
  }

  private nextPartialSegment(bySegment: Int32Array, from: number): number {
    // Only up to the highest index ever handed out: scanning all 32768 bits each time a class runs out
    // of partial slabs cost three quarters of a medium-size alloc/free loop.
    const end = (this.nextIndex + 31) >>> 5;
    for (let w = from >>> 5; w < end; w++) {
      const word = bySegment[w] & (w === from >>> 5 ? -1 << (from & 31) : -1);
      if (word !== 0) return (w << 5) + 31 - Math.clz32(word & -word);
    }
    return NONE;
  }

  /** Owner-side state the shared metadata cannot show: the per-class segment bits match the page bits. */
  override checkOwnerState(): void {
    for (let cls = 0; cls < CLASS_SIZES.length; cls++) {
      for (let segment = 1; segment < this.i32.length; segment++) {
        const meta = this.i32[segment];
        let any = 0;
        if (meta !== undefined && this.kinds[segment] === SegmentKind.Regular) {
          for (let w = 0; w < PARTIAL_WORDS_PER_CLASS; w++) any |= meta[PARTIAL_BASE_WORD + cls * PARTIAL_WORDS_PER_CLASS + w];
        }
        const marked = (this.partialSegments[cls][segment >>> 5] & (1 << (segment & 31))) !== 0;
        if (marked !== (any !== 0)) {
          throw new Error(`native-free-alloc invariant violated: class ${cls} segment ${segment} partial mark is ${marked}`);
        }
      }
    }
  }

  // ---------------------------------------------------------------- free

  /** Frees the allocation at `handle`, which was allocated with `size` bytes. */
  free(handle: number, size: number): void {
    const located = this.locateForFree(handle, size);
    this.freeLocated(located, handle);
    const st = this.st;
    st[S_REQUESTED] -= size;
    st[S_LIVE_ALLOCATIONS]--;
    st[S_TOTAL_FREES]++;
    this.endCall();
  }

  /**
   * Validates a handle and size before anything changes, and says where the allocation lives:
   * the descriptor word of its slab head, run head or dedicated segment.
   */
  private locateForFree(handle: number, size: number): number {
    const segment = segmentOf(handle);
    const meta = this.i32[segment];
    const kind = this.kinds[segment];
    if (!Number.isInteger(handle) || handle <= 0 || handle > 0xffffffff || meta === undefined || kind === SegmentKind.Copy) {
      throw new AllocatorError('EINVALID', `handle ${handle} does not belong to this arena`);
    }
    if (!Number.isInteger(size) || size < 0) {
      throw new AllocatorError('EINVALID', `size must be a whole number of bytes, got ${String(size)}`);
    }
    const offset = byteOffsetOf(handle);
    if (kind === SegmentKind.Dedicated) {
      const d = this.metaWords[segment] + HEADER_WORDS;
      if (offset !== 0) throw new AllocatorError('EINVALID', `handle ${handle} points inside a dedicated segment`);
      if (meta[d + D_STATE] !== PageKind.RunHead) {
        throw new AllocatorError('EDOUBLEFREE', `handle ${handle} is not allocated (freed already?)`);
      }
      const pages = meta[d + D_SPAN];
      if (size <= MAX_SMALL_SIZE || ((size + PAGE_SIZE - 1) >>> PAGE_SHIFT) !== pages) {
        throw new AllocatorError('ESIZE', `size ${size} does not match the ${pages}-page allocation at handle ${handle}`);
      }
      return d;
    }
    const page = offset >>> PAGE_SHIFT;
    const d = HEADER_WORDS + page * DESCRIPTOR_WORDS;
    const state = meta[d + D_STATE];
    const pageKind = state & 15;
    if (pageKind === PageKind.SlabHead || pageKind === PageKind.SlabTail) {
      const cls = (state >>> 8) & 255;
      const head = pageKind === PageKind.SlabHead ? page : page - meta[d + D_SPAN];
      const relative = offset - (head << PAGE_SHIFT);
      const slotSize = CLASS_SIZES[cls];
      if (relative % slotSize !== 0 || relative / slotSize >= CLASS_SLOTS[cls]) {
        throw new AllocatorError('EINVALID', `handle ${handle} is not at the start of a ${slotSize}-byte slot`);
      }
      if (size > MAX_SMALL_SIZE || classOf(size) !== cls) {
        throw new AllocatorError('ESIZE', `size ${size} does not match the ${slotSize}-byte slot at handle ${handle}`);
      }
      const slot = relative / slotSize;
      const bit = BITMAP_BASE_WORD + head * BITMAP_WORDS_PER_PAGE + (slot >>> 5);
      if ((meta[bit] & (1 << (slot & 31))) === 0) {
        throw new AllocatorError('EDOUBLEFREE', `handle ${handle} is not allocated (freed already?)`);
      }
      return HEADER_WORDS + head * DESCRIPTOR_WORDS;
    }
    if (pageKind === PageKind.RunHead && (offset & (PAGE_SIZE - 1)) === 0) {
      const pages = meta[d + D_SPAN];
      if (size <= MAX_SMALL_SIZE || ((size + PAGE_SIZE - 1) >>> PAGE_SHIFT) !== pages) {
        throw new AllocatorError('ESIZE', `size ${size} does not match the ${pages}-page run at handle ${handle}`);
      }
      return d;
    }
    if (pageKind === PageKind.Free) throw new AllocatorError('EDOUBLEFREE', `handle ${handle} is not allocated (freed already?)`);
    throw new AllocatorError('EINVALID', `handle ${handle} does not point at an allocation`);
  }

  private freeLocated(d: number, handle: number): void {
    const segment = segmentOf(handle);
    const meta = this.i32[segment];
    const st = this.st;
    if (this.kinds[segment] === SegmentKind.Dedicated) {
      const pages = meta[d + D_SPAN];
      st[S_DEDICATED_BYTES] -= pages << PAGE_SHIFT;
      st[S_ACTIVE_PAGES] -= pages;
      st[S_ALLOCATED] -= pages << PAGE_SHIFT;
      meta[d + D_STATE] = PageKind.Free;
      this.releaseSegment(segment);
      return;
    }
    const headPage = (d - HEADER_WORDS) / DESCRIPTOR_WORDS;
    const state = meta[d + D_STATE];
    if ((state & 15) === PageKind.RunHead) {
      const pages = meta[d + D_SPAN];
      st[S_RUN_PAGES] -= pages;
      st[S_ACTIVE_PAGES] -= pages;
      st[S_ALLOCATED] -= pages << PAGE_SHIFT;
      this.releasePages(segment, headPage, pages);
      return;
    }
    const cls = (state >>> 8) & 255;
    const slotSize = CLASS_SIZES[cls];
    const relative = byteOffsetOf(handle) - (headPage << PAGE_SHIFT);
    const slot = relative / slotSize;
    meta[BITMAP_BASE_WORD + headPage * BITMAP_WORDS_PER_PAGE + (slot >>> 5)] &= ~(1 << (slot & 31));
    const live = --meta[d + D_LIVE_SLOTS];
    const cs = S_CLASS_BASE + cls * CS_FIELDS;
    st[cs + CS_LIVE]--;
    st[S_ALLOCATED] -= slotSize;
    this.addPageLive(meta, d, relative, slotSize, -1);
    const id = globalPageId(segment, headPage);
    if (live === CLASS_SLOTS[cls] - 1) {
      st[cs + CS_FULL_SLABS]--;
      this.markPartial(cls, id);
    }
    if (live === 0) {
      // An empty slab gives its pages back at once, so that freeing everything empties whole segments.
      // Re-making one later costs a bitmap fill and a short page search.
      this.unmarkPartial(cls, id);
      st[cs + CS_SLABS]--;
      st[cs + CS_CAPACITY] -= CLASS_SLOTS[cls];
      this.releasePages(segment, headPage, CLASS_SLAB_PAGES[cls]);
    }
  }

  // ---------------------------------------------------------------- realloc and move

  /** The usable size of an allocation made with `size` bytes: its slot, run or segment size. */
  usableSize(size: number): number {
    return usableSize(size);
  }

  /**
   * Resizes an allocation made with `oldSize` bytes to `newSize`, keeping min(oldSize, newSize) bytes.
   * Returns the same handle when the allocation's slot or run still fits exactly, a new one otherwise.
   */
  realloc(handle: number, oldSize: number, newSize: number): number {
    this.locateForFree(handle, oldSize);
    if (!(newSize >= 0 && newSize <= this.maxAllocationSize) || !Number.isInteger(newSize)) this.refuseSize(newSize);
    if (this.sameBlock(oldSize, newSize)) {
      this.st[S_REQUESTED] += newSize - oldSize;
      this.endCall();
      return handle;
    }
    return this.relocate(handle, oldSize, newSize);
  }

  private sameBlock(a: number, b: number): boolean {
    if (a <= MAX_SMALL_SIZE || b <= MAX_SMALL_SIZE) return a <= MAX_SMALL_SIZE && b <= MAX_SMALL_SIZE && classOf(a) === classOf(b);
    return (a + PAGE_SIZE - 1) >>> PAGE_SHIFT === (b + PAGE_SIZE - 1) >>> PAGE_SHIFT;
  }

  private relocate(handle: number, oldSize: number, newSize: number): number {
    const fresh = this.alloc(newSize);
    const keep = Math.min(oldSize, newSize);
    this.beforeWrite(fresh, 0, keep);
    const from = byteOffsetOf(handle);
    this.u8[segmentOf(fresh)].set(this.u8[segmentOf(handle)].subarray(from, from + keep), byteOffsetOf(fresh));
    this.free(handle, oldSize);
    return fresh;
  }

  /**
   * Whether moving this allocation helps give memory back. Two rules:
   * - Redis's slab rule: its slab is not the one being filled and is no fuller than the class's average
   *   non-full slab plus 12.5%, so moving empties sparse slabs into dense ones.
   * - A segment rule, because only whole segments go back to the OS: it sits in a sparse segment (at most
   *   1/8 of its data pages in use) or in one that planSegmentCompaction() marked to empty, and its new
   *   home would be in a lower segment, so the segment empties.
   * Dedicated segments are never hinted: each already holds exactly one allocation.
   */
  defragHint(handle: number): boolean {
    const segment = segmentOf(handle);
    if (this.kinds[segment] !== SegmentKind.Regular) return false;
    const meta = this.i32[segment];
    const page = byteOffsetOf(handle) >>> PAGE_SHIFT;
    const d = HEADER_WORDS + page * DESCRIPTOR_WORDS;
    const state = meta[d + D_STATE];
    const kind = state & 15;
    const sparseSegment = segment >= this.compactFrom || (REGULAR_DATA_PAGES - meta[H_FREE_DATA_PAGES]) * 8 <= REGULAR_DATA_PAGES;
    if (kind === PageKind.RunHead) return sparseSegment && this.runFitsBelow(meta[d + D_SPAN], segment);
    if (kind !== PageKind.SlabHead && kind !== PageKind.SlabTail) return false;
    const headPage = kind === PageKind.SlabHead ? page : page - meta[d + D_SPAN];
    const cls = (state >>> 8) & 255;
    if (sparseSegment && this.slabHomeBelow(cls, segment) !== NONE) return true;
    const current = this.words[C_CURRENT_SLAB + cls];
    if (current === globalPageId(segment, headPage)) return false;
    const live = meta[HEADER_WORDS + headPage * DESCRIPTOR_WORDS + D_LIVE_SLOTS];
    const slots = CLASS_SLOTS[cls];
    if (live === slots) return false;
    const cs = S_CLASS_BASE + cls * CS_FIELDS;
    const st = this.st;
    const partialSlabs = st[cs + CS_SLABS] - st[cs + CS_FULL_SLABS];
    const liveInPartial = st[cs + CS_LIVE] - st[cs + CS_FULL_SLABS] * slots;
    // live / slots <= average + 1/8, in integers: live * partialSlabs * 8 <= liveInPartial * 8 + slots * partialSlabs
    return live * partialSlabs * 8 <= liveInPartial * 8 + slots * partialSlabs;
  }

  /**
   * Where a slot of class `cls` moved out of `segment` would go, if that is lower: the current slab's
   * segment, or else the lowest segment with room for a fresh slab. -1 when neither is lower.
   */
  private slabHomeBelow(cls: number, segment: number): number {
    const current = this.words[C_CURRENT_SLAB + cls];
    if (current !== NONE && current >>> PAGE_ID_SHIFT < segment) return current >>> PAGE_ID_SHIFT;
    const fresh = this.lowestSegmentWithPages(CLASS_SLAB_PAGES[cls]);
    return fresh !== NONE && fresh < segment ? fresh : NONE;
  }

  /** The lowest regular segment where takePages(n) would succeed, or -1. */
  private lowestSegmentWithPages(n: number): number {
    for (const segment of this.openSegments) {
      if (this.runHint[segment] >= n && this.findRun(segment, n) >= 0) return segment;
    }
    return NONE;
  }

  private runFitsBelow(pages: number, segment: number): boolean {
    const home = this.lowestSegmentWithPages(pages);
    return home !== NONE && home < segment;
  }

  /** Moves an allocation of `size` bytes to a new address (for defragmentation) and returns the new handle. */
  move(handle: number, size: number): number {
    this.locateForFree(handle, size);
    const segment = segmentOf(handle);
    if (size <= MAX_SMALL_SIZE && this.kinds[segment] === SegmentKind.Regular) {
      const cls = classOf(size);
      const current = this.words[C_CURRENT_SLAB + cls];
      const home = this.slabHomeBelow(cls, segment);
      // The current slab is no lower than the allocation, but a lower segment has room: a fresh slab
      // there becomes the current one (it is the lowest), so the move really goes down.
      if (home !== NONE && (current === NONE || current >>> PAGE_ID_SHIFT !== home)) this.newSlab(cls);
    }
    const fresh = this.relocate(handle, size, size);
    this.st[S_MOVES]++;
    return fresh;
  }

  // ---------------------------------------------------------------- snapshots (copy on write)

  /**
   * Starts a snapshot epoch in O(1): nothing is copied now. From here until endSnapshot(), the first
   * write to any page that existed at this instant copies that page aside (see beforeWrite), and
   * readSnapshot() on any thread returns bytes as they were now. Returns the epoch number.
   */
  beginSnapshot(): number {
    if (this.snapshotActive) throw new AllocatorError('ESTATE', 'a snapshot is already in progress');
    this.epoch++;
    this.snapshotActive = true;
    this.st[S_COW_PEAK_PAGES] = 0;
    Atomics.store(this.words, C_SNAPSHOT_EPOCH, this.epoch);
    Atomics.store(this.words, C_SNAPSHOT_ACTIVE, 1);
    return this.epoch;
  }

  /** Whether a snapshot epoch is open (between beginSnapshot and endSnapshot). */
  get snapshotInProgress(): boolean {
    return this.snapshotActive;
  }

  /**
   * The write notification point: call before modifying bytes [start, start+length) of an allocation.
   * Outside a snapshot it costs one branch. During one, each page of the range that existed when the
   * snapshot began and has not been copied in this epoch is copied aside first.
   */
  beforeWrite(handle: number, start: number, length: number): void {
    if (!this.snapshotActive || length <= 0) return;
    const segment = segmentOf(handle);
    if (this.bornEpoch[segment] === this.epoch) return;
    const position = byteOffsetOf(handle) + start;
    const last = (position + length - 1) >>> PAGE_SHIFT;
    for (let page = position >>> PAGE_SHIFT; page <= last; page++) this.copyPageAside(segment, page);
    if (this.publishDue) this.publishStats();
  }

  private copyPageAside(segment: number, page: number): void {
    const meta = this.i32[segment];
    const d = this.metaWords[segment] + HEADER_WORDS + page * DESCRIPTOR_WORDS;
    if (meta[d + D_COW_EPOCH] === this.epoch) return;
    if (this.copyPagesUsed === COPY_SEGMENT_PAGES) {
      const index = this.addSegment(SegmentKind.Copy, COPY_SEGMENT_PAGES << PAGE_SHIFT, COPY_SEGMENT_PAGES);
      this.copySegments.push(index);
      this.copyPagesUsed = 0;
    }
    const copySegment = this.copySegments[this.copySegments.length - 1];
    const copyPage = this.copyPagesUsed++;
    const from = page << PAGE_SHIFT;
    this.u8[copySegment].set(this.u8[segment].subarray(from, from + PAGE_SIZE), copyPage << PAGE_SHIFT);
    // Publish the copy before the epoch mark: a reader that sees the mark must find the copy complete.
    Atomics.store(meta, d + D_COW_COPY, globalPageId(copySegment, copyPage));
    Atomics.store(meta, d + D_COW_EPOCH, this.epoch);
    const st = this.st;
    st[S_COW_PAGES]++;
    if (st[S_COW_PAGES] > st[S_COW_PEAK_PAGES]) st[S_COW_PEAK_PAGES] = st[S_COW_PAGES];
    this.publishDue = true;
  }

  /** Ends the snapshot: page copies are dropped and segments that emptied meanwhile are released. */
  endSnapshot(): void {
    if (!this.snapshotActive) throw new AllocatorError('ESTATE', 'no snapshot is in progress');
    this.snapshotActive = false;
    Atomics.store(this.words, C_SNAPSHOT_ACTIVE, 0);
    const st = this.st;
    st[S_LAST_COW_PAGES] = st[S_COW_PAGES];
    st[S_COW_PAGES] = 0;
    for (const index of this.copySegments) this.releaseSegment(index);
    this.copySegments.length = 0;
    this.copyPagesUsed = COPY_SEGMENT_PAGES;
    for (const index of this.releaseAfterSnapshot) {
      const stillEmpty =
        this.kinds[index] === SegmentKind.Dedicated || this.i32[index][H_FREE_DATA_PAGES] === REGULAR_DATA_PAGES;
      if (this.buffers[index] !== undefined && stillEmpty) this.releaseSegment(index);
    }
    this.releaseAfterSnapshot.clear();
    this.trimEmptySegments();
    this.publishStats();
  }

  // ---------------------------------------------------------------- readers and housekeeping

  /**
   * A description another thread can attach a reader from. Send it with postMessage, passing
   * `transferList` so the reader's port moves with it. `forget` stops announcing segments to that reader.
   */
  describe(): { description: ArenaDescription; transferList: MessagePort[]; forget: () => void } {
    const { port1, port2 } = new MessageChannel();
    port1.on('close', () => this.readers.delete(port1));
    port1.unref();
    this.readers.add(port1);
    const segments: SegmentInfo[] = [];
    for (let index = 1; index < this.buffers.length; index++) {
      const buffer = this.buffers[index];
      if (buffer !== undefined) {
        segments.push({ index, buffer, kind: this.kinds[index], metaWord: this.metaWords[index] });
      }
    }
    this.publishStats();
    const version = Atomics.load(this.words, C_SEGMENT_VERSION);
    // forget() serves owners whose event loop never runs (a shard's), where the close event would not come.
    const forget = () => {
      this.readers.delete(port1);
      port1.close();
    };
    return { description: { control: this.control, segments, version, port: port2 }, transferList: [port2], forget };
  }

  /**
   * Free data pages inside regular segments that hold data: memory the OS cannot have back until those
   * segments empty, which only moving their allocations achieves (retained empty segments not counted).
   */
  freePagesInUsedSegments(): number {
    let pages = 0;
    for (const segment of this.openSegments) {
      const free = this.i32[segment][H_FREE_DATA_PAGES];
      if (free < REGULAR_DATA_PAGES) pages += free;
    }
    return pages;
  }

  /**
   * Plans compaction for defragmentation: finds the lowest regular segment from which the data pages in
   * use, there and in every higher segment, would fit in the free data pages of the lower ones (empty
   * segments left out), so that moving their allocations down empties all of them. defragHint picks
   * allocations in those segments from now on (until the next plan). Returns how many segments that is.
   */
  planSegmentCompaction(): number {
    const used: number[] = [];
    let freeBelow = 0;
    for (let index = 1; index < this.buffers.length; index++) {
      if (this.buffers[index] === undefined || this.kinds[index] !== SegmentKind.Regular) continue;
      const free = this.i32[index][H_FREE_DATA_PAGES];
      if (free === REGULAR_DATA_PAGES) continue;
      used.push(index);
      freeBelow += free;
    }
    let usedAbove = 0;
    let planned = 0;
    this.compactFrom = MAX_SEGMENTS;
    // The lowest segment in use stays whatever happens: it is where everything goes.
    for (let i = used.length - 1; i > 0; i--) {
      const free = this.i32[used[i]][H_FREE_DATA_PAGES];
      usedAbove += REGULAR_DATA_PAGES - free;
      freeBelow -= free;
      if (usedAbove > freeBelow) break;
      this.compactFrom = used[i];
      planned++;
    }
    return planned;
  }

  /** Releases every empty regular segment now, whatever retainEmptySegments says (MEMORY PURGE). */
  purge(): number {
    const released = this.trimEmptySegments(0);
    this.publishStats();
    return released;
  }

  /** Closes every reader port. Readers keep the segments they hold until they drop them. */
  close(): void {
    for (const port of this.readers) port.close();
    this.readers.clear();
  }
}
