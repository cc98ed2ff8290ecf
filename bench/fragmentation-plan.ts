/**
 * Replays a FragmentationPlan (fill, free a random half, refill, free all) against any allocator and
 * reads that allocator's own counters after each step. The step sequence lives here once, so sabre and
 * thi.ng run literally the same code path and only the allocator calls differ.
 *
 * Every object's bytes are written once after it is allocated, as a store writes the value it stores:
 * an allocator that never touches data pages would otherwise show almost no RSS for its data, and the
 * RSS figures would say nothing. The writes are not part of a step's time.
 *
 * The driver keeps its own exact tally of what the workload asked for (live objects, requested bytes):
 * that is a property of the workload, not of either allocator, and lets each allocator's counters be
 * checked against it.
 */
import type { FragmentationPlan } from './workloads.js';

export interface AllocatorCalls {
  alloc(size: number): number;
  free(handle: number, size: number): void;
  /** Sets every byte of the allocation to `value`. */
  fill(handle: number, size: number, value: number): void;
}

export const STEPS = ['empty', 'fill', 'free random half', 'refill', 'free all'] as const;
export type StepName = (typeof STEPS)[number];

export interface StepResult<T> {
  step: StepName;
  liveObjects: number;
  requestedBytes: number;
  /** Wall time of the step's allocator calls only (the measurement after it is not included). */
  millis: number;
  measured: T;
}

export interface PlanOptions {
  /** Called at the start of each step, for progress output. */
  onStep?: (step: StepName) => void;
  /** Stop after this step (the free-all step is optional for slow allocators). */
  lastStep?: StepName;
}

/**
 * Runs the plan, calling `measure` after each step (and once before the first, with nothing allocated).
 * Every array the driver needs is allocated before that first measurement, so memory readings taken in
 * `measure` see only the allocator grow and shrink.
 */
export function runFragmentationPlan<T>(
  calls: AllocatorCalls,
  plan: FragmentationPlan,
  measure: (step: StepName) => T,
  options: PlanOptions = {},
): StepResult<T>[] {
  const { fillSizes, freeHalf, refillSizes } = plan;
  const fillHandles = new Uint32Array(fillSizes.length);
  const refillHandles = new Uint32Array(refillSizes.length);
  const freed = new Uint8Array(fillSizes.length);
  const results: StepResult<T>[] = [];
  let liveObjects = 0;
  let requestedBytes = 0;

  const record = (step: StepName, millis: number): boolean => {
    results.push({ step, liveObjects, requestedBytes, millis, measured: measure(step) });
    return step === options.lastStep;
  };
  const timed = (step: StepName, body: () => void, untimed?: () => void): boolean => {
    options.onStep?.(step);
    const start = performance.now();
    body();
    const millis = performance.now() - start;
    untimed?.();
    return record(step, millis);
  };

  type Step = [StepName, () => void, (() => void)?];
  /** Allocates every size into `handles` (timed), then writes each object's bytes (untimed). */
  const allocationStep = (name: StepName, sizes: ArrayLike<number>, handles: Uint32Array): Step => [
    name,
    () => {
      for (let i = 0; i < sizes.length; i++) {
        handles[i] = calls.alloc(sizes[i]);
        requestedBytes += sizes[i];
      }
      liveObjects += sizes.length;
    },
    () => {
      for (let i = 0; i < sizes.length; i++) calls.fill(handles[i], sizes[i], i & 255);
    },
  ];
  const steps: Step[] = [
    allocationStep('fill', fillSizes, fillHandles),
    [
      'free random half',
      () => {
        for (let k = 0; k < freeHalf.length; k++) {
          const i = freeHalf[k];
          calls.free(fillHandles[i], fillSizes[i]);
          freed[i] = 1;
          requestedBytes -= fillSizes[i];
        }
        liveObjects -= freeHalf.length;
      },
    ],
    allocationStep('refill', refillSizes, refillHandles),
    [
      'free all',
      () => {
        for (let i = 0; i < fillSizes.length; i++) {
          if (freed[i] === 0) calls.free(fillHandles[i], fillSizes[i]);
        }
        for (let i = 0; i < refillSizes.length; i++) calls.free(refillHandles[i], refillSizes[i]);
        liveObjects = 0;
        requestedBytes = 0;
      },
    ],
  ];
  if (record('empty', 0)) return results;
  for (const [step, body, untimed] of steps) {
    if (timed(step, body, untimed)) break;
  }
  return results;
}
