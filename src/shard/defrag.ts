/**
 * Active defragmentation of a shard, as Redis's activedefrag does it: while serving traffic, live
 * allocations are moved out of sparse pages (Arena.defragHint picks them) so that pages, then whole
 * segments, empty and go back to the OS.
 *
 * Control is Redis's (defrag.c computeDefragCycles): a cycle starts when `activedefrag` is on and the
 * arena's fragmentation passes both active-defrag-ignore-bytes and active-defrag-threshold-lower percent
 * of the allocated bytes. Redis measures jemalloc's active pages against allocated bytes, and jemalloc
 * gives free pages back one by one; an arena gives memory back only by whole segments, so its free pages
 * inside segments that still hold data count too (but for one segment's worth: the last one filling is
 * not fragmentation); its CPU share is interpolated between active-defrag-cycle-min
 * and -max by where the fragmentation sits between threshold-lower and -upper, may rise during a cycle
 * but not fall, and is checked once a second. The share is spent in slices of at most SLICE_MS between
 * batches of requests, earned as time passes, rather than in one block per 100 ms cron as Redis does (up
 * to 25 ms at cycle-max 25), so a request never waits behind more than one slice.
 *
 * A cycle walks every database's dictionary with the SCAN cursor (Dict.defragScan), which survives the
 * table resizing between slices. For each key: its external string or its collection (collections/
 * defrag.ts), then its entry, relinked in its bucket chain and in the volatile array. A collection of
 * more than active-defrag-max-scan-fields elements (a list's nodes) is deferred, as Redis's
 * defrag_later: remembered by key and done in later slices from a cursor, found again by key each time
 * since it may have changed, moved or gone in between. Besides Redis's slab rule, the hint empties the
 * high segments whose data fits in the free pages below them (Arena.planSegmentCompaction, planned
 * when a cycle starts and once a second while it runs). When the walk ends, empty segments are released
 * (Arena.purge) so that the RSS falls, and the fragmentation is checked at once for another cycle.
 *
 * Counters are Redis's: a hit is an allocation moved, a miss one the hint left in place; a key hit is a
 * key of which anything moved, a key miss one of which nothing did.
 *
 * Snapshots: while an arena snapshot epoch is open, the cycle pauses, as Redis skips defragmentation
 * while a fork child runs. Moving would stay consistent (every store goes through beforeWrite and a
 * slot freed in the epoch is only rewritten after its page was copied), but every page a move touches
 * is copied aside and the segments it empties are kept until the snapshot ends: a move then costs
 * memory instead of giving it back.
 *
 * Values queued for background freeing (lazy-free.ts) are out of every dictionary, so no walk reaches
 * them; nothing else holds an entry's handle between commands (blocked clients and watches hold keys).
 */
import { PAGE_SIZE, REGULAR_DATA_PAGES, type Arena } from 'native-free-alloc';
import { readWord, writeWord } from './arena-words.js';
import type { Database } from './database.js';
import { E_VALUE, EntryFlag, ValueType } from './entry.js';
import { EXTERNAL_HEADER_BYTES, entryFlags, entryShellSize, entryType } from './entry-store.js';
import { hashKey } from './hash.js';
import { Mover, defragCollectionSlice } from '../collections/defrag.js';
import { collectionFreeEffort } from '../collections/collection.js';

/** The activedefrag parameters under Redis's names, as a shard takes them (yes/no as 1/0). */
export interface DefragSettings {
  activedefrag: number;
  'active-defrag-ignore-bytes': number;
  'active-defrag-threshold-lower': number;
  'active-defrag-threshold-upper': number;
  'active-defrag-cycle-min': number;
  'active-defrag-cycle-max': number;
  'active-defrag-max-scan-fields': number;
}

export const DEFRAG_SETTING_NAMES = [
  'activedefrag',
  'active-defrag-ignore-bytes',
  'active-defrag-threshold-lower',
  'active-defrag-threshold-upper',
  'active-defrag-cycle-min',
  'active-defrag-cycle-max',
  'active-defrag-max-scan-fields',
] as const;

/** Redis 7.0's defaults. */
export function defaultDefragSettings(): DefragSettings {
  return {
    activedefrag: 0,
    'active-defrag-ignore-bytes': 100 * 1024 * 1024,
    'active-defrag-threshold-lower': 10,
    'active-defrag-threshold-upper': 100,
    'active-defrag-cycle-min': 1,
    'active-defrag-cycle-max': 25,
    'active-defrag-max-scan-fields': 1000,
  };
}

