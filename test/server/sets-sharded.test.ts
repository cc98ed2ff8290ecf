/**
 * Sets on a sabre server with three shards, over TCP, beside a real redis-server: a set keeps its
 * members, TTL and encoding through RENAME and COPY between shards; the algebra works on keys of one
 * shard (hash tags) and is refused, as before, across shards; set-max-intset-entries from CONFIG SET
 * reaches every shard; and a 200k-member set built the same way on both servers answers sampled reads
 * identically.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keyPerShard, shardOfKey } from '../helpers/keyspace.js';
import { connectBoth, sabreBesideRedis } from '../helpers/sabre-server.js';

const SHARDS = 3;

describe('sets across three shards', () => {
  const servers = sabreBesideRedis(['--shards', String(SHARDS)]);


  it('moves and copies sets between shards with members, TTL and encoding', async () => {
    const [client] = await connectBoth(servers);
    try {
      const [a, c, d] = keyPerShard('s', SHARDS);
      expect(new Set([a, c, d].map((key) => shardOfKey(key, SHARDS))).size).toBe(SHARDS);
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
    } finally {
      client.disconnect();
    }
  });

  it('runs the algebra on one shard and refuses it across shards', async () => {
    const [client, redis] = await connectBoth(servers);
    try {
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
      const ours = await answers(client);
      expect(ours[6]).toBe('intset');
      if (redis !== undefined) expect(ours).toEqual(await answers(redis));
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
      const mine = await across(client);
      expect(mine[0]).toEqual(['a']);
      if (redis !== undefined) expect(mine).toEqual(await across(redis));
    } finally {
      client.disconnect();
      redis?.disconnect();
    }
  });

  it('converts by the set-max-intset-entries CONFIG SET gives every shard', async () => {
    const [client] = await connectBoth(servers);
    try {
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
    } finally {
      client.disconnect();
    }
  });

  it('builds a 200k-member set whose sampled reads match Redis', async (context) => {
    const [client, redis] = await connectBoth(servers);
    try {
      if (redis === undefined) return context.skip();
      const MEMBERS = 200_000;
      for (const server of [client, redis]) {
        const pipeline = server.pipeline();
        for (let i = 0; i < MEMBERS; i += 1000) {
          pipeline.sadd('big', ...Array.from({ length: 1000 }, (_, j) => (j % 3 === 0 ? String(i + j) : `member:${i + j}`)));
        }
        await pipeline.exec();
      }
      const sample = Array.from({ length: 500 }, (_, i) => `member:${(i * 7919) % (MEMBERS + 100)}`);
      const ask = async (server: Redis) =>
        Promise.all([
          server.scard('big'),
          server.object('ENCODING', 'big'),
          server.smismember('big', ...sample),
          server.sismember('big', '3'),
          server.srem('big', 'member:1', 'member:2', 'nope'),
          server.scard('big'),
        ]);
      expect(await ask(client)).toEqual(await ask(redis));
      const members = (await client.srandmember('big', 20)) as string[];
      expect(new Set(members).size).toBe(20);
      for (const member of members) expect(member).toMatch(/^(member:)?\d+$/);
      const [cursor, items] = await client.sscan('big', '0', 'COUNT', '100');
      expect(cursor).not.toBe('0');
      expect(items.length).toBeGreaterThanOrEqual(100);
      expect(await client.del('big')).toBe(1);
    } finally {
      client.disconnect();
      redis?.disconnect();
    }
  });
});
