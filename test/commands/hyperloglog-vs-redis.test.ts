/**
 * The HyperLogLog commands (PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST) against a real redis-server 7:
 * every reply byte-identical, in RESP2 and RESP3, and — since a HyperLogLog is a string — GET after the
 * steps that change one, so the stored bytes (sparse code, dense registers, cached count) are Redis's
 * too. Counts are compared from 1 to 200,000 distinct elements, one at a time across the sparse → dense
 * promotion, then in steps. Invalid and corrupt HyperLogLog strings are built by hand with SET. The
 * server is checked over TCP with keys on two shards.
 */
import { describe, expect, it } from 'vitest';
import { keySlot, shardOfSlot } from '../../src/cluster/slot.js';
import { elementPattern, patternRegister } from '../../src/hll/format.js';
import { RedisConnection, b } from '../helpers/differential.js';
import { InProcessSabre, MAKE_HASH, argvOf, differences, edgeCaseTests, randomSequenceTests, redisPair, type Line } from '../helpers/in-process-sabre.js';
import type { Random } from '../helpers/random.js';
import { sabreBesideRedis } from '../helpers/sabre-server.js';

/** The first element `x<n>` whose hash lands in `register`. */
function elementInRegister(register: number): string {
  for (let n = 0; ; n++) if (patternRegister(elementPattern(b(`x${n}`))) === register) return `x${n}`;
}

const HEADER = (encoding: string, cache = '\x00\x00\x00\x00\x00\x00\x00\x80') => `HYLL${encoding}\x00\x00\x00${cache}`;
const SPARSE = (code: string, cache?: string) => HEADER('\x01', cache) + code;
const LAST = elementInRegister(16383);
const FIRST = elementInRegister(0);

