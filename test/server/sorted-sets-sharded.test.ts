/**
 * Sorted sets on a sabre server with three shards, over TCP, beside a real redis-server: a sorted set
 * keeps its members, scores, TTL and encoding through RENAME and COPY between shards, follows CONFIG SET
 * of the conversion thresholds on every shard, and set operations run over keys of one shard (hash tags)
 * and, on a scratch copy, across shards. (The million-member sorted set is in large-collections.test.ts.)
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keysOnEveryShard, SHARDS } from '../helpers/keyspace.js';
import { sabreBesideRedis, sameAnswers, withBoth } from '../helpers/sabre-server.js';
import { encodingsPastThresholds } from '../helpers/thresholds.js';

describe('sorted sets across three shards', () => {
  const servers = sabreBesideRedis(['--shards', String(SHARDS)]);

  it('moves and copies sorted sets between shards with scores, TTL and encoding', () =>
    withBoth(servers, async (client) => {
      const [a, c, d] = keysOnEveryShard('z');
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
    }));

  it('converts by the thresholds CONFIG SET gives every shard, and runs set operations within a shard', () =>
    withBoth(servers, async (client, redis) => {
      const keys = keysOnEveryShard('c');
      const answers = async (server: Redis) => {
        const out = await encodingsPastThresholds(server, 'zset', keys);
        await server.zadd('{t}a', 1, 'x', 2, 'y');
        await server.zadd('{t}b', 5, 'y', 6, 'w');
        out.push(await server.zunionstore('{t}u', 2, '{t}a', '{t}b', 'WEIGHTS', 2, 1));
        out.push(await server.zrange('{t}u', 0, -1, 'WITHSCORES'), await server.object('ENCODING', '{t}u'));
        out.push(await server.zinter(2, '{t}a', '{t}b', 'WITHSCORES'), await server.zintercard(2, '{t}a', '{t}b'), await server.zmpop(2, '{t}x', '{t}a', 'MAX'));
        return out;
      };
      const ours = await sameAnswers(client, redis, answers);
      expect(ours.slice(0, 3 * SHARDS)).toEqual(Array.from({ length: SHARDS }, () => ['listpack', 'skiplist', 'skiplist']).flat());
      expect(ours.slice(3 * SHARDS)).toEqual([3, ['x', '2', 'w', '6', 'y', '9'], 'listpack', ['y', '7'], 1, ['{t}a', [['y', '2']]]]);
      // Keys on several shards (numkeys-counted ones included) run on a scratch copy: same answers as Redis.
      const across = async (server: Redis) => [
        await server.zunion(2, keys[0], keys[1], 'WITHSCORES'),
        await server.zunionstore('{t}d', 2, '{t}a', keys[1]),
        await server.zrange('{t}d', 0, -1, 'WITHSCORES'),
        await server.zmpop(2, keys[0], keys[2], 'MIN'),
        await server.zrange(keys[0], 0, -1, 'WITHSCORES'),
      ];
      const mine = await sameAnswers(client, redis, across);
      expect(mine[1]).toBeGreaterThan(0);
    }));
});
