/**
 * Lists on a sabre server with three shards, over TCP, beside a real redis-server: a list keeps its
 * elements and TTL through RENAME and COPY between shards; LMPOP finds its keys on whichever shard holds
 * them; LMOVE, RPOPLPUSH and LMPOP over keys on one shard (hash tags) work, and across shards are
 * refused with a clear error; and a 200k-element list built the same way on both servers (small
 * nodes, list-max-listpack-size 5, by CONFIG SET) answers sampled reads identically.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keyPerShard, shardOfKey } from '../helpers/keyspace.js';
import { connectBoth, sabreBesideRedis } from '../helpers/sabre-server.js';

const SHARDS = 3;

describe('lists across three shards', () => {
  const servers = sabreBesideRedis(['--shards', String(SHARDS)]);


  it('moves and copies lists between shards with their elements and TTL', async () => {
    const [client] = await connectBoth(servers);
    try {
      const [a, c, d] = keyPerShard('l', SHARDS);
      expect(new Set([a, c, d].map((key) => shardOfKey(key, SHARDS))).size).toBe(SHARDS);
      const many = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? String(i) : `e${i}`));
      await client.rpush(a, 'x', '2', 'y'.repeat(100));
      await client.pexpire(a, 100_000);
      await client.rpush(c, ...many);
      expect(await client.rename(a, d)).toBe('OK');
      expect(await client.lrange(d, 0, -1)).toEqual(['x', '2', 'y'.repeat(100)]);
      expect(await client.pttl(d)).toBeGreaterThan(90_000);
      expect(await client.object('ENCODING', d)).toBe('quicklist');
      expect(await client.copy(c, a)).toBe(1);
      expect(await client.lrange(a, 0, -1)).toEqual(many);
      await client.lpop(a);
      expect(await client.llen(c)).toBe(1000);
      expect(await client.copy(c, d, 'REPLACE')).toBe(1);
      expect(await client.lindex(d, -1)).toBe('e999');
      expect(await client.type(d)).toBe('list');
    } finally {
      client.disconnect();
    }
  });

  it('runs LMPOP on the shard of its keys, and the two-key commands within a shard and across shards', async () => {
    const [client] = await connectBoth(servers);
    try {
      const [a, c] = keyPerShard('m', SHARDS).slice(1);
      await client.rpush(a, '1', '2', '3');
      expect(await client.call('LMPOP', '1', a, 'LEFT', 'COUNT', '2')).toEqual([a, ['1', '2']]);
      expect(await client.call('LMPOP', '1', c, 'LEFT')).toBeNull();
      // Across shards: run on a scratch copy of the keys, with both shards held.
      await client.rpush(c, 'x');
      expect(await client.call('LMPOP', '2', a, c, 'LEFT')).toEqual([a, ['3']]);
      await client.rpush(a, '4', '5');
      expect(await client.lmove(a, c, 'LEFT', 'RIGHT')).toBe('4');
      expect(await client.rpoplpush(a, c)).toBe('5');
      expect(await client.exists(a)).toBe(0);
      expect(await client.lrange(c, 0, -1)).toEqual(['5', 'x', '4']);
      await expect(client.call('LMPOP', '0', a, 'LEFT')).rejects.toThrow('numkeys should be greater than 0');

      await client.rpush('{q}src', 'a', 'b');
      expect(await client.lmove('{q}src', '{q}dst', 'RIGHT', 'LEFT')).toBe('b');
      expect(await client.rpoplpush('{q}src', '{q}dst')).toBe('a');
      expect(await client.exists('{q}src')).toBe(0);
      expect(await client.call('LMPOP', '2', '{q}src', '{q}dst', 'RIGHT', 'COUNT', '5')).toEqual(['{q}dst', ['b', 'a']]);
      expect(await client.exists('{q}dst')).toBe(0);
    } finally {
      client.disconnect();
    }
  });

  it('builds a 200k-element list whose sampled reads match Redis, with small nodes set by CONFIG SET', async (context) => {
    const [client, redis] = await connectBoth(servers);
    try {
      if (redis === undefined) return context.skip();
      const ELEMENTS = 200_000;
      for (const server of [client, redis]) {
        await server.config('SET', 'list-max-listpack-size', '5');
        const pipeline = server.pipeline();
        for (let i = 0; i < ELEMENTS; i += 1000) {
          const args: string[] = [];
          for (let j = i; j < i + 1000; j++) args.push(j % 7 === 0 ? String(j) : `element:${j}:${'z'.repeat(j % 50)}`);
          if (i % 2000 === 0) pipeline.rpush('big', ...args);
          else pipeline.lpush('big', ...args);
        }
        await pipeline.exec();
      }
      const indexes = Array.from({ length: 300 }, (_, i) => ((i * 7919) % (ELEMENTS + 100)) - 50);
      const ask = async (server: Redis) =>
        Promise.all([
          server.llen('big'),
          server.object('ENCODING', 'big'),
          Promise.all(indexes.map((index) => server.lindex('big', index))),
          server.lrange('big', 99_950, 100_049),
          server.lrange('big', -120, -1),
          server.lpos('big', '7007'),
          server.lpos('big', '14', 'RANK', -1, 'COUNT', 0, 'MAXLEN', 150_000),
          server.lset('big', 123_456, 'changed'),
          server.linsert('big', 'AFTER', '7007', 'inserted'),
          server.lrem('big', -2, '70'),
          server.ltrim('big', 1000, -1000),
          server.lrange('big', 0, 5),
          server.lindex('big', 122_456),
          server.rpop('big', 3),
          server.llen('big'),
        ]);
      expect(await ask(client)).toEqual(await ask(redis));
      expect(await client.del('big')).toBe(1);
    } finally {
      await client.config('SET', 'list-max-listpack-size', '-2');
      await redis?.config('SET', 'list-max-listpack-size', '-2');
      client.disconnect();
      redis?.disconnect();
    }
  });
});