const EDGE_CASES: Record<string, Line[]> = {
  'PFADD creates, adds, and reports changes': [
    'PFADD h',
    'GET h',
    'PFADD h',
    'PFCOUNT h',
    'GET h',
    'PFADD h a',
    'GET h',
    'PFADD h a',
    'PFADD h b c d a',
    'GET h',
    'PFDEBUG DECODE h',
    'PFDEBUG ENCODING h',
    'PFCOUNT h',
    'GET h',
    'PFCOUNT h',
    'PFADD h e',
    'GET h',
    'PFCOUNT h',
    ['PFADD', 'h', '', '\x00', '\xff\xfe', 'a long element that spans several eight-byte blocks'],
    'GET h',
    `PFADD first ${FIRST}`,
    `PFADD last ${LAST}`,
    'GET first',
    'GET last',
    'PFDEBUG DECODE last',
    `PFADD ends ${FIRST} ${LAST}`,
    'PFDEBUG DECODE ends',
    'PFCOUNT ends',
    'PFADD',
    'PFCOUNT',
    'PFMERGE',
    'PFDEBUG',
    'PFDEBUG ENCODING',
  ],
  'sparse values split and merge (neighbouring registers, equal and unequal runs)': [
    'PFADD n x0 x1 x2 x3 x4 x5 x6 x7 x8 x9 x10 x11 x12 x13 x14 x15 x16 x17 x18 x19',
    'PFDEBUG DECODE n',
    'GET n',
    'PFADD n x20 x21 x22 x23 x24 x25 x26 x27 x28 x29 x30 x31 x32 x33 x34 x35 x36 x37 x38 x39 x40 x41',
    'PFDEBUG DECODE n',
    'PFCOUNT n',
    'GET n',
  ],
  'PFADD keeps the TTL, PFCOUNT stores its cache': [
    'PFADD t a b c',
    'PEXPIRE t 100000',
    'PFADD t d',
    'TTL t',
    'PFCOUNT t',
    'TTL t',
    'GET t',
    'PFDEBUG TODENSE t',
    'TTL t',
    'STRLEN t',
    'PFADD t e f',
    'TTL t',
    'GET t',
  ],
  'PFDEBUG subcommands': [
    'PFDEBUG ENCODING missing',
    'PFDEBUG FOO missing',
    'PFADD d a b c',
    'PFDEBUG FOO d',
    ['PFDEBUG', 'a\r\nb\x00c', 'd'],
    'PFDEBUG ENCODING d',
    'PFDEBUG encoding d',
    'PFDEBUG DECODE d',
    'PFDEBUG DECODE d extra',
    'PFDEBUG GETREG d extra',
    'PFDEBUG TODENSE d extra',
    'PFDEBUG ENCODING d extra',
    'PFDEBUG FOO d extra',
    'PFDEBUG GETREG d',
    'PFDEBUG ENCODING d',
    'GET d',
    'PFDEBUG DECODE d',
    'PFDEBUG TODENSE d',
    'PFADD d2 a',
    'PFDEBUG TODENSE d2',
    'PFDEBUG ENCODING d2',
    'GET d2',
    'PFDEBUG GETREG d2',
    'SET s abc',
    'PFDEBUG ENCODING s',
    `${MAKE_HASH} hash`,
    'PFDEBUG ENCODING hash',
    'PFDEBUG FOO hash',
    'PFSELFTEST',
    'PFSELFTEST x',
  ],
  'dense PFADD, PFCOUNT and GET': [
    'PFADD x a b c d e f g h i j k l m n o p',
    'PFDEBUG TODENSE x',
    'PFCOUNT x',
    'GET x',
    'PFADD x a',
    'GET x',
    'PFADD x q r s',
    'GET x',
    'PFCOUNT x',
    'GET x',
    `PFADD x ${LAST} ${FIRST}`,
    'PFDEBUG GETREG x',
    'GET x',
  ],
  'dense registers above the sparse range (63, beyond HLL_Q + 1) count and merge as in Redis': [
    'PFADD hi a b c',
    'PFDEBUG TODENSE hi',
    ['SETRANGE', 'hi', '100', '\xff\xff\xff\xfc\xfb\xcf'],
    'PFCOUNT hi',
    'GET hi',
    'PFADD sp x y',
    'PFMERGE sp hi',
    'PFDEBUG ENCODING sp',
    'GET sp',
    'PFCOUNT sp hi missing',
    'PFMERGE fresh hi',
    'GET fresh',
  ],
  'one PFADD that turns the key dense half-way, and PFMERGE of sparse sources past the size limit': [
    ['PFADD', 'big', ...Array.from({ length: 2000 }, (_, i) => `m${i}`)],
    'PFDEBUG ENCODING big',
    'GET big',
    'PFCOUNT big',
    ['PFADD', 's1', ...Array.from({ length: 1000 }, (_, i) => `p${i}`)],
    ['PFADD', 's2', ...Array.from({ length: 1000 }, (_, i) => `q${i}`)],
    'PFDEBUG ENCODING s1',
    'PFDEBUG ENCODING s2',
    'PFMERGE s3 s1 s2',
    'PFDEBUG ENCODING s3',
    'GET s3',
    'PFCOUNT s3',
    'PFCOUNT s1 s2',
    'PFMERGE s1 s2',
    'GET s1',
  ],
  'wrong types and strings that are not HyperLogLogs': [
    `${MAKE_HASH} hash`,
    'PFADD hash a',
    'PFCOUNT hash',
    'PFCOUNT hash other',
    'PFMERGE hash',
    'PFMERGE dest hash',
    'EXISTS dest',
    'SET s abc',
    'PFADD s a',
    'PFCOUNT s',
    'PFMERGE s',
    'SET i 12345',
    'PFADD i a',
    ['SET', 'short', 'HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'],
    'PFADD short a',
    ['SET', 'magic', 'hYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff'],
    'PFCOUNT magic',
    ['SET', 'encoding', HEADER('\x02') + '\x7f\xff'],
    'PFADD encoding a',
    ['SET', 'raw', HEADER('\xff') + '\x7f\xff'],
    'PFCOUNT raw',
    ['SET', 'densesize', HEADER('\x00') + '\x00\x00\x00'],
    'PFCOUNT densesize',
    'PFDEBUG ENCODING densesize',
    'PFCOUNT missing1 missing2',
    'PFCOUNT missing1 s',
    'PFCOUNT missing1 hash',
  ],
  'corrupt sparse code': [
    ['SET', 'short', SPARSE('\x7f\xfe')],
    `PFADD short a ${LAST} b`,
    'GET short',
    'PFCOUNT short',
    'PFCOUNT short short',
    'PFMERGE m short',
    'EXISTS m',
    'PFDEBUG DECODE short',
    'PFDEBUG TODENSE short',
    'PFDEBUG GETREG short',
    ['SET', 'long', SPARSE('\x7f\xff\x00')],
    'PFADD long a',
    'GET long',
    'PFCOUNT long',
    'PFMERGE long',
    ['SET', 'empty', SPARSE('')],
    'PFADD empty a',
    'PFCOUNT empty',
    'PFDEBUG DECODE empty',
    ['SET', 'cut', SPARSE('\x7f')],
    // Redis reads the byte after a cut XZERO from memory past the string's end: only the first edit is comparable.
    'PFADD cut a',
    ['SET', 'overflow', SPARSE('\x7f\xfd\x83\x83')],
    'PFDEBUG DECODE overflow',
    'PFCOUNT overflow',
    'PFCOUNT overflow overflow',
    'PFADD overflow a',
    'GET overflow',
    ['SET', 'full', SPARSE('\x7f\xff\x80')],
    'PFCOUNT full',
    'PFCOUNT full full',
    'PFMERGE m full',
    'PFDEBUG TODENSE full',
    'PFADD full a',
    'GET full',
    ['SET', 'xzero1', SPARSE('\x40\x00\x7f\xfe')],
    'PFADD xzero1 ' + FIRST,
    'GET xzero1',
    'PFDEBUG DECODE xzero1',
  ],
  'cached counts are trusted as stored': [
    ['SET', 'c', SPARSE('\x7f\xff', '\x05\x00\x00\x00\x00\x00\x00\x00')],
    'PFCOUNT c',
    'PFCOUNT c c',
    ['SET', 'big', SPARSE('\x7f\xff', '\xff\xff\xff\xff\xff\xff\xff\x7f')],
    'PFCOUNT big',
    ['SET', 'mid', SPARSE('\x7f\xff', '\x01\x02\x03\x04\x05\x06\x07\x00')],
    'PFCOUNT mid',
    'PFADD mid a',
    'GET mid',
    'PFCOUNT mid',
    'GET mid',
  ],
  PFMERGE: [
    'PFMERGE m1',
    'GET m1',
    'PFMERGE m2 missing',
    'GET m2',
    'PFADD a 1 2 3',
    'PFADD b 3 4 5 6',
    'PFMERGE m3 a b',
    'GET m3',
    'PFCOUNT m3',
    'PFCOUNT a b',
    'PFCOUNT a b missing',
    'PFMERGE a b',
    'GET a',
    'PFMERGE a a a',
    'GET a',
    'PFADD d x y z',
    'PFDEBUG TODENSE d',
    'PFMERGE m4 a d',
    'PFDEBUG ENCODING m4',
    'GET m4',
    'PFMERGE b',
    'PFDEBUG ENCODING b',
    'PFMERGE b d',
    'PFDEBUG ENCODING b',
    'GET b',
    'PFCOUNT b d a',
    'PFMERGE d a',
    'GET d',
    'PEXPIRE d 100000',
    'PFMERGE d m3',
    'TTL d',
    'SET s x',
    'PFMERGE s a',
    'PFMERGE a s',
    'GET a',
  ],
};

