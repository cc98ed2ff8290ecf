/**
 * The invariant checker: rebuilds every counter by scanning all metadata and compares it with the
 * counters the owner kept while allocating (the equations are listed at the top of arena.ts). It runs
 * on the owner thread (or while the owner is still), in tests and in debug mode. Throws on the first
 * violation with a message that names it.
 */
import {
  BITMAP_WORDS_PER_PAGE,
  D_LIVE_SLOTS,
  D_PAGE_LIVE,
  D_SPAN,
  D_STATE,
  DESCRIPTOR_WORDS,
  HEADER_WORDS,
  H_DATA_PAGES,
  H_FREE_DATA_PAGES,
  H_USED_PAGE_BITS,
  NONE,
  PAGE_SHIFT,
  PAGES_PER_SEGMENT,
  PARTIAL_WORDS_PER_CLASS,
  PageKind,
  REGULAR_BITMAPS_OFFSET,
  REGULAR_PARTIAL_OFFSET,
  REGULAR_DATA_PAGES,
  REGULAR_METADATA_PAGES,
  SegmentKind,
  globalPageId,
} from './layout.js';
import { C_CURRENT_SLAB, controlViews } from './control.js';
import { CLASS_COUNT, CLASS_SIZES, CLASS_SLAB_PAGES, CLASS_SLOTS } from './size-classes.js';
import type { ArenaView } from './view.js';

const PARTIAL_BASE_WORD = REGULAR_PARTIAL_OFFSET >>> 2;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function expect(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(`native-free-alloc invariant violated: ${message()}`);
}

function equal(name: string, counted: number, kept: number): void {
  expect(counted === kept, () => `${name}: scan counts ${counted}, counter says ${kept}`);
}

interface Tally {
  live: number[];
  slabs: number[];
  full: number[];
  allocated: number;
  activePages: number;
  runPages: number;
  dedicatedBytes: number;
  committed: number;
  segments: number;
}

function scanSlab(meta: Int32Array, segment: number, page: number, tally: Tally): number {
  const d = HEADER_WORDS + page * DESCRIPTOR_WORDS;
  const cls = (meta[d + D_STATE] >>> 8) & 255;
  const span = meta[d + D_SPAN];
  const where = `slab at segment ${segment} page ${page}`;
  expect(span === CLASS_SLAB_PAGES[cls], () => `${where}: span ${span}, class ${cls} wants ${CLASS_SLAB_PAGES[cls]}`);
  const size = CLASS_SIZES[cls];
  const slots = CLASS_SLOTS[cls];
  const bitmap = (REGULAR_BITMAPS_OFFSET >>> 2) + page * BITMAP_WORDS_PER_PAGE;
  const pageLive = new Array<number>(span).fill(0);
  let live = 0;
  for (let w = 0; w < span * BITMAP_WORDS_PER_PAGE; w++) {
    const word = meta[bitmap + w];
    const firstSlot = w << 5;
    // Bits at or past `slots` are padding and must all be set, so they are never handed out.
    const padding = firstSlot >= slots ? -1 : slots - firstSlot >= 32 ? 0 : -1 << (slots - firstSlot);
    if ((word & padding) !== padding) throw new Error(`native-free-alloc invariant violated: ${where}: padding bits clear in word ${w}`);
    let used = word & ~padding;
    live += popcount(used);
    while (used !== 0) {
      const lowest = used & -used;
      const slot = firstSlot + 31 - Math.clz32(lowest);
      used ^= lowest;
      const first = (slot * size) >>> PAGE_SHIFT;
      const last = (slot * size + size - 1) >>> PAGE_SHIFT;
      for (let p = first; p <= last; p++) pageLive[p]++;
    }
  }
  equal(`${where} live slots`, live, meta[d + D_LIVE_SLOTS]);
  for (let p = 0; p < span; p++) {
    const t = d + p * DESCRIPTOR_WORDS;
    equal(`${where} page +${p} live`, pageLive[p], meta[t + D_PAGE_LIVE]);
    if (pageLive[p] > 0) tally.activePages++;
    if (p > 0) {
      expect(meta[t + D_STATE] === (PageKind.SlabTail | (cls << 8)), () => `${where}: page +${p} is not its tail`);
      equal(`${where} tail +${p} back link`, p, meta[t + D_SPAN]);
    }
  }
  tally.live[cls] += live;
  tally.slabs[cls]++;
  if (live === slots) tally.full[cls]++;
  tally.allocated += live * size;
  return span;
}

