/**
 * A set owns every allocation it makes: deleting, overwriting, expiring, renaming over or flushing a key
 * that holds one (intset of every width, or table) gives the arena back exactly the bytes it had before;
 * SREM, SPOP and SMOVE of the last member delete the key, and the algebra's results leave nothing behind.
 */
import { describe, expect, it } from 'vitest';
import { argvOf, InProcessSabre } from '../helpers/in-process-sabre.js';
import { expectEveryWayGivesBack, fillsOfSizes } from '../helpers/memory-given-back.js';

const FILLS: Record<string, (i: number) => string> = {
  'a 16-bit intset': (i) => String(i - 100),
  'a 64-bit intset': (i) => String(i * 5_000_000_000),
  'a table': (i) => `member-${i}${'x'.repeat(i % 90)}`,
};

describe('set memory', () => {
  it('is all given back, whichever way the key goes', () => {
    const fills = Object.entries(FILLS).flatMap(([kind, member]) =>
      Object.entries(fillsOfSizes([3, 400, 3000], `members of ${kind}`, (sabre, count) => sabre.run(argvOf(['SADD', 's', ...Array.from({ length: count }, (_, i) => member(i))])))),
    );
    expectEveryWayGivesBack('s', Object.fromEntries(fills), [
      ['SINTERSTORE, SUNIONSTORE, SDIFFSTORE', [['SINTERSTORE', 'i', 's', 's'], ['SUNIONSTORE', 'u', 's'], ['SDIFFSTORE', 'd', 's', 'i'], ['SUNION', 's', 'i'], ['SDIFF', 's', 'u'], ['DEL', 's', 'i', 'u']]],
      ['SPOP of all', [['SPOP', 's', '100000']]],
    ]);
  });

  it('deletes the key with its last member, whichever command takes it', () => {
    const sabre = new InProcessSabre();
    const baseline = sabre.arena.stats().requestedBytes;
    const members = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? String(i) : `m${i}`));
    sabre.run(argvOf(['SADD', 's', ...members]));
    expect(sabre.run(argvOf(['SREM', 's', ...members.slice(0, 997)])).toString()).toBe(':997\r\n');
    expect(sabre.run(argvOf(['SPOP', 's', '1'])).toString()).toMatch(/^\*1\r\n/);
    sabre.run(argvOf(['SPOP', 's']));
    const last = sabre.run(argvOf(['SMEMBERS', 's'])).toString().split('\r\n')[2];
    expect(sabre.run(argvOf(['SMOVE', 's', 't', last])).toString()).toBe(':1\r\n');
    expect(sabre.run(argvOf(['EXISTS', 's'])).toString()).toBe(':0\r\n');
    sabre.run(argvOf(['DEL', 't']));
    expect(sabre.arena.stats().requestedBytes).toBe(baseline);
  });
});
