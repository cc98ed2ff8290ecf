/**
 * Hashes on a sabre server with three shards, over TCP, beside a real redis-server: a hash keeps its
 * fields, TTL and encoding through RENAME and COPY between shards, expires and goes with FLUSHALL on
 * every shard, and follows CONFIG SET of the conversion thresholds on every shard. (The million-field
 * hash is in large-collections.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { keysOnEveryShard, SHARDS } from '../helpers/keyspace.js';
import { sabreBesideRedis, sameAnswers, withBoth } from '../helpers/sabre-server.js';
import { encodingsPastThresholds } from '../helpers/thresholds.js';

describe('hashes across three shards', () => {
  const servers = sabreBesideRedis(['--shards', String(SHARDS)]);

  it('moves and copies hashes between shards with fields, TTL and encoding', () =>
    withBoth(servers, async (client) => {
      const [a, c, d] = keysOnEveryShard('h');
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
    }));

  it('expires hashes and flushes them from every shard', () =>
    withBoth(servers, async (client) => {
      const keys = keysOnEveryShard('e');
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
    }));

  it('converts by the thresholds CONFIG SET gives every shard', () =>
    withBoth(servers, async (client, redis) => {
      const keys = keysOnEveryShard('c');
      const ours = await sameAnswers(client, redis, (server) => encodingsPastThresholds(server, 'hash', keys));
      expect(ours).toEqual(Array.from({ length: SHARDS }, () => ['listpack', 'hashtable', 'hashtable']).flat());
      await client.hset('after', 'a', '123456789');
      expect(await client.object('ENCODING', 'after')).toBe('listpack');
    }));
});
