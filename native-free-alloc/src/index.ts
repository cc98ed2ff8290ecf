/**
 * native-free-alloc: a page-based slab allocator over SharedArrayBuffer segments, in pure TypeScript.
 * It knows nothing of Redis. See layout.ts for the glossary and the memory layout, arena.ts for the
 * allocation paths and invariants, reader.ts for attaching other threads.
 */
export { Arena, MAX_RUN_PAGES, type ArenaOptions, type ArenaDescription, type SegmentMessage } from './arena.js';
export { ArenaReader } from './reader.js';
export { ArenaView, type PageOccupancy, type SegmentInfo } from './view.js';
export { SnapshotPages } from './snapshot-pages.js';
export { AllocatorError, type AllocatorErrorCode } from './errors.js';
export { checkArena } from './check.js';
export { ALLOCATOR_VERSION } from './version.js';
export {
  fragmentation,
  processRss,
  type ArenaStats,
  type FragmentationReport,
  type SizeClassStats,
} from './stats.js';
export { CLASS_SIZES, CLASS_SLAB_PAGES, CLASS_SLOTS, MAX_SMALL_SIZE, classOf, usableSize } from './size-classes.js';
export {
  PAGE_SIZE,
  SEGMENT_SIZE,
  PAGES_PER_SEGMENT,
  REGULAR_DATA_PAGES,
  REGULAR_METADATA_PAGES,
  OFFSET_BITS,
  OFFSET_MASK,
  GRANULE_SHIFT,
  PageKind,
  SegmentKind,
  byteOffsetOf,
  makeHandle,
  segmentOf,
} from './layout.js';
