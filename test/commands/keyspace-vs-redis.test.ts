/**
 * Differential test of the keyspace commands (KEYS SCAN RANDOMKEY DBSIZE OBJECT FLUSHDB FLUSHALL SWAPDB
 * RENAME RENAMENX COPY MOVE): sabre with one shard, as a server over TCP (so the front's SCAN cursor
 * handling and SELECT are on the path), against a real redis-server 7, reply by reply.
 *
 * Replies must be byte-identical, except where order or time legitimately differ: KEYS compares as a
 * sorted set, a whole SCAN iteration as a set, RANDOMKEY as "a key" or the same null, OBJECT IDLETIME
 * as an integer (a key holding 0..9999 shares Redis's one object for that integer, so Redis reports
 * the idle time of every such key at once; test/commands/keyspace.test.ts checks sabre's clock), and
 * TTLs by the milliseconds between the runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnection, b, sameReply } from '../helpers/differential.js';
import { parseReply, scanAll, sortedKeys } from '../helpers/keyspace.js';
import { Random } from '../helpers/random.js';
import { startRedis, type RunningRedis } from '../helpers/redis-server.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

type Command = (string | Buffer)[];

const toArgv = (command: Command): Buffer[] => command.map((arg) => (typeof arg === 'string' ? b(arg) : arg));
const show = (argv: readonly Buffer[]) => argv.map((arg) => JSON.stringify(arg.length > 40 ? `${arg.toString('latin1', 0, 20)}…(${arg.length})` : arg.toString('latin1'))).join(' ');

/** Whether two replies to `argv` agree, by the rules in the header comment. */
function agree(argv: readonly Buffer[], ours: Buffer, theirs: Buffer): boolean {
  const name = argv[0].toString('latin1').toLowerCase();
  const sub = argv.length > 1 ? argv[1].toString('latin1').toLowerCase() : '';
  if (name === 'keys') return sortedKeys(ours) === sortedKeys(theirs);
  if (name === 'randomkey') return ours.equals(theirs) || (/^\$\d/.test(ours.toString('latin1')) && /^\$\d/.test(theirs.toString('latin1')));
  if (name === 'object' && sub === 'idletime') return ours.equals(theirs) || [ours, theirs].every((reply) => /^:\d+\r\n$/.test(reply.toString('latin1')));
  return sameReply(name, ours, theirs);
}

