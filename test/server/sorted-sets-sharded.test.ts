/**
 * Sorted sets on a sabre server with three shards, over TCP, beside a real redis-server: a sorted set
 * keeps its members, scores, TTL and encoding through RENAME and COPY between shards, follows CONFIG SET
 * of the conversion thresholds on every shard, set operations run over keys of one shard (hash tags),
 * and a 200k-member set built the same way on both servers answers sampled reads identically.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keyPerShard, shardOfKey } from '../helpers/keyspace.js';
import { connectBoth, sabreBesideRedis } from '../helpers/sabre-server.js';

const SHARDS = 3;

describe('sorted sets across three shards', () => {
  const servers = sabreBesideRedis(['--shards', String(SHARDS)]);


  it('moves and copies sorted sets between shards with scores, TTL and encoding', async () => {
    const [client] = await connectBoth(servers);
    try {
      const [a, c, d] = keyPerShard('z', SHARDS);
      expect(new Set([a, c, d].map((key) => shardOfKey(key, SHARDS))).size).toBe(SHARDS);
      await client.zadd(a, 1.5, 'x', -2, 'y', 'inf', 'z');
      await client.pexpire(a, 100_000);
      await client.zadd(c, ...Array.from({ length: 300 }, (_, i) => [String(i / 4), `m${i}`]).flat());

      expect(await client.rename(a, d)).toBe('OK');
      expect(await client.exists(a)).toBe(0);
      expect(await client.zrange(d, 0, -1, 'WITHSCORES')).toEqual(['y', '-2', 'x', '1.5', 'z', 'inf']);
      expect(await client.pttl(d)).toBeGreaterThan(90_000);
      expect(await client.object('ENCODING', d)).toBe('listpack');

      expect(await client.copy(c, a)).toBe(1);
      expect(await client.object('ENCODING', a)).toBe('skiplist');
      expect(await client.zcard(a)).toBe(300);
      expect(await client.zscore(a, 'm299')).toBe('74.75');
      expect(await client.zrank(a, 'm150')).toBe(150);
      await client.zrem(a, 'm0');
      expect(await client.zcard(c)).toBe(300);
      expect(await client.copy(c, d, 'REPLACE')).toBe(1);
      expect(await client.zcard(d)).toBe(300);
      expect(await client.pttl(d)).toBe(-1);
      expect(await client.type(d)).toBe('zset');
    } finally {
      client.disconnect();
    }
  });

  it('converts by the thresholds CONFIG SET gives every shard, and runs set operations within a shard', async () => {
    const [client, redis] = await connectBoth(servers);
    try {
      const keys = keyPerShard('c', SHARDS);
      const answers = async (server: Redis) => {
        await server.config('SET', 'zset-max-listpack-entries', '3');
        await server.config('SET', 'zset-max-listpack-value', '8');
        const out: unknown[] = [];
        for (const key of keys) {
          await server.zadd(key, 1, 'a', 2, 'b', 3, 'c');
          out.push(await server.object('ENCODING', key));
          await server.zadd(key, 4, 'd');
          out.push(await server.object('ENCODING', key));
          await server.zadd(`${key}:v`, 1, '123456789');
          out.push(await server.object('ENCODING', `${key}:v`));
        }
        await server.zadd('{t}a', 1, 'x', 2, 'y');
        await server.zadd('{t}b', 5, 'y', 6, 'w');
        out.push(await server.zunionstore('{t}u', 2, '{t}a', '{t}b', 'WEIGHTS', 2, 1));
        out.push(await server.zrange('{t}u', 0, -1, 'WITHSCORES'), await server.object('ENCODING', '{t}u'));
        out.push(await server.zinter(2, '{t}a', '{t}b', 'WITHSCORES'), await server.zintercard(2, '{t}a', '{t}b'), await server.zmpop(2, '{t}x', '{t}a', 'MAX'));
        await server.config('SET', 'zset-max-listpack-entries', '128');
        await server.config('SET', 'zset-max-listpack-value', '64');
        return out;
      };
      const ours = await answers(client);
      expect(ours.slice(0, 3 * SHARDS)).toEqual(Array.from({ length: SHARDS }, () => ['listpack', 'skiplist', 'skiplist']).flat());
      expect(ours.slice(3 * SHARDS)).toEqual([3, ['x', '2', 'w', '6', 'y', '9'], 'listpack', ['y', '7'], 1, ['{t}a', [['y', '2']]]]);
      if (redis !== undefined) expect(ours).toEqual(await answers(redis));
      // Keys on several shards (numkeys-counted ones included) run on a scratch copy: same answers as Redis.
      const across = async (server: Redis) => [
        await server.zunion(2, keys[0], keys[1], 'WITHSCORES'),
        await server.zunionstore('{t}d', 2, '{t}a', keys[1]),
        await server.zrange('{t}d', 0, -1, 'WITHSCORES'),
        await server.zmpop(2, keys[0], keys[2], 'MIN'),
        await server.zrange(keys[0], 0, -1, 'WITHSCORES'),
      ];
      const mine = await across(client);
      expect(mine[1]).toBeGreaterThan(0);
      if (redis !== undefined) expect(mine).toEqual(await across(redis));
    } finally {
      client.disconnect();
      redis?.disconnect();
    }
  });

  it('builds a 200k-member sorted set whose sampled reads match Redis', async (context) => {
    const [client, redis] = await connectBoth(servers);
    try {
      if (redis === undefined) return context.skip();
      const MEMBERS = 200_000;
      for (const server of [client, redis]) {
        const pipeline = server.pipeline();
        for (let i = 0; i < MEMBERS; i += 1000) {
          const args: string[] = [];
          for (let j = i; j < i + 1000; j++) args.push(String(((j * 7919) % 100_003) / 8), `member:${j}`);
          pipeline.zadd('big', ...args);
        }
        await pipeline.exec();
      }
      const sample = Array.from({ length: 200 }, (_, i) => `member:${(i * 7919) % (MEMBERS + 100)}`);
      const ask = async (server: Redis) =>
        Promise.all([
          server.zcard('big'),
          server.object('ENCODING', 'big'),
          server.zmscore('big', ...sample),
          Promise.all(sample.slice(0, 50).map((member) => server.zrank('big', member))),
          Promise.all(sample.slice(0, 50).map((member) => server.zrevrank('big', member))),
          server.zrange('big', 100_000, 100_020, 'WITHSCORES'),
          server.zrange('big', -10, -1, 'WITHSCORES'),
          server.zrangebyscore('big', '(1000', 2000, 'WITHSCORES', 'LIMIT', 5, 20),
          server.zrevrangebyscore('big', 5000, '-inf', 'LIMIT', 100, 10),
          server.zcount('big', 100, '(9000.5'),
          server.zincrby('big', 0.25, 'member:7'),
          server.zremrangebyrank('big', 1000, 1999),
          server.zremrangebyscore('big', 0, 10),
          server.zpopmin('big', 3),
          server.zpopmax('big', 3),
          server.zcard('big'),
          server.zrange('big', 50_000, 50_005, 'WITHSCORES'),
        ]);
      expect(await ask(client)).toEqual(await ask(redis));
      const [cursor, items] = await client.zscan('big', '0', 'COUNT', '100');
      expect(cursor).not.toBe('0');
      expect(items.length).toBeGreaterThanOrEqual(100);
      expect(await client.del('big')).toBe(1);
    } finally {
      client.disconnect();
      redis?.disconnect();
    }
  });
});
