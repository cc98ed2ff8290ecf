/**
 * Fragmentation workload: fill with many small objects of mixed sizes, free a random half, refill with
 * half as many again, then free everything. After each step it reports the allocator's own counters,
 * and for sabre the process's RSS.
 *
 * Only real counters appear: native-free-alloc's stats(), @thi.ng/malloc's stats() (which walks its
 * block lists), the buffer sizes each one holds, and process.memoryUsage.rss(). Where an allocator has
 * no such figure the table says n/a; nothing is derived from averages or guesses.
 *
 * thi.ng runs at a smaller scale than sabre's headline run because its free() walks the list of used
 * blocks to find the one being freed and then walks the free list to coalesce, so freeing half of N
 * objects costs time superlinear in N (see the time column). sabre runs at that scale too, so the
 * side-by-side rows compare like with like.
 */
import { Arena, byteOffsetOf, fragmentation, processRss, segmentOf, type ArenaStats } from 'native-free-alloc';
import type { MemPool } from '@thi.ng/malloc';
import { newThingPool } from './contenders.js';
import { runFragmentationPlan, type AllocatorCalls, type StepResult } from './fragmentation-plan.js';
import { progress, settleHeap } from './progress.js';
import {
  NOT_AVAILABLE,
  formatBytes,
  formatBytesDelta,
  formatCount,
  formatMillis,
  formatRatio,
  markdownTable,
} from './report.js';
import { makeFragmentationPlan, type FragmentationPlan } from './workloads.js';

export interface FragmentationOptions {
  /** Objects in sabre's headline run. */
  headlineObjects: number;
  /** Object counts of the side-by-side runs (both allocators). */
  sideBySideObjects: number[];
  /** Objects in the unmeasured warm-up pass before the headline run. */
  warmUpObjects: number;
  /** Side-by-side runs per allocator and scale; step times are the best of these. */
  sideBySideRepeats: number;
  seed: number;
}

export const DEFAULT_FRAGMENTATION_OPTIONS: FragmentationOptions = {
  headlineObjects: 1_000_000,
  sideBySideObjects: [10_000, 20_000],
  warmUpObjects: 5_000,
  sideBySideRepeats: 3,
  seed: 0xf4a6,
};

export interface SabreReading {
  stats: ArenaStats;
  rssBytes: number;
}

/** The counters both allocators are shown with; null where the allocator has no such counter. */
export interface ComparableReading {
  allocatedBytes: number;
  activeBytes: number | null;
  /** Only sabre counts what callers asked for; checked against the workload's own tally. */
  requestedBytes: number | null;
  /** thi.ng's top: the end of its carved region, below which every used and free block lies; it drops when the highest block is freed. */
  topBytes: number | null;
  freeListBlocks: number | null;
  freeListBytes: number | null;
  committedBytes: number;
  liveBlocks: number;
}

export interface SideBySideRun {
  objects: number;
  sabre: StepResult<ComparableReading>[];
  thing: StepResult<ComparableReading>[];
}

export interface FragmentationResults {
  options: FragmentationOptions;
  plan: FragmentationPlan;
  headline: StepResult<SabreReading>[];
  sideBySide: SideBySideRun[];
}

/** A counter that disagrees with the workload's own tally would make every figure here suspect. */
function checkAgainstWorkload(
  allocator: string,
  result: StepResult<unknown>,
  counted: { liveBlocks: number; requestedBytes: number | null },
): void {
  if (counted.liveBlocks !== result.liveObjects) {
    throw new Error(`${allocator} after "${result.step}": counts ${counted.liveBlocks} live blocks, the workload holds ${result.liveObjects}`);
  }
  if (counted.requestedBytes !== null && counted.requestedBytes !== result.requestedBytes) {
    throw new Error(`${allocator} after "${result.step}": requestedBytes ${counted.requestedBytes}, the workload asked for ${result.requestedBytes}`);
  }
}

function arenaCalls(arena: Arena): AllocatorCalls {
  return {
    alloc: (size) => arena.alloc(size),
    free: (handle, size) => arena.free(handle, size),
    fill(handle, size, value) {
      const offset = byteOffsetOf(handle);
      arena.u8[segmentOf(handle)].fill(value, offset, offset + size);
    },
  };
}

function thingCalls(pool: MemPool): AllocatorCalls {
  const bytes = new Uint8Array(pool.buf);
  return {
    alloc(size) {
      const address = pool.malloc(size);
      if (address === 0) throw new Error(`@thi.ng/malloc could not allocate ${size} bytes`);
      return address;
    },
    free(address) {
      if (!pool.free(address)) throw new Error('@thi.ng/malloc refused a free');
    },
    fill(address, size, value) {
      bytes.fill(value, address, address + size);
    },
  };
}

