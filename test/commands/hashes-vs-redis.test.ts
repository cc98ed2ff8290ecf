/**
 * Differential test of the hash commands against a real redis-server 7.0, in-process on sabre's side
 * (one database, the command table and the reply writer, as a shard runs them).
 *
 * Replies must be byte-identical, OBJECT ENCODING included (that is how conversions are observed),
 * except where order or chance legitimately differ: HKEYS, HVALS and HGETALL of a hash stored as a table
 * compare as multisets (each server's hash seed orders its buckets), a whole HSCAN call as a set of
 * pairs, and HRANDFIELD by shape only (type, length, nesting, and whether its fields repeat); a separate
 * test checks that HRANDFIELD's fields and values really belong to the hash.
 */
import { describe, expect, it } from 'vitest';
import { elements, pairsOf, parseReply, sameRandomPairs, sameWholeScan, text } from '../helpers/keyspace.js';
import { InProcessSabre, argvOf, edgeCaseTests, randomSequenceTests, redisPair, wholeScanTest, type Agreement, type Line } from '../helpers/in-process-sabre.js';
import { Random } from '../helpers/random.js';





const agree: Agreement = (argv, ours, theirs) => {
  if (ours.equals(theirs)) return true;
  const name = argv[0].toString('latin1').toLowerCase();
  const [a, c] = [parseReply(ours), parseReply(theirs)];
  if (a.type === 'error' || c.type === 'error') return false;
  if (name === 'hkeys' || name === 'hvals') return JSON.stringify(elements(a).map(text).sort()) === JSON.stringify(elements(c).map(text).sort());
  if (name === 'hgetall') return a.type === c.type && JSON.stringify(pairsOf(elements(a))) === JSON.stringify(pairsOf(elements(c)));
  if (name === 'hscan') return sameWholeScan(a, c);
  if (name === 'hrandfield') return sameRandomPairs(argv, a, c);
  return false;
};

const pairs = (count: number, prefix = 'f', value = (i: number) => `v${i}`): string[] => Array.from({ length: count }, (_, i) => [`${prefix}${i}`, value(i)]).flat();
const LONG64 = 'x'.repeat(64);
const LONG65 = 'y'.repeat(65);