function scanRegular(meta: Int32Array, segment: number, tally: Tally): void {
  let freePages = 0;
  for (let page = 0; page < PAGES_PER_SEGMENT; ) {
    const used = (meta[H_USED_PAGE_BITS + (page >>> 5)] & (1 << (page & 31))) !== 0;
    const d = HEADER_WORDS + page * DESCRIPTOR_WORDS;
    const kind = meta[d + D_STATE] & 15;
    if (page < REGULAR_METADATA_PAGES) {
      expect(used && kind === PageKind.Metadata, () => `segment ${segment} metadata page ${page} not marked`);
      page++;
    } else if (kind === PageKind.Free) {
      expect(!used, () => `segment ${segment} page ${page} is free but marked used`);
      freePages++;
      page++;
    } else if (kind === PageKind.SlabHead) {
      const span = scanSlab(meta, segment, page, tally);
      for (let p = page; p < page + span; p++) {
        expect((meta[H_USED_PAGE_BITS + (p >>> 5)] & (1 << (p & 31))) !== 0, () => `segment ${segment} page ${p} in a slab but not marked used`);
      }
      page += span;
    } else if (kind === PageKind.RunHead) {
      const span = meta[d + D_SPAN];
      for (let p = page; p < page + span; p++) {
        expect((meta[H_USED_PAGE_BITS + (p >>> 5)] & (1 << (p & 31))) !== 0, () => `segment ${segment} page ${p} in a run but not marked used`);
        if (p > page) expect((meta[HEADER_WORDS + p * DESCRIPTOR_WORDS + D_STATE] & 15) === PageKind.RunTail, () => `segment ${segment} page ${p} is not a run tail`);
      }
      tally.runPages += span;
      tally.activePages += span;
      tally.allocated += span << PAGE_SHIFT;
      page += span;
    } else {
      throw new Error(`native-free-alloc invariant violated: segment ${segment} page ${page} has stray kind ${kind}`);
    }
  }
  equal(`segment ${segment} free pages`, freePages, meta[H_FREE_DATA_PAGES]);
  expect(meta[H_DATA_PAGES] === REGULAR_DATA_PAGES, () => `segment ${segment} data page count`);
}

/** Partial bits mark exactly the non-full slabs, and each class's current slab is the lowest of them. */
function checkPartialSlabs(view: ArenaView, tally: Tally): void {
  const { words } = controlViews(view.control);
  const lowest = new Array<number>(CLASS_COUNT).fill(NONE);
  const partial = new Array<number>(CLASS_COUNT).fill(0);
  for (const segment of view.segmentTable()) {
    if (segment.kind !== SegmentKind.Regular) continue;
    const meta = segment.meta;
    for (let page = REGULAR_METADATA_PAGES; page < PAGES_PER_SEGMENT; page++) {
      const d = HEADER_WORDS + page * DESCRIPTOR_WORDS;
      const state = meta[d + D_STATE];
      const slabClass = (state & 15) === PageKind.SlabHead ? (state >>> 8) & 255 : -1;
      for (let cls = 0; cls < CLASS_COUNT; cls++) {
        const marked = (meta[PARTIAL_BASE_WORD + cls * PARTIAL_WORDS_PER_CLASS + (page >>> 5)] & (1 << (page & 31))) !== 0;
        const isPartial = slabClass === cls && meta[d + D_LIVE_SLOTS] < CLASS_SLOTS[cls];
        expect(marked === isPartial, () => `segment ${segment.index} page ${page}: class ${cls} partial bit is ${marked}`);
        if (isPartial) {
          partial[cls]++;
          const id = globalPageId(segment.index, page);
          if (lowest[cls] === NONE || id < lowest[cls]) lowest[cls] = id;
        }
      }
    }
  }
  for (let cls = 0; cls < CLASS_COUNT; cls++) {
    equal(`class ${cls} partial slabs`, partial[cls], tally.slabs[cls] - tally.full[cls]);
    equal(`class ${cls} current slab`, lowest[cls], words[C_CURRENT_SLAB + cls]);
  }
  view.checkOwnerState();
}

/** Scans the whole arena and throws if any counter or structure disagrees with the scan. */
export function checkArena(view: ArenaView): void {
  const tally: Tally = {
    live: new Array<number>(CLASS_COUNT).fill(0),
    slabs: new Array<number>(CLASS_COUNT).fill(0),
    full: new Array<number>(CLASS_COUNT).fill(0),
    allocated: 0,
    activePages: 0,
    runPages: 0,
    dedicatedBytes: 0,
    committed: 0,
    segments: 0,
  };
  for (const segment of view.segmentTable()) {
    tally.committed += segment.byteLength;
    tally.segments++;
    if (segment.kind === SegmentKind.Regular) scanRegular(segment.meta, segment.index, tally);
    else if (segment.kind === SegmentKind.Dedicated) {
      const d = segment.metaWord + HEADER_WORDS;
      if ((segment.meta[d + D_STATE] & 15) === PageKind.RunHead) {
        const pages = segment.meta[d + D_SPAN];
        tally.dedicatedBytes += pages << PAGE_SHIFT;
        tally.activePages += pages;
        tally.allocated += pages << PAGE_SHIFT;
      }
    }
  }
  const stats = view.stats();
  for (let cls = 0; cls < CLASS_COUNT; cls++) {
    const kept = stats.classes[cls];
    equal(`class ${cls} live slots`, tally.live[cls], kept.liveSlots);
    equal(`class ${cls} slabs`, tally.slabs[cls], kept.slabs);
    equal(`class ${cls} full slabs`, tally.full[cls], kept.fullSlabs);
    equal(`class ${cls} capacity`, tally.slabs[cls] * CLASS_SLOTS[cls], kept.capacitySlots);
  }
  equal('allocated bytes', tally.allocated, stats.allocatedBytes);
  equal('active pages', tally.activePages, stats.activePages);
  equal('run pages', tally.runPages, stats.runPages);
  equal('dedicated bytes', tally.dedicatedBytes, stats.dedicatedBytes);
  equal('committed bytes', tally.committed, stats.committedBytes);
  equal('segments', tally.segments, stats.segments);
  checkPartialSlabs(view, tally);
}
