/**
 * Differential test of the list commands against a real redis-server 7.0, in-process on sabre's side
 * (one database, the command table and the reply writer, as a shard runs them). Replies must be
 * byte-identical, OBJECT ENCODING included ("quicklist" at every size in 7.0). The random sequences run
 * with small nodes (list-max-listpack-size 1…4 and -1 with long elements) so that node splits, merges
 * into neighbours and emptied nodes happen often, and check the quicklist's invariants after each batch.
 */
import { describe, expect } from 'vitest';
import { b } from '../helpers/differential.js';
import { InProcessSabre, argvOf, edgeCaseTests, randomSequenceTests, redisPair, type Line } from '../helpers/in-process-sabre.js';
import { Random } from '../helpers/random.js';
import { NODE_MAX_ENTRIES, listNodeCounts } from '../../src/collections/list.js';
import { ValueType } from '../../src/shard/entry.js';

const range = (count: number, prefix = 'e'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
const LONG = 'x'.repeat(300);

describe('list commands against a real redis-server 7', () => {
  const pair = redisPair();

  const cases: Record<string, readonly Line[]> = {
    'missing keys': [
      'LLEN nokey', 'LRANGE nokey 0 -1', 'LINDEX nokey 0', 'LSET nokey 0 x', 'LINSERT nokey BEFORE a b', 'LREM nokey 0 a', 'LTRIM nokey 0 1',
      'LPOS nokey a', 'LPOS nokey a COUNT 0', 'LPOP nokey', 'RPOP nokey', 'LPOP nokey 2', 'RPOP nokey 0', 'LPUSHX nokey a', 'RPUSHX nokey a b',
      'EXISTS nokey', 'LMOVE nokey dst LEFT RIGHT', 'RPOPLPUSH nokey dst', 'EXISTS dst', 'LMPOP 2 nokey nokey2 LEFT', 'LMPOP 1 nokey RIGHT COUNT 3',
      'LINDEX nokey x', 'LSET nokey x y', 'LINSERT nokey middle a b', 'LRANGE nokey x 1', 'LREM nokey x a', 'LTRIM nokey 0 x', 'LPOP nokey x',
    ],
    'arity and syntax errors': [
      'LPUSH l', 'RPUSH', 'LPUSHX l', 'LPOP', 'LPOP l 1 2', 'RPOP l 1 2', 'LLEN', 'LRANGE l 0', 'LINDEX l', 'LSET l 0', 'LINSERT l BEFORE a',
      'LREM l 0', 'LTRIM l 0', 'LPOS l', 'LMOVE a b LEFT', 'RPOPLPUSH a', 'LMPOP 1 l', 'LMPOP', 'RPUSH l a b c',
      'LPOP l -1', 'LPOP l x', 'LPOP l 1.5', 'RPOP l -9223372036854775808', 'LINSERT l MIDDLE a x', 'LMOVE l d UP LEFT', 'LMOVE l d LEFT DOWN',
      'LMOVE nokey d UP LEFT', 'LPOS l a RANK 0', 'LPOS l a RANK x', 'LPOS l a RANK -9223372036854775808', 'LPOS l a RANK 9223372036854775808',
      'LPOS l a COUNT -1', 'LPOS l a COUNT x', 'LPOS l a MAXLEN -1', 'LPOS l a MAXLEN x', 'LPOS l a RANK', 'LPOS l a FOO 1', 'LPOS l a COUNT',
      'LPOS nokey a RANK 0', 'LMPOP 0 l LEFT', 'LMPOP -1 l LEFT', 'LMPOP x l LEFT', 'LMPOP 1 l', 'LMPOP 2 l LEFT', 'LMPOP 1 l MIDDLE',
      'LMPOP 1 l LEFT COUNT 0', 'LMPOP 1 l LEFT COUNT -1', 'LMPOP 1 l LEFT COUNT x', 'LMPOP 1 l LEFT COUNT', 'LMPOP 1 l LEFT COUNT 1 COUNT 1',
      'LMPOP 1 l LEFT FOO', 'LMPOP 9223372036854775807 l LEFT', 'LMPOP 9223372036854775808 l LEFT', 'LRANGE l 0 -1',
    ],
    'wrong types both ways': [
      'SET s v', 'LPUSH s a', 'RPUSH s a', 'LPUSHX s a', 'RPUSHX s a', 'LPOP s', 'RPOP s 2', 'LLEN s', 'LRANGE s 0 -1', 'LINDEX s 0',
      'LSET s 0 a', 'LINSERT s BEFORE a b', 'LREM s 0 a', 'LTRIM s 0 1', 'LPOS s a', 'LMOVE s d LEFT LEFT', 'RPOPLPUSH s d', 'LMPOP 1 s LEFT',
      'LINDEX s x', 'LSET s x y', 'LPOS s a COUNT 0', 'LPOP s 0',
      'RPUSH l a b', 'LMOVE l s LEFT LEFT', 'RPOPLPUSH l s', 'LRANGE l 0 -1', 'LMPOP 2 nokey s LEFT', 'LMPOP 2 l s LEFT', 'LMPOP 2 s l LEFT',
      'GET l', 'APPEND l x', 'HSET l f v', 'TYPE l', 'OBJECT ENCODING l', 'SET l x', 'TYPE l',
    ],
    'pushes and pops': [
      'LPUSH l a b c', 'RPUSH l d e', 'LRANGE l 0 -1', 'LPUSHX l z', 'RPUSHX l y x', 'LLEN l', 'LPOP l', 'RPOP l', 'LPOP l 2', 'RPOP l 0',
      'LPOP l 0', 'RPOP l 1', 'LRANGE l 0 -1', 'LPOP l 100', 'EXISTS l', 'RPUSH l 1 -1 127 128 32767 -32769 2147483648 9223372036854775807',
      'RPUSH l -9223372036854775808 9223372036854775808 01 -0 1.5 " 1" ""', ['RPUSH', 'l', '', '\0\xff\r\n'], 'LRANGE l 0 -1',
      'RPOP l 3', 'LPOP l 3', 'LRANGE l 0 -1', 'TYPE l', 'OBJECT ENCODING l', ['RPUSH', 'long', LONG, 'k'.repeat(10_000), 'm'.repeat(70_000)],
      'LRANGE long 0 -1', 'RPOP long', 'LPOP long', 'LLEN long', 'RPUSHX nokey a', 'EXISTS nokey',
    ],
    'LRANGE and LINDEX': [
      ['RPUSH', 'l', ...range(300)], 'LRANGE l 0 9', 'LRANGE l -5 -1', 'LRANGE l 295 400', 'LRANGE l -1000 2', 'LRANGE l 5 4', 'LRANGE l 300 301',
      'LRANGE l -301 -300', 'LRANGE l 100 230', 'LRANGE l 0 9223372036854775807', 'LRANGE l -9223372036854775808 0', 'LRANGE l 9223372036854775808 0',
      'LINDEX l 0', 'LINDEX l 299', 'LINDEX l 300', 'LINDEX l -1', 'LINDEX l -300', 'LINDEX l -301', 'LINDEX l 150', 'LINDEX l -129',
      'LINDEX l 127', 'LINDEX l 128', 'LINDEX l 9223372036854775807', 'LINDEX l -9223372036854775808', 'LINDEX l 1.0', 'OBJECT ENCODING l',
    ],
    'LSET LINSERT LREM LTRIM': [
      ['RPUSH', 'l', ...range(200)], 'LSET l 0 first', 'LSET l -1 last', 'LSET l 128 mid', 'LSET l 200 x', 'LSET l -201 x', 'LSET l 5 12345',
      ['LSET', 'l', '6', LONG], 'LRANGE l 0 8', 'LINSERT l BEFORE e1 new1', 'LINSERT l AFTER e1 new2', 'LINSERT l after last tail', 'LINSERT l before first head',
      'LINSERT l BEFORE nope x', 'LINSERT l AFTER 12345 int', 'LINSERT l BEFORE e130 mid2', 'LLEN l', 'LRANGE l 0 12', 'LRANGE l 125 140', 'LRANGE l -3 -1',
      'RPUSH r a b a c a d a', 'LREM r 2 a', 'LRANGE r 0 -1', 'LREM r -1 a', 'LRANGE r 0 -1', 'LREM r 0 a', 'LRANGE r 0 -1', 'LREM r 0 zz',
      'LREM r 0 b', 'LREM r 0 c', 'LREM r 0 d', 'EXISTS r', 'RPUSH n 1 2 1 01 1', 'LREM n 0 1', 'LRANGE n 0 -1',
      'LTRIM l 1 -2', 'LLEN l', 'LRANGE l 0 2', 'LTRIM l 10 150', 'LRANGE l 0 2', 'LRANGE l -2 -1', 'LTRIM l -50 -10', 'LLEN l', 'LINDEX l 0',
      'LTRIM l 0 9223372036854775807', 'LLEN l', 'LTRIM l 5 2', 'EXISTS l', 'RPUSH t a b c', 'LTRIM t -100 100', 'LRANGE t 0 -1', 'LTRIM t 3 5', 'EXISTS t',
    ],
    'LPOS': [
      'RPUSH l a b c a b c a', 'LPOS l a', 'LPOS l c', 'LPOS l z', 'LPOS l a RANK 2', 'LPOS l a RANK -1', 'LPOS l a RANK -3', 'LPOS l a RANK 4',
      'LPOS l a COUNT 0', 'LPOS l a COUNT 2', 'LPOS l a COUNT 2 RANK -1', 'LPOS l a COUNT 0 RANK 2', 'LPOS l a MAXLEN 1', 'LPOS l a MAXLEN 3 COUNT 0',
      'LPOS l a RANK -1 MAXLEN 1', 'LPOS l a RANK -1 MAXLEN 2', 'LPOS l a RANK -2 MAXLEN 4 COUNT 0', 'LPOS l z COUNT 0', 'LPOS l a COUNT 1 COUNT 0',
      'LPOS l a RANK 9223372036854775807', 'LPOS l a rank -9223372036854775807 count 0', 'LPOS l a RANK -9223372036854775808 COUNT 0',
      ['RPUSH', 'big', ...range(500).map((_, i) => (i % 7 === 0 ? 'x' : `v${i}`))], 'LPOS big x COUNT 0', 'LPOS big x RANK -5 COUNT 3',
      'LPOS big x RANK -2 MAXLEN 200 COUNT 0', 'LPOS big x RANK 10 MAXLEN 300', 'LPOS big v499', 'LPOS big v499 RANK -1', 'LPOS big v1 RANK -1 MAXLEN 498',
    ],
    'LMOVE RPOPLPUSH LMPOP': [
      'RPUSH a 1 2 3', 'LMOVE a b LEFT RIGHT', 'LMOVE a b RIGHT LEFT', 'LRANGE a 0 -1', 'LRANGE b 0 -1', 'RPOPLPUSH a b', 'EXISTS a', 'LRANGE b 0 -1',
      'LMOVE b b LEFT RIGHT', 'LRANGE b 0 -1', 'RPOPLPUSH b b', 'LRANGE b 0 -1', 'RPUSH one x', 'LMOVE one one left left', 'LRANGE one 0 -1',
      'LMOVE one two right right', 'EXISTS one', 'LRANGE two 0 -1', 'LMPOP 3 nokey b two LEFT', 'LMPOP 2 b two RIGHT COUNT 10', 'LMPOP 2 b two right count 1',
      'EXISTS two', 'LMPOP 1 b LEFT', 'LMPOP 2 b two LEFT', 'RPUSH c 1 2 3 4', 'LMPOP 1 c LEFT COUNT 2', 'LMPOP 1 c lEfT COUNT 9223372036854775807',
      'EXISTS c',
    ],
    'keys holding lists': [
      'RPUSH l a b', 'EXPIRE l 100', 'TTL l', 'RPUSH l c', 'TTL l', 'LPOP l 3', 'EXISTS l', 'RPUSH l a 2', 'RENAME l g', 'LRANGE g 0 -1',
      'COPY g h', 'RPUSH h 3', 'LRANGE g 0 -1', 'LRANGE h 0 -1', 'OBJECT ENCODING h', ['RPUSH', 'big', ...range(1000)], 'COPY big big2',
      'LRANGE big2 990 -1', 'LLEN big2', 'TYPE big2', 'DEL g h big', 'DBSIZE', 'FLUSHDB', 'DBSIZE',
    ],
  };
  edgeCaseTests(pair, cases);

  /** Commands over a few keys, with small elements and now and then a long one. */
  function listCommand(random: Random): () => Buffer[] {
    const key = () => random.pick(['l1', 'l2', 'l3', 's']);
    const item = () => (random.next() < 0.05 ? LONG : random.pick(['a', 'b', 'c', 'd', '1', '-7', '300', '']));
    const index = () => String(random.int(-25, 25));
    return () => {
      switch (random.int(0, 24)) {
        case 0:
        case 1:
        case 2: return argvOf([random.pick(['LPUSH', 'RPUSH']), key(), ...Array.from({ length: random.int(1, 8) }, item)]);
        case 3: return argvOf([random.pick(['LPUSHX', 'RPUSHX']), key(), item()]);
        case 4: return argvOf([random.pick(['LPOP', 'RPOP']), key(), ...(random.next() < 0.5 ? [String(random.int(0, 5))] : [])]);
        case 5: return argvOf(['LLEN', key()]);
        case 6:
        case 7: return argvOf(['LRANGE', key(), index(), index()]);
        case 8: return argvOf(['LINDEX', key(), index()]);
        case 9: return argvOf(['LSET', key(), index(), item()]);
        case 10:
        case 11: return argvOf(['LINSERT', key(), random.pick(['BEFORE', 'AFTER']), item(), item()]);
        case 12: return argvOf(['LREM', key(), String(random.int(-3, 3)), item()]);
        case 13: return argvOf(['LTRIM', key(), index(), index()]);
        case 14: return argvOf(['LPOS', key(), item(), ...(random.next() < 0.5 ? ['RANK', String(random.pick([1, 2, -1, -3]))] : []), ...(random.next() < 0.5 ? ['COUNT', String(random.int(0, 3))] : []), ...(random.next() < 0.3 ? ['MAXLEN', String(random.int(0, 10))] : [])]);
        case 15: return argvOf(['LMOVE', key(), key(), random.pick(['LEFT', 'RIGHT']), random.pick(['LEFT', 'RIGHT'])]);
        case 16: return argvOf(['RPOPLPUSH', key(), key()]);
        case 17: return argvOf(['LMPOP', '2', key(), key(), random.pick(['LEFT', 'RIGHT']), ...(random.next() < 0.5 ? ['COUNT', String(random.int(1, 6))] : [])]);
        case 18: return argvOf(['LRANGE', key(), '0', '-1']);
        case 19: return argvOf(['DEL', key()]);
        case 20: return argvOf(['SET', key(), 'v']);
        case 21: return argvOf(['TYPE', key()]);
        case 22: return argvOf(['COPY', key(), key(), 'REPLACE']);
        case 23: return argvOf(['OBJECT', 'ENCODING', key()]);
        default: return argvOf(['RENAME', key(), key()]);
      }
    };
  }

  /** The node counts of every list, checked against the layout's invariants. */
  function checkInvariants(sabre: InProcessSabre): void {
    for (const name of ['l1', 'l2', 'l3', 's']) {
      const entry = sabre.db.lookup(b(name));
      if (entry === 0 || sabre.db.type(entry) !== ValueType.List) continue;
      const counts = listNodeCounts(sabre.arena, sabre.db.collectionRoot(entry));
      expect(counts.length).toBeGreaterThan(0);
      for (const count of counts) expect(count >= 1 && count <= NODE_MAX_ENTRIES).toBe(true);
      const length = Number(sabre.run(argvOf(['LLEN', name])).toString('latin1').slice(1));
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(length);
    }
  }

  for (const [seed, protocol, fill] of [[1, 2, 1], [2, 3, 2], [3, 2, 4], [4, 3, -1], [5, 2, -2]] as const) {
    randomSequenceTests(pair, [[seed, protocol]], listCommand, 20, { limits: { 'list-max-listpack-size': fill }, afterBatch: checkInvariants });
  }
});
