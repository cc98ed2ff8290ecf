/**
 * The quicklist's record array is a deque (list.ts): random mixes of pushes and pops at both ends,
 * LINSERT, LSET, LREM and LTRIM at tiny node sizes, so that records are opened and closed at both ends
 * and in the middle and the array is re-centred, grown and shrunk many times, checked element for
 * element against a plain array after every step, with the layout's invariants, and with every byte
 * given back when the list is freed (whole or a slice at a time).
 */
import { describe, expect, it } from 'vitest';
import { Arena } from 'native-free-alloc';
import { ListValue, listNodeCounts, listNodeCount, listUsage, type ListBytes } from '../../src/collections/list.js';
import { freeCollection, freeCollectionSlice } from '../../src/collections/collection.js';
import { Random } from '../helpers/random.js';

const text = (value: ListBytes): string => (typeof value === 'string' ? value : Buffer.from(value).toString('latin1'));
const bytes = (value: string): Uint8Array => Buffer.from(value, 'latin1');

function contents(list: ListValue): string[] {
  const items: string[] = [];
  list.forEach((value) => items.push(text(value)));
  return items;
}

function check(arena: Arena, list: ListValue, model: string[]): void {
  expect(list.length).toBe(model.length);
  if (model.length === 0) return;
  expect(listNodeCounts(arena, list.root).reduce((sum, count) => sum + count, 0)).toBe(model.length);
  expect(listNodeCount(arena, list.root)).toBe(list.nodes);
  expect(listUsage(arena, list.root)).toBeGreaterThan(0);
}

/** One random step on both the list and the model. */
function step(random: Random, list: ListValue, model: string[], fill: number, pushBias: number): void {
  const item = () => random.pick(['a', 'b', 'c', '1', '-7', '300', '', 'long'.repeat(random.int(1, 40))]);
  const choice = random.next();
  if (choice < pushBias) {
    const value = item();
    const atHead = random.next() < 0.5;
    list.push(bytes(value), atHead, fill);
    if (atHead) model.unshift(value);
    else model.push(value);
    return;
  }
  if (model.length === 0) return;
  const kind = random.int(0, 9);
  if (kind <= 3) {
    const atHead = kind <= 1;
    expect(text(list.pop(atHead))).toBe(atHead ? model.shift() : model.pop());
  } else if (kind === 4) {
    const index = random.int(0, model.length - 1);
    const value = item();
    list.set(index, bytes(value));
    model[index] = value;
  } else if (kind === 5) {
    const pivot = item();
    const after = random.next() < 0.5;
    const value = item();
    const at = model.indexOf(pivot);
    expect(list.insertAtPivot(bytes(pivot), after, bytes(value), fill)).toBe(at >= 0);
    if (at >= 0) model.splice(after ? at + 1 : at, 0, value);
  } else if (kind === 6) {
    const needle = item();
    const limit = random.int(0, 3);
    const fromTail = random.next() < 0.5;
    let removed = 0;
    const order = model.map((_, i) => i);
    if (fromTail) order.reverse();
    const drop = new Set<number>();
    for (const i of order) if (model[i] === needle && (limit === 0 || removed < limit)) drop.add(i), removed++;
    expect(list.removeMatching(bytes(needle), limit, fromTail)).toBe(removed);
    const kept = model.filter((_, i) => !drop.has(i));
    model.splice(0, model.length, ...kept);
  } else if (kind === 7) {
    // LTRIM: keep start … end.
    const start = random.int(0, Math.min(3, model.length - 1));
    const end = Math.max(start, model.length - 1 - random.int(0, 3));
    list.deleteRange(end + 1, model.length - end - 1);
    list.deleteRange(0, start);
    model.splice(end + 1);
    model.splice(0, start);
  } else if (kind === 8) {
    const index = random.int(0, model.length - 1);
    expect(text(list.get(index))).toBe(model[index]);
  } else {
    const start = random.int(0, model.length - 1);
    const count = random.int(1, model.length - start);
    const seen: string[] = [];
    list.forRange(start, count, (value) => seen.push(text(value)));
    expect(seen).toEqual(model.slice(start, start + count));
  }
}

describe('quicklist record deque', () => {
  for (const [seed, fill] of [[1, 1], [2, 2], [3, 3], [4, 5], [5, -1]] as const) {
    it(`matches an array model through growth and shrinking (seed ${seed}, list-max-listpack-size ${fill})`, () => {
      const random = new Random(seed);
      const arena = new Arena();
      const baseline = arena.stats().requestedBytes;
      let list = ListValue.create(arena);
      const model: string[] = [];
      // Phases: grow (pushes dominate), churn, shrink (pops dominate), and again.
      for (const [steps, pushBias] of [[1500, 0.8], [1500, 0.5], [2500, 0.2], [1500, 0.75], [800, 0.45]] as const) {
        for (let i = 0; i < steps; i++) {
          step(random, list, model, fill, pushBias);
          if (model.length === 0) {
            // A stored list is never empty: the commands delete the key with its last element.
            freeCollection(arena, list.root);
            list = ListValue.create(arena);
          }
        }
        check(arena, list, model);
        expect(contents(list)).toEqual(model);
      }
      // Freed a few nodes at a time, as lazy freeing does.
      let cursor = 0;
      while ((cursor = freeCollectionSlice(arena, list.root, cursor, 7)) !== -1);
      expect(arena.stats().requestedBytes).toBe(baseline);
    });
  }

  it('keeps head pushes cheap: LPUSH builds as fast as RPUSH', () => {
    const build = (atHead: boolean): number => {
      const arena = new Arena();
      const list = ListValue.create(arena);
      const item = bytes('element');
      const started = performance.now();
      for (let i = 0; i < 100_000; i++) list.push(item, atHead, 1);
      const elapsed = performance.now() - started;
      expect(list.nodes).toBe(100_000);
      freeCollection(arena, list.root);
      return elapsed;
    };
    build(false);
    const tail = build(false);
    const head = build(true);
    // A head-first array without free slots before the head made this ~100× slower than RPUSH.
    expect(head).toBeLessThan(tail * 3 + 50);
  });
});
