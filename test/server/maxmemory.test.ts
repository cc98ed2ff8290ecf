/**
 * maxmemory with noeviction, sabre (2 shards) beside a real redis-server: the same replies once over the
 * budget (-OOM for commands that may add data, reads and deletions going on, MULTI and EXEC as Redis
 * treats them), and a server filled until it refuses keeps used_memory at the budget, loses nothing it
 * stored, and takes writes again once deletions make room.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisConnection, b } from '../helpers/differential.js';
import { sabreBesideRedis } from '../helpers/sabre-server.js';

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** Two raw connections: the first runs a transaction around a budget the second lowers to one byte. */
async function exchange(port: number): Promise<string[]> {
  const [a, admin] = [await RedisConnection.open(port), await RedisConnection.open(port)];
  const send = async (connection: RedisConnection, ...commands: string[][]) =>
    (await connection.run(commands.map((args) => args.map(b)))).map((reply) => reply.toString('latin1')).join('');
  try {
    return [
      await send(a, ['FLUSHALL'], ['SET', 'x', 'y'], ['MULTI'], ['SET', 'q', '1'], ['GET', 'x']),
      await send(admin, ['CONFIG', 'SET', 'maxmemory', '1']),
      await send(a, ['EXEC'], ['GET', 'x'], ['SET', 'z', '1'], ['DEL', 'x'], ['MULTI'], ['SET', 'q', '1'], ['GET', 'q'], ['EXEC']),
      await send(a, ['MULTI'], ['GET', 'q'], ['EXEC'], ['LPUSH', 'l', 'a'], ['APPEND', 'x', 'y'], ['INCR', 'n'], ['EXISTS', 'x'], ['TTL', 'x']),
      await send(admin, ['CONFIG', 'SET', 'maxmemory', '0']),
      await send(a, ['SET', 'z', '1']),
    ];
  } finally {
    a.close();
    admin.close();
  }
}

/** used_memory from INFO. */
async function usedMemory(client: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await client.info('memory'))![1]);
}

describe('maxmemory (noeviction), sabre beside redis-server', () => {
  const servers = sabreBesideRedis(['--shards', '2']);

  it('refuses as Redis does once over the budget, inside and outside transactions', async () => {
    const ours = await exchange(servers.sabre.port);
    expect(ours.join('')).toContain(`-EXECABORT Transaction discarded because of: ${OOM}`);
    if (servers.redis !== undefined) expect(ours).toEqual(await exchange(servers.redis.port));
  });

  it('stops at the budget while filling, keeps every stored key, and writes again after deletions', async () => {
    const client = new Redis({ port: servers.sabre.port });
    try {
      await client.flushall();
      const budget = (await usedMemory(client)) + 4 * 1024 * 1024;
      await client.config('SET', 'maxmemory', String(budget));
      const value = 'v'.repeat(1000);
      let stored = 0;
      let refusal: Error | undefined;
      while (refusal === undefined && stored < 20_000) {
        try {
          await client.set(`fill:${stored}`, value);
          stored++;
        } catch (error) {
          refusal = error as Error;
        }
      }
      expect(refusal?.message).toBe(OOM);
      expect(stored).toBeGreaterThan(1000);
      // One write past the budget at most, plus the few allocations a shard has not yet published.
      expect(await usedMemory(client)).toBeLessThan(budget + 64 * 1024);
      const sample = await client.mget(...Array.from({ length: 200 }, (_, i) => `fill:${Math.floor((i * stored) / 200)}`));
      expect(sample.every((stored) => stored === value)).toBe(true);
      expect(await client.dbsize()).toBe(stored);
      expect(await client.del(...Array.from({ length: 500 }, (_, i) => `fill:${i}`))).toBe(500);
      expect(await client.set('after-room', 'x')).toBe('OK');
      await client.config('SET', 'maxmemory', '0');
    } finally {
      client.disconnect();
    }
  });
});