/** Longest stretch of defragmentation between two batches of requests. */
const SLICE_MS = 0.5;
/** Shortest: below this a slice costs more in clock reads and resumption than it does. */
const MIN_SLICE_MS = 0.1;
/** How often an idle shard re-checks whether fragmentation calls for a cycle (Redis: once a second). */
const CHECK_PERIOD_MS = 1000;
/** Steps between two looks at the clock. */
const STEPS_PER_CLOCK_READ = 16;
/** Elements of a deferred collection done per step. */
const LATER_STEP_ELEMENTS = 64;

interface DeferredValue {
  db: Database;
  key: Buffer;
  cursor: number;
  hits: number;
}

export class ActiveDefrag {
  readonly settings: DefragSettings = defaultDefragSettings();
  readonly mover: Mover;
  keyHits = 0;
  keyMisses = 0;
  /** The running cycle's CPU percent (INFO's active_defrag_running), 0 between cycles. */
  running = 0;
  /** Milliseconds of finished cycles (with currentMs(): INFO's total_active_defrag_time). */
  private finishedMs = 0;
  private cycleStart = 0;
  private lastCheck = -Infinity;
  private database = 0;
  private cursor = 0;
  private readonly later: DeferredValue[] = [];
  /** Milliseconds of defragmentation earned and not yet spent (see earn()). */
  private credit = 0;
  private earnedAt = 0;
  private segmentsReleasedSeen = 0;
  /**
   * Called, at most once a second while defragmentation is on, when segments were released since the
   * last call, so that their memory really leaves the process (worker.ts collects garbage: a released
   * segment is unmapped when its buffer is collected).
   */
  segmentsReleased: (() => void) | undefined;

  constructor(
    private readonly arena: Arena,
    /** The shard's databases, read at each step (the shard makes them after its settings). */
    private readonly databases: () => readonly Database[],
  ) {
    this.mover = new Mover(arena);
  }

  get hits(): number {
    return this.mover.hits;
  }

  get misses(): number {
    return this.mover.misses;
  }

  /** Milliseconds since the running cycle started (INFO's current_active_defrag_time), 0 between cycles. */
  currentMs(now = performance.now()): number {
    return this.running === 0 ? 0 : Math.floor(now - this.cycleStart);
  }

  totalMs(now = performance.now()): number {
    return Math.floor(this.finishedMs) + this.currentMs(now);
  }

  /**
   * The shard's spare-time call: checks whether a cycle should start or speed up, then spends the time
   * the cycle's CPU share has earned since the last slice, at most SLICE_MS.
   */
  run(now = performance.now()): void {
    if (this.arena.snapshotInProgress) return;
    if (this.settings.activedefrag === 0) {
      // Switched off mid-cycle: Redis drops the cycle, and the next one starts from the beginning.
      if (this.running !== 0) this.stopCycle(now);
      return;
    }
    if (now - this.lastCheck >= CHECK_PERIOD_MS) this.computeCycle(now);
    if (this.running === 0) return;
    this.earn(now);
    if (this.credit < MIN_SLICE_MS) return;
    const begin = performance.now();
    this.step(begin + this.credit);
    this.credit -= performance.now() - begin;
  }

  /**
   * Time earned at the cycle's CPU share since the last call, capped at one slice: the share is spread
   * evenly (a slice, then three times as long serving at 25%) instead of spent in a burst per period, so
   * requests meet at most one slice and the shard's throughput dips evenly rather than stalling.
   */
  private earn(now: number): void {
    this.credit = Math.min(SLICE_MS, this.credit + Math.max(0, now - this.earnedAt) * (this.running / 100));
    this.earnedAt = now;
  }

  /** How long the shard may sleep before run() has a slice to spend. */
  waitMs(now = performance.now()): number {
    if (this.running === 0 || this.arena.snapshotInProgress) return Infinity;
    const missing = MIN_SLICE_MS - (this.credit + Math.max(0, now - this.earnedAt) * (this.running / 100));
    return missing <= 0 ? 0 : missing / (this.running / 100);
  }

  /** Redis's computeDefragCycles: starts a cycle, or raises its CPU share, by the arena's fragmentation. */
  private computeCycle(now: number): void {
    this.lastCheck = now;
    const released = this.arena.stats().segmentsReleased;
    if (released !== this.segmentsReleasedSeen) {
      this.segmentsReleasedSeen = released;
      this.segmentsReleased?.();
    }
    const s = this.settings;
    if (s.activedefrag === 0) return;
    const stats = this.arena.stats();
    const heldFreePages = Math.max(0, this.arena.freePagesInUsedSegments() - REGULAR_DATA_PAGES);
    const fragBytes = stats.activeBytes - stats.allocatedBytes + heldFreePages * PAGE_SIZE;
    const fragPercent = stats.allocatedBytes === 0 ? 0 : (fragBytes / stats.allocatedBytes) * 100;
    if (this.running === 0 && (fragPercent < s['active-defrag-threshold-lower'] || fragBytes < s['active-defrag-ignore-bytes'])) return;
    const lower = s['active-defrag-threshold-lower'];
    const upper = s['active-defrag-threshold-upper'];
    const min = s['active-defrag-cycle-min'];
    const max = s['active-defrag-cycle-max'];
    const position = upper === lower ? 1 : (fragPercent - lower) / (upper - lower);
    const cpu = Math.trunc(Math.min(max, Math.max(min, min + position * (max - min))));
    // Once a second the plan follows the segments as the cycle thins them out.
    if (cpu <= this.running) this.arena.planSegmentCompaction();
    this.startCycle(cpu, now);
  }

