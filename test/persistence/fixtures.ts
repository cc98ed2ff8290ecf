/**
 * Keys of every type and encoding, made by commands (so sabre and Redis can each build them), and a
 * value's readout that compares equal between the two whatever order a hash table keeps, and the fill
 * and comparison the RDB tests share.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { RedisConnection, b } from '../helpers/differential.js';
import { elements, parseReply, text } from '../helpers/keyspace.js';

export type Runner = (argv: readonly Buffer[]) => Promise<Buffer>;

export interface Fixture {
  name: string;
  /** The commands that build the fixture as `key`. */
  build(key: string): Buffer[][];
  /** Whether DUMP's bytes are Redis's byte for byte (no LZF, no hash-table order). */
  sameBytes: boolean;
}

const range = (count: number, item: (i: number) => string): string[] => Array.from({ length: count }, (_, i) => item(i));
const cmd = (...args: (string | Buffer)[]): Buffer[] => args.map((arg) => (typeof arg === 'string' ? b(arg) : arg));
const binary = Buffer.from(range(256, (i) => String.fromCharCode(i)).join(''), 'latin1');

export const FIXTURES: Fixture[] = [
  { name: 'int8 string', sameBytes: true, build: (k) => [cmd('SET', k, '12')] },
  { name: 'int16 string', sameBytes: true, build: (k) => [cmd('SET', k, '-30000')] },
  { name: 'int32 string', sameBytes: true, build: (k) => [cmd('SET', k, '2000000000')] },
  { name: 'int64 string', sameBytes: true, build: (k) => [cmd('SET', k, '9223372036854775807')] },
  { name: 'non-canonical number', sameBytes: true, build: (k) => [cmd('SET', k, '007')] },
  { name: 'empty string', sameBytes: true, build: (k) => [cmd('SET', k, '')] },
  { name: 'short string', sameBytes: true, build: (k) => [cmd('SET', k, 'hello world')] },
  { name: 'binary string', sameBytes: true, build: (k) => [cmd('SET', k, binary)] },
  { name: 'long compressible string', sameBytes: false, build: (k) => [cmd('SET', k, 'abcdefgh'.repeat(1000))] },
  { name: 'HLL sparse', sameBytes: false, build: (k) => [cmd('PFADD', k, ...range(20, (i) => `e${i}`))] },
  { name: 'HLL dense', sameBytes: false, build: (k) => [cmd('PFADD', k, ...range(5000, (i) => `element-${i}`))] },
  { name: 'small hash', sameBytes: true, build: (k) => [cmd('HSET', k, 'a', '1', 'b', 'x')] },
  { name: 'listpack hash', sameBytes: false, build: (k) => [cmd('HSET', k, ...range(40, (i) => (i % 2 ? `${i * 1000 - 7}` : `field-${i}`)))] },
  { name: 'hash with a long value', sameBytes: false, build: (k) => [cmd('HSET', k, 'f', 'v'.repeat(100), 'g', '1')] },
  { name: 'big hash', sameBytes: false, build: (k) => [cmd('HSET', k, ...range(1400, (i) => `h${i}`))] },
  { name: 'small intset', sameBytes: true, build: (k) => [cmd('SADD', k, '1', '2', '300')] },
  { name: 'int32 intset', sameBytes: true, build: (k) => [cmd('SADD', k, '5', '-70000', '2147483647')] },
  { name: 'int64 intset', sameBytes: false, build: (k) => [cmd('SADD', k, '-9223372036854775808', '1', '9223372036854775807')] },
  { name: 'big intset', sameBytes: false, build: (k) => [cmd('SADD', k, ...range(500, (i) => String(i * 3)))] },
  { name: 'intset over the limit', sameBytes: false, build: (k) => [cmd('SADD', k, ...range(600, (i) => String(i)))] },
  { name: 'string set', sameBytes: false, build: (k) => [cmd('SADD', k, 'apple', 'pear', '12', binary)] },
  { name: 'small zset', sameBytes: true, build: (k) => [cmd('ZADD', k, '1', 'a', '2.5', 'b')] },
  { name: 'listpack zset', sameBytes: false, build: (k) => [cmd('ZADD', k, ...range(60, (i) => (i % 2 ? `m${i}` : String(i % 4 ? (i * 1.25) : -i * 100))), 'inf', 'top', '-inf', 'bottom', '0.1', 'tenth')] },
  { name: 'big zset', sameBytes: false, build: (k) => [cmd('ZADD', k, ...range(600, (i) => (i % 2 ? `member-${i}` : String(i / 7))))] },
  { name: 'zset with a long member', sameBytes: false, build: (k) => [cmd('ZADD', k, '1', 'm'.repeat(100), '2', 'short')] },
  { name: 'small list', sameBytes: true, build: (k) => [cmd('RPUSH', k, 'a', '1', '-5', '70000')] },
  { name: 'list of 1000', sameBytes: false, build: (k) => [cmd('RPUSH', k, ...range(1000, (i) => (i % 3 ? `item-${i}` : String(i * 1000003))))] },
  { name: 'list of big elements', sameBytes: false, build: (k) => [cmd('RPUSH', k, ...range(20, (i) => `${i}`.repeat(1000)), binary)] },
];

