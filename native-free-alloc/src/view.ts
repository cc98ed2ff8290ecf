/**
 * What every thread that holds an arena's buffers can do: turn handles into typed-array positions, read
 * statistics consistently, walk page occupancy, and read a snapshot's point-in-time bytes. The owner
 * (Arena) and attached readers (ArenaReader) both extend this; only the owner writes metadata.
 *
 * Hot path: `u8[segmentOf(h)]` and `byteOffsetOf(h)` are two shifts and an array load, with no object
 * created per access; callers on hot paths inline them.
 */
import {
  controlViews,
  readStatsBlock,
  statsBlockLength,
  type ControlViews,
} from './control.js';
import { AllocatorError } from './errors.js';
import {
  D_COW_COPY,
  D_COW_EPOCH,
  D_LIVE_SLOTS,
  D_PAGE_LIVE,
  D_SPAN,
  D_STATE,
  DESCRIPTOR_WORDS,
  HEADER_WORDS,
  H_DATA_PAGES,
  H_FIRST_DATA_PAGE,
  PAGE_SHIFT,
  PAGE_SIZE,
  PAGES_PER_SEGMENT,
  PageKind,
  SegmentKind,
  byteOffsetOf,
  segmentOf,
} from './layout.js';
import { CLASS_SIZES, CLASS_SLOTS } from './size-classes.js';
import { statsFromBlock, type ArenaStats } from './stats.js';

/** What a reader needs to know of a segment besides its buffer. */
export interface SegmentInfo {
  index: number;
  buffer: SharedArrayBuffer;
  kind: SegmentKind;
  /** Int32 word where the segment's header starts (0 for regular segments, after the data otherwise). */
  metaWord: number;
}

export interface PageOccupancy {
  segment: number;
  page: number;
  kind: PageKind;
  /** Slot size for slab pages, run or object size in pages × 4 KiB for runs and dedicated segments. */
  slotSize: number;
  /** Live slots overlapping this page (slabs), or 1 for a run or dedicated page. */
  live: number;
  /** Slots that could overlap this page at most. */
  capacity: number;
}

/**
 * Views with an explicit length. A view made without one over a growable SharedArrayBuffer tracks the
 * buffer's length, and V8 (Node 20) takes a slow path for every element access of such a view: measured
 * 13.7 ns per byte written against 0.97 for a fixed-length view of the same buffer.
 */
export function fixedBytes(buffer: SharedArrayBuffer): Uint8Array {
  return new Uint8Array(buffer, 0, buffer.byteLength);
}
export function fixedWords(buffer: SharedArrayBuffer): Int32Array {
  return new Int32Array(buffer, 0, buffer.byteLength >>> 2);
}

/**
 * How many of a slab's slots overlap its page `within` (0 for the head page): slots straddle page
 * boundaries, so a middle page of a multi-page slab can touch more than slots / pages of them.
 */
function slotsOverlapping(within: number, slotSize: number, slots: number): number {
  const first = Math.floor((within * PAGE_SIZE) / slotSize);
  const last = Math.min(slots - 1, Math.floor(((within + 1) * PAGE_SIZE - 1) / slotSize));
  return Math.max(0, last - first + 1);
}

export abstract class ArenaView {
  readonly control: SharedArrayBuffer;
  protected readonly controlViews: ControlViews;
  /** Byte view of each segment by index; undefined where no segment lives. */
  readonly u8: Uint8Array[] = [];
  /**
   * Unsigned 32-bit view of each segment, for structures built on the arena: every allocation is 8-byte
   * aligned, so word fields at multiples of 4 from its start read as `u32[segment][(offset + field) >>> 2]`.
   */
  readonly u32: Uint32Array[] = [];
  /** Int32 view of each segment by index, for metadata. */
  protected readonly i32: Int32Array[] = [];
  protected readonly kinds: SegmentKind[] = [];
  protected readonly metaWords: number[] = [];
  private readonly statsScratch = new Float64Array(statsBlockLength());

  protected constructor(control: SharedArrayBuffer) {
    this.control = control;
    this.controlViews = controlViews(control);
  }

