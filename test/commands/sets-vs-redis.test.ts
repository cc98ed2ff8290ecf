/**
 * Differential test of the set commands against a real redis-server 7.0, in-process on sabre's side.
 *
 * Replies must be byte-identical, OBJECT ENCODING included (that is how conversions are observed),
 * except where order or chance legitimately differ:
 * - SMEMBERS, SINTER, SUNION and SDIFF compare as multisets unless every source set is an intset and
 *   the result fits one (then the order, ascending, is Redis's too and must match exactly);
 * - SSCAN of a table as a set of members (both answering in one call, cursor 0);
 * - SPOP and SRANDMEMBER by shape only (type, length, and whether members repeat); a separate test
 *   checks that their members really belong to the set and that SPOP removes them.
 * SPOP makes the two sides differ afterwards, so the random sequences only pop whole sets.
 */
import { describe, expect, it } from 'vitest';
import { b } from '../helpers/differential.js';
import { elements, parseReply, text } from '../helpers/keyspace.js';
import { InProcessSabre, argvOf, edgeCaseTests, randomSequenceTests, redisPair, wholeScanTest, type Agreement, type Line } from '../helpers/in-process-sabre.js';
import { Random } from '../helpers/random.js';
import type { RespValue } from '../../src/protocol/reply-reader.js';



const multiset = (value: RespValue): string => JSON.stringify(elements(value).map(text).sort());

function encodingOf(sabre: InProcessSabre, key: Buffer): string {
  const reply = parseReply(sabre.run([b('OBJECT'), b('ENCODING'), key]));
  return reply.type === 'bulk' && reply.value !== null ? reply.value.toString('latin1') : 'none';
}

/** SPOP's and SRANDMEMBER's reply reduced to what chance does not decide. */
function randomShape(reply: RespValue, repeats: boolean): string {
  if (reply.type !== 'array' && reply.type !== 'set') return reply.type === 'bulk' ? (reply.value === null ? 'null' : 'bulk') : JSON.stringify(reply);
  const members = elements(reply).map(text);
  return JSON.stringify({ type: reply.type, length: members.length, distinct: repeats || new Set(members).size === members.length });
}

const SOURCES_FROM: Readonly<Record<string, number>> = { smembers: 1, sinter: 1, sunion: 1, sdiff: 1 };

const agree: Agreement = (argv, ours, theirs, sabre) => {
  if (ours.equals(theirs)) return true;
  const name = argv[0].toString('latin1').toLowerCase();
  const [a, c] = [parseReply(ours), parseReply(theirs)];
  if (a.type === 'error' || c.type === 'error' || a.type !== c.type) return false;
  if (name in SOURCES_FROM) {
    const sources = argv.slice(SOURCES_FROM[name]);
    const ordered = sources.every((key) => encodingOf(sabre, key) !== 'hashtable') && elements(a).length <= sabre.limits['set-max-intset-entries'];
    return !ordered && multiset(a) === multiset(c);
  }
  if (name === 'sscan') {
    const [cursorA, itemsA] = elements(a);
    const [cursorC, itemsC] = elements(c);
    return encodingOf(sabre, argv[1]) === 'hashtable' && text(cursorA) === '0' && text(cursorC) === '0' && multiset(itemsA) === multiset(itemsC);
  }
  if (name === 'spop' || name === 'srandmember') {
    const repeats = name === 'srandmember' && argv.length > 2 && argv[2][0] === 0x2d;
    return randomShape(a, repeats) === randomShape(c, repeats);
  }
  return false;
};