/** Random PFADD/PFCOUNT/PFMERGE/PFDEBUG over four keys, with GETs to compare the bytes, and the odd corruption. */
function hyperLogLogGenerator(random: Random): () => Buffer[] {
  const key = () => b(`h${random.int(0, 3)}`);
  // A pool a few times the sparse limit, so keys go dense over a run and repeats are common.
  const element = () => b(random.next() < 0.1 ? String.fromCharCode(random.int(0, 255)) : `e${random.int(0, 6000)}`);
  return () => {
    const roll = random.next();
    if (roll < 0.45) return [b('PFADD'), key(), ...Array.from({ length: random.int(0, 30) }, element)];
    if (roll < 0.6) return [b('GET'), key()];
    if (roll < 0.7) return [b('PFCOUNT'), ...Array.from({ length: random.int(1, 3) }, key)];
    if (roll < 0.77) return [b('PFMERGE'), key(), ...Array.from({ length: random.int(0, 3) }, key)];
    if (roll < 0.85) return [b('PFDEBUG'), b(random.pick(['ENCODING', 'DECODE', 'TODENSE', 'GETREG'])), key()];
    if (roll < 0.9) return [b('PEXPIRE'), key(), b('100000')];
    if (roll < 0.93) return [b('DEL'), key()];
    if (roll < 0.96) return [b('SETRANGE'), key(), b(String(random.int(0, 30))), b(String.fromCharCode(random.int(0, 255)))];
    return [b('TTL'), key()];
  };
}

/**
 * Elements whose registers all fall among the first 48, so sparse VAL opcodes sit side by side and
 * every split and merge rule of the sparse code is exercised over and over.
 */
const CROWDED = (() => {
  const elements: Buffer[] = [];
  for (let n = 0; elements.length < 300; n++) if (patternRegister(elementPattern(b(`c${n}`))) < 48) elements.push(b(`c${n}`));
  return elements;
})();

