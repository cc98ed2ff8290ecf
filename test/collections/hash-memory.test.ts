/**
 * A hash owns every allocation it makes: deleting, overwriting, expiring, renaming over or flushing a
 * key that holds one (packed or table, long values included) gives the arena back exactly the bytes it
 * had before, and HDEL of the last field deletes the key.
 */
import { describe, expect, it } from 'vitest';
import { argvOf, InProcessSabre } from '../helpers/in-process-sabre.js';
import { expectEveryWayGivesBack, fillsOfSizes } from '../helpers/memory-given-back.js';

function fill(sabre: InProcessSabre, key: string, fields: number): void {
  const args: string[] = [];
  for (let i = 0; i < fields; i++) args.push(`f${i}`, i % 3 === 0 ? String(i) : `v${i}${'x'.repeat(i % 700)}`);
  sabre.run(argvOf(['HSET', key, ...args]));
}

describe('hash memory', () => {
  it('is all given back, whichever way the key goes', () => {
    expectEveryWayGivesBack('h', fillsOfSizes([3, 2000], 'fields', (sabre, count) => fill(sabre, 'h', count)), []);
  });

  it('deletes the key with its last field, and frees the fields HDEL removes', () => {
    const sabre = new InProcessSabre();
    const baseline = sabre.arena.stats().requestedBytes;
    fill(sabre, 'h', 1000);
    const args = Array.from({ length: 1000 }, (_, i) => `f${i}`);
    expect(sabre.run(argvOf(['HDEL', 'h', ...args.slice(0, 999)])).toString()).toBe(':999\r\n');
    expect(sabre.run(argvOf(['HLEN', 'h'])).toString()).toBe(':1\r\n');
    expect(sabre.run(argvOf(['HDEL', 'h', 'f999', 'nope'])).toString()).toBe(':1\r\n');
    expect(sabre.run(argvOf(['EXISTS', 'h'])).toString()).toBe(':0\r\n');
    expect(sabre.arena.stats().requestedBytes).toBe(baseline);
  });
});
