/**
 * MEMORY: USAGE is exactly the bytes the arena handed out when the key was made (and gives back when it
 * goes), for strings of every size and every collection encoding, with and without a TTL; STATS, USAGE
 * and the rest reply in Redis 7.0's shapes and errors, compared with a real redis-server.
 */
import { describe, expect, it } from 'vitest';
import { ReplyReader, type RespValue } from '../../src/protocol/reply-reader.js';
import { RedisConnection, b } from '../helpers/differential.js';
import { argvOf, InProcessSabre } from '../helpers/in-process-sabre.js';
import { rawBesideRedis } from '../helpers/sabre-server.js';

const text = (reply: Buffer) => reply.toString('latin1');
const members = (count: number, make: (i: number) => string[]) => Array.from({ length: count }, (_, i) => make(i)).flat();

/** Commands that make key `k`, each with the encoding OBJECT ENCODING must then report. */
const MAKERS: [string, string[], string][] = [
  ['short string', ['SET', 'k', 'x'], 'embstr'],
  ['integer string', ['SET', 'k', '12345'], 'int'],
  ['44-byte string', ['SET', 'k', 'y'.repeat(44)], 'embstr'],
  ['inline 512-byte string', ['SET', 'k', 'z'.repeat(512)], 'raw'],
  ['external 513-byte string', ['SET', 'k', 'z'.repeat(513)], 'raw'],
  ['page-run string', ['SET', 'k', 'r'.repeat(40_000)], 'raw'],
  ['dedicated-segment string', ['SET', 'k', 'd'.repeat(400_000)], 'raw'],
  ['small list', ['RPUSH', 'k', 'a', 'bb', '3'], 'quicklist'],
  ['quicklist', ['RPUSH', 'k', ...members(3000, (i) => [`element-${i}`])], 'quicklist'],
  ['small hash', ['HSET', 'k', 'f', 'v', 'g', '7'], 'listpack'],
  ['hashtable hash', ['HSET', 'k', ...members(300, (i) => [`f${i}`, i % 2 ? String(i) : 'v'.repeat(600 + i)])], 'hashtable'],
  ['intset', ['SADD', 'k', '1', '2', '-70000', '5000000000'], 'intset'],
  ['hashtable set', ['SADD', 'k', ...members(300, (i) => [`m${i}`])], 'hashtable'],
  ['small sorted set', ['ZADD', 'k', '1', 'a', '2.5', 'b'], 'listpack'],
  ['skiplist sorted set', ['ZADD', 'k', ...members(300, (i) => [String(i / 3), `member-${i}`])], 'skiplist'],
];

describe('MEMORY USAGE, in process', () => {
  const sabre = new InProcessSabre();
  const allocated = () => sabre.arena.stats().allocatedBytes;
  // The key dictionary's tables and the volatile array belong to the database, not to the key: any
  // growth of theirs during a creation is taken out of the arena's delta.
  const bookkeeping = () => {
    const { main, expires } = sabre.db.overhead();
    return main + expires;
  };
  const usage = (key = 'k') => {
    const reply = text(sabre.run(argvOf(['MEMORY', 'USAGE', key])));
    expect(reply).toMatch(/^:\d+\r\n$/);
    return Number(reply.slice(1, -2));
  };

  for (const withTtl of [false, true]) {
    for (const [name, command, encoding] of MAKERS) {
      it(`is the arena's exact delta for a ${name}${withTtl ? ' with a TTL' : ''}`, () => {
        sabre.run(argvOf(['DEL', 'k']));
        for (let i = 0; i < 20; i++) sabre.run(argvOf(['SET', `filler-${i}`, 'x', ...(withTtl ? ['EX', '1000'] : [])]));
        const before = allocated() - bookkeeping();
        sabre.run(argvOf(command));
        if (withTtl) expect(text(sabre.run(argvOf(['PEXPIRE', 'k', '100000'])))).toBe(':1\r\n');
        expect(text(sabre.run(argvOf(['OBJECT', 'ENCODING', 'k'])))).toBe(`$${encoding.length}\r\n${encoding}\r\n`);
        const bytes = usage();
        expect(bytes).toBe(allocated() - bookkeeping() - before);
        expect(bytes).toBeGreaterThan(0);
        // SAMPLES changes nothing: the sum is always exact.
        expect(text(sabre.run(argvOf(['MEMORY', 'USAGE', 'k', 'SAMPLES', '1'])))).toBe(`:${bytes}\r\n`);
        sabre.run(argvOf(['DEL', 'k']));
        expect(allocated() - bookkeeping()).toBe(before);
        expect(text(sabre.run(argvOf(['MEMORY', 'USAGE', 'k'])))).toBe('$-1\r\n');
      });
    }
  }

  it('follows a collection as it grows and shrinks', () => {
    const before = allocated() - bookkeeping();
    sabre.run(argvOf(['RPUSH', 'grow', ...members(500, (i) => [`e${i}`])]));
    const full = usage('grow');
    expect(full).toBe(allocated() - bookkeeping() - before);
    sabre.run(argvOf(['LTRIM', 'grow', '0', '9']));
    const trimmed = usage('grow');
    expect(trimmed).toBeLessThan(full);
    expect(trimmed).toBe(allocated() - bookkeeping() - before);
    sabre.run(argvOf(['DEL', 'grow']));
  });
});

