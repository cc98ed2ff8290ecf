/**
 * A sorted set owns every allocation it makes: deleting, overwriting, expiring, renaming over or
 * flushing a key that holds one (packed or skiplist, long members included) gives the arena back exactly
 * the bytes it had before, and so do removals, pops, score updates and range removals down to nothing.
 */
import { describe, it } from 'vitest';
import { argvOf, InProcessSabre } from '../helpers/in-process-sabre.js';
import { expectEveryWayGivesBack, fillsOfSizes } from '../helpers/memory-given-back.js';

function fill(sabre: InProcessSabre, key: string, members: number): void {
  const args: string[] = [];
  for (let i = 0; i < members; i++) args.push(i % 5 === 0 ? String(i / 3) : String(i), i % 7 === 0 ? `m${i}${'x'.repeat(i % 300)}` : `m${i}`);
  sabre.run(argvOf(['ZADD', key, ...args]));
}

describe('sorted set memory', () => {
  it('is all given back, whichever way the key goes', () => {
    expectEveryWayGivesBack('z', fillsOfSizes([3, 2000], 'members', (sabre, count) => fill(sabre, 'z', count)), [
      ['ZRANGESTORE over it', [['ZRANGESTORE', 'g', 'z', '0', '-1'], ['ZRANGESTORE', 'z', 'g', '5', '1'], ['DEL', 'g']]],
      ['ZUNIONSTORE and DEL', [['ZUNIONSTORE', 'g', '2', 'z', 'z'], ['DEL', 'z', 'g']]],
      ['updates then range removal', [['ZINCRBY', 'z', '1000', 'm1'], ['ZADD', 'z', '-5', 'm2'], ['ZREMRANGEBYSCORE', 'z', '-inf', '+inf']]],
      ['pops and ZREM', [['ZPOPMIN', 'z', '10'], ['ZPOPMAX', 'z', '10'], ['ZREMRANGEBYRANK', 'z', '1', '-1'], ['ZMPOP', '1', 'z', 'MIN', 'COUNT', '1']]],
    ]);
  });
});
