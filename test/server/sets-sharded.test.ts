/**
 * Sets on a sabre server with three shards, over TCP, beside a real redis-server: a set keeps its
 * members, TTL and encoding through RENAME and COPY between shards; the algebra works on keys of one
 * shard (hash tags) and, on a scratch copy of the keys, across shards; set-max-intset-entries from CONFIG SET
 * reaches every shard. (The million-member set is in large-collections.test.ts.)
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keyPerShard, keysOnEveryShard, SHARDS } from '../helpers/keyspace.js';
import { sabreBesideRedis, sameAnswers, withBoth } from '../helpers/sabre-server.js';

describe('sets across three shards', () => {
  const servers = sabreBesideRedis(['--shards', String(SHARDS)]);

  it('moves and copies sets between shards with members, TTL and encoding', () =>
    withBoth(servers, async (client) => {
      const [a, c, d] = keysOnEveryShard('s');
      await client.sadd(a, '3', '-1', '5000000000');
      await client.pexpire(a, 100_000);
      await client.sadd(c, ...Array.from({ length: 600 }, (_, i) => `m${i}`));

      expect(await client.rename(a, d)).toBe('OK');
      expect(await client.exists(a)).toBe(0);
      expect(await client.smembers(d)).toEqual(['-1', '3', '5000000000']);
      expect(await client.pttl(d)).toBeGreaterThan(90_000);
      expect(await client.object('ENCODING', d)).toBe('intset');

      expect(await client.copy(c, a)).toBe(1);
      expect(await client.object('ENCODING', a)).toBe('hashtable');
      expect(await client.scard(a)).toBe(600);
      expect(await client.sismember(a, 'm599')).toBe(1);
      await client.srem(a, 'm0');
      expect(await client.scard(c)).toBe(600);
      expect(await client.copy(c, d, 'REPLACE')).toBe(1);
      expect(await client.scard(d)).toBe(600);
      expect(await client.type(d)).toBe('set');
    }));

  it('runs the algebra on one shard and refuses it across shards', () =>
    withBoth(servers, async (client, redis) => {
      const answers = async (server: Redis) => [
        await server.sadd('{t}a', '1', '2', '3', 'x'),
        await server.sadd('{t}b', '2', '3', '4'),
        (await server.sinter('{t}a', '{t}b')).sort(),
        (await server.sunion('{t}a', '{t}b')).sort(),
        (await server.sdiff('{t}a', '{t}b')).sort(),
        await server.sinterstore('{t}i', '{t}a', '{t}b'),
        await server.object('ENCODING', '{t}i'),
        await server.sunionstore('{t}u', '{t}a', '{t}b'),
        await server.sdiffstore('{t}d', '{t}b', '{t}a'),
        await server.smembers('{t}d'),
        await server.call('SINTERCARD', '2', '{t}a', '{t}b', 'LIMIT', '1'),
        await server.smove('{t}a', '{t}b', 'x'),
        await server.scard('{t}b'),
      ];
      const ours = await sameAnswers(client, redis, answers);
      expect(ours[6]).toBe('intset');
      // Keys on different shards: run on a scratch copy of the keys, with the same answers as Redis.
      const [p, q] = keyPerShard('x', SHARDS);
      const across = async (server: Redis) => {
        await server.sadd(p, 'a', 'b', '3');
        await server.sadd(q, 'a', 'c');
        return [
          (await server.sinter(p, q)).sort(),
          await server.call('SINTERCARD', '2', p, q),
          await server.sunionstore(q, p, q),
          await server.smove(p, q, 'b'),
          (await server.smembers(q)).sort(),
          (await server.smembers(p)).sort(),
          await server.object('ENCODING', q),
        ];
      };
      const mine = await sameAnswers(client, redis, across);
      expect(mine[0]).toEqual(['a']);
    }));

  it('converts by the set-max-intset-entries CONFIG SET gives every shard', () =>
    withBoth(servers, async (client) => {
      const keys = keyPerShard('c', SHARDS);
      await client.config('SET', 'set-max-intset-entries', '3');
      const encodings: unknown[] = [];
      for (const key of keys) {
        await client.sadd(key, '1', '2', '3');
        encodings.push(await client.object('ENCODING', key));
        await client.sadd(key, '4');
        encodings.push(await client.object('ENCODING', key));
      }
      expect(encodings).toEqual(Array.from({ length: SHARDS }, () => ['intset', 'hashtable']).flat());
      await client.config('SET', 'set-max-intset-entries', '512');
      await client.sadd('after', '1', '2', '3', '4');
      expect(await client.object('ENCODING', 'after')).toBe('intset');
    }));
});