  /**
   * Defragments until `deadline` (performance.now() milliseconds) or the cycle's end, whichever comes
   * first. Tests call it directly to run a cycle to completion.
   */
  step(deadline: number): void {
    for (let steps = 0; this.running !== 0; steps++) {
      if (steps % STEPS_PER_CLOCK_READ === STEPS_PER_CLOCK_READ - 1 && performance.now() >= deadline) return;
      if (this.later.length > 0) this.laterStep();
      else if (this.database < this.databases().length) this.scanStep();
      else this.endCycle();
    }
  }

  /** Starts a cycle now whatever the fragmentation (tests), or raises the running one's CPU percent. */
  startCycle(cpu = this.settings['active-defrag-cycle-max'], now = performance.now()): void {
    if (cpu <= this.running) return;
    if (this.running === 0) {
      this.cycleStart = now;
      this.database = 0;
      this.cursor = 0;
    }
    this.running = cpu;
    // The hint then also empties the high segments whose data fits in the free pages below them.
    this.arena.planSegmentCompaction();
  }

  private scanStep(): void {
    const db = this.databases()[this.database];
    this.cursor = db.dict.defragScan(this.cursor, (entry) => this.relocateKey(db, entry));
    if (this.cursor === 0) this.database++;
  }

  private stopCycle(now: number): void {
    this.finishedMs += now - this.cycleStart;
    this.running = 0;
    this.later.length = 0;
  }

  private endCycle(): void {
    const now = performance.now();
    this.stopCycle(now);
    this.arena.purge();
    // Another cycle starts at once if fragmentation still calls for one, as Redis does.
    this.computeCycle(now);
  }

  /** One key: its value, then its entry (relinked by the dictionary's walk). Returns the entry's handle after. */
  private relocateKey(db: Database, entry: number): number {
    const { arena, mover } = this;
    const hitsBefore = mover.hits;
    const type = entryType(arena, entry);
    const flags = entryFlags(arena, entry);
    if (type === ValueType.String) {
      if (flags & EntryFlag.External) {
        const value = readWord(arena, entry, E_VALUE);
        const moved = mover.relocate(value, EXTERNAL_HEADER_BYTES + readWord(arena, value, 1));
        if (moved !== value) writeWord(arena, entry, E_VALUE, moved);
      }
    } else {
      const root = readWord(arena, entry, E_VALUE);
      if (collectionFreeEffort(arena, root) > this.settings['active-defrag-max-scan-fields']) {
        this.later.push({ db, key: Buffer.from(db.keyBytes(entry)), cursor: 0, hits: 0 });
      } else {
        const done = defragCollectionSlice(arena, mover, root, 0, Infinity);
        if (done.root !== root) writeWord(arena, entry, E_VALUE, done.root);
      }
    }
    const moved = mover.relocate(entry, entryShellSize(arena, entry));
    if (moved !== entry && flags & EntryFlag.HasExpire) db.volatileEntryMoved(moved);
    if (mover.hits !== hitsBefore) this.keyHits++;
    else this.keyMisses++;
    return moved;
  }

  /** A slice of the oldest deferred collection, found again by its key. */
  private laterStep(): void {
    const { arena, mover } = this;
    const job = this.later[0];
    const key = job.key;
    const entry = job.db.dict.find(key, 0, key.length, hashKey(key, 0, key.length));
    if (entry === 0 || entryType(arena, entry) === ValueType.String) {
      this.later.shift();
      return;
    }
    const root = readWord(arena, entry, E_VALUE);
    const hitsBefore = mover.hits;
    const done = defragCollectionSlice(arena, mover, root, job.cursor, LATER_STEP_ELEMENTS);
    if (done.root !== root) writeWord(arena, entry, E_VALUE, done.root);
    job.hits += mover.hits - hitsBefore;
    job.cursor = done.cursor;
    if (done.cursor >= 0) return;
    // Counted once the value is done, as Redis counts a deferred key.
    if (job.hits > 0) this.keyHits++;
    else this.keyMisses++;
    this.later.shift();
  }
}