describe('MEMORY, sabre (2 shards) beside redis-server', () => {
  const servers = rawBesideRedis(['--shards', '2']);

  const run = async (connection: RedisConnection, commands: string[][]) => connection.run(commands.map((args) => args.map(b)));

  it('answers MEMORY USAGE errors, nil and HELP as Redis does', async (context) => {
    if (servers.theirs === undefined) return context.skip();
    const commands = [
      ['SET', 'a', 'b'],
      ['MEMORY', 'USAGE', 'nokey'],
      ['MEMORY', 'USAGE', 'nokey', 'SAMPLES', '3'],
      ['MEMORY', 'USAGE', 'a', 'SAMPLES'],
      ['MEMORY', 'USAGE', 'a', 'SAMPLES', 'x'],
      ['MEMORY', 'USAGE', 'a', 'SAMPLES', '-1'],
      ['MEMORY', 'USAGE', 'a', 'samples', '1', 'FOO'],
      ['MEMORY', 'USAGE', 'a', 'FOO', '1'],
      ['MEMORY', 'USAGE'],
      ['MEMORY', 'STATS', 'x'],
      ['MEMORY', 'PURGE', 'x'],
      ['MEMORY', 'DOCTOR', 'x'],
      ['MEMORY', 'NOSUCH'],
      ['MEMORY'],
      ['MEMORY', 'HELP'],
      ['MEMORY', 'PURGE'],
      ['HELLO', '3'],
      ['MEMORY', 'USAGE', 'nokey'],
    ];
    const [mine, reference] = [await run(servers.ours, commands), await run(servers.theirs, commands)];
    commands.forEach((args, i) => {
      if (args[0] !== 'HELLO') expect(text(mine[i]), args.join(' ')).toBe(text(reference[i]));
    });
    await run(servers.ours, [['HELLO', '2'], ['DEL', 'a']]);
    await run(servers.theirs, [['HELLO', '2'], ['DEL', 'a']]);
  });

  /** A reply's shape: map keys in order with each value's type, nested maps alike. */
  function shape(value: RespValue): unknown {
    if (value.type !== 'map') return value.type;
    return value.value.map(([key, inner]) => [key.type === 'bulk' ? key.value?.toString() : key.type, shape(inner)]);
  }
  const parse = (bytes: Buffer): RespValue => {
    const reader = new ReplyReader();
    reader.feed(bytes);
    return reader.next()!;
  };

  it('answers MEMORY STATS with the fields, order and types Redis 7.0 uses, in RESP2 and RESP3', async (context) => {
    if (servers.theirs === undefined) return context.skip();
    const setup = [['FLUSHALL'], ['SET', 'a', 'b'], ['SELECT', '3'], ['SET', 'c', 'd'], ['SELECT', '0']];
    await run(servers.ours, setup);
    await run(servers.theirs, setup);
    for (const protocol of ['3', '2']) {
      const commands = [['HELLO', protocol], ['MEMORY', 'STATS']];
      const [mine, reference] = [(await run(servers.ours, commands))[1], (await run(servers.theirs, commands))[1]];
      const kinds = (bytes: Buffer) => (protocol === '3' ? shape(parse(bytes)) : flatNames(parse(bytes)));
      expect(kinds(mine)).toEqual(kinds(reference));
    }
    await run(servers.ours, [['FLUSHALL']]);
    await run(servers.theirs, [['FLUSHALL']]);
  });

  /** RESP2: the names at even positions of the flat array, and of nested arrays. */
  function flatNames(value: RespValue): unknown {
    if (value.type !== 'array' || value.value === null) return value.type;
    return value.value.map((item, i) => (i % 2 === 0 && item.type === 'bulk' ? item.value?.toString() : flatNames(item)));
  }

  /** A MEMORY STATS field, read over RESP3. */
  async function stat(name: string): Promise<RespValue> {
    const [, reply] = await run(servers.ours, [['HELLO', '3'], ['MEMORY', 'STATS'], ['HELLO', '2']]);
    const map = parse(reply);
    if (map.type !== 'map') throw new Error(`MEMORY STATS answered ${map.type}`);
    const found = map.value.find(([key]) => key.type === 'bulk' && key.value?.toString() === name);
    if (found === undefined) throw new Error(`no ${name}`);
    return found[1];
  }
  const integerStat = async (name: string) => {
    const value = await stat(name);
    if (value.type !== 'integer') throw new Error(`${name} is ${value.type}`);
    return Number(value.value);
  };

  it('sums keys on every shard: dataset.bytes is exactly the sum of MEMORY USAGE, and FLUSHALL returns to startup', async () => {
    await run(servers.ours, [['FLUSHALL']]);
    const startup = await integerStat('startup.allocated');
    expect(startup).toBeGreaterThan(0);
    expect(await integerStat('total.allocated')).toBe(startup);
    expect(await integerStat('dataset.bytes')).toBe(0);
    // Keys on both shards (a and b hash to different ones), in two databases, of several types.
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    await run(servers.ours, [
      ['SADD', 'a', ...members(200, (i) => [`a${i}`])],
      ['RPUSH', 'b', ...members(2000, (i) => [`b${i}`])],
      ['SET', 'c', 'x'.repeat(1000), 'EX', '100'],
      ['ZADD', 'd', ...members(200, (i) => [String(i), `d${i}`])],
      ['HSET', 'e', 'f', 'v'],
      ['SET', 'f', '1'],
    ]);
    let sum = 0;
    for (const reply of await run(servers.ours, keys.map((key) => ['MEMORY', 'USAGE', key]))) {
      expect(text(reply)).toMatch(/^:\d+\r\n$/);
      sum += Number(text(reply).slice(1, -2));
    }
    expect(await integerStat('dataset.bytes')).toBe(sum);
    expect(await integerStat('keys.count')).toBe(keys.length);
    const total = await integerStat('total.allocated');
    expect(await integerStat('keys.bytes-per-key')).toBe(Math.floor((total - startup) / keys.length));
    expect(text((await run(servers.ours, [['MEMORY', 'PURGE']]))[0])).toBe('+OK\r\n');
    const [doctor, malloc] = await run(servers.ours, [['MEMORY', 'DOCTOR'], ['MEMORY', 'MALLOC-STATS']]);
    expect(text(doctor)).toContain('Sam');
    expect(text(malloc)).toContain('shard 1:');
    await run(servers.ours, [['FLUSHALL']]);
    expect(await integerStat('total.allocated')).toBe(startup);
    expect(await integerStat('keys.count')).toBe(0);
  });
});
