/**
 * Differential test of the sorted set commands against a real redis-server 7.0, in-process on sabre's
 * side (one database, the command table and the reply writer, as a shard runs them).
 *
 * Replies must be byte-identical, scores' text and OBJECT ENCODING included, except where chance
 * legitimately differs: ZRANDMEMBER compares by shape (type, length, nesting, whether members repeat)
 * and a ZSCAN of a skiplist set as a set of pairs (each server's hash seed orders its buckets).
 */
import { describe, expect, it } from 'vitest';
import { b } from '../helpers/differential.js';
import { elements, parseReply, sameRandomPairs, sameWholeScan, text } from '../helpers/keyspace.js';
import { InProcessSabre, argvOf, edgeCaseTests, randomSequenceTests, redisPair, type Agreement, type Line } from '../helpers/in-process-sabre.js';
import { Random } from '../helpers/random.js';





const agree: Agreement = (argv, ours, theirs) => {
  if (ours.equals(theirs)) return true;
  const name = argv[0].toString('latin1').toLowerCase();
  const [a, c] = [parseReply(ours), parseReply(theirs)];
  if (a.type === 'error' || c.type === 'error') return false;
  if (name === 'zscan') return sameWholeScan(a, c);
  if (name === 'zrandmember') return sameRandomPairs(argv, a, c);
  return false;
};

const members = (count: number, prefix = 'm', score = (i: number) => String(i)): string[] => Array.from({ length: count }, (_, i) => [score(i), `${prefix}${i}`]).flat();
const LONG64 = 'x'.repeat(64);
const LONG65 = 'y'.repeat(65);

