/**
 * Hashes on a sabre server with three shards, over TCP, beside a real redis-server: a hash keeps its
 * fields, TTL and encoding through RENAME and COPY between shards, expires and goes with FLUSHALL on
 * every shard, follows CONFIG SET of the conversion thresholds on every shard, and a 200k-field hash
 * built the same way on both servers answers sampled reads identically.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keyPerShard, shardOfKey } from '../helpers/keyspace.js';
import { connectBoth, sabreBesideRedis } from '../helpers/sabre-server.js';

const SHARDS = 3;

describe('hashes across three shards', () => {
  const servers = sabreBesideRedis(['--shards', String(SHARDS)]);


  it('moves and copies hashes between shards with fields, TTL and encoding', async () => {
    const [client] = await connectBoth(servers);
    try {
      const [a, c, d] = keyPerShard('h', SHARDS);
      expect(new Set([a, c, d].map((key) => shardOfKey(key, SHARDS))).size).toBe(SHARDS);
      await client.hset(a, { f1: 'v1', f2: '2', f3: 'x'.repeat(30) });
      await client.pexpire(a, 100_000);
      await client.hset(c, Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`g${i}`, `w${i}`])));

      expect(await client.rename(a, d)).toBe('OK');
      expect(await client.exists(a)).toBe(0);
      expect(await client.hgetall(d)).toEqual({ f1: 'v1', f2: '2', f3: 'x'.repeat(30) });
      expect(await client.pttl(d)).toBeGreaterThan(90_000);
      expect(await client.object('ENCODING', d)).toBe('listpack');

      expect(await client.copy(c, a)).toBe(1);
      expect(await client.object('ENCODING', a)).toBe('hashtable');
      expect(await client.hlen(a)).toBe(600);
      expect(await client.hget(a, 'g599')).toBe('w599');
      // The copy is its own hash.
      await client.hdel(a, 'g0');
      expect(await client.hlen(c)).toBe(600);
      expect(await client.copy(c, d)).toBe(0);
      expect(await client.copy(c, d, 'REPLACE')).toBe(1);
      expect(await client.hlen(d)).toBe(600);
      expect(await client.pttl(d)).toBe(-1);
      expect(await client.type(d)).toBe('hash');
      expect(await client.renamenx(d, c)).toBe(0);
    } finally {
      client.disconnect();
    }
  });

  it('expires hashes and flushes them from every shard', async () => {
    const [client] = await connectBoth(servers);
    try {
      const keys = keyPerShard('e', SHARDS);
      for (const key of keys) {
        await client.hset(key, 'f', 'v');
        await client.hset(`${key}:big`, Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`f${i}`, 'v'])));
        await client.pexpire(key, 50);
      }
      await new Promise((resolve) => setTimeout(resolve, 120));
      for (const key of keys) expect(await client.hget(key, 'f')).toBeNull();
      expect(await client.dbsize()).toBe(SHARDS);
      expect(await client.flushall()).toBe('OK');
      expect(await client.dbsize()).toBe(0);
      // What the shards freed is really free: memory goes back near where an empty server starts.
      const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
      expect(used).toBeLessThan(50 * 1024 * 1024);
    } finally {
      client.disconnect();
    }
  });

  it('converts by the thresholds CONFIG SET gives every shard', async () => {
    const [client, redis] = await connectBoth(servers);
    try {
      const keys = keyPerShard('c', SHARDS);
      for (const server of [client, redis]) {
        if (server === undefined) continue;
        await server.config('SET', 'hash-max-listpack-entries', '3');
        await server.config('SET', 'hash-max-listpack-value', '8');
      }
      const answers = async (server: Redis) => {
        const out: unknown[] = [];
        for (const key of keys) {
          await server.hset(key, 'a', '1', 'b', '2', 'c', '3');
          out.push(await server.object('ENCODING', key));
          await server.hset(key, 'd', '4');
          out.push(await server.object('ENCODING', key));
          await server.hset(`${key}:v`, 'a', '123456789');
          out.push(await server.object('ENCODING', `${key}:v`));
        }
        return out;
      };
      const ours = await answers(client);
      expect(ours).toEqual(Array.from({ length: SHARDS }, () => ['listpack', 'hashtable', 'hashtable']).flat());
      if (redis !== undefined) expect(ours).toEqual(await answers(redis));
      await client.config('SET', 'hash-max-listpack-entries', '512');
      await client.config('SET', 'hash-max-listpack-value', '64');
      await client.hset('after', 'a', '123456789');
      expect(await client.object('ENCODING', 'after')).toBe('listpack');
      await redis?.config('SET', 'hash-max-listpack-entries', '512');
      await redis?.config('SET', 'hash-max-listpack-value', '64');
    } finally {
      client.disconnect();
      redis?.disconnect();
    }
  });

  it('builds a 200k-field hash whose sampled reads match Redis', async (context) => {
    const [client, redis] = await connectBoth(servers);
    try {
      if (redis === undefined) return context.skip();
      const FIELDS = 200_000;
      for (const server of [client, redis]) {
        const pipeline = server.pipeline();
        for (let i = 0; i < FIELDS; i += 1000) {
          const args: string[] = [];
          for (let j = i; j < i + 1000; j++) args.push(`field:${j}`, j % 7 === 0 ? String(j) : `value:${j}:${'z'.repeat(j % 50)}`);
          pipeline.hset('big', ...args);
        }
        await pipeline.exec();
      }
      const sample = Array.from({ length: 500 }, (_, i) => `field:${(i * 7919) % (FIELDS + 100)}`);
      const ask = async (server: Redis) =>
        Promise.all([
          server.hlen('big'),
          server.object('ENCODING', 'big'),
          server.hmget('big', ...sample),
          Promise.all(sample.slice(0, 50).map((field) => server.hstrlen('big', field))),
          server.hincrby('big', 'field:7', 5),
          server.hexists('big', 'field:199999'),
          server.hdel('big', 'field:1', 'field:2', 'nope'),
          server.hlen('big'),
        ]);
      expect(await ask(client)).toEqual(await ask(redis));
      const fields = await client.hrandfield('big', 20);
      expect(new Set(fields as string[]).size).toBe(20);
      for (const field of fields as string[]) expect(field).toMatch(/^field:\d+$/);
      const [cursor, items] = await client.hscan('big', '0', 'COUNT', '100');
      expect(cursor).not.toBe('0');
      expect(items.length).toBeGreaterThanOrEqual(100);
      expect(await client.del('big')).toBe(1);
    } finally {
      client.disconnect();
      redis?.disconnect();
    }
  });
});
