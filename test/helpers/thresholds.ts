/**
 * The conversion-threshold check the sharded hash and sorted-set tests share: with
 * <type>-max-listpack-entries 3 and -value 8 set by CONFIG SET, OBJECT ENCODING of a key on every shard
 * at three entries, at a fourth, and of a second key whose one name is 9 bytes long; the defaults are
 * restored after.
 */
import type { Redis } from 'ioredis';

const DEFAULT_ENTRIES = { hash: '512', zset: '128' } as const;

/** Adds [name, number] entries: a field and its value, or a member and its score. */
const ADD = {
  hash: (server: Redis, key: string, entries: [string, string][]) => server.hset(key, ...entries.flat()),
  zset: (server: Redis, key: string, entries: [string, string][]) => server.zadd(key, ...entries.flatMap(([name, n]) => [n, name])),
} as const;

export async function encodingsPastThresholds(server: Redis, type: 'hash' | 'zset', keys: readonly string[]): Promise<unknown[]> {
  await server.config('SET', `${type}-max-listpack-entries`, '3');
  await server.config('SET', `${type}-max-listpack-value`, '8');
  const out: unknown[] = [];
  for (const key of keys) {
    await ADD[type](server, key, [['a', '1'], ['b', '2'], ['c', '3']]);
    out.push(await server.object('ENCODING', key));
    await ADD[type](server, key, [['d', '4']]);
    out.push(await server.object('ENCODING', key));
    await ADD[type](server, `${key}:v`, [['123456789', '1']]);
    out.push(await server.object('ENCODING', `${key}:v`));
  }
  await server.config('SET', `${type}-max-listpack-entries`, DEFAULT_ENTRIES[type]);
  await server.config('SET', `${type}-max-listpack-value`, '64');
  return out;
}