/** The key's type, encoding and value as comparable text (sets and hashes sorted). */
export async function readout(run: Runner, key: string): Promise<string> {
  const k = b(key);
  const typeReply = parseReply(await run([b('TYPE'), k]));
  const typeName = typeReply.type === 'simple' ? typeReply.value : text(typeReply);
  const encoding = text(parseReply(await run([b('OBJECT'), b('ENCODING'), k])));
  const values = async (argv: string[]): Promise<string[]> => elements(parseReply(await run(argv.map(b)))).map(text);
  let value: string[];
  switch (typeName) {
    case 'string':
      value = [text(parseReply(await run([b('GET'), k])))];
      break;
    case 'list':
      value = await values(['LRANGE', key, '0', '-1']);
      break;
    case 'set':
      value = (await values(['SMEMBERS', key])).sort();
      break;
    case 'hash': {
      const flat = await values(['HGETALL', key]);
      value = range(flat.length / 2, (i) => `${flat[2 * i]}=${flat[2 * i + 1]}`).sort();
      break;
    }
    case 'zset':
      value = await values(['ZRANGE', key, '0', '-1', 'WITHSCORES']);
      break;
    default:
      value = [];
  }
  return JSON.stringify({ type: typeName, encoding, value });
}

export function onConnection(connection: RedisConnection): Runner {
  return async (argv) => (await connection.run([argv]))[0];
}

/** The keys every test fills: each fixture in database 0, a few with TTLs, and one in database 3. */
export async function fill(db0: Runner, db3: Runner): Promise<string[]> {
  const keys: string[] = [];
  for (const fixture of FIXTURES) {
    const key = `k:${fixture.name}`;
    for (const command of fixture.build(key)) expect(parseReply(await db0(command)).type).not.toBe('error');
    keys.push(key);
  }
  await db0([b('PEXPIRE'), b('k:small hash'), b('500000')]);
  await db0([b('PEXPIRE'), b('k:big zset'), b('900000')]);
  await db0([b('SET'), b('k:ttl string'), b('v'), b('EX'), b('1000')]);
  keys.push('k:ttl string');
  await db3([b('SET'), b('in-db-3'), b('three')]);
  return keys;
}

export async function pttl(runner: Runner, key: string): Promise<number> {
  const reply = parseReply(await runner([b('PTTL'), b(key)]));
  return reply.type === 'integer' ? Number(reply.value) : NaN;
}

/** Every key reads back the same on both sides, TTLs within the test's running time. */
export async function expectSameContents(ours: Runner, theirs: Runner, keys: string[], oursDb3: Runner, theirsDb3: Runner): Promise<void> {
  for (const key of keys) {
    expect(await readout(ours, key), key).toBe(await readout(theirs, key));
    const [a, c] = [await pttl(ours, key), await pttl(theirs, key)];
    if (c === -1) expect(a, key).toBe(-1);
    else expect(Math.abs(a - c), key).toBeLessThan(5000);
  }
  expect(await pttl(ours, 'k:small hash')).toBeGreaterThan(400000);
  expect((await ours([b('DBSIZE')])).toString()).toBe((await theirs([b('DBSIZE')])).toString());
  expect(await readout(oursDb3, 'in-db-3')).toBe(await readout(theirsDb3, 'in-db-3'));
}

/**
 * What a suite starts and creates, undone after it: `cleanups` run last first, then every directory
 * `freshDir` made is removed.
 */
export function suiteResources(prefix: string): { cleanups: (() => Promise<unknown> | void)[]; freshDir: () => string } {
  const dirs: string[] = [];
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  return { cleanups, freshDir };
}
