/**
 * The size distributions and operation sequences every allocator benchmark replays.
 *
 * Everything is generated up front into typed arrays, so the timed loops only read an array and call the
 * allocator: no random draws, no JS objects created per operation on the measured path (the JS-heap
 * contender's own Buffers excepted, since those are what it is measured on).
 */
import { createRandom, randomInt, shuffledIndexes, type Random } from './prng.js';

export interface SizeDistribution {
  name: string;
  /** How the sizes are drawn, for table captions. */
  description: string;
  sample(random: Random): number;
}

export const SMALL_SIZES: SizeDistribution = {
  name: 'small',
  description: '16–128 B, uniform',
  sample: (random) => randomInt(random, 16, 128),
};

export const MEDIUM_SIZES: SizeDistribution = {
  name: 'medium',
  description: '1–4 KiB, uniform',
  sample: (random) => randomInt(random, 1024, 4096),
};

/** Mostly small, as a keyspace of short strings is; the 16–64 KiB tail exercises the page-run path. */
export const MIXED_SIZES: SizeDistribution = {
  name: 'mixed',
  description: '90% 16–128 B, 9% 1–4 KiB, 1% 16–64 KiB',
  sample: (random) => {
    const pick = random();
    if (pick < 0.9) return randomInt(random, 16, 128);
    if (pick < 0.99) return randomInt(random, 1024, 4096);
    return randomInt(random, 16 * 1024, 64 * 1024);
  },
};

export const FRAGMENTATION_SIZES: SizeDistribution = {
  name: 'fragmentation',
  description: '16–256 B, uniform',
  sample: (random) => randomInt(random, 16, 256),
};

function drawSizes(count: number, distribution: SizeDistribution, random: Random): Uint32Array {
  const sizes = new Uint32Array(count);
  for (let i = 0; i < count; i++) sizes[i] = distribution.sample(random);
  return sizes;
}

/** One timed iteration: allocate `sizes` in order, then free them in `freeOrder` (indexes into sizes). */
export interface Round {
  sizes: Uint32Array;
  freeOrder: Uint32Array;
}

export interface BatchWorkload {
  distribution: SizeDistribution;
  batchSize: number;
  /** Cycled through by the timed iterations; several rounds so one lucky draw does not dominate. */
  rounds: Round[];
}

export function makeBatchWorkload(
  distribution: SizeDistribution,
  batchSize: number,
  roundCount: number,
  seed: number,
): BatchWorkload {
  const random = createRandom(seed);
  const rounds: Round[] = [];
  for (let r = 0; r < roundCount; r++) {
    rounds.push({ sizes: drawSizes(batchSize, distribution, random), freeOrder: shuffledIndexes(batchSize, random) });
  }
  return { distribution, batchSize, rounds };
}

/**
 * The fill / free-half / refill sequence: `fillSizes.length` objects, then the objects at
 * `freeHalf` (a random half of the fill's indexes) freed, then `refillSizes` allocated.
 */
export interface FragmentationPlan {
  distribution: SizeDistribution;
  fillSizes: Uint32Array;
  freeHalf: Uint32Array;
  refillSizes: Uint32Array;
}

export function makeFragmentationPlan(count: number, seed: number): FragmentationPlan {
  const random = createRandom(seed);
  const fillSizes = drawSizes(count, FRAGMENTATION_SIZES, random);
  const freeHalf = shuffledIndexes(count, random).subarray(0, count >>> 1);
  const refillSizes = drawSizes(count >>> 1, FRAGMENTATION_SIZES, random);
  return { distribution: FRAGMENTATION_SIZES, fillSizes, freeHalf, refillSizes };
}
