/**
 * Differential test of SORT and SORT_RO against a real redis-server 7.0, in-process on sabre's side.
 * Replies must be byte-identical. Inputs avoid what only hash order decides (a hashtable set read with
 * BY nosort and no STORE, and ALPHA BY ties among set or sorted-set elements).
 */
import { describe, expect, it } from 'vitest';
import { argvOf, edgeCaseTests, randomSequenceTests, redisPair, type Line } from '../helpers/in-process-sabre.js';
import type { Random } from '../helpers/random.js';
import { commandKeys } from '../../src/commands/key-specs.js';
import { CommandTable } from '../../src/commands/table.js';
import { b } from '../helpers/differential.js';

const numbers = (count: number): string[] => Array.from({ length: count }, (_, i) => String((i * 37) % count));

describe('SORT against a real redis-server 7', () => {
  const pair = redisPair();
  const cases: Record<string, readonly Line[]> = {
    'lists, numeric and ALPHA, ASC and DESC, LIMIT': [
      'RPUSH l 3 1 2 10 -5 2.5 1e3 0x10 inf -inf', 'SORT l', 'SORT l DESC', 'SORT l ALPHA', 'SORT l ALPHA DESC', 'SORT l LIMIT 0 3', 'SORT l LIMIT 2 3 DESC',
      'SORT l LIMIT -5 2', 'SORT l LIMIT 8 100', 'SORT l LIMIT 10 1', 'SORT l LIMIT 100 1', 'SORT l LIMIT 0 0', 'SORT l LIMIT 0 -1', 'SORT l LIMIT 3 -7',
      'SORT l LIMIT 1 9223372036854775807', 'SORT l LIMIT x 1', 'SORT l LIMIT 1 x', 'SORT l LIMIT 1', 'SORT l ASC DESC', 'SORT l DESC ASC', 'SORT l alpha desc limit 1 2',
      'SORT_RO l DESC', 'SORT nokey', 'SORT nokey LIMIT 0 5', 'SORT_RO nokey ALPHA', 'RPUSH words b a c aa A " "', 'SORT words', 'SORT words ALPHA',
      'RPUSH nums 1 2 nan', 'SORT nums', 'RPUSH blank ""', 'SORT blank', 'RPUSH ws " 1" 2',
      'SORT ws', 'RPUSH tws "1 " 2', 'SORT tws', 'RPUSH ties 1 01 1.0 +1', 'SORT ties', 'SORT ties DESC', 'SORT words LIMIT 0 1', 'SORT words STORE d', 'EXISTS d',
    ],
    'sets and sorted sets': [
      'SADD ints 5 -3 10 7', 'SORT ints', 'SORT ints DESC LIMIT 1 2', 'SORT ints BY nosort', 'SORT ints BY nosort DESC', 'SORT ints BY nosort LIMIT 1 2',
      'SORT ints BY nosort STORE d', 'LRANGE d 0 -1', 'SADD s b c a d 3', 'SORT s ALPHA', 'SORT s ALPHA DESC LIMIT 1 3', 'SORT s', 'SORT s BY nosort STORE d',
      'LRANGE d 0 -1', 'SORT s BY nosort DESC STORE d', 'LRANGE d 0 -1', 'ZADD z 3 a 1 b 2 c 2 d', 'SORT z BY nosort', 'SORT z BY nosort DESC',
      'OBJECT ENCODING z', 'SORT z BY nosort LIMIT 1 2', 'OBJECT ENCODING z', 'ZADD z2 1 x', 'SORT_RO z2 LIMIT 5 1', 'OBJECT ENCODING z2', 'ZADD z3 1 x',
      'SORT z3 BY nosort', 'OBJECT ENCODING z3', 'ZADD z4 1 a', 'SORT z4', 'OBJECT ENCODING z4', 'SORT z BY nosort DESC LIMIT 1 2', 'SORT z BY nosort LIMIT 10 2', 'SORT z ALPHA', 'SORT z ALPHA DESC', 'SORT z',
      'RPUSH l 3 1 2', 'SORT l BY nosort', 'SORT l BY nosort DESC', 'SORT l BY nosort DESC LIMIT 1 1', 'SORT l BY nosort LIMIT 2 5', 'SORT l BY nosort LIMIT 5 5',
      'SORT l BY nosort LIMIT 0 0', 'SORT l BY # DESC', 'SET str x', 'HSET h f v', 'SORT str', 'SORT h', 'SORT_RO str BY nosort', 'SORT nokey BY nosort STORE d', 'EXISTS d',
    ],
    'BY and GET patterns': [
      'RPUSH l 1 2 3 4', 'SET w_1 40', 'SET w_2 30', 'SET w_3 20', 'SET w_4 10', 'SORT l BY w_*', 'SORT l BY w_* DESC', 'SORT l BY w_* LIMIT 1 2',
      'SET o_1 one', 'SET o_2 two', 'SET o_4 four', 'SORT l GET o_*', 'SORT l GET # GET o_*', 'SORT l BY w_* GET o_* GET #', 'SORT l GET nostar',
      'SORT l BY nokey_*', 'SORT l BY nokey_* DESC', 'SORT l BY o_* ALPHA', 'SORT l BY o_* ALPHA DESC', 'SORT l BY o_*', 'SORT l BY o_* LIMIT 0 1',
      'HSET h_1 f 9 g x', 'HSET h_2 f 3', 'HSET h_3 f 5 g y', 'SORT l BY h_*->f', 'SORT l BY h_*->f DESC GET h_*->g GET #', 'SORT l GET h_*-> GET h_*->nope',
      'SET h_x-> lit', 'RPUSH lx x', 'SORT lx GET h_*->', 'SORT l BY w_* GET o_* STORE d', 'LRANGE d 0 -1', 'TYPE d', 'OBJECT ENCODING d',
      'SORT l BY w_* GET h_* STORE d', 'LRANGE d 0 -1', 'SORT l GET', 'SORT l BY', 'SORT l STORE', 'SORT l FOO', 'SORT_RO l STORE d', 'SORT l GET o_* GET o_* LIMIT 0 2',
      'SET pre1post v1', 'SORT l GET pre*post', 'SADD si 1 2 3', 'SORT si BY w_* GET o_*', 'ZADD zz 1 1 2 2 3 3', 'SORT zz BY w_* DESC GET # GET o_*',
      'RPUSH mix 1 2 3', 'SET m_1 1', 'SET m_2 notnum', 'SORT mix BY m_*', 'SORT mix BY m_* STORE d', 'SORT mix BY m_* LIMIT 0 1',
    ],
    'STORE': [
      'RPUSH l 3 1 2', 'SET d x', 'EXPIRE d 100', 'SORT l STORE d', 'TTL d', 'LRANGE d 0 -1', 'SORT l DESC STORE l', 'LRANGE l 0 -1', 'SORT nokey STORE d',
      'EXISTS d', 'SORT l LIMIT 5 5 STORE d', 'EXISTS d', 'SORT l STORE d1 STORE d2', 'EXISTS d1', 'LRANGE d2 0 -1', 'SORT l GET nostar STORE d', 'LRANGE d 0 -1',
      ['RPUSH', 'long', ...numbers(500)], 'SORT long STORE d', 'LLEN d', 'LRANGE d 0 4', 'LRANGE d -3 -1', 'OBJECT ENCODING d', 'SORT long DESC LIMIT 10 5',
      'HSET h f v', 'SORT h STORE d', 'LRANGE d 0 -1', 'SORT l ALPHA STORE h', 'TYPE h',
    ],
  };
  edgeCaseTests(pair, cases);

  // Only what Redis orders deterministically: sets stay intsets, and ALPHA BY (whose ties keep the
  // input order only in glibc's stable qsort, not in the partial sort LIMIT uses) sorts lists alone.
  function sortCommand(random: Random): () => Buffer[] {
    // Mostly numbers, so numeric sorts mostly succeed; now and then a word makes them fail.
    const element = () => (random.next() < 0.04 ? random.pick(['a', 'b', 'x1']) : random.pick(['1', '2', '10', '-3', '2.5', '07', '7', '0']));
    const number = () => random.pick(['1', '2', '10', '-3', '7', '0', '100']);
    const weight = () => (random.next() < 0.05 ? 'x' : random.pick(['1', '5', '-2', '3.5', '', '0', '5']));
    const suffix = () => random.pick(['1', '2', '10', '-3', '7', 'a', 'b', '07']);
    const limit = () => (random.next() < 0.4 ? ['LIMIT', String(random.int(-1, 4)), String(random.int(-1, 4))] : []);
    const gets = () => Array.from({ length: random.int(0, 2) }, () => ['GET', random.pick(['#', 'o_*', 'h_*->g', 'nope_*'])]).flat();
    return () => {
      switch (random.int(0, 12)) {
        case 0: return argvOf(['RPUSH', 'l', element(), element()]);
        case 1: return argvOf(['SADD', 'si', number(), number()]);
        case 2: return argvOf(['ZADD', 'z', number(), element()]);
        case 3: return argvOf(['SET', `w_${suffix()}`, weight()]);
        case 4: return argvOf(['SET', `o_${suffix()}`, element()]);
        case 5: return argvOf(['HSET', `h_${suffix()}`, random.pick(['f', 'g']), weight()]);
        case 6: return argvOf(random.next() < 0.5 ? ['LTRIM', 'l', '-8', '-1'] : ['ZREMRANGEBYRANK', 'z', '0', '-9']);
        case 7: {
          const by = random.pick([[], ['BY', 'w_*'], ['BY', 'h_*->f'], ['BY', 'nosort']]);
          return argvOf(['SORT', random.pick(['l', 'si', 'z']), ...by, ...limit(), ...gets(), ...(random.next() < 0.5 ? ['DESC'] : [])]);
        }
        case 8: return argvOf(['SORT', random.pick(['l', 'si', 'z']), 'ALPHA', ...limit(), ...gets(), ...(random.next() < 0.5 ? ['DESC'] : [])]);
        case 9: return argvOf(['SORT', 'l', 'BY', random.pick(['o_*', 'h_*->g']), 'ALPHA', ...gets(), ...(random.next() < 0.5 ? ['DESC'] : [])]);
        case 10: return argvOf(['SORT', random.pick(['l', 'si', 'z']), ...random.pick([[], ['BY', 'w_*'], ['BY', 'nosort'], ['ALPHA']]), ...limit(), ...gets(), 'STORE', 'd']);
        case 11: return argvOf(['LRANGE', 'd', '0', '-1']);
        default: return argvOf(['SORT_RO', random.pick(['l', 'si', 'z']), 'BY', 'w_*', ...limit(), ...gets()]);
      }
    };
  }
  randomSequenceTests(pair, [[1, 2], [2, 3], [3, 2]], sortCommand, 5);

  it('finds the STORE destination as Redis does for COMMAND GETKEYS and routing', () => {
    const sort = new CommandTable().get('sort');
    expect(sort).toBeDefined();
    const keys = (line: string) => commandKeys(sort!, line.split(' ').map(b))?.map(({ index, written }) => `${index}${written ? 'w' : 'r'}`);
    expect(keys('SORT k')).toEqual(['1r']);
    expect(keys('SORT k BY store GET store LIMIT 0 1 STORE d')).toEqual(['1r', '10w']);
    expect(keys('SORT k STORE a STORE b')).toEqual(['1r', '5w']);
    expect(keys('SORT k STORE')).toEqual(['1r']);
  });
});