function runSabreHeadline(plan: FragmentationPlan): StepResult<SabreReading>[] {
  const arena = new Arena();
  const objects = plan.fillSizes.length;
  const results = runFragmentationPlan(
    arenaCalls(arena),
    plan,
    () => {
      settleHeap();
      return { stats: arena.stats(), rssBytes: processRss() };
    },
    { onStep: (step) => progress(`fragmentation: sabre ${formatCount(objects)} objects: ${step}`) },
  );
  for (const result of results) {
    const { liveAllocations, requestedBytes } = result.measured.stats;
    checkAgainstWorkload('native-free-alloc', result, { liveBlocks: liveAllocations, requestedBytes });
  }
  arena.close();
  return results;
}

function sabreComparable(objects: number, plan: FragmentationPlan): StepResult<ComparableReading>[] {
  const arena = new Arena();
  const results = runFragmentationPlan(arenaCalls(arena), plan, () => {
    const stats = arena.stats();
    return {
      requestedBytes: stats.requestedBytes,
      allocatedBytes: stats.allocatedBytes,
      activeBytes: stats.activeBytes,
      topBytes: null,
      freeListBlocks: null,
      freeListBytes: null,
      committedBytes: stats.committedBytes,
      liveBlocks: stats.liveAllocations,
    };
  }, { onStep: (step) => progress(`fragmentation: sabre ${formatCount(objects)} objects: ${step}`) });
  arena.close();
  return results;
}

function thingComparable(objects: number, plan: FragmentationPlan): StepResult<ComparableReading>[] {
  const pool = newThingPool();
  return runFragmentationPlan(thingCalls(pool), plan, () => {
    const stats = pool.stats();
    return {
      requestedBytes: null,
      allocatedBytes: stats.used.size,
      activeBytes: null,
      topBytes: stats.top,
      freeListBlocks: stats.free.count,
      freeListBytes: stats.free.size,
      committedBytes: stats.total,
      liveBlocks: stats.used.count,
    };
  }, { onStep: (step) => progress(`fragmentation: thi.ng ${formatCount(objects)} objects: ${step}`) });
}

/**
 * One unmeasured pass of a small plan through both allocators, so the headline's step times are of
 * optimized code rather than of whichever run came first and paid for compilation.
 */
function warmUp(objects: number, seed: number): void {
  progress(`fragmentation: warm-up pass, ${formatCount(objects)} objects each`);
  const plan = makeFragmentationPlan(objects, seed ^ 0x5eed);
  const arena = new Arena();
  runFragmentationPlan(arenaCalls(arena), plan, () => undefined);
  arena.close();
  runFragmentationPlan(thingCalls(newThingPool()), plan, () => undefined);
  settleHeap();
}

/**
 * Runs a side-by-side plan `repeats` times, each on a fresh allocator, and keeps the fastest time of each
 * step. Steps at these scales take a few milliseconds, where one GC, one recompilation (native-free-alloc's
 * free path deoptimizes the first time a segment is released, as its per-segment arrays take an
 * undefined) or another process on the machine would otherwise decide the figure. The counters are
 * deterministic, so any run's are the same; the last run's are kept.
 */
function bestOf<T>(repeats: number, run: () => StepResult<T>[]): StepResult<T>[] {
  let best: StepResult<T>[] = run();
  for (let r = 1; r < repeats; r++) {
    const next = run();
    best = next.map((result, i) => ({ ...result, millis: Math.min(result.millis, best[i].millis) }));
  }
  return best;
}

export function measureFragmentation(options: FragmentationOptions = DEFAULT_FRAGMENTATION_OPTIONS): FragmentationResults {
  warmUp(options.warmUpObjects, options.seed);
  const plan = makeFragmentationPlan(options.headlineObjects, options.seed);
  const headline = runSabreHeadline(plan);
  settleHeap();
  const sideBySide = options.sideBySideObjects.map((objects) => {
    const smallPlan = makeFragmentationPlan(objects, options.seed);
    const repeats = options.sideBySideRepeats;
    const run = {
      objects,
      sabre: bestOf(repeats, () => sabreComparable(objects, smallPlan)),
      thing: bestOf(repeats, () => thingComparable(objects, smallPlan)),
    };
    for (const [name, results] of [['native-free-alloc', run.sabre], ['@thi.ng/malloc', run.thing]] as const) {
      for (const result of results) checkAgainstWorkload(name, result, result.measured);
    }
    return run;
  });
  return { options, plan, headline, sideBySide };
}

function ratioOrNone(numerator: number, denominator: number): string {
  return denominator === 0 ? NOT_AVAILABLE : formatRatio(numerator / denominator);
}