  protected installSegment(info: SegmentInfo): void {
    this.u8[info.index] = fixedBytes(info.buffer);
    this.u32[info.index] = new Uint32Array(info.buffer, 0, info.buffer.byteLength >>> 2);
    this.i32[info.index] = fixedWords(info.buffer);
    this.kinds[info.index] = info.kind;
    this.metaWords[info.index] = info.metaWord;
  }

  protected removeSegment(index: number): void {
    this.u8[index] = undefined as unknown as Uint8Array;
    this.u32[index] = undefined as unknown as Uint32Array;
    this.i32[index] = undefined as unknown as Int32Array;
    this.kinds[index] = undefined as unknown as SegmentKind;
    this.metaWords[index] = 0;
  }

  /** Every segment this view holds, for scans (invariant checks, page maps). */
  segmentTable(): { index: number; kind: SegmentKind; metaWord: number; meta: Int32Array; byteLength: number }[] {
    const table = [];
    for (let index = 1; index < this.u8.length; index++) {
      const meta = this.i32[index];
      if (meta !== undefined) {
        table.push({ index, kind: this.kinds[index], metaWord: this.metaWords[index], meta, byteLength: meta.byteLength });
      }
    }
    return table;
  }

  /** Checks of state only the owner holds; checkArena() calls it after the shared checks. */
  checkOwnerState(): void {}

  /** Called when a handle names a segment this view does not hold; readers fetch announcements here. */
  protected abstract missingSegment(index: number): void;

  protected segmentBytes(index: number): Uint8Array {
    let u8 = this.u8[index];
    if (u8 === undefined) {
      this.missingSegment(index);
      u8 = this.u8[index];
      if (u8 === undefined) throw new AllocatorError('EINVALID', `segment ${index} does not exist`);
    }
    return u8;
  }

  /**
   * The read notification point, beforeWrite's twin for views whose memory is fetched on demand
   * (SnapshotPages): code that walks a structure calls it before reading bytes [start, start+length)
   * of an allocation. This view's memory is always there, so it does nothing.
   */
  beforeRead(_handle: number, _start: number, _length: number): void {}

  /**
   * Word `field` of the allocation at `handle`, for walks that only follow a link through an allocation
   * (SnapshotPages reads it without fetching the page).
   */
  peekWord(handle: number, field: number): number {
    return this.u32[segmentOf(handle)][(byteOffsetOf(handle) >>> 2) + field];
  }

  /** The byte length of segment `index`. */
  segmentLength(index: number): number {
    return this.segmentBytes(index).length;
  }

  /** A view of `length` bytes of the allocation at `handle`, starting `start` bytes in. No copy. */
  bytes(handle: number, length: number, start = 0): Uint8Array {
    const u8 = this.segmentBytes(segmentOf(handle));
    const begin = byteOffsetOf(handle) + start;
    return u8.subarray(begin, begin + length);
  }

  /** All counters, read consistently under the stats sequence lock. */
  stats(): ArenaStats {
    return statsFromBlock(readStatsBlock(this.controlViews, this.statsScratch));
  }

  /**
   * Copies `length` bytes of the allocation at `handle` (from `start`) as they were when snapshot `epoch`
   * began, into `into` at `intoOffset`. Safe while the owner keeps writing: a page the owner has copied
   * aside is read from the copy, and a page read live is re-checked afterwards (a sequence-lock read), so
   * a copy made while we were reading is noticed and the page read again from the copy.
   */
  readSnapshot(epoch: number, handle: number, start: number, length: number, into: Uint8Array, intoOffset = 0): void {
    const segment = segmentOf(handle);
    let position = byteOffsetOf(handle) + start;
    let remaining = length;
    let out = intoOffset;
    const live = this.segmentBytes(segment);
    const meta = this.i32[segment];
    const descriptors = this.metaWords[segment] + HEADER_WORDS;
    while (remaining > 0) {
      const page = position >>> PAGE_SHIFT;
      const inPage = position & (PAGE_SIZE - 1);
      const n = Math.min(remaining, PAGE_SIZE - inPage);
      const d = descriptors + page * DESCRIPTOR_WORDS;
      if (Atomics.load(meta, d + D_COW_EPOCH) === epoch) {
        this.copyFromCopy(Atomics.load(meta, d + D_COW_COPY), inPage, n, into, out);
      } else {
        into.set(live.subarray(position, position + n), out);
        if (Atomics.load(meta, d + D_COW_EPOCH) === epoch) {
          this.copyFromCopy(Atomics.load(meta, d + D_COW_COPY), inPage, n, into, out);
        }
      }
      position += n;
      out += n;
      remaining -= n;
    }
  }

