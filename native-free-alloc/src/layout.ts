/**
 * Glossary and memory layout of native-free-alloc.
 *
 * - **arena**: everything one owner thread allocates from. It has one *control* buffer (stats, class lists,
 *   the segment generation table, snapshot state) and any number of segments.
 * - **segment**: one growable SharedArrayBuffer. A *regular* segment is 1 MiB: a few metadata pages
 *   followed by data pages. A *dedicated* segment holds one huge allocation: its data starts at byte 0 and
 *   its (smaller) metadata follows the data. A *copy* segment holds copy-on-write page copies for a
 *   snapshot in progress.
 * - **page**: 4 KiB of a segment. Each page has a 32-byte descriptor in the segment's metadata.
 * - **slab**: a run of 1..16 pages carved into equal slots of one size class (small objects, up to 16 KiB).
 * - **run**: a run of pages holding one large object (16 KiB .. ~1 MiB).
 * - **handle**: a 32-bit address, `segmentIndex << 17 | byteOffset >>> 3`. 0 is the null handle
 *   (segment index 0 is never used), so handles can be stored in zeroed shared memory and in each other.
 *
 * Why these numbers:
 * - 4 KiB pages match the OS page, so "pages written during a snapshot" is the same unit the kernel would
 *   copy after a fork, and COW figures compare with Redis's.
 * - 1 MiB segments: small enough that a sparse heap empties whole segments (the only unit that can be
 *   given back to the OS from JavaScript), large enough that a 32-bit handle with 8-byte granules still
 *   addresses 32767 segments (32 GiB) per arena.
 * - Segments are *growable* SharedArrayBuffers because V8 backs those with their own mmap reservation,
 *   which is unmapped when the buffer is collected. A plain SharedArrayBuffer of a few MiB comes from
 *   calloc, and after the first free glibc raises its mmap threshold, so later segments land in the brk
 *   heap and their memory is never returned (measured: 100 × 4 MiB dropped → RSS stayed at 445 MB for
 *   plain buffers, fell to 49 MB for growable ones). The catch: a typed array over a growable buffer
 *   must be made with an explicit length, or V8 makes every element access ~14× slower (view.ts).
 * - 8-byte granules: every slot size is a multiple of 8, so Float64 and BigInt64 views of an allocation
 *   are aligned.
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const SEGMENT_SHIFT = 20;
export const SEGMENT_SIZE = 1 << SEGMENT_SHIFT;
export const PAGES_PER_SEGMENT = SEGMENT_SIZE >>> PAGE_SHIFT;
export const GRANULE_SHIFT = 3;
export const OFFSET_BITS = SEGMENT_SHIFT - GRANULE_SHIFT;
export const OFFSET_MASK = (1 << OFFSET_BITS) - 1;
export const MAX_SEGMENTS = 1 << (32 - OFFSET_BITS);

/** Handle of the first granule of `byteOffset` in `segment`. */
export function makeHandle(segment: number, byteOffset: number): number {
  return ((segment << OFFSET_BITS) | (byteOffset >>> GRANULE_SHIFT)) >>> 0;
}
export function segmentOf(handle: number): number {
  return handle >>> OFFSET_BITS;
}
export function byteOffsetOf(handle: number): number {
  return (handle & OFFSET_MASK) << GRANULE_SHIFT;
}

export const enum SegmentKind {
  Regular = 1,
  Dedicated = 2,
  Copy = 3,
}

/**
 * Segment header: 16 int32 words at the start of the metadata area.
 * Invariant (regular): freeDataPages == dataPages - popcount(usedPageBits restricted to data pages).
 */
export const HEADER_WORDS = 16;
export const H_KIND = 0;
export const H_INDEX = 1;
export const H_DATA_PAGES = 2;
export const H_FREE_DATA_PAGES = 3;
export const H_FIRST_DATA_PAGE = 4;
/** 8 words = 256 bits, one per page of a regular segment; 1 = page belongs to a slab, a run or metadata. */
export const H_USED_PAGE_BITS = 8;

/**
 * Page descriptor: 6 int32 words per page, after the header.
 * `state` packs the page kind (low 4 bits) and the size class (bits 8..15).
 * Invariant (slab head): liveSlots == popcount(slab bitmap) and 0 <= liveSlots <= slotsPerSlab(class).
 * Invariant (any slab page): pageLive == number of live slots that overlap this page.
 */
export const DESCRIPTOR_WORDS = 6;
export const D_STATE = 0;
/** Head: pages in the slab or run. Tail: distance back to the head page. */
export const D_SPAN = 1;
export const D_LIVE_SLOTS = 2;
export const D_PAGE_LIVE = 3;
/** The snapshot epoch in which this page was last copied aside (0: never). */
export const D_COW_EPOCH = 4;
/** Global page id of that copy. */
export const D_COW_COPY = 5;

export const enum PageKind {
  Free = 0,
  Metadata = 1,
  SlabHead = 2,
  SlabTail = 3,
  RunHead = 4,
  RunTail = 5,
}

/** Slab bitmaps: 64 bytes (512 bits) per page, enough for a one-page slab of 8-byte slots. */
export const BITMAP_BYTES_PER_PAGE = 64;
export const BITMAP_WORDS_PER_PAGE = BITMAP_BYTES_PER_PAGE >>> 2;

export const HEADER_BYTES = HEADER_WORDS * 4;
export const DESCRIPTOR_BYTES = DESCRIPTOR_WORDS * 4;

/** Byte offset of the descriptor array inside a segment, from its metadata base. */
export const DESCRIPTORS_OFFSET = HEADER_BYTES;

/** Size classes the metadata has room for (size-classes.ts checks that it defines no more). */
export const MAX_SIZE_CLASSES = 40;
/** Per class, one bit per page: set on the head page of each slab of that class that has a free slot. */
export const PARTIAL_WORDS_PER_CLASS = PAGES_PER_SEGMENT >>> 5;

/** Regular segment: metadata lives in the first pages, data pages follow. */
export const REGULAR_BITMAPS_OFFSET = DESCRIPTORS_OFFSET + PAGES_PER_SEGMENT * DESCRIPTOR_BYTES;
export const REGULAR_PARTIAL_OFFSET = REGULAR_BITMAPS_OFFSET + PAGES_PER_SEGMENT * BITMAP_BYTES_PER_PAGE;
export const REGULAR_METADATA_BYTES = REGULAR_PARTIAL_OFFSET + MAX_SIZE_CLASSES * PARTIAL_WORDS_PER_CLASS * 4;
export const REGULAR_METADATA_PAGES = Math.ceil(REGULAR_METADATA_BYTES / PAGE_SIZE);
export const REGULAR_DATA_PAGES = PAGES_PER_SEGMENT - REGULAR_METADATA_PAGES;

/** Dedicated segment of `dataPages` pages: data at 0, then header and descriptors. */
export function dedicatedMetadataBytes(dataPages: number): number {
  return HEADER_BYTES + dataPages * DESCRIPTOR_BYTES;
}
export function dedicatedSegmentBytes(dataPages: number): number {
  const metaPages = Math.ceil(dedicatedMetadataBytes(dataPages) / PAGE_SIZE);
  return (dataPages + metaPages) * PAGE_SIZE;
}

/** Pages a copy segment holds: it has no metadata of its own. */
export const COPY_SEGMENT_PAGES = PAGES_PER_SEGMENT;

/** Global page id: unique across regular and copy segments of an arena. */
export function globalPageId(segment: number, page: number): number {
  return segment * PAGES_PER_SEGMENT + page;
}

export const NONE = -1;
