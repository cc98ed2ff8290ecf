/**
 * Packed sequences against an array model: every edit (append, insert, replace, delete) keeps the
 * elements, their count and the total size equal to what the model says, integers and strings of every
 * header size included, and every allocation is given back when the sequence is freed.
 */
import { Arena } from 'native-free-alloc';
import { describe, expect, it } from 'vitest';
import {
  PACKED_FIRST,
  PackedElement,
  encodedSize,
  packedAppend,
  packedCount,
  packedCreate,
  packedDeleteAt,
  packedFind,
  packedFree,
  packedInsertAt,
  packedInteger,
  packedOffsetOf,
  packedRandomIndex,
  packedReplaceAt,
  packedTotalBytes,
  readElement,
} from '../../src/collections/packed.js';
import { Random } from '../helpers/random.js';

const b = (s: string) => Buffer.from(s, 'latin1');

function contents(arena: Arena, handle: number): string[] {
  const out: string[] = [];
  const element = new PackedElement();
  const end = packedTotalBytes(arena, handle);
  for (let at = PACKED_FIRST; at < end; ) {
    at = readElement(arena, handle, at, element);
    const value = element.value(arena);
    out.push(typeof value === 'string' ? value : Buffer.from(value).toString('latin1'));
  }
  return out;
}

const SAMPLES = [
  '', '0', '7', '127', '128', '-1', '-0', '01', '+1', ' 1', '1 ', '32767', '-32768', '32768', '8388607', '-8388609',
  '2147483647', '-2147483648', '2147483648', '9007199254740991', '-9007199254740991', '9007199254740992',
  '9223372036854775807', '-9223372036854775808', '99999999999999999999', 'abc', 'x'.repeat(63), 'y'.repeat(64),
  'z'.repeat(8191), 'w'.repeat(8192), 'v'.repeat(70000), '1.5', '\0\xff',
];

describe('packed sequences', () => {
  it('stores integers only when their text reads back the same', () => {
    expect(packedInteger(b('-0'))).toBeNaN();
    expect(packedInteger(b('01'))).toBeNaN();
    expect(packedInteger(b('9007199254740992'))).toBeNaN();
    expect(packedInteger(b('-9007199254740991'))).toBe(-9007199254740991);
    expect(encodedSize(b('127'))).toBe(1);
    expect(encodedSize(b('128'))).toBe(3);
    expect(encodedSize(b('abc'))).toBe(4);
    expect(encodedSize(b('x'.repeat(64)))).toBe(66);
  });

  it('round-trips every header size and finds each element by value', () => {
    const arena = new Arena();
    const before = arena.stats().requestedBytes;
    let handle = packedCreate(arena, 1);
    for (const sample of SAMPLES) handle = packedAppend(arena, handle, b(sample));
    expect(contents(arena, handle)).toEqual(SAMPLES);
    expect(packedCount(arena, handle)).toBe(SAMPLES.length);
    expect(packedTotalBytes(arena, handle)).toBe(PACKED_FIRST + SAMPLES.reduce((sum, s) => sum + encodedSize(b(s)), 0));
    SAMPLES.forEach((sample, index) => {
      expect(packedFind(arena, handle, b(sample), packedInteger(b(sample)))).toBe(packedOffsetOf(arena, handle, index));
    });
    expect(packedFind(arena, handle, b('nope'), NaN)).toBe(-1);
    // Stride 2 looks only at even positions: '0' is at index 1.
    expect(packedFind(arena, handle, b('0'), 0, 2)).toBe(-1);
    packedFree(arena, handle);
    expect(arena.stats().requestedBytes).toBe(before);
  });

  it('matches an array model through random appends, inserts, replaces and deletes', () => {
    const random = new Random(7);
    const arena = new Arena();
    const before = arena.stats().requestedBytes;
    let handle = packedCreate(arena, 1);
    const model: string[] = [];
    const item = () => random.pick(SAMPLES.slice(0, 28).concat(['a', 'bb', String(random.int(0, 1000)), String(-random.int(0, 1e12))]));
    for (let step = 0; step < 3000; step++) {
      const op = random.int(0, 3);
      const index = random.int(0, model.length);
      if (op === 0 || model.length === 0) {
        const value = item();
        handle = packedAppend(arena, handle, b(value));
        model.push(value);
      } else if (op === 1) {
        const value = item();
        handle = packedInsertAt(arena, handle, packedOffsetOf(arena, handle, index), b(value));
        model.splice(index, 0, value);
      } else if (op === 2 && index < model.length) {
        const value = item();
        handle = packedReplaceAt(arena, handle, packedOffsetOf(arena, handle, index), b(value));
        model[index] = value;
      } else if (index < model.length) {
        const count = Math.min(model.length - index, random.int(1, 3));
        handle = packedDeleteAt(arena, handle, packedOffsetOf(arena, handle, index), count);
        model.splice(index, count);
      }
      expect(packedCount(arena, handle)).toBe(model.length);
    }
    expect(contents(arena, handle)).toEqual(model);
    const picked = packedRandomIndex(arena, handle, () => 0.999999, 2);
    expect(picked % 2).toBe(0);
    expect(picked).toBeLessThan(model.length);
    packedFree(arena, handle);
    expect(arena.stats().requestedBytes).toBe(before);
  });
});
