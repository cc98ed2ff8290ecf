/**
 * A sorted set owns every allocation it makes: deleting, overwriting, expiring, renaming over or
 * flushing a key that holds one (packed or skiplist, long members included) gives the arena back exactly
 * the bytes it had before, and so do removals, pops, score updates and range removals down to nothing.
 */
import { describe, expect, it } from 'vitest';
import { argvOf, InProcessSabre } from '../helpers/in-process-sabre.js';

function fill(sabre: InProcessSabre, key: string, members: number): void {
  const args: string[] = [];
  for (let i = 0; i < members; i++) args.push(i % 5 === 0 ? String(i / 3) : String(i), i % 7 === 0 ? `m${i}${'x'.repeat(i % 300)}` : `m${i}`);
  sabre.run(argvOf(['ZADD', key, ...args]));
}

describe('sorted set memory', () => {
  it('is all given back, whichever way the key goes', () => {
    const sabre = new InProcessSabre();
    const requested = () => sabre.arena.stats().requestedBytes;
    const baseline = requested();
    const ways: [string, string[][]][] = [
      ['DEL', [['DEL', 'z']]],
      ['UNLINK', [['UNLINK', 'z']]],
      ['SET over it', [['SET', 'z', 'x'], ['DEL', 'z']]],
      ['RENAME over it', [['SET', 'other', 'x'], ['RENAME', 'other', 'z'], ['DEL', 'z']]],
      ['COPY and DEL both', [['COPY', 'z', 'g'], ['DEL', 'z', 'g']]],
      ['ZRANGESTORE over it', [['ZRANGESTORE', 'g', 'z', '0', '-1'], ['ZRANGESTORE', 'z', 'g', '5', '1'], ['DEL', 'g']]],
      ['ZUNIONSTORE and DEL', [['ZUNIONSTORE', 'g', '2', 'z', 'z'], ['DEL', 'z', 'g']]],
      ['FLUSHDB', [['FLUSHDB']]],
      ['expiry', [['PEXPIREAT', 'z', '1'], ['EXISTS', 'z']]],
      ['updates then range removal', [['ZINCRBY', 'z', '1000', 'm1'], ['ZADD', 'z', '-5', 'm2'], ['ZREMRANGEBYSCORE', 'z', '-inf', '+inf']]],
      ['pops and ZREM', [['ZPOPMIN', 'z', '10'], ['ZPOPMAX', 'z', '10'], ['ZREMRANGEBYRANK', 'z', '1', '-1'], ['ZMPOP', '1', 'z', 'MIN', 'COUNT', '1']]],
    ];
    for (const members of [3, 2000]) {
      for (const [way, commands] of ways) {
        fill(sabre, 'z', members);
        expect(requested(), way).toBeGreaterThan(baseline);
        for (const command of commands) sabre.run(argvOf(command));
        expect(sabre.run(argvOf(['DBSIZE'])).toString(), way).toBe(':0\r\n');
        expect(requested(), `${way} of ${members} members`).toBe(baseline);
      }
    }
  });
});
