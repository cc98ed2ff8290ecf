/**
 * The control buffer: the part of an arena that is not a segment. It holds the statistics block, the
 * snapshot epoch, the segment-table version and the slab each size class is filling, so that any
 * thread holding this one buffer (and the segments) sees the whole arena.
 *
 * Statistics are plain Float64 counters (byte counts outgrow int32) updated by the owner as it goes, and
 * published with a sequence lock: the owner makes `seq` odd before touching them and even afterwards; a
 * reader copies the block and retries if `seq` was odd or changed meanwhile. Readers therefore see every
 * counter from the same instant, which independent atomic words could not give.
 */
import { CLASS_COUNT } from './size-classes.js';

/** Int32 words of the control buffer. */
export const C_STATS_SEQ = 0;
export const C_SNAPSHOT_EPOCH = 1;
export const C_SNAPSHOT_ACTIVE = 2;
/** Bumped whenever a segment is added or dropped; readers compare it with what they last saw. */
export const C_SEGMENT_VERSION = 3;
/** Per class, the global page id of the slab being filled: the lowest-addressed one with a free slot. */
export const C_CURRENT_SLAB = 16;
const INT32_WORDS = C_CURRENT_SLAB + CLASS_COUNT;

/** Float64 statistics, after the int32 words. */
export const S_REQUESTED = 0;
export const S_ALLOCATED = 1;
export const S_ACTIVE_PAGES = 2;
export const S_COMMITTED = 3;
export const S_PEAK_COMMITTED = 4;
export const S_SEGMENTS = 5;
export const S_LIVE_ALLOCATIONS = 6;
export const S_TOTAL_ALLOCS = 7;
export const S_TOTAL_FREES = 8;
export const S_RUN_PAGES = 9;
export const S_DEDICATED_BYTES = 10;
export const S_COW_PAGES = 11;
export const S_COW_PEAK_PAGES = 12;
export const S_LAST_COW_PAGES = 13;
export const S_SEGMENTS_RELEASED = 14;
export const S_MOVES = 15;
export const S_CLASS_BASE = 32;
/** Per class: live slots, slot capacity (slabs × slots per slab), slabs, full slabs. */
export const CS_LIVE = 0;
export const CS_CAPACITY = 1;
export const CS_SLABS = 2;
export const CS_FULL_SLABS = 3;
export const CS_FIELDS = 4;
const FLOAT64_WORDS = S_CLASS_BASE + CLASS_COUNT * CS_FIELDS;

const STATS_BYTE_OFFSET = Math.ceil((INT32_WORDS * 4) / 8) * 8;
export const CONTROL_BYTES = STATS_BYTE_OFFSET + FLOAT64_WORDS * 8;

export interface ControlViews {
  readonly words: Int32Array;
  readonly stats: Float64Array;
}

export function controlViews(buffer: SharedArrayBuffer): ControlViews {
  return {
    words: new Int32Array(buffer, 0, INT32_WORDS),
    stats: new Float64Array(buffer, STATS_BYTE_OFFSET, FLOAT64_WORDS),
  };
}

export function createControl(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(CONTROL_BYTES);
  const { words } = controlViews(buffer);
  words.fill(-1, C_CURRENT_SLAB, C_CURRENT_SLAB + CLASS_COUNT);
  return buffer;
}

/** A consistent copy of the statistics block, taken under the sequence lock. */
export function readStatsBlock(views: ControlViews, into: Float64Array): Float64Array {
  const { words, stats } = views;
  for (;;) {
    const before = Atomics.load(words, C_STATS_SEQ);
    if ((before & 1) === 0) {
      into.set(stats);
      if (Atomics.load(words, C_STATS_SEQ) === before) return into;
    }
  }
}

export function statsBlockLength(): number {
  return FLOAT64_WORDS;
}