function crowdedGenerator(random: Random): () => Buffer[] {
  const key = () => b(`h${random.int(0, 2)}`);
  return () => {
    const roll = random.next();
    if (roll < 0.5) return [b('PFADD'), key(), ...Array.from({ length: random.int(1, 4) }, () => random.pick(CROWDED))];
    if (roll < 0.7) return [b('PFDEBUG'), b('DECODE'), key()];
    if (roll < 0.8) return [b('GET'), key()];
    if (roll < 0.88) return [b('PFCOUNT'), key()];
    if (roll < 0.93) return [b('PFMERGE'), key(), key()];
    return [b('DEL'), key()];
  };
}

describe('HyperLogLog commands against redis-server', () => {
  const pair = redisPair();
  edgeCaseTests(pair, EDGE_CASES);
  randomSequenceTests(pair, [[41, 2], [42, 2], [43, 2], [44, 3]], hyperLogLogGenerator, 20);
  describe('with elements crowded into few registers', () => {
    randomSequenceTests(pair, [[51, 2], [52, 2], [53, 3]], crowdedGenerator, 20);
  });

  it('goes dense at the sparse size limit: bytes equal after each element, across the promotion', async (context) => {
    const redis = pair.connection(2);
    if (redis === undefined) return context.skip();
    await redis.run([[b('FLUSHALL')]]);
    const lines: Line[] = [];
    for (let n = 0; n < 2500; n++) lines.push(`PFADD p e${n}`, 'GET p', 'PFDEBUG ENCODING p');
    expect(await differences(redis, new InProcessSabre(), lines.map(argvOf))).toEqual([]);
  });

  it('counts as Redis does from 1 to 200,000 distinct elements (one at a time to 3000, then in steps)', async (context) => {
    const redis = pair.connection(2);
    if (redis === undefined) return context.skip();
    await redis.run([[b('FLUSHALL')]]);
    const sabre = new InProcessSabre();
    const commands: Buffer[][] = [];
    let added = 0;
    const add = (count: number) => {
      commands.push([b('PFADD'), b('c'), ...Array.from({ length: count }, (_, i) => b(`element:${added + i}`))]);
      added += count;
      commands.push([b('PFCOUNT'), b('c')], [b('PFCOUNT'), b('c'), b('missing')]);
    };
    while (added < 3000) add(1);
    while (added < 200_000) {
      add(added < 20_000 ? 250 : 2000);
      commands.push([b('GET'), b('c')]);
    }
    const mismatches: string[] = [];
    for (let from = 0; from < commands.length; from += 1000) {
      mismatches.push(...(await differences(redis, sabre, commands.slice(from, from + 1000), 5)));
    }
    expect(mismatches, mismatches.join('\n')).toEqual([]);
  });
});

describe('the sabre server, two shards, RESP3: HyperLogLogs with {hash tags}', () => {
  const servers = sabreBesideRedis(['--shards', '2']);

  it('answers as redis-server does over TCP, keys on different shards included', async (context) => {
    const { sabre, redis } = servers;
    if (redis === undefined) return context.skip();
    const ours = await RedisConnection.open(sabre.port);
    const theirs = await RedisConnection.open(redis.port);
    const lines: Line[] = [
      'PFADD {t}a 1 2 3 4',
      'PFADD {t}b 3 4 5',
      'PFADD {u}c x y',
      'PFCOUNT {t}a {t}b',
      'PFMERGE {t}m {t}a {t}b',
      'GET {t}m',
      'PFCOUNT {t}m',
      'PFCOUNT {u}c',
      'GET {u}c',
      'PFDEBUG ENCODING {u}c',
    ];
    const commands = lines.map(argvOf);
    const [, ...a] = await ours.run([[b('HELLO'), b('3')], ...commands]);
    const [, ...c] = await theirs.run([[b('HELLO'), b('3')], ...commands]);
    commands.forEach((argv, i) => expect(a[i].toString('latin1'), argv.join(' ')).toBe(c[i].toString('latin1')));
    // {t} and {b} hash to different halves of the slots, so to different shards of two.
    expect(shardOfSlot(keySlot(b('{t}a')), 2)).not.toBe(shardOfSlot(keySlot(b('{b}c')), 2));
    const across = ['PFADD {b}c 4 5 6 7', 'PFCOUNT {t}a {b}c', 'PFMERGE {t}m2 {t}a {b}c', 'GET {t}m2', 'PFMERGE {b}c {t}a', 'GET {b}c', 'PFCOUNT {b}c {t}m2 {t}a'].map(argvOf);
    const [mine, reference] = [await ours.run(across), await theirs.run(across)];
    across.forEach((argv, i) => expect(mine[i].toString('latin1'), argv.join(' ')).toBe(reference[i].toString('latin1')));
    ours.close();
    theirs.close();
  });
});
