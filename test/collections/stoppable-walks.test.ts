/**
 * The walks that can stop (forEachWhile) behind SINTERCARD and ZINTERCARD LIMIT: in every encoding a
 * full walk visits each member once, and a walk told to stop visits exactly as many members as it asked
 * for, so LIMIT costs the members it needs, not the whole set.
 */
import { describe, expect, it } from 'vitest';
import { argvOf, InProcessSabre } from '../helpers/in-process-sabre.js';
import { SetValue } from '../../src/collections/set.js';
import { SortedSetValue } from '../../src/collections/zset.js';

const text = (member: Uint8Array | string | number | bigint): string => (typeof member === 'object' ? Buffer.from(member).toString('latin1') : String(member));

function walks(visitAll: (visit: (member: string) => boolean) => void, size: number): void {
  const seen = new Set<string>();
  let visits = 0;
  visitAll((member) => {
    seen.add(member);
    visits++;
    return true;
  });
  expect(visits).toBe(size);
  expect(seen.size).toBe(size);
  for (const wanted of [1, 7, size - 1]) {
    let stoppedAfter = 0;
    visitAll(() => ++stoppedAfter < wanted);
    expect(stoppedAfter).toBe(wanted);
  }
}

describe('walks that stop', () => {
  for (const [encoding, members] of [['intset', (i: number) => String(i)], ['hashtable', (i: number) => `m${i}`]] as const) {
    it(`SetValue.forEachWhile over a ${encoding}`, () => {
      const sabre = new InProcessSabre();
      const size = encoding === 'intset' ? 300 : 5000;
      for (let i = 0; i < size; i += 100) sabre.run(argvOf(['SADD', 's', ...Array.from({ length: 100 }, (_, j) => members(i + j))]));
      expect(sabre.run(argvOf(['OBJECT', 'ENCODING', 's'])).toString()).toContain(encoding);
      const set = new SetValue(sabre.arena, sabre.db.collectionRoot(sabre.db.lookup(Buffer.from('s'))));
      walks((visit) => set.forEachWhile((member) => visit(text(member))), size);
    });
  }

  for (const [encoding, size] of [['listpack', 100], ['skiplist', 3000]] as const) {
    it(`SortedSetValue.forEachWhile over a ${encoding}, in ascending order`, () => {
      const sabre = new InProcessSabre();
      for (let i = 0; i < size; i += 100) sabre.run(argvOf(['ZADD', 'z', ...Array.from({ length: 100 }, (_, j) => [String(size - i - j), `m${i + j}`]).flat()]));
      expect(sabre.run(argvOf(['OBJECT', 'ENCODING', 'z'])).toString()).toContain(encoding);
      const zset = new SortedSetValue(sabre.arena, sabre.db.collectionRoot(sabre.db.lookup(Buffer.from('z'))));
      const scores: number[] = [];
      zset.forEachWhile((_, score) => scores.push(score) > 0);
      expect(scores).toEqual(Array.from({ length: size }, (_, i) => i + 1));
      walks((visit) => zset.forEachWhile((member) => visit(text(member))), size);
    });
  }
});
