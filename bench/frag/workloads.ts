/**
 * The fragmentation lab's workloads: seeded sequences of Redis commands, cut into batches, after each of
 * which the lab samples the target's memory counters. The same seed gives the same commands for every
 * target, so sabre's and Redis's curves are over identical work and share one x axis (commands done).
 *
 * Keys are `frag:<n>`; values are runs of one byte, cut from a shared buffer (no per-command allocation
 * of value bytes). Sizes are mostly small, as a keyspace of short strings is, with a tail that reaches
 * the allocator's multi-page slabs and page runs.
 */
import { createRandom, randomInt, shuffledIndexes, type Random } from '../prng.js';

export type Command = Buffer[];

export interface Batch {
  /** What the workload is doing (chart bands and CSV rows name it). */
  phase: string;
  commands: Command[];
  /** Time to leave the target alone after the batch (background work such as defragmentation runs). */
  pauseMs?: number;
}

export interface WorkloadOptions {
  /** Keys the workload keeps (or fills to) at its largest. */
  keys: number;
  seed: number;
  /** Commands per batch, so one sample follows every batch. */
  batchSize: number;
  /** The pause before each sample of the final settle phase (200 ms unless set). */
  settleMs?: number;
}

export interface Workload {
  name: string;
  description: string;
  batches(options: WorkloadOptions): Generator<Batch>;
  /** Every key name the workload may create, so an earlier run's leftovers can be deleted first. */
  keyCount(options: WorkloadOptions): number;
}

/** The largest value any workload writes (growth's values end below it). */
const MAX_VALUE = 16 * 1024;
const VALUE_BYTES = Buffer.alloc(MAX_VALUE, 0x76);
const SET = Buffer.from('SET');
const DEL = Buffer.from('DEL');
const APPEND = Buffer.from('APPEND');

const keyName = (n: number): Buffer => Buffer.from(`frag:${n}`);
const value = (size: number): Buffer => VALUE_BYTES.subarray(0, size);

/** 80% 16–128 B, 17% 129 B–1 KiB, 3% 1–8 KiB. */
function mixedSize(random: Random): number {
  const pick = random();
  if (pick < 0.8) return randomInt(random, 16, 128);
  if (pick < 0.97) return randomInt(random, 129, 1024);
  return randomInt(random, 1025, 8192);
}

/** Cuts a stream of commands into batches of `size`, all of one phase. */
function* inBatches(phase: string, commands: Iterable<Command>, size: number): Generator<Batch> {
  let batch: Command[] = [];
  for (const command of commands) {
    batch.push(command);
    if (batch.length === size) {
      yield { phase, commands: batch };
      batch = [];
    }
  }
  if (batch.length > 0) yield { phase, commands: batch };
}

function* fill(count: number, random: Random, size: (random: Random) => number = mixedSize): Generator<Command> {
  for (let n = 0; n < count; n++) yield [SET, keyName(n), value(size(random))];
}

function* deleteKeys(order: ArrayLike<number>, count = order.length): Generator<Command> {
  for (let i = 0; i < count; i++) yield [DEL, keyName(order[i])];
}

/** Batches of nothing but a pause: the curve over time after the work stops (defragmentation, lazy frees). */
function* settle(samples: number, pauseMs: number): Generator<Batch> {
  for (let i = 0; i < samples; i++) yield { phase: 'settle', commands: [], pauseMs };
}

const SETTLE_SAMPLES = 10;
export const SETTLE_PAUSE_MS = 200;

const deleteHalf: Workload = {
  name: 'delete-half',
  description: 'fill with mixed sizes, delete a random half, then leave the server alone',
  keyCount: ({ keys }) => keys,
  *batches({ keys, seed, batchSize, settleMs = SETTLE_PAUSE_MS }) {
    const random = createRandom(seed);
    yield* inBatches('fill', fill(keys, random), batchSize);
    yield* inBatches('delete half', deleteKeys(shuffledIndexes(keys, random), Math.floor(keys / 2)), batchSize);
    yield* settle(SETTLE_SAMPLES, settleMs);
  },
};

/** Churn keeps about `keys` live out of 2 × keys names: each step sets or deletes a random one. */
const churn: Workload = {
  name: 'churn',
  description: 'fill, then 4 × keys random SETs (new sizes) and DELs over twice as many names',
  keyCount: ({ keys }) => keys * 2,
  *batches({ keys, seed, batchSize, settleMs = SETTLE_PAUSE_MS }) {
    const random = createRandom(seed);
    yield* inBatches('fill', fill(keys, random), batchSize);
    function* steps(): Generator<Command> {
      for (let i = 0; i < keys * 4; i++) {
        const name = keyName(randomInt(random, 0, keys * 2 - 1));
        yield random() < 0.5 ? [SET, name, value(mixedSize(random))] : [DEL, name];
      }
    }
    yield* inBatches('churn', steps(), batchSize);
    yield* settle(SETTLE_SAMPLES, settleMs);
  },
};

const GROWTH_ROUNDS = 12;

/** Every value starts small and grows by APPEND, so it moves up through the size classes. */
const growth: Workload = {
  name: 'growth',
  description: `fill with 16–64 B values, then ${GROWTH_ROUNDS} rounds of APPEND (8–96 B) to every key in random order`,
  keyCount: ({ keys }) => keys,
  *batches({ keys, seed, batchSize, settleMs = SETTLE_PAUSE_MS }) {
    const random = createRandom(seed);
    yield* inBatches('fill', fill(keys, random, (r) => randomInt(r, 16, 64)), batchSize);
    function* appends(): Generator<Command> {
      for (let round = 0; round < GROWTH_ROUNDS; round++) {
        const order = shuffledIndexes(keys, random);
        for (let i = 0; i < keys; i++) yield [APPEND, keyName(order[i]), value(randomInt(random, 8, 96))];
      }
    }
    yield* inBatches('append', appends(), batchSize);
    yield* settle(SETTLE_SAMPLES, settleMs);
  },
};

const SAWTOOTH_CYCLES = 3;

/** Fill and empty again, in a different order each time: does memory come back, and is it reused? */
const sawtooth: Workload = {
  name: 'sawtooth',
  description: `${SAWTOOTH_CYCLES} cycles of fill with mixed sizes, then delete every key in random order`,
  keyCount: ({ keys }) => keys,
  *batches({ keys, seed, batchSize, settleMs = SETTLE_PAUSE_MS }) {
    const random = createRandom(seed);
    for (let cycle = 1; cycle <= SAWTOOTH_CYCLES; cycle++) {
      yield* inBatches(`fill ${cycle}`, fill(keys, random), batchSize);
      yield* inBatches(`empty ${cycle}`, deleteKeys(shuffledIndexes(keys, random)), batchSize);
    }
    yield* settle(SETTLE_SAMPLES, settleMs);
  },
};

export const WORKLOADS: ReadonlyMap<string, Workload> = new Map([deleteHalf, churn, growth, sawtooth].map((w) => [w.name, w]));

/** Commands that delete every key a workload may have left, in batches (a clean start on a running server). */
export function* cleanup(workload: Workload, options: WorkloadOptions): Generator<Command[]> {
  const count = workload.keyCount(options);
  for (let start = 0; start < count; start += options.batchSize) {
    const end = Math.min(count, start + options.batchSize);
    const names = Array.from({ length: end - start }, (_, i) => keyName(start + i));
    yield [[DEL, ...names]];
  }
}