export function renderHeadline(results: FragmentationResults): string {
  const { headline, plan } = results;
  const baseline = headline[0].measured.rssBytes;
  const counters = markdownTable(
    ['step', 'live objects', 'requested', 'allocated', 'active', 'committed', 'segments', 'process RSS', 'RSS Δ vs empty', 'step time'],
    headline.map(({ step, liveObjects, millis, measured: { stats, rssBytes } }) => [
      step,
      formatCount(liveObjects),
      formatBytes(stats.requestedBytes),
      formatBytes(stats.allocatedBytes),
      formatBytes(stats.activeBytes),
      formatBytes(stats.committedBytes),
      String(stats.segments),
      formatBytes(rssBytes),
      step === 'empty' ? '' : formatBytesDelta(rssBytes - baseline),
      step === 'empty' ? '' : formatMillis(millis),
    ]),
  );
  const ratios = markdownTable(
    ['step', 'allocated / requested', 'allocator_frag_ratio (active / allocated)', 'allocator_rss_ratio (committed / active)', 'mem_fragmentation_ratio (RSS / allocated)'],
    headline.map(({ step, measured: { stats, rssBytes } }) => {
      const report = fragmentation(stats, rssBytes);
      return [
        step,
        ratioOrNone(report.allocatedBytes, report.requestedBytes),
        ratioOrNone(report.activeBytes, report.allocatedBytes),
        ratioOrNone(report.committedBytes, report.activeBytes),
        ratioOrNone(report.rssBytes, report.allocatedBytes),
      ];
    }),
  );
  const objects = formatCount(plan.fillSizes.length);
  const notes = [
    `Workload: fill ${objects} objects of ${plan.distribution.description}, free a random half (${formatCount(plan.freeHalf.length)}), ` +
      `refill ${formatCount(plan.refillSizes.length)} of the same distribution, then free everything; seeded, single thread, default \`Arena\` options. ` +
      'Each object is filled with a byte value right after it is allocated, as a store writes what it stores (not included in step time).',
    '- requested / allocated / active / committed: `arena.stats()` (requestedBytes, allocatedBytes, activeBytes = activePages × 4 KiB, committedBytes = bytes of all segments).',
    '- process RSS: `processRss()` after a forced double GC; Δ is against the "empty" row, taken with the arena created and every array the driver needs already allocated. RSS is the whole process (Node itself included), which is why mem_fragmentation_ratio is above the allocator ratios.',
    '- step time: the allocator calls of that step only (an unmeasured warm-up pass runs first).',
  ];
  return `${counters}\n\n${ratios}\n\n${notes.join('\n')}`;
}

export function renderSideBySide(results: FragmentationResults): string {
  const rows: string[][] = [];
  for (const run of results.sideBySide) {
    for (let s = 1; s < run.sabre.length; s++) {
      for (const [name, result] of [['native-free-alloc', run.sabre[s]], ['@thi.ng/malloc', run.thing[s]]] as const) {
        const m = result.measured;
        rows.push([
          formatCount(run.objects),
          result.step,
          name,
          formatCount(result.liveObjects),
          formatBytes(result.requestedBytes),
          formatBytes(m.allocatedBytes),
          formatBytes(m.activeBytes),
          formatBytes(m.topBytes),
          m.freeListBlocks === null ? NOT_AVAILABLE : `${formatCount(m.freeListBlocks)} / ${formatBytes(m.freeListBytes)}`,
          formatBytes(m.committedBytes),
          formatMillis(result.millis),
        ]);
      }
    }
  }
  const table = markdownTable(
    ['objects', 'step', 'allocator', 'live objects', 'requested (workload)', 'allocated', 'active', 'top', 'free list (blocks / bytes)', 'committed', 'step time'],
    rows,
    ['right', 'left', 'left'],
  );
  const notes = [
    `Same plan (sizes, free order, refill) for both allocators at each scale, same seed as the headline run. Object bytes are written after allocation, untimed. ` +
      `Each scale runs ${results.options.sideBySideRepeats} times per allocator on a fresh allocator; step time is the best of those runs (sabre's steps take milliseconds here, where a single GC would otherwise decide the figure).`,
    '- requested: the workload\'s own tally of live bytes asked for; identical for both, and equal to sabre\'s `requestedBytes` (checked). thi.ng keeps no such counter.',
    '- allocated: sabre `allocatedBytes` (slot sizes); thi.ng `stats().used.size`, the sizes of its used blocks including their 8-byte headers and 8-byte alignment.',
    '- active: sabre only (data pages holding a live byte); thi.ng has no notion of pages: n/a.',
    '- top: thi.ng `stats().top`, the address of the end of its carved region (it only drops when the highest block is freed); sabre has no single top: n/a.',
    '- free list: thi.ng `stats().free` (count and total size of free blocks below top); sabre keeps free slots in bitmaps, not a list: n/a.',
    '- committed: sabre `committedBytes` (segments it holds); thi.ng the fixed ArrayBuffer it was given up front (it never grows or shrinks; pages above top are never touched).',
    `- Not run at ${formatCount(results.plan.fillSizes.length)} objects for thi.ng: its free() scans its used-block list and then walks its free list to coalesce on every call, so the free steps grow superlinearly with the object count (compare the step times of the two scales).`,
  ];
  return `${table}\n\n${notes.join('\n')}`;
}
