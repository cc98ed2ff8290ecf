/**
 * Background freeing through the server: UNLINK and FLUSHALL ASYNC answer as Redis does, the shards
 * free what they queued in their spare time, and INFO's lazyfree counters and used_memory show it.
 */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { RespValue } from '../../src/protocol/reply-reader.js';
import { pairsOf } from '../helpers/keyspace.js';
import { connectBoth, sabreBesideRedis } from '../helpers/sabre-server.js';

/** The numeric value of `field` in an INFO reply. */
function infoNumber(info: string, field: string): number {
  return Number(new RegExp(`^${field}:(.*)\\r$`, 'm').exec(info)?.[1]);
}

async function fillHash(server: Redis, key: string, fields: number): Promise<void> {
  const pipeline = server.pipeline();
  for (let i = 0; i < fields; i += 1000) {
    pipeline.hset(key, ...Array.from({ length: 1000 }, (_, j) => [`field:${i + j}`, `value:${i + j}`]).flat());
  }
  await pipeline.exec();
}

/** Polls INFO memory until no shard has background frees queued. */
async function settled(server: Redis): Promise<string> {
  for (;;) {
    const info = await server.info('memory');
    if (infoNumber(info, 'lazyfree_pending_objects') === 0) return info;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('lazy free through the server (2 shards) beside redis-server', () => {
  const servers = sabreBesideRedis(['--shards', '2']);

  it('answers UNLINK, FLUSHALL ASYNC, FLUSHDB SYNC and the lazyfree parameters as Redis does', async (context) => {
    const [client, redis] = await connectBoth(servers);
    try {
      if (redis === undefined) return context.skip();
      const ask = async (server: Redis) => {
        await fillHash(server, '{a}big', 5000);
        await server.rpush('{b}list', ...Array.from({ length: 5000 }, (_, i) => `e${i}`));
        return [
          await server.config('SET', 'lazyfree-lazy-user-del', 'yes'),
          // Redis lists parameters in its dictionary's order: compare them as sorted pairs.
          pairsOf((await server.config('GET', 'lazyfree-lazy-*')) as RespValue[]),
          await server.unlink('{a}big', '{b}list', 'missing'),
          await server.exists('{a}big', '{b}list'),
          await server.set('k', 'v'),
          await server.call('FLUSHALL', 'ASYNC'),
          await server.dbsize(),
          await server.call('FLUSHDB', 'SYNC'),
          await server.call('FLUSHALL', 'NOW').catch((error: Error) => error.message),
          await server.call('FLUSHDB', 'ASYNC', 'SYNC').catch((error: Error) => error.message),
          await server.config('SET', 'lazyfree-lazy-user-del', 'no'),
        ];
      };
      expect(await ask(client)).toEqual(await ask(redis));
    } finally {
      client.disconnect();
      redis?.disconnect();
    }
  });

  it('gives the memory of an unlinked 300k-field hash back once the shard has freed it', async () => {
    const [client, redis] = await connectBoth(servers);
    try {
      const before = infoNumber(await settled(client), 'used_memory');
      const freedBefore = infoNumber(await client.info('memory'), 'lazyfreed_objects');
      await fillHash(client, 'huge', 300_000);
      const built = infoNumber(await client.info('memory'), 'used_memory');
      expect(built - before).toBeGreaterThan(300_000 * 30);
      expect(await client.unlink('huge')).toBe(1);
      expect(await client.exists('huge')).toBe(0);
      const after = await settled(client);
      expect(infoNumber(after, 'lazyfreed_objects')).toBe(freedBefore + 1);
      expect(infoNumber(after, 'used_memory')).toBeLessThan(before + 64 * 1024);
    } finally {
      client.disconnect();
      redis?.disconnect();
    }
  });
});
