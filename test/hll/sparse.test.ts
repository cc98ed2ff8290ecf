/**
 * The sparse codec on its own, for the paths the differential tests cannot reach through hashing: a
 * run above 32 (a hash with 32 zero bits in a row, one element in 2^32) turns the HyperLogLog dense, and
 * hll-sparse-max-bytes values other than the default.
 */
import { describe, expect, it } from 'vitest';
import { estimateCardinality } from '../../src/hll/estimator.js';
import { DENSE_BYTES, HEADER_BYTES, REGISTER_COUNT, denseRegister, invalidateCache, isDense } from '../../src/hll/format.js';
import { newHistogram, registerHistogram } from '../../src/hll/registers.js';
import { Workspace, describeSparse, sparseSet } from '../../src/hll/sparse.js';

const fresh = (): Workspace => {
  const workspace = new Workspace();
  workspace.loadEmpty();
  return workspace;
};

describe('the sparse HyperLogLog codec', () => {
  it('starts as the header and one XZERO of 16384, counting 0', () => {
    const workspace = fresh();
    expect(Buffer.from(workspace.view()).toString('latin1')).toBe('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff');
    const histogram = newHistogram();
    expect(registerHistogram(workspace.view(), histogram)).toBe(true);
    expect(histogram[0]).toBe(REGISTER_COUNT);
    expect(estimateCardinality(histogram)).toBe(0);
  });

  it('turns dense for a run above 32, keeping the header and every register', () => {
    const workspace = fresh();
    expect(sparseSet(workspace, 100, 3, 3000)).toBe(1);
    invalidateCache(workspace.bytes);
    expect(sparseSet(workspace, 16383, 40, 3000)).toBe(1);
    expect(isDense(workspace.bytes)).toBe(true);
    expect(workspace.length).toBe(DENSE_BYTES);
    const registers = workspace.view().subarray(HEADER_BYTES);
    expect([denseRegister(registers, 100), denseRegister(registers, 16383), denseRegister(registers, 0)]).toEqual([3, 40, 0]);
    expect(workspace.bytes[15]).toBe(0x80);
  });

  it('turns dense when a split would pass the size limit, and not before', () => {
    const workspace = fresh();
    // 18 bytes now; the split of the XZERO into XZERO, VAL, XZERO makes 21.
    expect(sparseSet(workspace, 1000, 2, 21)).toBe(1);
    expect(describeSparse(workspace.view())).toBe('Z:1000 v:2,1 Z:15383');
    expect(sparseSet(workspace, 5000, 2, 23)).toBe(1);
    expect(isDense(workspace.bytes)).toBe(true);
  });

  it('answers -1 for a code that does not cover the register, and 0 for a run no higher', () => {
    const workspace = new Workspace();
    workspace.load(Buffer.from('HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xfe', 'latin1'));
    expect(sparseSet(workspace, 16383, 1, 3000)).toBe(-1);
    expect(sparseSet(workspace, 7, 4, 3000)).toBe(1);
    expect(sparseSet(workspace, 7, 4, 3000)).toBe(0);
    expect(sparseSet(workspace, 7, 2, 3000)).toBe(0);
    expect(describeSparse(workspace.view())).toBe('z:7 v:4,1 Z:16375');
  });
});
