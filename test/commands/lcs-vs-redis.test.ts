/**
 * LCS against a real redis-server 7: hand-written edge cases (options, errors, missing keys, keys of
 * another type, binary values, the transient-memory limit) and seeded random sequences over small
 * alphabets, where many subsequences tie and only Redis's exact walk of its table gives the same string
 * and ranges. Every reply must be byte-identical, in RESP2 and in RESP3 (HELLO 3).
 */
import { describe, expect, it } from 'vitest';
import { b } from '../helpers/differential.js';
import { InProcessSabre, MAKE_HASH, argvOf, differences, edgeCaseTests, randomSequenceTests, redisPair, type Line } from '../helpers/in-process-sabre.js';
import { Random } from '../helpers/random.js';


const EDGE_CASES: Record<string, Line[]> = {
  'the subsequence, its length and its ranges': [
    'SET a ohmytext',
    'SET b mynewtext',
    'LCS a b',
    'LCS b a',
    'LCS a b LEN',
    'LCS a b len',
    'LCS a b LEN LEN',
    'LCS a b IDX',
    'LCS a b idx',
    'LCS a b IDX MINMATCHLEN 4',
    'LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN',
    'LCS a b WITHMATCHLEN IDX MINMATCHLEN 1',
    'LCS a b idx withmatchlen minmatchlen 0',
    'LCS a b IDX MINMATCHLEN -5 WITHMATCHLEN',
    'LCS a b IDX MINMATCHLEN 3 MINMATCHLEN 2',
    'LCS a b IDX MINMATCHLEN 9223372036854775807',
    'LCS a b IDX MINMATCHLEN -9223372036854775808',
    'LCS a b MINMATCHLEN 4',
    'LCS a b WITHMATCHLEN',
    'LCS a b LEN WITHMATCHLEN MINMATCHLEN 2',
    'LCS a a',
    'LCS a a IDX WITHMATCHLEN',
    'SET c xxabcxxabcxx',
    'SET d abcabc',
    'LCS c d IDX WITHMATCHLEN',
    'LCS d c IDX WITHMATCHLEN',
    'LCS c d',
  ],
  'missing and empty strings': [
    'SET a ohmytext',
    'LCS a missing',
    'LCS missing a',
    'LCS missing missing2',
    'LCS missing missing2 LEN',
    'LCS missing a IDX WITHMATCHLEN',
    ['SET', 'e', ''],
    'LCS e a',
    'LCS e a IDX',
    'LCS a e LEN',
  ],
  'binary values': [
    ['SET', 'x', '\x00\xff\r\n\x00abc\xff'],
    ['SET', 'y', '\xff\x00\n\rab\x00c'],
    'LCS x y',
    'LCS x y IDX WITHMATCHLEN',
    'LCS y x LEN',
  ],
  'option errors, in Redis order': [
    'SET a ohmytext',
    'SET b mynewtext',
    'LCS a b LEN IDX',
    'LCS a b IDX LEN',
    'LCS a b IDX FOO LEN',
    'LCS a b FOO',
    'LCS a b MINMATCHLEN',
    'LCS a b IDX MINMATCHLEN',
    'LCS a b MINMATCHLEN x',
    'LCS a b MINMATCHLEN x IDX LEN',
    'LCS a b MINMATCHLEN 9223372036854775808',
    'LCS a b MINMATCHLEN 1.5',
    ['LCS', 'a', 'b', ''],
    'LCS a',
    'LCS',
  ],
  'keys of another type': [
    'SET a ohmytext',
    `${MAKE_HASH} h`,
    'LCS a h',
    'LCS h a',
    'LCS h missing',
    'LCS missing h LEN',
    'LCS h a BOGUS',
    'LCS h h IDX LEN',
  ],
  'the transient memory limit': [
    // (8191 + 1) × (16383 + 1) cells of 4 bytes: exactly 512 MB, still allowed; one byte more is not.
    'SETRANGE la 8190 x',
    'SETRANGE lb 16382 y',
    'LCS la lb LEN',
    'SETRANGE lb 16383 y',
    'LCS la lb LEN',
    'LCS lb la',
    'LCS la lb IDX LEN',
    'LCS la lb BOGUS',
    'LCS la missing LEN',
    'LCS missing lb',
  ],
};

// ------------------------------------------------------------------ seeded random sequences

function lcsCommandGenerator(random: Random) {
  const key = () => b(`l${random.int(0, 3)}`);
  const value = (): Buffer => {
    const alphabet = random.pick(['ab', 'abc', 'abcdefgh', '\x00\xff\r\n']);
    const roll = random.next();
    const length = roll < 0.1 ? 0 : roll < 0.9 ? random.int(1, 30) : random.int(100, 600);
    return b(Array.from({ length }, () => alphabet[random.int(0, alphabet.length - 1)]).join(''));
  };
  const options = (): Buffer[] => {
    const args: Buffer[] = [];
    const count = random.int(0, 3);
    for (let i = 0; i < count; i++) {
      const roll = random.next();
      if (roll < 0.3) args.push(b(random.pick(['IDX', 'idx'])));
      else if (roll < 0.45) args.push(b(random.pick(['LEN', 'len'])));
      else if (roll < 0.65) args.push(b('WITHMATCHLEN'));
      else if (roll < 0.95) args.push(b('MINMATCHLEN'), b(random.pick(['0', '1', '2', '3', '5', '-1', '100'])));
      else args.push(b(random.pick(['MINMATCHLEN', 'BOGUS', 'x'])));
    }
    return args;
  };
  return (): Buffer[] => {
    switch (random.int(0, 12)) {
      case 0:
      case 1:
      case 2:
        return [b('SET'), key(), value()];
      case 3:
        return [b('APPEND'), key(), value()];
      case 4:
        return [b('SETRANGE'), key(), b(String(random.int(0, 40))), value()];
      case 5:
        return [b('SETBIT'), key(), b(String(random.int(0, 300))), b(String(random.int(0, 1)))];
      case 6:
        return [b(random.pick(['DEL', 'GET', 'STRLEN'])), key()];
      case 7:
        return random.next() < 0.3 ? [b(MAKE_HASH), key()] : [b('GET'), key()];
      default:
        return [b('LCS'), key(), key(), ...options()];
    }
  };
}

// ------------------------------------------------------------------ the suite

describe('LCS against a real redis-server 7', () => {
  const pair = redisPair();
  edgeCaseTests(pair, EDGE_CASES);

  it('matches Redis on long strings, where the table is large and the ranges many', async (context) => {
    const resp2 = pair.connection(2);
    if (resp2 === undefined) return context.skip();
    await resp2.run([[b('FLUSHALL')]]);
    const random = new Random(5);
    const text = (length: number, alphabet: string) => Array.from({ length }, () => alphabet[random.int(0, alphabet.length - 1)]).join('');
    const lines: Line[] = [
      ['SET', 'p', text(3000, 'ab')],
      ['SET', 'q', text(2500, 'ab')],
      ['SET', 'r', text(2000, 'abcdefghijklmnopqrstuvwxyz')],
      'LCS p q',
      'LCS p q IDX WITHMATCHLEN',
      'LCS p q IDX MINMATCHLEN 5 WITHMATCHLEN',
      'LCS q r IDX',
      'LCS r p LEN',
    ];
    expect(await differences(resp2, new InProcessSabre(), lines.map(argvOf))).toEqual([]);
  });

  randomSequenceTests(pair, [[41, 2], [42, 2], [43, 3]], lcsCommandGenerator, 15);
});
