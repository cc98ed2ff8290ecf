/**
 * A list owns every allocation it makes: deleting, overwriting, expiring, renaming over or flushing a
 * key that holds one (one node or many, long elements included) gives the arena back exactly the bytes
 * it had before, and so does emptying it by pops, LREM, LTRIM or LMOVE, which delete the key.
 */
import { describe, expect, it } from 'vitest';
import { argvOf, InProcessSabre } from '../helpers/in-process-sabre.js';
import { expectEveryWayGivesBack, fillsOfSizes } from '../helpers/memory-given-back.js';

function fill(sabre: InProcessSabre, key: string, elements: number): void {
  const args: string[] = [];
  for (let i = 0; i < elements; i++) args.push(i % 3 === 0 ? String(i) : `v${i}${'x'.repeat(i % 700)}`);
  sabre.run(argvOf(['RPUSH', key, ...args]));
}

describe('list memory', () => {
  it('is all given back, whichever way the key goes', () => {
    const fills = fillsOfSizes([3, 2000], 'elements', (sabre, count) => {
      fill(sabre, 'l', count);
      sabre.run(argvOf(['LINSERT', 'l', 'BEFORE', '0', 'y'.repeat(5000)]));
      sabre.run(argvOf(['LSET', 'l', '1', 'z'.repeat(300)]));
    });
    expectEveryWayGivesBack('l', fills, [
      ['LPOP all', [['LPOP', 'l', '100000']]],
      ['RPOP one by one', [...Array.from({ length: 2100 }, () => ['RPOP', 'l'])]],
      ['LTRIM to nothing', [['LTRIM', 'l', '1', '0']]],
      ['LTRIM to one, then DEL', [['LTRIM', 'l', '1', '1'], ['LINDEX', 'l', '0'], ['DEL', 'l']]],
      ['LMOVE everything', [...Array.from({ length: 2100 }, () => ['LMOVE', 'l', 'm', 'RIGHT', 'LEFT']), ['DEL', 'm']]],
      ['LMPOP', [['LMPOP', '1', 'l', 'LEFT', 'COUNT', '5000']]],
    ]);
  });

  it('frees what LREM removes, and the key with the last element', () => {
    const sabre = new InProcessSabre();
    const baseline = sabre.arena.stats().requestedBytes;
    sabre.run(argvOf(['RPUSH', 'l', ...Array.from({ length: 3000 }, (_, i) => (i % 2 === 0 ? 'a' : `b${i}`))]));
    expect(sabre.run(argvOf(['LREM', 'l', '0', 'a'])).toString()).toBe(':1500\r\n');
    expect(sabre.run(argvOf(['LLEN', 'l'])).toString()).toBe(':1500\r\n');
    for (let i = 1; i < 3000; i += 2) sabre.run(argvOf(['LREM', 'l', '-1', `b${i}`]));
    expect(sabre.run(argvOf(['EXISTS', 'l'])).toString()).toBe(':0\r\n');
    expect(sabre.arena.stats().requestedBytes).toBe(baseline);
  });
});
