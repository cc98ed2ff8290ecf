/**
 * Reading a HyperLogLog's registers whatever its encoding: the histogram the estimator needs, and the
 * register-wise maximum PFCOUNT of several keys and PFMERGE build (a "raw" array of one byte per
 * register, Redis's HLL_RAW). Neither writes to the HyperLogLog.
 *
 * Dense registers are unpacked four at a time from each three bytes (4 × 6 = 24 bits): PFCOUNT without a
 * cached count walks all 16384 of them.
 */
import { HEADER_BYTES, REGISTER_COUNT, isDense } from './format.js';
import { HISTOGRAM_SLOTS } from './estimator.js';
import { forEachSparseRun } from './sparse.js';

/** Calls visit(index, value) for every dense register, in order. */
function forEachDenseRegister(hll: Uint8Array, visit: (index: number, value: number) => void): void {
  for (let index = 0, at = HEADER_BYTES; index < REGISTER_COUNT; index += 4, at += 3) {
    const b0 = hll[at];
    const b1 = hll[at + 1];
    const b2 = hll[at + 2];
    visit(index, b0 & 63);
    visit(index + 1, ((b0 >>> 6) | (b1 << 2)) & 63);
    visit(index + 2, ((b1 >>> 4) | (b2 << 4)) & 63);
    visit(index + 3, b2 >>> 2);
  }
}

/** A fresh histogram array (register value → number of registers). */
export const newHistogram = (): Int32Array => new Int32Array(HISTOGRAM_SLOTS);

/** Fills `histogram` (zeroed) from a HyperLogLog; false when its sparse code is corrupt. */
export function registerHistogram(hll: Uint8Array, histogram: Int32Array): boolean {
  if (isDense(hll)) {
    forEachDenseRegister(hll, (_, value) => histogram[value]++);
    return true;
  }
  return forEachSparseRun(
    hll,
    (value, _, length) => (histogram[value] += length),
    (length) => (histogram[0] += length),
  );
}

/** Fills `histogram` (zeroed) from raw registers. */
export function rawHistogram(registers: Uint8Array, histogram: Int32Array): void {
  for (let i = 0; i < REGISTER_COUNT; i++) histogram[registers[i]]++;
}

/** Raises each raw register in `max` to the HyperLogLog's; false when its sparse code is corrupt. */
export function mergeRegisters(hll: Uint8Array, max: Uint8Array): boolean {
  if (isDense(hll)) {
    forEachDenseRegister(hll, (index, value) => {
      if (value > max[index]) max[index] = value;
    });
    return true;
  }
  return forEachSparseRun(hll, (value, first, length) => {
    for (let i = first; i < first + length; i++) if (value > max[i]) max[i] = value;
  });
}
