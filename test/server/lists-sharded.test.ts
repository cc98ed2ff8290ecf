/**
 * Lists on a sabre server with three shards, over TCP, beside a real redis-server: a list keeps its
 * elements and TTL through RENAME and COPY between shards; LMPOP finds its keys on whichever shard holds
 * them; LMOVE, RPOPLPUSH and LMPOP work over keys on one shard (hash tags) and, on a scratch copy of
 * the keys, across shards. (The million-element list is in large-collections.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { keyPerShard, keysOnEveryShard, SHARDS } from '../helpers/keyspace.js';
import { sabreBesideRedis, withBoth } from '../helpers/sabre-server.js';

describe('lists across three shards', () => {
  const servers = sabreBesideRedis(['--shards', String(SHARDS)]);

  it('moves and copies lists between shards with their elements and TTL', () =>
    withBoth(servers, async (client) => {
      const [a, c, d] = keysOnEveryShard('l');
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
    }));

  it('runs LMPOP on the shard of its keys, and the two-key commands within a shard and across shards', () =>
    withBoth(servers, async (client) => {
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
    }));
});