describe('sorted set commands against a real redis-server 7', () => {
  const pair = redisPair();

  const cases: Record<string, readonly Line[]> = {
    'missing keys and empty replies': [
      'ZCARD nokey', 'ZSCORE nokey m', 'ZMSCORE nokey a b', 'ZRANK nokey m', 'ZREVRANK nokey m', 'ZCOUNT nokey -inf +inf', 'ZLEXCOUNT nokey - +',
      'ZRANGE nokey 0 -1', 'ZRANGE nokey 0 -1 WITHSCORES', 'ZRANGEBYSCORE nokey 0 1', 'ZRANGEBYLEX nokey - +', 'ZREVRANGE nokey 0 1',
      'ZREM nokey a', 'ZREMRANGEBYRANK nokey 0 1', 'ZREMRANGEBYSCORE nokey 0 1', 'ZREMRANGEBYLEX nokey - +', 'ZPOPMIN nokey', 'ZPOPMAX nokey 3',
      'ZMPOP 1 nokey MIN', 'ZRANDMEMBER nokey', 'ZRANDMEMBER nokey 3', 'ZSCAN nokey 0', 'ZRANGESTORE dst nokey 0 -1', 'EXISTS dst',
      'ZUNION 1 nokey', 'ZINTER 2 nokey nokey2', 'ZDIFF 1 nokey', 'ZUNIONSTORE dst 1 nokey', 'ZINTERCARD 1 nokey', 'OBJECT ENCODING nokey',
      'ZADD nokey XX 1 a', 'EXISTS nokey', 'ZADD nokey XX INCR 1 a', 'ZINCRBY nokey 0 a', 'TYPE nokey',
    ],
    'ZADD options and errors': [
      'ZADD z', 'ZADD z 1', 'ZADD z NX', 'ZADD z 1 a 2', 'ZADD z x a', 'ZADD z nan a', 'ZADD z NX XX 1 a', 'ZADD z GT LT 1 a', 'ZADD z GT NX 1 a',
      'ZADD z INCR 1 a 2 b', 'ZADD z 1 a 2 b 3 c', 'ZADD z NX 5 a 4 d', 'ZRANGE z 0 -1 WITHSCORES', 'ZADD z XX 6 a 7 e', 'ZADD z XX CH 6 a 8 b',
      'ZADD z GT CH 1 a 9 b 10 f', 'ZADD z LT CH 1 a 20 b', 'ZRANGE z 0 -1 WITHSCORES', 'ZADD z INCR 2.5 a', 'ZADD z NX INCR 1 a',
      'ZADD z XX INCR 1 nope', 'ZADD z GT INCR -1 a', 'ZADD z LT INCR -1 a', 'ZADD z INCR 0 a', 'ZADD z CH 1 a 1 a', 'ZADD z ch nx gt 1 a',
      'ZADD z inf i', 'ZADD z -inf ni', 'ZADD z INCR -inf i', 'ZADD z +inf j', 'ZADD z 1e400 x', 'ZADD z 1e-400 x', 'ZADD z 0x10 hex', 'ZADD z " 1" sp',
      ['ZADD', 'z', ' 1', 'sp'], ['ZADD', 'z', '1 ', 'sp'], ['ZADD', 'z', '', 'e'], 'ZADD z -0 negzero', 'ZADD z 0.1 a 1.1 b 1e20 c 1.5e-7 d 123456789012345678 e',
      'ZRANGE z 0 -1 WITHSCORES', 'ZSCORE z negzero', 'ZSCORE z i', 'ZMSCORE z a nope i ni', 'ZINCRBY z 1 a', 'ZINCRBY z x a', 'ZINCRBY z nan a',
      'ZINCRBY z inf ni', 'ZINCRBY z 5 fresh', 'ZADD z 4.9406564584124654e-324 denorm', 'ZSCORE z denorm', 'ZADD z 1.7976931348623157e308 huge', 'ZSCORE z huge',
      'ZADD z 1000000000000000.25 tie1 -1000000000000000.75 tie2 1125899906842624.125 tie3 0.3 d3', 'ZRANGE z 0 -1 WITHSCORES',
      'ZADD z INFINITY big', 'ZADD z -Infinity small', 'ZADD z .5 dot', 'ZADD z 5. dot2', 'ZADD z 1E3 exp', 'ZRANGE z 0 -1 WITHSCORES',
    ],
    'wrong types': [
      'SET s v', 'ZADD s 1 a', 'ZINCRBY s 1 a', 'ZREM s a', 'ZCARD s', 'ZSCORE s a', 'ZMSCORE s a', 'ZRANK s a', 'ZCOUNT s 0 1', 'ZLEXCOUNT s - +',
      'ZRANGE s 0 1', 'ZRANGEBYSCORE s 0 1', 'ZREMRANGEBYRANK s 0 1', 'ZPOPMIN s', 'ZPOPMIN s 0', 'ZMPOP 2 nokey s MIN', 'ZRANDMEMBER s', 'ZRANDMEMBER s 2', 'ZSCAN s 0',
      'ZRANGESTORE d s 0 1', 'ZUNION 2 nokey s', 'ZUNIONSTORE d 1 s', 'ZINTERCARD 1 s', 'ZADD z 1 a', 'GET z', 'TYPE z', 'ZRANGESTORE s z 0 -1', 'TYPE s',
      'ZCOUNT s x 1', 'ZRANGE s 0 1 BYLEX', 'ZADD s x a', 'ZADD s XX NX 1 a',
    ],
    'ranks and rank ranges': [
      ['ZADD', 'z', ...members(10)], 'ZRANK z m0', 'ZRANK z m9', 'ZREVRANK z m0', 'ZRANK z nope', 'ZRANGE z 0 -1', 'ZRANGE z 2 4 WITHSCORES',
      'ZRANGE z -3 -1', 'ZRANGE z -100 2', 'ZRANGE z 5 2', 'ZRANGE z 20 30', 'ZRANGE z 0 100', 'ZRANGE z 0 1 REV', 'ZRANGE z 0 1 REV WITHSCORES',
      'ZREVRANGE z 0 2', 'ZREVRANGE z -2 -1 WITHSCORES', 'ZREVRANGE z 0 1 REV', 'ZRANGE z x 1', 'ZRANGE z 0 1 LIMIT 0 1', 'ZRANGE z 0 1 FOO',
      'ZRANGE z 0 1 WITHSCORES WITHSCORES', 'ZRANGE z 0 1 REV REV', 'ZRANGE z 0 1 BYSCORE BYLEX', 'ZRANGE z 0 1 LIMIT 0', 'ZRANGE z 0 -1 9223372036854775808',
      'ZREMRANGEBYRANK z 0 1', 'ZRANGE z 0 -1', 'ZREMRANGEBYRANK z -1 -1', 'ZREMRANGEBYRANK z 5 2', 'ZREMRANGEBYRANK z x 1', 'ZREMRANGEBYRANK z 0 -1', 'EXISTS z',
    ],
    'score ranges': [
      ['ZADD', 'z', ...members(12, 'm', (i) => String(i % 4 === 0 ? i / 2 : i * 1.5 - 3))], 'ZADD z -inf lo +inf hi', 'ZRANGE z 0 -1 WITHSCORES',
      'ZCOUNT z -inf +inf', 'ZCOUNT z 0 5', 'ZCOUNT z (0 (5', 'ZCOUNT z 5 0', 'ZCOUNT z (4.5 4.5', 'ZCOUNT z x 1', 'ZCOUNT z 1 nan', 'ZCOUNT z ( (',
      'ZCOUNT z "" 10', ['ZCOUNT', 'z', '', '10'], ['ZCOUNT', 'z', ' 1', ' 5'], 'ZCOUNT z -1e400 1e400', 'ZCOUNT z (-inf (inf', 'ZCOUNT z 0x2 0x10',
      'ZRANGEBYSCORE z 0 5', 'ZRANGEBYSCORE z (0 5 WITHSCORES', 'ZRANGEBYSCORE z -inf +inf LIMIT 2 3', 'ZRANGEBYSCORE z -inf +inf LIMIT -1 3',
      'ZRANGEBYSCORE z -inf +inf LIMIT 3 -1', 'ZRANGEBYSCORE z -inf +inf LIMIT 3 0', 'ZRANGEBYSCORE z -inf +inf LIMIT 100 1', 'ZRANGEBYSCORE z 0 5 REV',
      'ZRANGEBYSCORE z 0 5 BYSCORE', 'ZREVRANGEBYSCORE z 5 0', 'ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT 1 4', 'ZREVRANGEBYSCORE z 0 5',
      'ZRANGE z 0 5 BYSCORE', 'ZRANGE z 5 0 BYSCORE REV LIMIT 1 2 WITHSCORES', 'ZRANGE z (1 +inf BYSCORE LIMIT 0 2', 'ZRANGE z x y BYSCORE',
      'ZRANGEBYSCORE z 0 5 LIMIT x 1', 'ZRANGEBYSCORE z 0 5 LIMIT', 'ZRANGEBYSCORE z 0 5 WITHSCORES LIMIT 0 1 LIMIT 1 1',
      'ZREMRANGEBYSCORE z (0 5', 'ZRANGE z 0 -1 WITHSCORES', 'ZREMRANGEBYSCORE z x 1', 'ZREMRANGEBYSCORE z -inf +inf', 'EXISTS z',
    ],
    'lex ranges': [
      'ZADD z 0 a 0 b 0 c 0 d 0 e 0 f 0 ab 0 "" 0 B', ['ZADD', 'z', '0', ''], 'ZRANGE z 0 -1', 'ZLEXCOUNT z - +', 'ZLEXCOUNT z [b [d', 'ZLEXCOUNT z (b (d',
      'ZLEXCOUNT z [d [b', 'ZLEXCOUNT z b d', 'ZLEXCOUNT z [b +', 'ZLEXCOUNT z - (c', 'ZLEXCOUNT z + -', 'ZLEXCOUNT z ++ -', 'ZLEXCOUNT z [ [a',
      'ZRANGEBYLEX z - +', 'ZRANGEBYLEX z [a (c', 'ZRANGEBYLEX z - + LIMIT 1 2', 'ZRANGEBYLEX z - + LIMIT -1 2', 'ZRANGEBYLEX z - + WITHSCORES',
      'ZREVRANGEBYLEX z + -', 'ZREVRANGEBYLEX z (d [a LIMIT 1 5', 'ZREVRANGEBYLEX z - +', 'ZRANGE z [b [e BYLEX', 'ZRANGE z [e [b BYLEX REV LIMIT 0 2',
      'ZRANGE z - + BYLEX WITHSCORES', 'ZRANGEBYLEX z a b', 'ZREMRANGEBYLEX z [b (d', 'ZRANGE z 0 -1', 'ZREMRANGEBYLEX z x y', 'ZREMRANGEBYLEX z - +', 'EXISTS z',
      'ZLEXCOUNT z - -', 'ZLEXCOUNT z [a [a', 'ZLEXCOUNT z (a [a', 'ZADD z 0 a', 'ZLEXCOUNT z [a [a', 'ZLEXCOUNT z [a (a', 'ZLEXCOUNT z - -', 'ZLEXCOUNT z + +',
    ],
    'lex ranges over mixed scores (packed, walked as Redis walks a listpack)': [
      'ZADD z 1 d 2 a 3 e 4 b 5 f 6 c 7 g', 'ZRANGEBYLEX z - +', 'ZRANGEBYLEX z [b [f', 'ZRANGEBYLEX z (a [e', 'ZRANGEBYLEX z [b + LIMIT 1 2',
      'ZRANGEBYLEX z [a [c LIMIT 1 5', 'ZREVRANGEBYLEX z [f [b', 'ZREVRANGEBYLEX z + - LIMIT 2 2', 'ZREVRANGEBYLEX z [e (a LIMIT 1 3', 'ZLEXCOUNT z [b [f',
      'ZLEXCOUNT z - [c', 'ZLEXCOUNT z [e +', 'ZLEXCOUNT z [h +', 'ZLEXCOUNT z - (d', 'ZRANGE z [c [f BYLEX', 'ZRANGE z [f [c BYLEX REV',
      'ZRANGESTORE d z [b [f BYLEX', 'ZRANGE d 0 -1', 'ZREMRANGEBYLEX z [c [f', 'ZRANGE z 0 -1', 'ZREMRANGEBYLEX z - +', 'ZRANGE z 0 -1',
    ],
    'pops': [
      'ZADD z 1 a 2 b 3 c 4 d 5 e', 'ZPOPMIN z', 'ZPOPMAX z', 'ZPOPMIN z 2', 'ZPOPMIN z 0', 'ZPOPMIN z -1', 'ZPOPMIN z x', 'ZPOPMIN z 1 2',
      'ZPOPMAX z 10', 'EXISTS z', 'ZADD z 1 a 2 b 3 c', 'ZADD y 7 q', 'ZMPOP 2 nokey z MIN', 'ZMPOP 2 z y MAX COUNT 5', 'ZMPOP 1 y MIN COUNT 1',
      'ZMPOP 2 z y MIN', 'ZMPOP 0 z MIN', 'ZMPOP -1 z MIN', 'ZMPOP x z MIN', 'ZMPOP 1 z', 'ZMPOP 1 z LEFT', 'ZMPOP 3 z MIN', 'ZMPOP 1 z MIN COUNT 0',
      'ZMPOP 1 z MIN COUNT x', 'ZMPOP 1 z MIN COUNT 1 COUNT 1', 'ZMPOP 1 z MIN COUNT', 'ZMPOP 1 z min foo',
    ],
    'ZRANGESTORE': [
      ['ZADD', 'z', ...members(200)], 'ZRANGESTORE d z 0 9', 'OBJECT ENCODING d', 'ZRANGE d 0 -1 WITHSCORES', 'ZRANGESTORE d z 0 150', 'OBJECT ENCODING d',
      'ZRANGESTORE d z 0 -1 BYSCORE', 'ZRANGESTORE d z -inf +inf BYSCORE', 'OBJECT ENCODING d', 'ZRANGESTORE d z 150 100 BYSCORE REV LIMIT 0 10',
      'ZRANGE d 0 -1 WITHSCORES', 'OBJECT ENCODING d', 'ZRANGESTORE d z 5 1', 'EXISTS d', 'ZRANGESTORE d z 0 1 WITHSCORES', 'ZRANGESTORE d z - + BYLEX LIMIT 0 3',
      'ZRANGE d 0 -1', 'SET s x', 'EXPIRE s 100', 'ZRANGESTORE s z 0 0', 'TTL s', 'TYPE s', 'ZRANGESTORE z z 0 2', 'ZRANGE z 0 -1 WITHSCORES',
      `ZADD w 1 ${LONG65} 2 b`, 'ZRANGESTORE d w 0 -1', 'OBJECT ENCODING d', 'ZRANGESTORE d w 1 1', 'OBJECT ENCODING d',
    ],
    'set operations': [
      'ZADD a 1 x 2 y 3 z', 'ZADD b 10 y 20 z 30 w', 'ZADD c 5 z', 'ZUNION 2 a b', 'ZUNION 2 a b WITHSCORES', 'ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES',
      'ZUNION 2 a b AGGREGATE MIN WITHSCORES', 'ZUNION 2 a b AGGREGATE max WITHSCORES', 'ZUNION 2 a b AGGREGATE foo', 'ZUNION 2 a b WEIGHTS 1',
      'ZUNION 2 a b WEIGHTS 1 x', 'ZUNION 0 a', 'ZUNION 3 a b', 'ZUNION x a', 'ZUNION -1 a', 'ZINTER 2 a b WITHSCORES', 'ZINTER 3 a b c WITHSCORES',
      'ZINTER 2 a nokey', 'ZINTER 2 a a WITHSCORES', 'ZDIFF 2 a b WITHSCORES', 'ZDIFF 2 b a', 'ZDIFF 1 a WITHSCORES', 'ZDIFF 2 a b WEIGHTS 1 1',
      'ZDIFF 2 a b AGGREGATE SUM', 'ZUNIONSTORE d 2 a b', 'ZRANGE d 0 -1 WITHSCORES', 'OBJECT ENCODING d', 'ZUNIONSTORE d 2 a b WITHSCORES',
      'ZINTERSTORE d 2 a b AGGREGATE MAX', 'ZRANGE d 0 -1 WITHSCORES', 'ZINTERSTORE d 2 a nokey', 'EXISTS d', 'ZDIFFSTORE d 2 b a', 'ZRANGE d 0 -1 WITHSCORES',
      'ZINTERCARD 2 a b', 'ZINTERCARD 2 a b LIMIT 1', 'ZINTERCARD 2 a b LIMIT 0', 'ZINTERCARD 2 a b LIMIT -1', 'ZINTERCARD 0 a', 'ZINTERCARD 2 a b WITHSCORES',
      'ZADD i inf p -inf q', 'ZADD j -inf p inf q', 'ZUNION 2 i j WITHSCORES', 'ZINTER 2 i j WITHSCORES', 'ZUNION 2 i j WEIGHTS 0 0 WITHSCORES',
      `ZADD l 1 ${LONG65}`, 'ZUNIONSTORE d 2 a l', 'OBJECT ENCODING d', ['ZADD', 'big', ...members(200)], 'ZUNIONSTORE d 2 big a', 'OBJECT ENCODING d',
      'ZINTERSTORE d 2 big a', 'OBJECT ENCODING d', 'ZRANGE d 0 -1 WITHSCORES',
    ],
    'set operations over plain sets': [
      'SADD ints 3 1 2 -5', 'SADD words y x q', 'ZADD z 2 x 5 1 0.5 w', 'OBJECT ENCODING ints', 'OBJECT ENCODING words',
      'ZUNION 2 ints words WITHSCORES', 'ZUNION 2 z ints WITHSCORES', 'ZUNION 3 z ints words WEIGHTS 2 3 -1 WITHSCORES',
      'ZUNION 2 z words AGGREGATE MIN WITHSCORES', 'ZUNION 2 z words AGGREGATE MAX WITHSCORES', 'ZUNION 1 words WEIGHTS 0 WITHSCORES',
      'ZINTER 2 z ints WITHSCORES', 'ZINTER 2 z words WEIGHTS 1 10 WITHSCORES', 'ZINTER 2 ints ints WITHSCORES', 'ZINTER 3 z ints words',
      'ZDIFF 2 z words WITHSCORES', 'ZDIFF 2 words z WITHSCORES', 'ZDIFF 2 ints z', 'ZDIFF 3 ints nokey words WITHSCORES',
      'ZINTERCARD 2 z words', 'ZINTERCARD 2 ints words', 'ZINTERCARD 3 z ints words LIMIT 1',
      'ZUNIONSTORE d 2 ints words', 'ZRANGE d 0 -1 WITHSCORES', 'OBJECT ENCODING d', 'TYPE d', 'ZINTERSTORE d 2 z words WEIGHTS 2 2', 'ZRANGE d 0 -1 WITHSCORES',
      'ZDIFFSTORE d 2 ints z', 'ZRANGE d 0 -1 WITHSCORES', 'ZINTERSTORE d 2 ints words', 'EXISTS d', 'ZUNIONSTORE ints 2 ints z', 'TYPE ints', 'ZRANGE ints 0 -1 WITHSCORES',
      ['SADD', 'bigints', ...Array.from({ length: 600 }, (_, i) => String(i * 3))], 'OBJECT ENCODING bigints', ['SADD', 'table', ...Array.from({ length: 300 }, (_, i) => `t${i}`)],
      'OBJECT ENCODING table', 'ZUNIONSTORE d 2 bigints table', 'OBJECT ENCODING d', 'ZCARD d', 'ZRANGE d 0 9 WITHSCORES', 'ZRANGE d -5 -1',
      'ZINTER 2 bigints z WITHSCORES', 'ZUNION 2 table z WEIGHTS 0.5 1 WITHSCORES', 'ZDIFFSTORE d 2 table words', 'OBJECT ENCODING d', 'ZCARD d',
      'SADD one 7', 'ZUNIONSTORE d 1 one', 'OBJECT ENCODING d', `SADD longm ${LONG65}`, 'ZUNIONSTORE d 2 one longm', 'OBJECT ENCODING d',
      'SET str x', 'RPUSH list a', 'HSET hash f v', 'ZUNION 2 z str', 'ZINTER 2 words list', 'ZDIFF 2 nokey hash', 'ZINTERCARD 2 ints str',
      'ZUNIONSTORE d 2 ints hash', 'ZDIFFSTORE d 2 str ints', 'ZINTER 2 str z WEIGHTS x', 'ZUNION 2 list ints AGGREGATE foo',
    ],
    'encoding conversions': [
      ['ZADD', 'z', ...members(128)], 'OBJECT ENCODING z', 'ZADD z 5 m0', 'OBJECT ENCODING z', 'ZADD z 1 extra', 'OBJECT ENCODING z', 'ZCARD z',
      'ZRANGE z 0 3 WITHSCORES', 'ZRANK z m100', 'ZREVRANK z m100', 'ZSCORE z extra', ['ZREMRANGEBYRANK', 'z', '0', '120'], 'OBJECT ENCODING z',
      'ZRANGE z 0 -1 WITHSCORES', `ZADD v 1 ${LONG64}`, 'OBJECT ENCODING v', `ZADD v 1 ${LONG65}`, 'OBJECT ENCODING v', `ZADD w 1 ${LONG65}`,
      'OBJECT ENCODING w', 'ZADD w 2 a', 'ZREM w a', 'ZRANGE w 0 -1', 'COPY w w2', 'OBJECT ENCODING w2', 'ZRANGE w2 0 -1 WITHSCORES',
    ],
    'large set': [
      ['ZADD', 'z', ...members(1000, 'm', (i) => String((i * 7919) % 1000 / 4))], 'ZCARD z', 'OBJECT ENCODING z', 'ZRANGE z 0 9 WITHSCORES',
      'ZRANGE z -5 -1 WITHSCORES', 'ZRANGE z 500 510', 'ZREVRANGE z 0 4 WITHSCORES', 'ZRANK z m500', 'ZREVRANK z m500', 'ZCOUNT z 10 20',
      'ZRANGEBYSCORE z (10 20 LIMIT 3 5 WITHSCORES', 'ZREVRANGEBYSCORE z 200 (100 LIMIT 10 5', 'ZLEXCOUNT z - +',
      'ZREMRANGEBYSCORE z 100 150', 'ZCARD z', 'ZREMRANGEBYRANK z 10 20', 'ZRANGE z 0 20 WITHSCORES', 'ZPOPMIN z 3', 'ZPOPMAX z 3', 'ZINCRBY z 1000 m1',
      'ZRANGE z -2 -1 WITHSCORES', 'ZADD z GT 1 m1', 'ZADD z LT CH 1 m1', 'ZRANGE z 0 1 WITHSCORES', 'ZREM z m1 m2 m3 nope', 'ZCARD z', 'ZMSCORE z m4 m5 nope',
      'ZRANDMEMBER z 5', 'ZRANDMEMBER z -5 WITHSCORES', 'ZSCAN z 0 COUNT 100000', 'ZRANGESTORE d z 0 99', 'OBJECT ENCODING d', 'ZREMRANGEBYLEX z - +', 'EXISTS z',
    ],
    'ZRANDMEMBER and ZSCAN': [
      'ZADD z 1 a 2 b 3 c', 'ZRANDMEMBER z', 'ZRANDMEMBER z 2', 'ZRANDMEMBER z -5 WITHSCORES', 'ZRANDMEMBER z 10 WITHSCORES', 'ZRANDMEMBER z 0',
      'ZRANDMEMBER z x', 'ZRANDMEMBER z 1 x', 'ZRANDMEMBER z 1 WITHSCORES x', 'ZRANDMEMBER z -9223372036854775808', 'ZRANDMEMBER z 4611686018427387904 WITHSCORES',
      'ZSCAN z 0', 'ZSCAN z 0 MATCH a*', 'ZSCAN z x', 'ZSCAN z 0 COUNT 0', 'ZADD f 1.5 a 1e20 b -0 c inf d', 'ZSCAN f 0',
    ],
  };
  // Scores of every magnitude, and exact ties at the 18th digit (m / 4 and m / 8 for 53-bit m), formatted as Redis does.
  const random = new Random(11);
  const doubles = Array.from({ length: 400 }, (_, i) => {
    const mantissa = 2 ** 52 + Math.floor(random.next() * 2 ** 52);
    if (i % 4 === 0) return mantissa / 4;
    if (i % 4 === 1) return -mantissa / 8;
    return (random.next() - 0.5) * 10 ** random.int(-40, 40);
  });
  cases['scores of every magnitude'] = [
    ['ZADD', 'z', ...doubles.flatMap((score, i) => [String(score), `m${i}`])], 'ZRANGE z 0 -1 WITHSCORES', 'ZSCAN z 0 COUNT 1000',
    ['ZMSCORE', 'z', ...doubles.map((_, i) => `m${i}`)],
  ];
  edgeCaseTests(pair, cases, agree);

  function zsetCommand(random: Random): () => Buffer[] {
    const key = () => random.pick(['z1', 'z2', 'z3', 's']);
    const member = () => (random.next() < 0.05 ? `long${'m'.repeat(20)}` : random.pick(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', '1', '-7', '10']));
    const score = () => random.pick(['1', '2.5', '-3', '0', '100', '-inf', 'inf', '0.1', '7', '1e17', '-0']);
    const bound = () => random.pick(['-inf', '+inf', '0', '(1', '2.5', '(7', '100', '-3']);
    const lex = () => random.pick(['-', '+', '[a', '(c', '[e', '(1', '[j']);
    return () => {
      switch (random.int(0, 29)) {
        case 0:
        case 1:
        case 2: {
          const flags = random.next() < 0.3 ? [random.pick(['NX', 'XX', 'GT', 'LT', 'CH'])] : [];
          return argvOf(['ZADD', key(), ...flags, ...Array.from({ length: random.int(1, 4) }, () => [score(), member()]).flat()]);
        }
        case 3: return argvOf(['ZINCRBY', key(), score(), member()]);
        case 4: return argvOf(['ZADD', key(), 'INCR', score(), member()]);
        case 5: return argvOf(['ZREM', key(), member(), member()]);
        case 6: return argvOf(['ZSCORE', key(), member()]);
        case 7: return argvOf(['ZRANK', key(), member()]);
        case 8: return argvOf(['ZREVRANK', key(), member()]);
        case 9: return argvOf(['ZRANGE', key(), String(random.int(-5, 5)), String(random.int(-5, 5)), ...(random.next() < 0.5 ? ['WITHSCORES'] : [])]);
        case 10: return argvOf(['ZRANGEBYSCORE', key(), bound(), bound(), 'WITHSCORES', ...(random.next() < 0.4 ? ['LIMIT', String(random.int(0, 3)), String(random.int(-1, 3))] : [])]);
        case 11: return argvOf(['ZREVRANGEBYSCORE', key(), bound(), bound(), 'WITHSCORES']);
        // Lex ranges are defined only over members of one score: they get a key of their own.
        case 12: return argvOf([random.pick(['ZRANGEBYLEX', 'ZREVRANGEBYLEX']), 'lex', lex(), lex(), ...(random.next() < 0.4 ? ['LIMIT', String(random.int(0, 3)), String(random.int(-1, 3))] : [])]);
        case 13: return argvOf(['ZCOUNT', key(), bound(), bound()]);
        case 14: return argvOf(random.next() < 0.5 ? ['ZLEXCOUNT', 'lex', lex(), lex()] : ['ZADD', 'lex', '0', member()]);
        case 15: return argvOf(['ZREMRANGEBYSCORE', key(), bound(), bound()]);
        case 16: return argvOf(['ZREMRANGEBYRANK', key(), String(random.int(-3, 3)), String(random.int(-3, 3))]);
        case 17: return argvOf([random.pick(['ZPOPMIN', 'ZPOPMAX']), key(), ...(random.next() < 0.5 ? [String(random.int(0, 3))] : [])]);
        case 18: return argvOf(['ZCARD', key()]);
        case 19: return argvOf(['ZRANGE', key(), '0', '-1', 'WITHSCORES']);
        case 20: return argvOf(['OBJECT', 'ENCODING', key()]);
        case 21: return argvOf(['ZMSCORE', key(), member(), member()]);
        case 22: return argvOf(['ZRANGESTORE', key(), key(), bound(), bound(), 'BYSCORE']);
        case 23: return argvOf([random.pick(['ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE']), key(), '2', key(), key()]);
        case 24: return argvOf([random.pick(['ZUNION', 'ZINTER', 'ZDIFF']), '2', key(), key(), 'WITHSCORES']);
        case 25: return argvOf(['DEL', key()]);
        case 26: return argvOf(['SET', 's', 'x']);
        case 27: return argvOf(['ZREMRANGEBYLEX', 'lex', lex(), lex()]);
        case 28: return argvOf(['ZMPOP', '2', key(), key(), random.pick(['MIN', 'MAX']), 'COUNT', String(random.int(1, 3))]);
        default: return argvOf(['ZRANDMEMBER', key(), String(random.int(-3, 3)), 'WITHSCORES']);
      }
    };
  }

  randomSequenceTests(pair, [[1, 2], [2, 3], [3, 2], [4, 3]], zsetCommand, 20, { limits: { 'zset-max-listpack-entries': 6, 'zset-max-listpack-value': 16 }, agree });

  it('answers ZRANDMEMBER with members and scores of the set, distinct for a positive count', () => {
    const sabre = new InProcessSabre(3);
    for (const size of [5, 100, 2000]) {
      sabre.run(argvOf(['DEL', 'z']));
      sabre.run(argvOf(['ZADD', 'z', ...members(size, 'm', (i) => String(i * 2))]));
      for (const count of [1, 3, Math.floor(size / 3), Math.floor(size / 2), size - 1, size, size + 5, -1, -7, -size * 2]) {
        const reply = parseReply(sabre.run(argvOf(['ZRANDMEMBER', 'z', String(count), 'WITHSCORES'])));
        const items = elements(reply).map((item) => elements(item));
        expect(items.length).toBe(count > 0 ? Math.min(count, size) : -count);
        for (const [member, score] of items) expect(score).toEqual({ type: 'double', value: Number(text(member).slice(1)) * 2 });
        if (count > 0) expect(new Set(items.map(([member]) => text(member))).size).toBe(items.length);
      }
    }
  });

  it('keeps a skiplist set in order with correct ranks through random inserts, updates and removals', () => {
    const sabre = new InProcessSabre(2);
    const random = new Random(7);
    const model = new Map<string, number>();
    sabre.run(argvOf(['ZADD', 'z', ...members(200)]));
    for (let i = 0; i < 200; i++) model.set(`m${i}`, i);
    for (let step = 0; step < 3000; step++) {
      const member = `m${random.int(0, 400)}`;
      if (random.next() < 0.3) {
        sabre.run(argvOf(['ZREM', 'z', member]));
        model.delete(member);
      } else {
        const score = random.int(-50, 50);
        sabre.run(argvOf(['ZADD', 'z', String(score), member]));
        model.set(member, score);
      }
    }
    const expected = [...model.entries()].sort(([a, x], [c, y]) => x - y || Buffer.compare(b(a), b(c)));
    const reply = elements(parseReply(sabre.run(argvOf('ZRANGE z 0 -1 WITHSCORES')))).map(text);
    expect(reply).toEqual(expected.flatMap(([member, score]) => [member, String(score)]));
    for (const [rank, [member]] of expected.entries()) {
      if (rank % 17 === 0) expect(sabre.run(argvOf(['ZRANK', 'z', member])).toString()).toBe(`:${rank}\r\n`);
    }
  });
});
