/**
 * Active defragmentation through the server: CONFIG SET activedefrag yes starts the shards' cycles once
 * fragmentation passes the thresholds, INFO reports them with Redis's fields, the fragmentation goes and
 * every value stays. The parameters answer CONFIG GET/SET as redis-server's do (Debian's redis-server
 * cannot defragment, so only `activedefrag yes` itself is not compared).
 */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { RespValue } from '../../src/protocol/reply-reader.js';
import { pairsOf } from '../helpers/keyspace.js';
import { connectBoth, sabreBesideRedis } from '../helpers/sabre-server.js';

function infoNumber(info: string, field: string): number {
  return Number(new RegExp(`^${field}:(.*)\\r$`, 'm').exec(info)?.[1]);
}

const DEFRAG_STATS = ['active_defrag_hits', 'active_defrag_misses', 'active_defrag_key_hits', 'active_defrag_key_misses', 'total_active_defrag_time', 'current_active_defrag_time'];
const KEYS = 100_000;

async function poll(until: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await until())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('active defragmentation through the server (2 shards) beside redis-server', () => {
  const servers = sabreBesideRedis(['--shards', '2']);

  it('answers CONFIG GET/SET of the parameters and INFO field names as Redis does', async (context) => {
    const [client, redis] = await connectBoth(servers);
    try {
      if (redis === undefined) return context.skip();
      const ask = async (server: Redis) => {
        const attempt = (...args: string[]) => server.call('CONFIG', 'SET', ...args).catch((error: Error) => error.message);
        const replies = [
          await attempt('active-defrag-cycle-min', '0'),
          await attempt('active-defrag-cycle-max', '100'),
          await attempt('active-defrag-cycle-min', '60', 'active-defrag-cycle-max', '50'),
          await attempt('active-defrag-threshold-lower', '1001'),
          await attempt('active-defrag-threshold-upper', '-1'),
          await attempt('active-defrag-ignore-bytes', '2mb'),
          await attempt('active-defrag-ignore-bytes', '0'),
          await attempt('active-defrag-max-scan-fields', '0'),
          await attempt('active-defrag-max-scan-fields', '12345'),
          await attempt('activedefrag', 'maybe'),
          await attempt('activedefrag', 'no'),
          pairsOf((await server.config('GET', 'active*defrag*')) as RespValue[]),
        ];
        const stats = await server.info('stats');
        const memory = await server.info('memory');
        return [...replies, DEFRAG_STATS.map((field) => infoNumber(stats, field)), infoNumber(memory, 'active_defrag_running')];
      };
      expect(await ask(client)).toEqual(await ask(redis));
    } finally {
      client.disconnect();
      redis?.disconnect();
    }
  });

  it('defragments a keyspace with every other key deleted, reporting in INFO, every value intact', async () => {
    const [client, redis] = await connectBoth(servers);
    redis?.disconnect();
    try {
      const pipeline = client.pipeline();
      for (let i = 0; i < KEYS; i++) pipeline.set(`key:${i}`, `value:${i}`);
      for (let i = 0; i < KEYS; i += 2) pipeline.del(`key:${i}`);
      await pipeline.exec();
      const before = await client.info('memory');
      expect(infoNumber(before, 'allocator_frag_ratio')).toBeGreaterThan(1.5);
      expect(await client.config('SET', 'active-defrag-ignore-bytes', '100kb', 'active-defrag-threshold-lower', '5', 'active-defrag-cycle-max', '50', 'activedefrag', 'yes')).toBe('OK');
      // A cycle starts within the shards' once-a-second check, and ends once the walk is done.
      await poll(async () => infoNumber(await client.info('stats'), 'active_defrag_hits') > 0, 5000);
      await poll(async () => infoNumber(await client.info('memory'), 'active_defrag_running') === 0, 20_000);
      const stats = await client.info('stats');
      const after = await client.info('memory');
      expect(infoNumber(stats, 'active_defrag_key_hits')).toBeGreaterThan(0);
      expect(infoNumber(stats, 'active_defrag_hits') + infoNumber(stats, 'active_defrag_misses')).toBeGreaterThan(KEYS / 4);
      expect(infoNumber(stats, 'total_active_defrag_time')).toBeGreaterThanOrEqual(0);
      expect(infoNumber(stats, 'current_active_defrag_time')).toBe(0);
      expect(infoNumber(after, 'allocator_frag_ratio')).toBeLessThan(1.1);
      expect(infoNumber(after, 'allocator_active')).toBeLessThan(infoNumber(before, 'allocator_active') * 0.7);
      const keys = Array.from({ length: KEYS / 2 }, (_, i) => `key:${2 * i + 1}`);
      expect(await client.mget(...keys)).toEqual(keys.map((key) => key.replace('key', 'value')));
      expect(await client.dbsize()).toBe(KEYS / 2);
    } finally {
      await client.config('SET', 'activedefrag', 'no');
      client.disconnect();
    }
  }, 40_000);
});
