/**
 * The arena's counters as a typed object, and the fragmentation ratios defined the way Redis's INFO
 * memory defines them. Every figure here comes from counters the owner keeps while allocating, or from
 * the OS (RSS); nothing is estimated.
 */
import {
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
} from './control.js';
import { PAGE_SIZE } from './layout.js';
import { CLASS_SIZES, CLASS_SLAB_PAGES, CLASS_SLOTS } from './size-classes.js';

export interface SizeClassStats {
  /** Slot size in bytes. */
  size: number;
  pagesPerSlab: number;
  slotsPerSlab: number;
  liveSlots: number;
  capacitySlots: number;
  slabs: number;
  fullSlabs: number;
  /** Pages held by this class's slabs. */
  pages: number;
}

export interface ArenaStats {
  /** Sum of the sizes callers asked for, over live allocations. */
  requestedBytes: number;
  /** Sum of the slot, run and dedicated sizes handed out, over live allocations. */
  allocatedBytes: number;
  /** Data pages holding at least one live byte. */
  activePages: number;
  activeBytes: number;
  /** Bytes of every segment the arena holds (metadata, data and free pages alike). */
  committedBytes: number;
  peakCommittedBytes: number;
  segments: number;
  segmentsReleased: number;
  liveAllocations: number;
  totalAllocations: number;
  totalFrees: number;
  /** Pages held by large objects in page runs. */
  runPages: number;
  /** Bytes of the huge allocations that each have a segment of their own (their data pages). */
  dedicatedBytes: number;
  /** Pages copied aside by the snapshot in progress, its peak, and the last finished snapshot's total. */
  cowPages: number;
  cowPeakPages: number;
  lastCowPages: number;
  /** Allocations moved by defragmentation. */
  moves: number;
  classes: SizeClassStats[];
}

export function statsFromBlock(block: Float64Array): ArenaStats {
  const classes: SizeClassStats[] = CLASS_SIZES.map((size, c) => {
    const base = S_CLASS_BASE + c * CS_FIELDS;
    const slabs = block[base + CS_SLABS];
    return {
      size,
      pagesPerSlab: CLASS_SLAB_PAGES[c],
      slotsPerSlab: CLASS_SLOTS[c],
      liveSlots: block[base + CS_LIVE],
      capacitySlots: block[base + CS_CAPACITY],
      slabs,
      fullSlabs: block[base + CS_FULL_SLABS],
      pages: slabs * CLASS_SLAB_PAGES[c],
    };
  });
  return {
    requestedBytes: block[S_REQUESTED],
    allocatedBytes: block[S_ALLOCATED],
    activePages: block[S_ACTIVE_PAGES],
    activeBytes: block[S_ACTIVE_PAGES] * PAGE_SIZE,
    committedBytes: block[S_COMMITTED],
    peakCommittedBytes: block[S_PEAK_COMMITTED],
    segments: block[S_SEGMENTS],
    segmentsReleased: block[S_SEGMENTS_RELEASED],
    liveAllocations: block[S_LIVE_ALLOCATIONS],
    totalAllocations: block[S_TOTAL_ALLOCS],
    totalFrees: block[S_TOTAL_FREES],
    runPages: block[S_RUN_PAGES],
    dedicatedBytes: block[S_DEDICATED_BYTES],
    cowPages: block[S_COW_PAGES],
    cowPeakPages: block[S_COW_PEAK_PAGES],
    lastCowPages: block[S_LAST_COW_PAGES],
    moves: block[S_MOVES],
    classes,
  };
}

export interface FragmentationReport {
  requestedBytes: number;
  allocatedBytes: number;
  activeBytes: number;
  committedBytes: number;
  rssBytes: number;
  /** active / allocated: external fragmentation, space lost inside pages that are in use. */
  allocatorFragRatio: number;
  allocatorFragBytes: number;
  /** committed / active: pages the arena holds but that hold nothing (free pages, empty segments, metadata). */
  allocatorRssRatio: number;
  allocatorRssBytes: number;
  /** allocated / requested: internal fragmentation, rounding up to size classes and pages. */
  internalFragRatio: number;
  /** rss / used, where used is allocated bytes plus whatever the caller adds as its own overhead. */
  memFragmentationRatio: number;
  memFragmentationBytes: number;
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/**
 * The ratios as Redis's INFO memory defines them, computed from one stats reading and one RSS reading.
 * `rssBytes` is the process's resident set (process.memoryUsage.rss()); `usedBytes` defaults to the
 * arena's allocated bytes and a store adds its own overhead to it.
 */
export function fragmentation(stats: ArenaStats, rssBytes: number, usedBytes = stats.allocatedBytes): FragmentationReport {
  return {
    requestedBytes: stats.requestedBytes,
    allocatedBytes: stats.allocatedBytes,
    activeBytes: stats.activeBytes,
    committedBytes: stats.committedBytes,
    rssBytes,
    allocatorFragRatio: ratio(stats.activeBytes, stats.allocatedBytes),
    allocatorFragBytes: stats.activeBytes - stats.allocatedBytes,
    allocatorRssRatio: ratio(stats.committedBytes, stats.activeBytes),
    allocatorRssBytes: stats.committedBytes - stats.activeBytes,
    internalFragRatio: ratio(stats.allocatedBytes, stats.requestedBytes),
    memFragmentationRatio: ratio(rssBytes, usedBytes),
    memFragmentationBytes: rssBytes - usedBytes,
  };
}

/** The process's resident set size in bytes, as the OS reports it. */
export function processRss(): number {
  return process.memoryUsage.rss();
}
