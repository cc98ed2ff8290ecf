/**
 * The keyspace commands on a sabre with three shards, where they must cover every shard as one Redis
 * covers its keyspace: KEYS, DBSIZE and SCAN see every key, FLUSHALL and SWAPDB reach every shard,
 * RANDOMKEY draws from all of them, RENAME and COPY carry value, TTL and encoding between shards, and
 * no client ever sees a cross-shard RENAME half done.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnection, b } from '../helpers/differential.js';
import { keyPerShard, scanAll, shardOfKey } from '../helpers/keyspace.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

const SHARDS = 3;

describe('keyspace commands across three shards', () => {
  let sabre: RunningSabre;
  let client: Redis;
  let raw: RedisConnection;
  beforeAll(async () => {
    sabre = await startSabre(['--shards', String(SHARDS)]);
    client = new Redis({ port: sabre.port });
    raw = await RedisConnection.open(sabre.port);
  });
  afterAll(async () => {
    client.disconnect();
    raw.close();
    expect(await sabre.stop()).toBe(0);
  });

  const rawReply = async (...args: string[]) => (await raw.run([args.map(b)]))[0].toString('latin1');

  /** Both connections back in database 0 on an empty keyspace, whatever the last test left. */
  async function fresh(): Promise<void> {
    await client.select(0);
    await rawReply('SELECT', '0');
    await client.flushall();
  }

  it('lists, counts and scans every key of every shard', async () => {
    await fresh();
    const keys = Array.from({ length: 3000 }, (_, i) => `key:${i}`);
    const pipeline = client.pipeline();
    for (const key of keys) pipeline.set(key, 'v');
    for (let i = 0; i < 100; i++) pipeline.select(1).set(`other:${i}`, 'v').select(0);
    await pipeline.exec();
    expect(new Set(keys.map((key) => shardOfKey(key, SHARDS))).size).toBe(SHARDS);

    const listed = await client.keys('*');
    expect(listed).toHaveLength(keys.length);
    expect(new Set(listed)).toEqual(new Set(keys));
    expect(new Set(await client.keys('key:1?'))).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `key:1${i}`)));
    expect(await client.dbsize()).toBe(keys.length);

    for (const options of [[], ['COUNT', '1'], ['COUNT', '1000'], ['MATCH', 'key:2*', 'COUNT', '50'], ['TYPE', 'string']]) {
      const run = await scanAll(raw, options);
      const expected = options[0] === 'MATCH' ? keys.filter((key) => key.startsWith('key:2')) : keys;
      expect(new Set(run.keys), options.join(' ')).toEqual(new Set(expected));
      expect(run.cursors.at(-1)).toBe(0n);
      // The shard index sits in the cursor's low two bits: the walk goes through the shards in order.
      const shards = run.cursors.slice(0, -1).map((cursor) => Number(cursor & 3n));
      expect(shards).toEqual([...shards].sort());
      expect(run.cursors.every((cursor) => cursor < 2n ** 40n)).toBe(true);
    }
    expect((await scanAll(raw, ['TYPE', 'list'])).keys).toEqual([]);
    // Shard bits naming no shard: past the end, an empty last page (after the options are checked).
    expect(await rawReply('SCAN', '3')).toBe('*2\r\n$1\r\n0\r\n*0\r\n');
    expect(await rawReply('SCAN', '7', 'COUNT', '0')).toBe('-ERR syntax error\r\n');
    expect(await rawReply('SCAN', 'x')).toBe('-ERR invalid cursor\r\n');

    await rawReply('SELECT', '1');
    expect(await rawReply('DBSIZE')).toBe(':100\r\n');
    expect(new Set((await scanAll(raw, ['COUNT', '3'])).keys).size).toBe(100);
  });

  it('renames, copies and moves keys between shards with value, TTL and encoding', async () => {
    await fresh();
    const [a, c, d] = keyPerShard('k', SHARDS);
    expect(new Set([a, c, d].map((key) => shardOfKey(key, SHARDS))).size).toBe(3);

    await client.set(a, 'hello', 'PX', 100_000);
    await client.append(a, '!');
    expect(await client.rename(a, c)).toBe('OK');
    expect(await client.exists(a)).toBe(0);
    expect(await client.get(c)).toBe('hello!');
    const pttl = await client.pttl(c);
    expect(pttl).toBeGreaterThan(90_000);
    expect(pttl).toBeLessThanOrEqual(100_000);
    expect(await client.object('ENCODING', c)).toBe('raw');

    await client.set(d, 'taken');
    expect(await client.renamenx(c, d)).toBe(0);
    expect(await client.get(c)).toBe('hello!');
    expect(await client.renamenx(c, a)).toBe(1);
    expect(await client.rename(a, d)).toBe('OK');
    expect(await client.get(d)).toBe('hello!');
    expect(await client.pttl(d)).toBeGreaterThan(90_000);
    await expect(client.rename(a, c)).rejects.toThrow('ERR no such key');
    await expect(client.renamenx(a, c)).rejects.toThrow('ERR no such key');

    // A value larger than the shards' rings, and an expiry beyond 2^53 ms.
    const big = 'x'.repeat(300_000);
    await client.set(a, big);
    await client.pexpireat(a, '9223372036854775807');
    expect(await client.rename(a, c)).toBe('OK');
    expect(await client.get(c)).toBe(big);
    expect(await rawReply('PEXPIRETIME', c)).toBe(':9223372036854775807\r\n');

    await client.set(a, '42', 'EX', 1000);
    expect(await client.copy(a, d)).toBe(0);
    expect(await client.copy(a, d, 'REPLACE')).toBe(1);
    expect(await client.get(d)).toBe('42');
    expect(await client.ttl(d)).toBeGreaterThan(990);
    expect([await client.object('REFCOUNT', a), await client.object('REFCOUNT', d), await client.object('ENCODING', d)]).toEqual([2147483647, 1, 'int']);
    expect(await client.copy(a, c, 'DB', 2)).toBe(1);
    expect(await client.copy('nope', c)).toBe(0);
    await expect(client.copy(a, c, 'DB', 16)).rejects.toThrow('ERR DB index is out of range');
    await expect(client.call('COPY', a, c, 'BOGUS')).rejects.toThrow('ERR syntax error');
    expect(await client.move(a, 2)).toBe(1);
    await client.select(2);
    expect(await client.mget(a, c)).toEqual(['42', '42']);
    await client.select(0);
    expect(await client.exists(a)).toBe(0);
  });

  it('flushes and swaps databases on every shard', async () => {
    await fresh();
    const keys = keyPerShard('f', SHARDS);
    await client.mset(...keys.flatMap((key) => [key, 'zero']));
    await client.select(1);
    await client.mset(...keys.flatMap((key) => [key, 'one']));
    expect(await client.swapdb(0, 1)).toBe('OK');
    expect(await client.mget(...keys)).toEqual(['zero', 'zero', 'zero']);
    await expect(client.swapdb(0, 16)).rejects.toThrow('ERR DB index is out of range');
    expect(await client.flushdb()).toBe('OK');
    expect(await client.dbsize()).toBe(0);
    await client.select(0);
    expect(await client.mget(...keys)).toEqual(['one', 'one', 'one']);
    await client.select(5);
    await client.set(keys[2], 'five');
    expect(await client.flushall('ASYNC')).toBe('OK');
    for (const db of [0, 1, 5]) {
      await client.select(db);
      expect(await client.dbsize()).toBe(0);
    }
    await client.select(0);
  });

  it('draws RANDOMKEY from every shard, and answers null, in either protocol, when there is none', async () => {
    await fresh();
    expect(await client.randomkey()).toBeNull();
    const keys = Array.from({ length: 30 }, (_, i) => `r${i}`);
    await client.mset(...keys.flatMap((key) => [key, 'v']));
    const drawn = new Set<string>();
    for (let i = 0; i < 300; i++) drawn.add((await client.randomkey())!);
    expect([...drawn].every((key) => keys.includes(key))).toBe(true);
    expect(new Set([...drawn].map((key) => shardOfKey(key, SHARDS))).size).toBe(SHARDS);
    await client.flushall();
    await raw.run([[b('HELLO'), b('3')]]);
    expect(await rawReply('RANDOMKEY')).toBe('_\r\n');
    expect(await rawReply('KEYS', '*')).toBe('*0\r\n');
    expect(await rawReply('OBJECT', 'ENCODING', 'r1')).toBe('_\r\n');
    await raw.run([[b('HELLO'), b('2')]]);
    expect(await rawReply('RANDOMKEY')).toBe('$-1\r\n');
  });

  it('sends OBJECT to the shard of its key, and keeps the internal steps away from clients', async () => {
    await fresh();
    for (const key of keyPerShard('o', SHARDS)) {
      await client.set(key, 'text');
      expect(await client.object('ENCODING', key)).toBe('embstr');
      expect(await client.object('IDLETIME', key)).toBeLessThanOrEqual(1);
    }
    await expect(client.call('_sabre.key-dump', 'o0')).rejects.toThrow("ERR unknown command '_sabre.key-dump'");
    await expect(client.call('_sabre.key-restore', 'x', 'y', 'REPLACE', 'RENAME')).rejects.toThrow("ERR unknown command '_sabre.key-restore'");
    expect(await rawReply('OBJECT', 'HELP', 'x')).toBe("-ERR wrong number of arguments for 'object|help' command\r\n");
  });

  it('never lets a client see a cross-shard RENAME half done', async () => {
    await fresh();
    const [a, c] = keyPerShard('h', SHARDS);
    await client.set(a, 'payload');
    const writer = new Redis({ port: sabre.port });
    const reader = new Redis({ port: sabre.port });
    let writing = true;
    const writes = (async () => {
      try {
        for (let i = 0; i < 500; i++) {
          await writer.rename(a, c);
          await writer.rename(c, a);
        }
      } finally {
        writing = false;
      }
    })();
    let reads = 0;
    const seen: string[] = [];
    while (writing) {
      const pipeline = reader.pipeline();
      for (let i = 0; i < 10; i++) pipeline.exists(a, c).mget(a, c).keys('h*').dbsize();
      const results = (await pipeline.exec())!.map(([, value]) => value);
      for (let i = 0; i < results.length; i += 4) {
        reads++;
        const [exists, values, listed, size] = results.slice(i, i + 4) as [number, (string | null)[], string[], number];
        const present = values.filter((value) => value !== null);
        if (exists !== 1 || present.length !== 1 || present[0] !== 'payload' || listed.length !== 1 || size !== 1) {
          seen.push(JSON.stringify({ exists, values, listed, size }));
        }
      }
    }
    await writes;
    expect(reads).toBeGreaterThan(50);
    expect(seen.slice(0, 5)).toEqual([]);
    expect(await client.get(a)).toBe('payload');
    writer.disconnect();
    reader.disconnect();
  });
});