describe('keyspace commands against a real redis-server 7', () => {
  let sabre: RunningSabre | undefined;
  let redis: RunningRedis | undefined;
  let ours: RedisConnection;
  let theirs: RedisConnection;
  beforeAll(async () => {
    redis = await startRedis();
    if (redis === undefined) return;
    sabre = await startSabre(['--shards', '1']);
    [ours, theirs] = await Promise.all([RedisConnection.open(sabre.port), RedisConnection.open(redis.port)]);
  });
  afterAll(async () => {
    ours?.close();
    theirs?.close();
    await Promise.all([sabre?.stop(), redis?.stop()]);
  });

  /** Runs the commands as one pipeline on both servers; the mismatches, described. */
  async function differences(commands: readonly Command[]): Promise<string[]> {
    const argvs = commands.map(toArgv);
    const [a, c] = await Promise.all([ours.run(argvs), theirs.run(argvs)]);
    const found: string[] = [];
    argvs.forEach((argv, i) => {
      if (!agree(argv, a[i], c[i])) found.push(`${show(argv)}\n    sabre: ${JSON.stringify(a[i].toString('latin1'))}\n    redis: ${JSON.stringify(c[i].toString('latin1'))}`);
    });
    return found;
  }

  async function expectSame(commands: readonly Command[]): Promise<void> {
    const found = await differences([['SELECT', '0'], ['FLUSHALL'], ...commands]);
    expect(found, found.join('\n')).toEqual([]);
  }

  it('answers arity, syntax and range errors as Redis does', async (context) => {
    if (redis === undefined) return context.skip();
    await expectSame([
      ['KEYS'], ['KEYS', 'a', 'b'], ['DBSIZE', 'x'], ['RANDOMKEY', 'x'], ['SCAN'], ['RENAME', 'a'], ['RENAMENX', 'a', 'b', 'c'],
      ['COPY', 'a'], ['MOVE', 'a'], ['SWAPDB', '0'], ['OBJECT'], ['OBJECT', 'encoding'], ['OBJECT', 'ENCODING', 'a', 'b'],
      ['OBJECT', 'help', 'x'], ['OBJECT', 'nope', 'k'], ['OBJECT', b('x\r\n\xff\0y')],
      ['FLUSHDB', 'x'], ['FLUSHDB', 'sync', 'async'], ['FLUSHALL', 'lazy'], ['FLUSHDB', 'Async'], ['FLUSHALL', 'SYNC'], ['FLUSHALL', 'async'],
      ['SWAPDB', '0', 'x'], ['SWAPDB', 'x', '0'], ['SWAPDB', '16', 'x'], ['SWAPDB', '0', '16'], ['SWAPDB', '-1', '0'],
      ['SWAPDB', '0', '99999999999'], ['SWAPDB', '0', '0'], ['SWAPDB', '15', '0'], ['SWAPDB', '0', '15'],
      // Cursors that start mid-table go first, on an empty keyspace: which bucket holds a key depends on
      // each server's own (seeded) hash, so only whole walks compare once there are keys.
      ['SCAN', 'x'], ['SCAN', ''], ['SCAN', '-1'], ['SCAN', '+0'], ['SCAN', '-'], ['SCAN', '+'], ['SCAN', ' 1'], ['SCAN', '1 '], ['SCAN', b('0\0zz')],
      ['SCAN', '18446744073709551615'], ['SCAN', '18446744073709551616'], ['SCAN', '-18446744073709551616'], ['SCAN', '0x1'], ['SCAN', '1e3'],
      ['SET', 'k', 'v'], ['SCAN', ''], ['SCAN', '+0'], ['SCAN', b('0\0zz')],
      ['MOVE', 'k', '0'], ['MOVE', 'k', 'x'], ['MOVE', 'k', '16'], ['MOVE', 'k', '-1'], ['MOVE', 'k', '2147483648'], ['MOVE', 'k', '1.5'],
      ['MOVE', 'nope', '0'], ['MOVE', 'nope', '1'],
      ['COPY', 'k', 'k'], ['COPY', 'k', 'k', 'DB', '0'], ['COPY', 'k', 'x', 'DB'], ['COPY', 'k', 'x', 'DB', '16'], ['COPY', 'k', 'x', 'db', '-1'],
      ['COPY', 'k', 'x', 'DB', 'x'], ['COPY', 'k', 'x', 'DB', '99999999999'], ['COPY', 'k', 'x', 'bogus'], ['COPY', 'nope', 'x', 'bogus'],
      ['COPY', 'nope', 'nope'], ['COPY', 'k', 'x', 'REPLACE', 'DB', '16', 'bogus'],
      ['RENAME', 'nope', 'x'], ['RENAME', 'nope', 'nope'], ['RENAMENX', 'nope', 'x'], ['RENAMENX', 'nope', 'nope'],
      ['RENAME', 'k', 'k'], ['RENAMENX', 'k', 'k'], ['GET', 'k'],
      ['SCAN', 'x', 'COUNT', '0'], ['SCAN', '0', 'COUNT', '0'], ['SCAN', '0', 'COUNT', '-1'], ['SCAN', '0', 'COUNT', 'x'], ['SCAN', '0', 'COUNT'],
      ['SCAN', '0', 'MATCH'], ['SCAN', '0', 'TYPE'], ['SCAN', '0', 'bogus', '1'], ['SCAN', '0', 'count', '99999999999999999999'],
      ['SCAN', '0', 'TYPE', 'bogus'], ['SCAN', '0', 'TYPE', 'STRING', 'COUNT', '100'], ['SCAN', '0', 'MATCH', 'k', 'COUNT', '5', 'TYPE', 'hash'],
      ['SCAN', '0', 'COUNT', '1', 'COUNT', '100'], ['SCAN', '0', 'MATCH', 'count', 'COUNT', '100'],
      // The front's internal steps are not commands a client can send.
      ['_sabre.key-dump', 'k'], ['_sabre.key-restore', 'x', 'dump', 'REPLACE', 'RENAME'],
    ]);
  });

  it('renames, copies and moves with values, TTLs and databases as Redis does', async (context) => {
    if (redis === undefined) return context.skip();
    await expectSame([
      ['SET', 'a', 'one', 'EX', '1000'], ['SET', 'b', 'two'], ['SET', 'big', 'x'.repeat(5000)],
      ['RENAME', 'a', 'c'], ['EXISTS', 'a'], ['GET', 'c'], ['TTL', 'c'],
      ['RENAMENX', 'c', 'b'], ['RENAMENX', 'c', 'd'], ['GET', 'd'], ['TTL', 'd'],
      ['RENAME', 'd', 'b'], ['GET', 'b'], ['TTL', 'b'], ['DBSIZE'],
      ['RENAME', 'big', 'big2'], ['STRLEN', 'big2'], ['APPEND', 'big2', 'y'], ['STRLEN', 'big2'],
      ['COPY', 'b', 'e'], ['GET', 'e'], ['TTL', 'e'], ['COPY', 'b', 'e'], ['COPY', 'b', 'e', 'REPLACE'], ['COPY', 'b', 'e', 'replace', 'replace'],
      ['COPY', 'b', 'b', 'DB', '1'], ['COPY', 'big2', 'f', 'DB', '2', 'REPLACE'], ['SELECT', '1'], ['GET', 'b'], ['TTL', 'b'], ['DBSIZE'],
      ['SELECT', '2'], ['STRLEN', 'f'], ['MOVE', 'f', '2'], ['MOVE', 'f', '0'], ['MOVE', 'f', '3'], ['EXISTS', 'f'], ['SELECT', '3'], ['STRLEN', 'f'],
      ['SET', 'g', 'x'], ['MOVE', 'g', '1'], ['PEXPIRE', 'g', '500000'], ['MOVE', 'g', '1'], ['EXISTS', 'g'], ['SELECT', '1'], ['PTTL', 'g'],
      ['COPY', 'g', 'g', 'DB', '3'], ['COPY', 'g', 'g', 'DB', '3'], ['SELECT', '3'], ['PTTL', 'g'],
      ['SWAPDB', '0', '3'], ['KEYS', '*'], ['DBSIZE'], ['SELECT', '0'], ['KEYS', '*'], ['SWAPDB', '3', '0'], ['KEYS', '*'],
      ['SET', 'h', 'v', 'PX', '100000'], ['RENAME', 'h', 'h2'], ['PERSIST', 'h2'], ['RENAME', 'h2', 'h'], ['TTL', 'h'],
      ['SET', '', 'empty key'], ['RENAME', '', 'from empty'], ['GET', 'from empty'], ['RENAME', 'from empty', ''], ['KEYS', '*'], ['KEYS', '**'], ['KEYS', ''],
      ['FLUSHDB'], ['DBSIZE'], ['SELECT', '1'], ['DBSIZE'], ['FLUSHALL', 'ASYNC'], ['DBSIZE'], ['RANDOMKEY'], ['KEYS', '*'],
    ]);
  });

  it('reports OBJECT ENCODING and REFCOUNT for every way a string gets written', async (context) => {
    if (redis === undefined) return context.skip();
    const values = ['0', '9999', '10000', '-1', '-0', '007', '+5', ' 1', '1.5', '9223372036854775807', '-9223372036854775808', '9223372036854775808',
      '12345678901234567890', '', 'x'.repeat(44), 'x'.repeat(45), 'x'.repeat(600)];
    const report = (key: string): Command[] => [['OBJECT', 'ENCODING', key], ['OBJECT', 'REFCOUNT', key], ['OBJECT', 'FREQ', key]];
    const commands: Command[] = [];
    values.forEach((value, i) => {
      const key = `v${i}`;
      commands.push(['SET', key, value], ...report(key));
      commands.push(['COPY', key, `${key}c`], ...report(`${key}c`), ['RENAME', `${key}c`, `${key}r`], ...report(`${key}r`));
      commands.push(['APPEND', key, ''], ...report(key), ['SET', key, value, 'EX', '100'], ['PERSIST', key], ...report(key));
      commands.push(['MSET', key, value], ['MOVE', key, '1'], ['SELECT', '1'], ...report(key), ['SELECT', '0']);
      commands.push(['SETNX', `${key}n`, value], ['GETSET', `${key}n`, value], ...report(`${key}n`), ['SETRANGE', `${key}n`, '0', ''], ...report(`${key}n`));
    });
    commands.push(
      ['APPEND', 'new', '12'], ...report('new'), ['APPEND', 'new', '3'], ...report('new'), ['INCR', 'new'], ...report('new'),
      ['SETRANGE', 'sr', '0', '5'], ...report('sr'), ['SETRANGE', 'sr2', '2', 'ab'], ...report('sr2'), ['SETRANGE', 'none', '0', ''], ...report('none'),
      ['SET', 'n', '10'], ['INCRBYFLOAT', 'n', '1'], ...report('n'), ['INCRBY', 'n', '5'], ...report('n'), ['INCRBYFLOAT', 'f', '1e30'], ...report('f'),
      ['SET', 'i', '20000'], ['DECRBY', 'i', '15000'], ...report('i'), ['COPY', 'i', 'ic'], ['INCR', 'ic'], ...report('ic'),
      ['SET', 'j', '100'], ['COPY', 'j', 'jc'], ['DECR', 'jc'], ...report('jc'), ['SET', 'k', '100'], ['COPY', 'k', 'kc'], ['COPY', 'kc', 'kcc'], ...report('kcc'),
      ['SET', 'e', 'abc'], ['GETEX', 'e', 'EX', '100'], ...report('e'), ['EXPIRE', 'e', '200'], ...report('e'), ['SET', 'e', 'xyz', 'KEEPTTL'], ...report('e'),
      ['OBJECT', 'ENCODING', 'missing'], ['OBJECT', 'REFCOUNT', 'missing'], ['OBJECT', 'FREQ', 'missing'], ['OBJECT', 'IDLETIME', 'missing'],
      ['SET', 'idle', 'text'], ['OBJECT', 'IDLETIME', 'idle'], ['OBJECT', 'HELP'], ['object', 'help'],
    );
    await expectSame(commands);
  });

  it('answers in RESP3 as Redis does', async (context) => {
    if (redis === undefined) return context.skip();
    // HELLO's own reply carries the client id, which differs; what follows it must not.
    await Promise.all([ours.run([[b('HELLO'), b('3')]]), theirs.run([[b('HELLO'), b('3')]])]);
    try {
      await expectSame([
        ['RANDOMKEY'], ['KEYS', '*'], ['SCAN', '0'], ['OBJECT', 'ENCODING', 'x'], ['OBJECT', 'HELP'], ['SET', 'x', '1'], ['KEYS', '*'], ['SCAN', '0', 'COUNT', '100'],
        ['RANDOMKEY'], ['DBSIZE'], ['OBJECT', 'REFCOUNT', 'x'], ['COPY', 'x', 'y'], ['RENAME', 'y', 'z'], ['FLUSHDB'], ['RANDOMKEY'], ['SCAN', '0'],
      ]);
    } finally {
      await Promise.all([ours.run([[b('HELLO'), b('2')]]), theirs.run([[b('HELLO'), b('2')]])]);
    }
  });

  it('matches KEYS and SCAN MATCH over random glob patterns, escapes and classes included', async (context) => {
    if (redis === undefined) return context.skip();
    const random = new Random(41);
    const alphabet = ['a', 'b', 'c', 'A', '*', '?', '[', ']', '^', '-', '\\', '\xff', '\x80', '\0', 'z', '}', '{'];
    const text = (max: number) => Array.from({ length: random.int(0, max) }, () => random.pick(alphabet)).join('');
    const keys = new Set<string>(['', 'a', 'ab', 'abc', 'A', 'a*b', 'a?b', '[a]', '\\', 'a\\b', '^', ']', '-', '\xff', '\x80a', 'a\0b', 'zz']);
    while (keys.size < 80) keys.add(text(6));
    const patterns = ['*', '**', '', '?', '[', '[^', '[a-]', '[^a-]', '[]', '[]]', '[!a]', 'a[\\]]*', '[z-a]*', '[\xff-a]', '[a-\xff]', '\\', 'a\\', '*\\*', '[\\'];
    while (patterns.length < 400) patterns.push(text(7));
    await differences([['SELECT', '0'], ['FLUSHALL'], ...[...keys].map((key): Command[] => [['SET', b(key), 'v']]).flat()]);
    const found = await differences(patterns.map((pattern) => ['KEYS', b(pattern)]));
    expect(found, found.join('\n')).toEqual([]);
    for (const pattern of patterns.slice(0, 40)) {
      const options = ['MATCH', pattern, 'COUNT', String(random.int(1, 20))];
      const [a, c] = await Promise.all([scanAll(ours, options), scanAll(theirs, options)]);
      expect([...new Set(a.keys)].sort(), JSON.stringify(pattern)).toEqual([...new Set(c.keys)].sort());
    }
  });

  /** The seeded sequences' commands: a few keys, three databases, string writes mixed with keyspace commands. */
  function keyspaceGenerator(random: Random): () => Command | 'scan' {
    const key = () => random.pick(['a', 'b', 'c', 'k1', 'k2', '{x}1', '']);
    const value = () => random.pick(['1', '42', '10000', '-7', '3.5', 'text', 'x'.repeat(44), 'y'.repeat(45), 'z'.repeat(700)]);
    const db = () => random.pick(['0', '1', '2', '15', '16', '-1', 'x']);
    const pattern = () => random.pick(['*', 'k*', '?', '[ab]', 'k[^1]', '*}*', '', '{x}*', '\\k*', '[a-c]']);
    return () => {
      switch (random.int(0, 29)) {
        case 0:
        case 1:
          return ['SET', key(), value(), ...(random.next() < 0.3 ? ['EX', '1000'] : [])];
        case 2:
          return [random.pick(['APPEND', 'INCR', 'INCRBYFLOAT', 'SETRANGE']), key(), ...(random.next() < 0.5 ? [value()] : ['1'])];
        case 3:
          return [random.pick(['EXPIRE', 'PEXPIRE']), key(), random.pick(['1000', '-1'])];
        case 4:
          return [random.pick(['PERSIST', 'GET', 'DEL', 'TYPE', 'TTL']), key()];
        case 5:
          return ['EXISTS', key(), key()];
        case 6:
          return ['KEYS', pattern()];
        case 7:
          return ['DBSIZE'];
        case 8:
        case 9:
          return ['OBJECT', random.pick(['ENCODING', 'REFCOUNT', 'FREQ', 'IDLETIME', 'encoding']), key()];
        case 10:
          return random.pick([['OBJECT', 'HELP'], ['OBJECT', 'BOGUS'], ['OBJECT', 'ENCODING'], ['OBJECT', 'REFCOUNT', key(), key()]]);
        case 11:
        case 12:
          return [random.pick(['RENAME', 'RENAMENX']), key(), random.next() < 0.2 ? 'a' : key()];
        case 13:
        case 14: {
          const options: string[] = [];
          if (random.next() < 0.4) options.push('DB', db());
          if (random.next() < 0.4) options.push(random.pick(['REPLACE', 'replace', 'BOGUS']));
          return ['COPY', key(), key(), ...options];
        }
        case 15:
          return ['MOVE', key(), db()];
        case 16:
          return ['SWAPDB', db(), db()];
        case 17:
        case 18:
          return ['SELECT', random.pick(['0', '1', '2'])];
        case 19:
          return ['RANDOMKEY'];
        case 20:
          return random.next() < 0.3 ? [random.pick(['FLUSHDB', 'FLUSHALL']), ...(random.next() < 0.5 ? [] : [random.pick(['ASYNC', 'SYNC', 'NOW'])])] : ['GET', key()];
        case 21:
          return ['SCAN', random.pick(['x', '-', '0']), ...random.pick([['COUNT', '0'], ['MATCH'], ['TYPE', 'string', 'COUNT', 'x'], ['BAD', '1']])];
        case 22:
        case 23:
          return 'scan';
        default:
          return ['SET', key(), value()];
      }
    };
  }

  for (const seed of [31, 32, 33, 34]) {
    it(`agrees with Redis over a seeded random sequence, whole SCANs included (seed ${seed})`, async (context) => {
      if (redis === undefined) return context.skip();
      const random = new Random(seed);
      const next = keyspaceGenerator(random);
      const mismatches: string[] = [];
      let batch: Command[] = [['SELECT', '0'], ['FLUSHALL']];
      const flush = async () => {
        mismatches.push(...(await differences(batch)));
        batch = [];
      };
      for (let step = 0; step < 1500 && mismatches.length < 10; step++) {
        const command = next();
        if (command !== 'scan') {
          batch.push(command);
          continue;
        }
        await flush();
        const options = [
          ...(random.next() < 0.4 ? ['MATCH', random.pick(['*', 'k*', '?', '*1'])] : []),
          ...(random.next() < 0.4 ? ['COUNT', String(random.int(1, 5))] : []),
          ...(random.next() < 0.3 ? ['TYPE', random.pick(['string', 'STRING', 'none', 'list'])] : []),
        ];
        const [a, c] = await Promise.all([scanAll(ours, options), scanAll(theirs, options)]);
        const [ourKeys, theirKeys] = [a, c].map((run) => JSON.stringify([...new Set(run.keys)].sort()));
        if (ourKeys !== theirKeys) mismatches.push(`SCAN ${options.join(' ')}\n    sabre: ${ourKeys}\n    redis: ${theirKeys}`);
      }
      await flush();
      expect(mismatches, mismatches.join('\n')).toEqual([]);
    });
  }

  it('ends every SCAN at cursor 0, through the cursors of the one shard', async (context) => {
    if (redis === undefined) return context.skip();
    await differences([['FLUSHALL'], ...Array.from({ length: 300 }, (_, i): Command => ['SET', `key:${i}`, 'v'])]);
    const run = await scanAll(ours, ['COUNT', '7']);
    expect(new Set(run.keys).size).toBe(300);
    expect(run.cursors.at(-1)).toBe(0n);
    // One shard: the cursors are the dictionary's, all below its 512 buckets.
    expect(run.cursors.every((cursor) => cursor < 512n)).toBe(true);
    const reply = parseReply((await ours.run([[b('SCAN'), b('0'), b('COUNT'), b('1000')]]))[0]);
    expect(reply).toMatchObject({ type: 'array', value: [{ type: 'bulk' }, { type: 'array' }] });
  });
});