const numbers = (count: number, from = 0): string[] => Array.from({ length: count }, (_, i) => String(from + i));
const words = (count: number, prefix = 'm'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe('set commands against a real redis-server 7', () => {
  const pair = redisPair();

  const cases: Record<string, readonly Line[]> = {
    'missing keys and empty replies': [
      'SCARD nokey', 'SISMEMBER nokey a', 'SMISMEMBER nokey a b', 'SMEMBERS nokey', 'SREM nokey a', 'SRANDMEMBER nokey', 'SRANDMEMBER nokey 3',
      'SRANDMEMBER nokey -3', 'SRANDMEMBER nokey 0', 'SPOP nokey', 'SPOP nokey 3', 'SPOP nokey 0', 'SMOVE nokey dst a', 'EXISTS dst',
      'SINTER nokey', 'SINTER nokey other', 'SUNION nokey other', 'SDIFF nokey other', 'SINTERCARD 2 nokey other', 'SINTERSTORE d nokey',
      'SUNIONSTORE d nokey', 'SDIFFSTORE d nokey', 'EXISTS d', 'SSCAN nokey 0', 'SSCAN nokey 0 TYPE x', 'SSCAN nokey x', ['SADD', '', ''],
      ['SMEMBERS', ''], ['SISMEMBER', '', ''], 'TYPE nokey',
    ],
    'arity and syntax errors': [
      'SADD s', 'SREM s', 'SCARD', 'SISMEMBER s', 'SMISMEMBER s', 'SMEMBERS', 'SRANDMEMBER', 'SPOP', 'SMOVE a b', 'SINTER', 'SINTERSTORE d',
      'SUNION', 'SUNIONSTORE d', 'SDIFF', 'SDIFFSTORE d', 'SSCAN s', 'SINTERCARD', 'SINTERCARD 1', 'SADD s a',
      'SRANDMEMBER s 1 2', 'SRANDMEMBER s x', 'SRANDMEMBER s 1.5', 'SRANDMEMBER s -9223372036854775808', 'SRANDMEMBER s 9223372036854775808',
      'SPOP s 1 2', 'SPOP s x', 'SPOP s -1', 'SPOP s 1.0', 'SPOP nokey -1',
      'SINTERCARD x s', 'SINTERCARD 0 s', 'SINTERCARD -1 s', 'SINTERCARD 2 s', 'SINTERCARD 1 s LIMIT', 'SINTERCARD 1 s LIMIT x',
      'SINTERCARD 1 s LIMIT -1', 'SINTERCARD 1 s FOO 1', 'SINTERCARD 1 s limit 0', 'SINTERCARD 1 s LIMIT 1 LIMIT 2', 'SINTERCARD 9223372036854775808 s',
      'SSCAN s x', 'SSCAN s 0 COUNT 0', 'SSCAN s 0 COUNT x', 'SSCAN s 0 TYPE string', 'SSCAN s 0 MATCH', 'SSCAN s 0 NOVALUES',
    ],
    'wrong types both ways': [
      'SET str v', 'SADD str a', 'SREM str a', 'SCARD str', 'SISMEMBER str a', 'SMISMEMBER str a', 'SMEMBERS str', 'SRANDMEMBER str',
      'SRANDMEMBER str 2', 'SRANDMEMBER str x', 'SPOP str', 'SPOP str 2', 'SPOP str x', 'SSCAN str 0', 'SINTER str', 'SUNION str', 'SDIFF str',
      'SINTERCARD 1 str', 'SADD s a', 'SINTER s str', 'SINTER nokey str', 'SUNION s str', 'SDIFF s str', 'SDIFF nokey str', 'SINTERSTORE d s str',
      'SINTERSTORE d nokey str', 'SUNIONSTORE d s str', 'SDIFFSTORE d s str', 'SINTERCARD 2 nokey str', 'EXISTS d',
      'SMOVE str s a', 'SMOVE s str a', 'SMOVE nokey str a', 'SMISMEMBER s a', 'HSET h f v', 'SMOVE s h a', 'SINTERSTORE str s', 'TYPE str',
      'SMEMBERS str', 'GET s', 'HGET s f', 'TYPE s', 'OBJECT ENCODING s', 'SET s x', 'TYPE s',
    ],
    'members': [
      'SADD s a b c a', 'SCARD s', 'SISMEMBER s a', 'SISMEMBER s z', 'SMISMEMBER s a z c', 'SMEMBERS s', 'SREM s a z a', 'SCARD s',
      'SREM s b c d', 'EXISTS s', ['SADD', 's', '', '\0\xff\r\n'], ['SISMEMBER', 's', ''], ['SISMEMBER', 's', '\0\xff\r\n'], 'SMEMBERS s',
      'OBJECT ENCODING s', 'DEL s', 'SADD n 1 2 3', 'OBJECT ENCODING n', 'SMEMBERS n', 'SISMEMBER n 01', 'SISMEMBER n 1', 'SISMEMBER n x',
      'SREM n 01 +1 x', 'SCARD n', 'SADD n 01', 'OBJECT ENCODING n', 'SMEMBERS n', 'SREM n 01', 'OBJECT ENCODING n', 'SMEMBERS n',
      'SADD i 9223372036854775807 -9223372036854775808 0 -1 127 128 -32768 -32769 32767 32768 2147483647 2147483648 -2147483648 -2147483649 9007199254740993',
      'OBJECT ENCODING i', 'SMEMBERS i', 'SCARD i', 'SISMEMBER i 9007199254740993', 'SISMEMBER i 9007199254740992', 'SISMEMBER i 9223372036854775808',
      'SREM i 0 9223372036854775807 -9223372036854775808', 'SMEMBERS i', 'SADD i -0', 'OBJECT ENCODING i', 'SADD j 9223372036854775808', 'OBJECT ENCODING j',
      'SADD k 1 1.5', 'OBJECT ENCODING k', 'SADD l " 1"', ['SADD', 'l2', ' 1'], 'OBJECT ENCODING l2', 'SADD e -5 -4 -3', 'SMEMBERS e', 'SADD e 70000',
      'SMEMBERS e', 'SADD e -70000 5000000000', 'SMEMBERS e', 'SSCAN e 0', 'SSCAN e 5 COUNT 1', 'SSCAN e 0 MATCH -*', 'SSCAN i 0 MATCH 1* COUNT 1000',
      'SSCAN s 0', 'SADD t x y', 'SSCAN t 0 MATCH x',
    ],
    'SMOVE': [
      'SADD a 1 2 3', 'SADD b x', 'SMOVE a b 1', 'SMEMBERS a', 'OBJECT ENCODING b', 'SMOVE a b 9', 'SMOVE a a 2', 'SMOVE a a 9', 'SMOVE a c 2',
      'OBJECT ENCODING c', 'SMEMBERS c', 'SMOVE a c 3', 'EXISTS a', 'SMEMBERS c', 'SADD d y', 'SMOVE d e y', 'OBJECT ENCODING e', 'EXISTS d',
      'SMOVE c e 2', 'OBJECT ENCODING e', 'SADD f 1', 'EXPIRE f 100', 'SMOVE c f 3', 'TTL f', 'SMEMBERS f', 'SMOVE f f 1',
    ],
    'intersection': [
      'SADD a 1 2 3 4 5', 'SADD b 2 3 4 x', 'SADD c 3 4 5 6', 'SINTER a', 'SINTER a b', 'SINTER a c', 'SINTER a b c', 'SINTER a a', 'SINTER a nokey',
      'SINTERCARD 1 a', 'SINTERCARD 3 a b c', 'SINTERCARD 2 a c LIMIT 1', 'SINTERCARD 2 a c LIMIT 0', 'SINTERCARD 2 a c LIMIT 100', 'SINTERCARD 2 a nokey',
      'SINTERSTORE d a c', 'OBJECT ENCODING d', 'SMEMBERS d', 'SINTERSTORE d a b', 'OBJECT ENCODING d', 'SADD x p q r', 'SADD y q r s',
      'SINTERSTORE d x y', 'OBJECT ENCODING d', 'SINTER x y', 'SINTERSTORE d a x', 'EXISTS d', 'SET d v', 'SINTERSTORE d a nokey', 'EXISTS d',
      'SET d v', 'EXPIRE d 100', 'SINTERSTORE d a c', 'TTL d', 'TYPE d', 'SINTERSTORE a a c', 'SMEMBERS a', 'SINTERSTORE c c', 'SMEMBERS c',
    ],
    'union and difference': [
      'SADD a 1 2 3 4 5', 'SADD b 4 5 6', 'SADD c 5 x', 'SUNION a', 'SUNION a b', 'SUNION a b nokey', 'SDIFF a b', 'SDIFF a b c', 'SDIFF a a',
      'SDIFF a nokey', 'SDIFF nokey a', 'SUNION a c', 'SDIFF c a', 'SUNIONSTORE d a b', 'OBJECT ENCODING d', 'SMEMBERS d', 'SUNIONSTORE d a c',
      'OBJECT ENCODING d', 'SCARD d', 'SDIFFSTORE d a b', 'OBJECT ENCODING d', 'SMEMBERS d', 'SDIFFSTORE d c a', 'OBJECT ENCODING d', 'SMEMBERS d',
      'SDIFFSTORE d a a', 'EXISTS d', 'SET d v', 'SUNIONSTORE d nokey', 'EXISTS d', 'SUNIONSTORE a a b c', 'SCARD a', 'OBJECT ENCODING a',
      'SADD big1 x 1 2 3 4 5 6 7', 'SADD sm 1', 'SDIFFSTORE d big1 sm', 'OBJECT ENCODING d', 'SADD w 1 2 3 4 5 6 7 8 9 10 11 12 x',
      'SADD v1 x', 'SADD v2 y', 'SADD v3 z', 'SADD v4 q', 'SDIFFSTORE d w v1 v2 v3 v4', 'OBJECT ENCODING d', 'SCARD d', 'SDIFFSTORE d w v1',
      'OBJECT ENCODING d',
    ],
    'SRANDMEMBER and SPOP shapes': [
      'SADD s 1 2 3', 'SRANDMEMBER s', 'SRANDMEMBER s 1', 'SRANDMEMBER s 2', 'SRANDMEMBER s 3', 'SRANDMEMBER s 10', 'SRANDMEMBER s -5',
      'SRANDMEMBER s 0', 'SRANDMEMBER s -1', 'SPOP s 0', 'SPOP s 10', 'EXISTS s', 'SADD t a b c d e f', 'SRANDMEMBER t 4', 'SRANDMEMBER t -10',
      'SPOP t 1', 'SCARD t', 'SPOP t 4', 'SCARD t', 'SPOP t', 'SCARD t', 'SPOP t', 'EXISTS t', 'SADD u 1 2 3 4 5 6 7 8 9 10 11 12', 'SPOP u 11',
      'SCARD u', 'OBJECT ENCODING u', 'SADD v 1 2 3 4 5 6 7 8 9 10 11 x', 'SPOP v 2', 'SCARD v', 'OBJECT ENCODING v', 'SADD w 1', 'EXPIRE w 100',
      'SPOP w 1', 'EXISTS w', 'SADD w 1 2 3 4 5 6 7', 'EXPIRE w 100', 'SPOP w 6', 'TTL w',
    ],
    'encoding conversions': [
      ['SADD', 'i', ...numbers(512)], 'OBJECT ENCODING i', 'SADD i 0', 'OBJECT ENCODING i', 'SADD i 512', 'OBJECT ENCODING i', 'SCARD i',
      ['SREM', 'i', ...numbers(500)], 'OBJECT ENCODING i', 'SMEMBERS i', ['SADD', 'j', ...numbers(513)], 'OBJECT ENCODING j',
      ['SADD', 'k', ...numbers(511)], 'SADD k x', 'OBJECT ENCODING k', 'SREM k x', 'OBJECT ENCODING k', 'SADD a 1 x', 'OBJECT ENCODING a',
      'SADD b x 1', 'OBJECT ENCODING b', 'SREM b x', 'OBJECT ENCODING b', 'COPY b b2', 'OBJECT ENCODING b2', 'SMEMBERS b2', 'COPY i i2',
      'OBJECT ENCODING i2', 'SMEMBERS i2', 'RENAME i2 i3', 'OBJECT ENCODING i3', ['SADD', 'n1', ...numbers(300)], ['SADD', 'n2', ...numbers(300, 250)],
      'SUNIONSTORE u n1 n2', 'OBJECT ENCODING u', 'SCARD u', 'SINTERSTORE t n1 n2', 'OBJECT ENCODING t', 'SMEMBERS t', 'SDIFFSTORE d n1 n2',
      'OBJECT ENCODING d', 'SUNION n1 n2', 'SINTER n1 n2', 'SDIFF n1 n2', 'SINTERCARD 2 n1 n2', 'SINTERCARD 2 n1 n2 LIMIT 7',
      ['SADD', 'big', ...words(600)], 'OBJECT ENCODING big', 'SCARD big', 'SISMEMBER big m599', 'SMISMEMBER big m0 nope', 'SMEMBERS big',
      'SSCAN big 0 COUNT 100000', 'SSCAN big 0 COUNT 100000 MATCH m1?', 'SRANDMEMBER big 700', 'SRANDMEMBER big 599', 'SRANDMEMBER big 10',
      'SRANDMEMBER big 300', 'SRANDMEMBER big -10', 'COPY big big2', 'OBJECT ENCODING big2', 'SCARD big2', ['SADD', 'ints', ...numbers(700)],
      'SDIFFSTORE d2 ints big', 'OBJECT ENCODING d2', 'SCARD d2', ['SREM', 'ints', ...numbers(690)], 'SPOP ints 9', 'OBJECT ENCODING ints',
    ],
    'keys holding sets': [
      'SADD s a', 'EXPIRE s 100', 'TTL s', 'SADD s b', 'TTL s', 'SREM s a', 'TTL s', 'RENAME s t', 'SMEMBERS t', 'COPY t t', 'COPY t s',
      'SADD s c', 'SCARD t', 'SCARD s', 'DEL s t', 'SADD s 1', 'SET s x', 'GET s', 'SADD s 1', 'UNLINK s', 'SADD s 1', 'SCAN 0 TYPE set',
      'DBSIZE', 'FLUSHDB', 'SCARD s',
    ],
  };
  edgeCaseTests(pair, cases, agree);

  wholeScanTest(pair, 'returns every member of a large set over a whole SSCAN iteration, as Redis does', 'SSCAN', 's', ['SADD', 's', ...words(3000)], 3000, (items) => items.map(text));

  it('answers SRANDMEMBER and SPOP with members of the set, distinct for a positive count, and SPOP removes them', () => {
    const sabre = new InProcessSabre(3);
    for (const [size, member] of [[5, (i: number) => String(i)], [100, (i: number) => `m${i}`], [2000, (i: number) => String(i * 3)]] as const) {
      const all = Array.from({ length: size }, (_, i) => member(i));
      const build = () => {
        sabre.run(argvOf(['DEL', 's']));
        sabre.run(argvOf(['SADD', 's', ...all]));
      };
      build();
      for (const count of [1, 3, Math.floor(size / 2), size - 1, size, size + 5, -1, -7, -size * 2]) {
        const items = elements(parseReply(sabre.run(argvOf(['SRANDMEMBER', 's', String(count)])))).map(text);
        expect(items.length).toBe(count > 0 ? Math.min(count, size) : -count);
        for (const item of items) expect(all).toContain(item);
        if (count > 0) expect(new Set(items).size).toBe(items.length);
      }
      for (const count of [1, 2, Math.floor(size / 3), size - 1]) {
        build();
        const popped = elements(parseReply(sabre.run(argvOf(['SPOP', 's', String(count)])))).map(text);
        expect(new Set(popped).size).toBe(count);
        const left = elements(parseReply(sabre.run(argvOf(['SMEMBERS', 's'])))).map(text);
        expect(left.length).toBe(size - count);
        expect(new Set([...popped, ...left])).toEqual(new Set(all));
      }
    }
  });

  /** Commands over a few keys and members, a string member now and then, with a low intset limit. */
  function setCommand(random: Random): () => Buffer[] {
    const key = () => random.pick(['s1', 's2', 's3', 'str']);
    const member = () => (random.next() < 0.15 ? random.pick(['a', 'b', 'long-member-x']) : random.pick(['1', '2', '3', '-7', '70000', '5000000000', '10', '11', '12', '13']));
    const members = (most: number) => Array.from({ length: random.int(1, most) }, member);
    return () => {
      switch (random.int(0, 24)) {
        case 0:
        case 1:
        case 2: return argvOf(['SADD', key(), ...members(4)]);
        case 3:
        case 4: return argvOf(['SREM', key(), ...members(3)]);
        case 5: return argvOf(['SCARD', key()]);
        case 6: return argvOf(['SISMEMBER', key(), member()]);
        case 7: return argvOf(['SMISMEMBER', key(), ...members(3)]);
        case 8: return argvOf(['SMEMBERS', key()]);
        case 9: return argvOf(['SRANDMEMBER', key(), ...(random.next() < 0.7 ? [String(random.int(-6, 6))] : [])]);
        case 10: return argvOf(['SPOP', key(), '100']);
        case 11: return argvOf(['SMOVE', key(), key(), member()]);
        case 12: return argvOf(['SINTER', key(), key()]);
        case 13: return argvOf(['SINTERCARD', '2', key(), key(), ...(random.next() < 0.5 ? ['LIMIT', String(random.int(0, 3))] : [])]);
        case 14: return argvOf([random.pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), key(), key(), key()]);
        case 15: return argvOf(['SUNION', key(), key()]);
        case 16: return argvOf(['SDIFF', key(), key(), key()]);
        case 17: return argvOf(['SSCAN', key(), '0', 'COUNT', '1000', ...(random.next() < 0.3 ? ['MATCH', random.pick(['*', '1*', '[a-c]', 'long*'])] : [])]);
        case 18:
        case 19: return argvOf(['OBJECT', 'ENCODING', key()]);
        case 20: return argvOf(['DEL', key()]);
        case 21: return argvOf(['SET', key(), 'x']);
        case 22: return argvOf(['COPY', key(), key(), ...(random.next() < 0.5 ? ['REPLACE'] : [])]);
        case 23: return argvOf(['RENAME', key(), key()]);
        default: return argvOf(['TYPE', key()]);
      }
    };
  }

  randomSequenceTests(pair, [[1, 2], [2, 3], [3, 2], [4, 3]], setCommand, 20, { limits: { 'set-max-intset-entries': 6 }, agree });
});
