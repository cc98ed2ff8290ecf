/**
 * PFSELFTEST: sabre's own check of its HyperLogLog code, run on the server. It answers OK, or the first
 * failure found, as Redis's does (its steps are ours, not Redis's):
 *
 * 1. dense registers: random values written to every register read back unchanged, neighbours intact;
 * 2. sparse and dense agree: the same elements added to a sparse and a dense HyperLogLog give the same
 *    estimate at every checkpoint, and the same registers once the sparse one has turned dense;
 * 3. accuracy: at every checkpoint the estimate is within six standard errors (1.04 / sqrt(16384)).
 */
import { estimateCardinality } from './estimator.js';
import {
  DENSE_BYTES,
  DENSE_REGISTER_BYTES,
  ENCODING_DENSE,
  HEADER_BYTES,
  REGISTER_COUNT,
  denseRegister,
  elementPattern,
  isDense,
  patternRegister,
  patternRun,
  setDenseRegister,
  writeHeader,
} from './format.js';
import { newHistogram, registerHistogram } from './registers.js';
import { SPARSE_MAX_BYTES, Workspace, denseSet, sparseSet } from './sparse.js';

const ELEMENTS = 200_000;
const MAX_RELATIVE_ERROR = (1.04 / Math.sqrt(REGISTER_COUNT)) * 6;

/** A small deterministic generator, so a failure can be reproduced. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
}

function checkDenseRegisters(): string | undefined {
  const registers = new Uint8Array(DENSE_REGISTER_BYTES);
  const expected = new Uint8Array(REGISTER_COUNT);
  const next = lcg(1);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < REGISTER_COUNT; i++) {
      expected[i] = next() & 63;
      setDenseRegister(registers, i, expected[i]);
    }
    for (let i = 0; i < REGISTER_COUNT; i++) {
      if (denseRegister(registers, i) !== expected[i]) return `dense register ${i} reads ${denseRegister(registers, i)}, not ${expected[i]}`;
    }
  }
  return undefined;
}

function estimate(hll: Uint8Array): number {
  const histogram = newHistogram();
  registerHistogram(hll, histogram);
  return estimateCardinality(histogram);
}

function checkEstimates(): string | undefined {
  const sparse = new Workspace();
  sparse.loadEmpty();
  const dense = new Uint8Array(DENSE_BYTES);
  writeHeader(dense, ENCODING_DENSE);
  const registers = dense.subarray(HEADER_BYTES);
  let checkpoint = 1;
  for (let n = 1; n <= ELEMENTS; n++) {
    const pattern = elementPattern(Buffer.from(String(n)));
    // Once the sparse one has turned dense it is compared with the other dense one, register by register.
    if (isDense(sparse.bytes)) denseSet(sparse.bytes.subarray(HEADER_BYTES, DENSE_BYTES), patternRegister(pattern), patternRun(pattern));
    else sparseSet(sparse, patternRegister(pattern), patternRun(pattern), SPARSE_MAX_BYTES);
    denseSet(registers, patternRegister(pattern), patternRun(pattern));
    if (n !== checkpoint) continue;
    checkpoint *= 2;
    const fromDense = estimate(dense);
    if (estimate(sparse.view()) !== fromDense) return `the sparse-born and dense estimates differ after ${n} elements`;
    if (isDense(sparse.bytes) && !sparse.view().subarray(HEADER_BYTES).every((byte, i) => byte === registers[i])) {
      return `the sparse-born registers differ from the dense ones after ${n} elements`;
    }
    if (Math.abs(fromDense - n) > MAX_RELATIVE_ERROR * n + 1) return `estimate ${fromDense} for ${n} elements is off by more than 6 standard errors`;
  }
  return undefined;
}

/** Undefined when every check passes, else what failed. */
export function runSelfTest(): string | undefined {
  return checkDenseRegisters() ?? checkEstimates();
}
