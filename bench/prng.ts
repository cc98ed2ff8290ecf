/**
 * Seeded randomness for the benchmarks: every contender replays exactly the same sizes and free order,
 * so differences in the tables come from the allocators and not from the draw.
 *
 * mulberry32: 32 bits of state, a handful of integer ops per draw. Statistical quality is far beyond what
 * picking object sizes needs, and it is cheap enough that generating a million sizes costs milliseconds.
 */

export type Random = () => number;

/** A generator of floats in [0, 1) fully determined by `seed`. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A whole number in [min, max], both inclusive. */
export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** 0..n-1 in a random order (Fisher–Yates). */
export function shuffledIndexes(n: number, random: Random): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}