describe('hash commands against a real redis-server 7', () => {
  const pair = redisPair();

  const cases: Record<string, readonly Line[]> = {
    'missing keys and empty replies': [
      'HGET nokey f', 'HMGET nokey a b', 'HLEN nokey', 'HSTRLEN nokey f', 'HEXISTS nokey f', 'HKEYS nokey', 'HVALS nokey', 'HGETALL nokey',
      'HDEL nokey f', 'HRANDFIELD nokey', 'HRANDFIELD nokey 3', 'HRANDFIELD nokey -3 WITHVALUES', 'HRANDFIELD nokey 0',
      'HSCAN nokey 0', 'HSCAN nokey 0 TYPE x', 'HSCAN nokey 0 COUNT 0', 'HSCAN nokey x', 'EXISTS nokey', 'TYPE nokey', 'OBJECT ENCODING nokey',
      ['HSET', '', '', ''], ['HGET', '', ''], ['HSTRLEN', '', ''], ['HGETALL', ''], 'TYPE h',
    ],
    'arity and syntax errors': [
      'HSET h', 'HSET h f', 'HSET h f v x', 'HMSET h f', 'HMSET h f v x', 'HSETNX h f', 'HGET h', 'HDEL h', 'HINCRBY h f', 'HINCRBYFLOAT h f',
      'HRANDFIELD', 'HSCAN h', 'HMGET h', 'HSTRLEN h', 'HEXISTS h', 'HKEYS', 'HVALS', 'HGETALL', 'HLEN',
      'HSET h f v', 'HRANDFIELD h 1 WITHVALUES x', 'HRANDFIELD h 1 x', 'HRANDFIELD h x y', 'HRANDFIELD h x', 'HRANDFIELD h 1.5',
      'HRANDFIELD h -9223372036854775808', 'HRANDFIELD h 9223372036854775808', 'HRANDFIELD h 4611686018427387904 WITHVALUES',
      'HRANDFIELD h -4611686018427387904 withvalues', 'HRANDFIELD h 9223372036854775807', 'HRANDFIELD h 4611686018427387903 WITHVALUES',
      'HSCAN h x', 'HSCAN h -1', 'HSCAN h 0 COUNT 0', 'HSCAN h 0 COUNT x', 'HSCAN h 0 TYPE string', 'HSCAN h 0 MATCH', 'HSCAN h 0 NOVALUES',
    ],
    'wrong types both ways': [
      'SET s v', 'HSET s f v', 'HMSET s f v', 'HSETNX s f v', 'HGET s f', 'HMGET s f', 'HLEN s', 'HSTRLEN s f', 'HEXISTS s f', 'HDEL s f',
      'HKEYS s', 'HVALS s', 'HGETALL s', 'HINCRBY s f 1', 'HINCRBYFLOAT s f 1', 'HRANDFIELD s', 'HRANDFIELD s 2', 'HSCAN s 0',
      'HINCRBY s f x', 'HINCRBYFLOAT s f x', 'HRANDFIELD s x',
      'HSET h f v', 'GET h', 'APPEND h x', 'INCR h', 'STRLEN h', 'SETRANGE h 0 x', 'GETDEL h', 'GETRANGE h 0 1', 'SET h x GET', 'MGET h s',
      'TYPE h', 'OBJECT ENCODING h', 'SET h x', 'TYPE h', 'GET h', 'HSET h2 a b', 'SETNX h2 x', 'HGET h2 a', 'SET h2 y', 'HGET h2 a',
    ],
    'fields and values': [
      'HSET h a 1 b 2', 'HSET h a 3 c 4', 'HGET h a', 'HMGET h a zz b', 'HLEN h', 'HSTRLEN h a', 'HSTRLEN h zz', 'HEXISTS h a', 'HEXISTS h zz',
      'HKEYS h', 'HVALS h', 'HGETALL h', 'HSETNX h a 9', 'HSETNX h d 9', 'HMSET h e 5 a 6', 'HGETALL h', 'HDEL h a zz a', 'HGETALL h',
      'HDEL h b c d e', 'EXISTS h', 'HSET h "" ""', ['HSET', 'h', '', ''], ['HGET', 'h', ''], ['HSTRLEN', 'h', ''], 'HGETALL h',
      ['HSET', 'n', '1', '-0', '2', '01', '3', '9223372036854775807', '4', '-9223372036854775808', '5', '9223372036854775808', '6', '1.5', '7', ' 7', '8', '-1', '9', '127', '10', '128', '11', '9007199254740993', '12', '-32769', '13', '2147483648'],
      'HGETALL n', 'HSTRLEN n 3', 'HSTRLEN n 4', 'HSTRLEN n 12', 'HGET n 11', 'HDEL n 3 5 7', 'HGETALL n', 'HMGET n 1 2 3 4 13',
      ['HSET', 'bin', '\0\xff\r\n', 'a\0b', '\xff', ''], ['HGET', 'bin', '\0\xff\r\n'], 'HGETALL bin', 'OBJECT ENCODING n', 'OBJECT ENCODING bin',
      'HSCAN n 0', 'HSCAN n 0 MATCH 1*', 'HSCAN n 77 COUNT 1', 'HSCAN n 0 MATCH nomatch', 'HSCAN n 0 MATCH [0-2]',
    ],
    'HINCRBY': [
      'HINCRBY h f 5', 'HINCRBY h f -10', 'HINCRBY h f x', 'HINCRBY h f 1.5', 'HINCRBY h f 9223372036854775808', 'HINCRBY h f 9223372036854775807',
      'HSET h m 9223372036854775807', 'HINCRBY h m 1', 'HINCRBY h m -1', 'HSET h n -9223372036854775808', 'HINCRBY h n -1', 'HINCRBY h n 0',
      'HINCRBY h n 9223372036854775807', 'HSET h s abc', 'HINCRBY h s 1', 'HSET h sp " 1"', ['HSET', 'h', 'sp', ' 1'], 'HINCRBY h sp 1',
      'HSET h fl 1.0', 'HINCRBY h fl 1', 'HINCRBY h new -9223372036854775808', 'HGETALL h', 'OBJECT ENCODING h', 'HINCRBY nokey f x', 'EXISTS nokey',
      `HINCRBY h ${LONG64} 1`, 'OBJECT ENCODING h', `HINCRBY h ${LONG65} 1`, 'OBJECT ENCODING h', `HGET h ${LONG65}`,
    ],
    'HINCRBYFLOAT': [
      'HINCRBYFLOAT h f 1.5', 'HINCRBYFLOAT h f inf', 'HINCRBYFLOAT h f -inf', 'HINCRBYFLOAT h f nan', 'HINCRBYFLOAT h f 1e400',
      'HINCRBYFLOAT h f x', 'HINCRBYFLOAT h f ""', 'HINCRBYFLOAT h f 0.1', 'HINCRBYFLOAT h f 0.1', 'HINCRBYFLOAT h f -0', 'HINCRBYFLOAT h e 5.0e3',
      'HSET h g 1e4932', 'HINCRBYFLOAT h g 1e4932', 'HGET h g', 'HSET h s abc', 'HINCRBYFLOAT h s 1', 'HSET h i 5', 'HINCRBYFLOAT h i 3',
      'HINCRBYFLOAT h i 9223372036854775807', 'HSET h sp " 1"', ['HSET', 'h', 'sp', ' 1'], 'HINCRBYFLOAT h sp 1',
      'HINCRBYFLOAT nokey f inf', 'HINCRBYFLOAT nokey f nan', 'EXISTS nokey', 'HGETALL h', 'OBJECT ENCODING h',
      'HINCRBYFLOAT h big 1e60', 'OBJECT ENCODING h', 'HGET h big', 'HINCRBYFLOAT h big2 1e70', 'OBJECT ENCODING h', 'HGET h big2',
    ],
    'huge fields and values': [
      ['HSET', 'h', 'k'.repeat(100_000), 'v'.repeat(200_000)], 'OBJECT ENCODING h', ['HSTRLEN', 'h', 'k'.repeat(100_000)],
      ['HGET', 'h', 'k'.repeat(100_000)], ['HSET', 'h', 'k'.repeat(100_000), 'w'.repeat(600)], ['HGET', 'h', 'k'.repeat(100_000)],
      ['HEXISTS', 'h', 'k'.repeat(99_999)], ['HDEL', 'h', 'k'.repeat(100_000)], 'EXISTS h',
    ],
    'encoding conversions': [
      ['HSET', 'h', ...pairs(512)], 'OBJECT ENCODING h', 'HLEN h', 'HSET h f0 again', 'OBJECT ENCODING h', 'HSET h f512 x', 'OBJECT ENCODING h',
      'HLEN h', 'HGET h f511', 'HGET h f0', ['HDEL', 'h', ...pairs(512).filter((_, i) => i % 2 === 0)], 'HLEN h', 'OBJECT ENCODING h',
      'DEL h', 'HSET h a b', 'OBJECT ENCODING h',
      `HSET v a ${LONG64}`, 'OBJECT ENCODING v', `HSET v ${LONG64} a`, 'OBJECT ENCODING v', `HSET v b ${LONG65}`, 'OBJECT ENCODING v',
      'HDEL v b', 'OBJECT ENCODING v', 'HGETALL v', 'COPY v v2', 'OBJECT ENCODING v2', 'HGETALL v2', 'RENAME v2 v3', 'OBJECT ENCODING v3',
      'HSET w a 1', `HSETNX w a ${LONG65}`, 'OBJECT ENCODING w', `HSETNX w b ${LONG65}`, 'OBJECT ENCODING w',
      'HSET x a 1', `HMSET x a 2 ${LONG65} 3`, 'OBJECT ENCODING x', 'HSET y a 1', `HSET y a ${LONG65}`, 'HDEL y a', 'EXISTS y',
      `HSET y a ${LONG65}`, 'OBJECT ENCODING y', 'HSET z a 1', 'COPY z z2', 'OBJECT ENCODING z2', 'HGETALL z2',
      ['HSET', 'big', ...pairs(600)], 'OBJECT ENCODING big', 'HLEN big', 'HGET big f599', 'HMGET big f0 f1 nope', 'HSTRLEN big f100',
      'HKEYS big', 'HVALS big', 'HGETALL big', 'HSCAN big 0 COUNT 100000', 'HSCAN big 0 COUNT 100000 MATCH f1?', 'COPY big big2', 'OBJECT ENCODING big2',
      'HLEN big2', 'HRANDFIELD big 700', 'HRANDFIELD big 599 WITHVALUES', 'HRANDFIELD big 10', 'HRANDFIELD big -10 WITHVALUES', 'HRANDFIELD big 300',
    ],
    'HRANDFIELD': [
      'HSET h a 1', 'HRANDFIELD h', 'HRANDFIELD h 1', 'HRANDFIELD h -3', 'HRANDFIELD h -3 WITHVALUES', 'HRANDFIELD h 5 WITHVALUES', 'HRANDFIELD h 0',
      'HRANDFIELD h 0 WITHVALUES', 'HRANDFIELD h -1 withvalues', 'HSET h b 2 c 3 d 4', 'HRANDFIELD h', 'HRANDFIELD h 2', 'HRANDFIELD h 4 WITHVALUES',
      'HRANDFIELD h 9 WITHVALUES', 'HRANDFIELD h -9', 'HRANDFIELD h -9 WITHVALUES', 'HRANDFIELD h 3 WITHVALUES',
    ],
    'keys holding hashes': [
      'HSET h a 1', 'EXPIRE h 100', 'TTL h', 'HSET h b 2', 'TTL h', 'PERSIST h', 'TTL h', 'RENAME h g', 'HGETALL g', 'EXISTS h', 'MOVE g 0',
      'COPY g g', 'COPY g h', 'HGETALL h', 'HSET h c 3', 'HLEN g', 'HLEN h', 'DEL g h', 'EXISTS g h', 'HSET h a 1', 'SET h x', 'GET h',
      'HSET h a 1', 'UNLINK h', 'HSET h a 1', 'SCAN 0 TYPE hash', 'DBSIZE', 'FLUSHDB', 'DBSIZE', 'HGET h a',
    ],
  };
  edgeCaseTests(pair, cases, agree);

  wholeScanTest(pair, 'returns every field of a large hash over a whole HSCAN iteration, as Redis does', 'HSCAN', 'h', ['HSET', 'h', ...pairs(3000)], 3000, pairsOf);

  it('answers HRANDFIELD with fields and values of the hash, distinct for a positive count', () => {
    const sabre = new InProcessSabre(3);
    for (const size of [5, 100, 2000]) {
      sabre.run(argvOf(['DEL', 'h']));
      sabre.run(argvOf(['HSET', 'h', ...pairs(size)]));
      for (const count of [1, 3, Math.floor(size / 2), size - 1, size, size + 5, -1, -7, -size * 2]) {
        const reply = parseReply(sabre.run(argvOf(['HRANDFIELD', 'h', String(count), 'WITHVALUES'])));
        const items = elements(reply).map((item) => elements(item).map(text));
        expect(items.length).toBe(count > 0 ? Math.min(count, size) : -count);
        for (const [field, value] of items) expect(value).toBe(`v${field.slice(1)}`);
        if (count > 0) expect(new Set(items.map(([field]) => field)).size).toBe(items.length);
      }
    }
  });

  /** Commands over a few keys and fields, long fields and values now and then, with low thresholds. */
  function hashCommand(random: Random): () => Buffer[] {
    const key = () => random.pick(['h1', 'h2', 'h3', 's']);
    const field = () => (random.next() < 0.05 ? `long${'f'.repeat(20)}` : random.pick(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', '1', '-7']));
    const value = () => (random.next() < 0.05 ? 'v'.repeat(20) : random.pick(['1', '2.5', '-3', 'x', '', '100', '9223372036854775806']));
    return () => {
      const op = random.int(0, 26);
      switch (op) {
        case 0:
        case 1:
        case 2: {
          const count = random.int(1, 4);
          return argvOf([random.pick(['HSET', 'HMSET']), key(), ...Array.from({ length: count }, () => [field(), value()]).flat()]);
        }
        case 3: return argvOf(['HSETNX', key(), field(), value()]);
        case 4: return argvOf(['HGET', key(), field()]);
        case 5: return argvOf(['HMGET', key(), field(), field()]);
        case 6: return argvOf(['HDEL', key(), field(), ...(random.next() < 0.5 ? [field()] : [])]);
        case 7: return argvOf(['HLEN', key()]);
        case 8: return argvOf(['HSTRLEN', key(), field()]);
        case 9: return argvOf(['HEXISTS', key(), field()]);
        case 10: return argvOf(['HKEYS', key()]);
        case 11: return argvOf(['HVALS', key()]);
        case 12: return argvOf(['HGETALL', key()]);
        case 13: return argvOf(['HINCRBY', key(), field(), random.pick(['1', '-5', '9223372036854775807', 'x'])]);
        case 14: return argvOf(['HINCRBYFLOAT', key(), field(), random.pick(['1.5', '-0.25', '1e10', 'inf', '3'])]);
        case 15: return argvOf(['HRANDFIELD', key(), ...(random.next() < 0.7 ? [String(random.int(-6, 6)), ...(random.next() < 0.5 ? ['WITHVALUES'] : [])] : [])]);
        case 16: return argvOf(['HSCAN', key(), '0', 'COUNT', '1000', ...(random.next() < 0.3 ? ['MATCH', random.pick(['*', 'a*', '[a-c]', 'long*'])] : [])]);
        case 17: return argvOf(['DEL', key()]);
        case 18: return argvOf(['EXPIRE', key(), '100']);
        case 19: return argvOf(['TYPE', key()]);
        case 20:
        case 21: return argvOf(['OBJECT', 'ENCODING', key()]);
        case 22: return argvOf(['RENAME', key(), key()]);
        case 23: return argvOf(['SET', key(), value()]);
        case 24: return argvOf(['GET', key()]);
        case 25: return argvOf(['COPY', key(), key(), ...(random.next() < 0.5 ? ['REPLACE'] : [])]);
        default: return argvOf(['TTL', key()]);
      }
    };
  }

  randomSequenceTests(pair, [[1, 2], [2, 3], [3, 2], [4, 3]], hashCommand, 20, { limits: { 'hash-max-listpack-entries': 6, 'hash-max-listpack-value': 16 }, agree });
});