  private copyFromCopy(copyPage: number, inPage: number, n: number, into: Uint8Array, out: number): void {
    const bytes = this.segmentBytes(Math.floor(copyPage / PAGES_PER_SEGMENT));
    const begin = (copyPage % PAGES_PER_SEGMENT) * PAGE_SIZE + inPage;
    into.set(bytes.subarray(begin, begin + n), out);
  }

  /**
   * Occupancy of every data page, for defragmentation choices and page maps. Read without locking: from a
   * non-owner thread it is a close, not an exact, picture of a heap that keeps changing.
   */
  *pages(): Generator<PageOccupancy> {
    for (let segment = 1; segment < this.u8.length; segment++) {
      const meta = this.i32[segment];
      const kind = this.kinds[segment];
      if (meta === undefined || kind === SegmentKind.Copy) continue;
      const header = this.metaWords[segment];
      const first = meta[header + H_FIRST_DATA_PAGE];
      const end = first + meta[header + H_DATA_PAGES];
      for (let page = first; page < end; page++) {
        const d = header + HEADER_WORDS + page * DESCRIPTOR_WORDS;
        const state = meta[d + D_STATE];
        const pageKind = (state & 15) as PageKind;
        const cls = (state >>> 8) & 255;
        if (pageKind === PageKind.SlabHead || pageKind === PageKind.SlabTail) {
          // A tail page's span word is its distance from the head page.
          const within = pageKind === PageKind.SlabHead ? 0 : meta[d + D_SPAN];
          yield {
            segment,
            page,
            kind: pageKind,
            slotSize: CLASS_SIZES[cls],
            live: meta[d + D_PAGE_LIVE],
            capacity: slotsOverlapping(within, CLASS_SIZES[cls], CLASS_SLOTS[cls]),
          };
        } else if (pageKind === PageKind.RunHead || pageKind === PageKind.RunTail) {
          const span = pageKind === PageKind.RunHead ? meta[d + D_SPAN] : meta[d - meta[d + D_SPAN] * DESCRIPTOR_WORDS + D_SPAN];
          yield { segment, page, kind: pageKind, slotSize: span * PAGE_SIZE, live: 1, capacity: 1 };
        } else {
          yield { segment, page, kind: pageKind, slotSize: 0, live: 0, capacity: 0 };
        }
      }
    }
  }

  /** Live slots and capacity of the slab holding `handle`, or undefined for runs and dedicated segments. */
  slabOccupancy(handle: number): { live: number; capacity: number; slotSize: number } | undefined {
    const segment = segmentOf(handle);
    const meta = this.i32[segment];
    if (meta === undefined || this.kinds[segment] !== SegmentKind.Regular) return undefined;
    const d = HEADER_WORDS + (byteOffsetOf(handle) >>> PAGE_SHIFT) * DESCRIPTOR_WORDS;
    const state = meta[d + D_STATE];
    const kind = state & 15;
    if (kind !== PageKind.SlabHead && kind !== PageKind.SlabTail) return undefined;
    const head = kind === PageKind.SlabHead ? d : d - meta[d + D_SPAN] * DESCRIPTOR_WORDS;
    const cls = (state >>> 8) & 255;
    return { live: meta[head + D_LIVE_SLOTS], capacity: CLASS_SLOTS[cls], slotSize: CLASS_SIZES[cls] };
  }
}
