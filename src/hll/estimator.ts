/**
 * The cardinality estimate from a register histogram: Otmar Ertl's improved estimator ("New
 * cardinality estimation algorithms for HyperLogLog sketches", 2017), which Redis uses since 5.0. It
 * needs no bias tables or range corrections; the sigma and tau series correct for registers stuck at 0
 * and for registers that reached the top value HLL_Q + 1.
 *
 * Every step is an IEEE double operation in the order Redis performs it (the squaring in tau is x * x,
 * which is what C compilers make of pow(x, 2)), so the estimates equal Redis's to the unit.
 */
import { HLL_Q, REGISTER_COUNT } from './format.js';

/** Histogram slots: every register value 0..HLL_Q + 1 (sparse VAL values are within it too). */
export const HISTOGRAM_SLOTS = 64;

/** alpha for m → ∞: 1 / (2 ln 2). */
const ALPHA_INF = 0.721347520444481703680;

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (previous !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    const complement = 1 - x;
    z -= complement * complement * y;
  } while (previous !== z);
  return z / 3;
}

/** The estimate for a histogram of REGISTER_COUNT registers (histogram[v] = registers holding v). */
export function estimateCardinality(histogram: ArrayLike<number>): number {
  const m = REGISTER_COUNT;
  let z = m * tau((m - histogram[HLL_Q + 1]) / m);
  for (let value = HLL_Q; value >= 1; value--) {
    z += histogram[value];
    z *= 0.5;
  }
  z += m * sigma(histogram[0] / m);
  // C's llroundl: to nearest, halves away from zero; Math.round is exact and the value is never negative.
  return Math.round((ALPHA_INF * m * m) / z);
}
