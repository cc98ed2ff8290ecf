/**
 * SORT on a sabre server with three shards, over TCP: BY and GET patterns read the keys of the sorted
 * key's shard (hash tags), keys on other shards read as missing, and a STORE destination on another
 * shard receives what the sort computed on the sorted key's shard, replacing the key and its TTL.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keyPerShard, shardOfKey } from '../helpers/keyspace.js';
import { sabreBesideRedis } from '../helpers/sabre-server.js';

const SHARDS = 3;

describe('SORT across three shards', () => {
  const servers = sabreBesideRedis(['--shards', String(SHARDS)]);

  async function client(): Promise<Redis> {
    const ours = new Redis({ port: servers.sabre.port, lazyConnect: true });
    await ours.connect();
    await ours.flushall();
    return ours;
  }

  it('reads BY and GET patterns from the sorted key\'s shard', async () => {
    const ours = await client();
    try {
      await ours.rpush('{t}l', '1', '2', '3');
      await ours.mset('{t}w1', '30', '{t}w2', '10', '{t}w3', '20', '{t}o1', 'one', '{t}o3', 'three');
      await ours.hset('{t}h2', 'f', 'two');
      expect(await ours.sort('{t}l', 'BY', '{t}w*', 'GET', '#', 'GET', '{t}o*', 'GET', '{t}h*->f')).toEqual(['2', null, 'two', '3', 'three', null, '1', 'one', null]);
      // w1 … w3 without the tag live on whichever shard they hash to: the sort sees only its own shard's.
      const [l, elsewhere] = keyPerShard('sorted', SHARDS);
      await ours.rpush(l, 'a', 'b');
      const local = ['a', 'b'].filter((element) => shardOfKey(`${elsewhere}${element}`, SHARDS) === shardOfKey(l, SHARDS));
      await ours.set(`${elsewhere}a`, 'A');
      await ours.set(`${elsewhere}b`, 'B');
      expect(await ours.sort(l, 'ALPHA', 'GET', `${elsewhere}*`)).toEqual(['a', 'b'].map((element) => (local.includes(element) ? element.toUpperCase() : null)));
    } finally {
      ours.disconnect();
    }
  });

  it('stores into a key on another shard what the sorted key\'s shard computed', async () => {
    const ours = await client();
    try {
      const [source, pattern, getPattern] = ['{t}src', '{t}w*', '{t}o*'];
      const target = keyPerShard('dst', SHARDS).find((key) => shardOfKey(key, SHARDS) !== shardOfKey(source, SHARDS))!;
      await ours.rpush(source, '1', '2', '3');
      await ours.mset('{t}w1', '3', '{t}w2', '1', '{t}w3', '2', '{t}o2', 'two');
      await ours.set(target, 'old', 'EX', 100);
      expect(await ours.sort(source, 'BY', pattern, 'STORE', target)).toBe(3);
      expect(await ours.lrange(target, 0, -1)).toEqual(['2', '3', '1']);
      expect(await ours.ttl(target)).toBe(-1);
      expect(await ours.sort(source, 'BY', pattern, 'GET', getPattern, 'GET', '#', 'DESC', 'STORE', target)).toBe(6);
      expect(await ours.lrange(target, 0, -1)).toEqual(['', '1', '', '3', 'two', '2']);
      expect(await ours.sort(source, 'LIMIT', '5', '1', 'STORE', target)).toBe(0);
      expect(await ours.exists(target)).toBe(0);
      await ours.set(source, 'x');
      await expect(ours.sort(source, 'STORE', target)).rejects.toThrow(/WRONGTYPE/);
      await expect(ours.sort(source, 'STORE', target, 'FOO')).rejects.toThrow(/syntax error/);
    } finally {
      ours.disconnect();
    }
  });
});
