/**
 * The embedded pool's API against every command family, its batches and its JS values; then the same
 * commands through pool.listen() and ioredis, which must read exactly what the in-process API read.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PoolError, ReplyError, ShardPool, type Reply } from 'sabre';
import { commandGenerator } from '../helpers/differential.js';
import { Random } from '../helpers/random.js';

let pool: ShardPool;

beforeAll(async () => {
  pool = await ShardPool.start({ shards: 3 });
});

afterAll(async () => {
  await pool.close();
});

beforeEach(async () => {
  await pool.command('FLUSHALL');
});

describe('typed methods', () => {
  it('strings and keys', async () => {
    expect(await pool.set('s', 'hello')).toBe('OK');
    expect(await pool.get('s')).toBe('hello');
    expect(await pool.getBuffer('s')).toEqual(Buffer.from('hello'));
    expect(await pool.get('missing')).toBeNull();
    expect(await pool.set('s', 'x', { NX: true })).toBeNull();
    expect(await pool.set('s', 'world', { XX: true, GET: true })).toBe('hello');
    expect(await pool.set('t', 1, { EX: 100 })).toBe('OK');
    expect(await pool.ttl('t')).toBe(100);
    expect(await pool.set('t', 2, { KEEPTTL: true })).toBe('OK');
    expect(await pool.ttl('t')).toBeGreaterThan(98);
    expect(await pool.set('p', 1, { PX: 50_000 })).toBe('OK');
    expect(await pool.ttl('p')).toBe(50);
    expect(await pool.expire('s', 10)).toBe(1);
    expect(await pool.expire('s', 5, 'GT')).toBe(0);
    expect(await pool.ttl('missing')).toBe(-2);
    expect(await pool.incr('n')).toBe(1);
    expect(await pool.incrby('n', -11)).toBe(-10);
    // Keys on different shards: MSET, MGET, EXISTS and DEL go through the front's multi-shard paths.
    expect(await pool.mset({ a: '1', b: '2', c: '3' })).toBe('OK');
    expect(await pool.mget('a', 'b', 'nope', 'c')).toEqual(['1', '2', null, '3']);
    expect(await pool.exists('a', 'b', 'nope', 'a')).toBe(3);
    expect(await pool.del('a', 'b', 'nope')).toBe(2);
  });

  it('hashes', async () => {
    expect(await pool.hset('h', { f: 'v', n: 5 })).toBe(2);
    expect(await pool.hset('h', 'g', 'w')).toBe(1);
    expect(await pool.hget('h', 'f')).toBe('v');
    expect(await pool.hincrby('h', 'n', 10)).toBe(15);
    expect(await pool.hgetall('h')).toEqual({ f: 'v', n: '15', g: 'w' });
    expect(await pool.hdel('h', 'f', 'nope')).toBe(1);
    expect(await pool.hgetall('nope')).toEqual({});
  });

  it('lists', async () => {
    expect(await pool.rpush('l', 'a', 'b', 'c')).toBe(3);
    expect(await pool.lpush('l', 'z')).toBe(4);
    expect(await pool.lrange('l', 0, -1)).toEqual(['z', 'a', 'b', 'c']);
    expect(await pool.lpop('l')).toBe('z');
    expect(await pool.rpop('l')).toBe('c');
    expect(await pool.llen('l')).toBe(2);
    expect(await pool.lpop('nope')).toBeNull();
  });

  it('sets', async () => {
    expect(await pool.sadd('s', 'a', 'b', 'a')).toBe(2);
    expect(await pool.sismember('s', 'a')).toBe(1);
    expect(await pool.sismember('s', 'z')).toBe(0);
    expect((await pool.smembers('s')).sort()).toEqual(['a', 'b']);
    expect(await pool.srem('s', 'a')).toBe(1);
    expect(await pool.scard('s')).toBe(1);
  });

  it('sorted sets', async () => {
    expect(await pool.zadd('z', 1, 'a', 2.5, 'b', -Infinity, 'low')).toBe(3);
    expect(await pool.zrange('z', 0, -1)).toEqual(['low', 'a', 'b']);
    expect(await pool.zrange('z', 1, 1, true)).toEqual(['a', '1']);
    expect(await pool.zscore('z', 'b')).toBe('2.5');
    expect(await pool.zscore('z', 'low')).toBe('-inf');
    expect(await pool.zincrby('z', 2, 'a')).toBe('3');
    expect(await pool.zrem('z', 'a', 'nope')).toBe(1);
    expect(await pool.zscore('z', 'a')).toBeNull();
  });

  it('error replies reject with ReplyError carrying the Redis code', async () => {
    await pool.set('str', 'x');
    const wrongType = await pool.hget('str', 'f').catch((error: unknown) => error);
    expect(wrongType).toBeInstanceOf(ReplyError);
    expect((wrongType as ReplyError).code).toBe('WRONGTYPE');
    expect((wrongType as ReplyError).message).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    await expect(pool.incr('str')).rejects.toMatchObject({ code: 'ERR', message: 'ERR value is not an integer or out of range' });
    await expect(pool.command('NOSUCH', 'a')).rejects.toMatchObject({ code: 'ERR', message: "ERR unknown command 'NOSUCH', with args beginning with: 'a' " });
    await expect(pool.command('GET')).rejects.toMatchObject({ message: "ERR wrong number of arguments for 'get' command" });
  });

  it('command() reaches every command, bulk strings as Buffers', async () => {
    await pool.set('k', 'v');
    expect(await pool.command('GETRANGE', 'k', 0, -1)).toEqual(Buffer.from('v'));
    expect(await pool.commandText('TYPE', 'k')).toBe('string');
    expect(await pool.command('DBSIZE')).toBe(1);
    expect(await pool.command('PFADD', 'hll', 'a', 'b')).toBe(1);
    expect(await pool.command('PFCOUNT', 'hll')).toBe(2);
    expect(await pool.command('SELECT', 1)).toBe('OK');
    // The pool's connection is shared by its callers, so SELECT moves all of them: move back.
    expect(await pool.command('DBSIZE')).toBe(0);
    expect(await pool.command('SELECT', 0)).toBe('OK');
  });
});

describe('batches', () => {
  it('a pipeline answers every command, an error reply in its place', async () => {
    await pool.set('str', 'x');
    const replies = await pool.pipeline().set('a', 1).incr('a').get('a').hget('str', 'f').mget('a', 'b').exec();
    expect(replies.slice(0, 3)).toEqual(['OK', 2, '2']);
    expect(replies[3]).toBeInstanceOf(ReplyError);
    expect(replies[4]).toEqual(['2', null]);
  });

  it('a transaction runs atomically and answers EXEC', async () => {
    const replies = await pool.multi().set('a', 1).incr('a').hset('h', 'f', 1).hgetall('h').exec();
    expect(replies).toEqual(['OK', 2, 1, { f: '1' }]);
    await expect(pool.multi().set('a', 1).command('NOSUCH').exec()).rejects.toMatchObject({ code: 'EXECABORT' });
  });

  it('WATCH on a dedicated connection aborts EXEC when the key changed', async () => {
    const client = pool.client();
    try {
      await client.command('WATCH', 'w');
      await pool.set('w', 'changed');
      expect(await client.multi().set('w', 'mine').exec()).toBeNull();
      expect(await pool.get('w')).toBe('changed');
      await client.command('WATCH', 'w');
      expect(await client.multi().set('w', 'mine').exec()).toEqual(['OK']);
    } finally {
      client.close();
    }
  });

  it('a blocking command waits on a dedicated connection and is served by a push elsewhere', async () => {
    const client = pool.client();
    try {
      const popped = client.command('BLPOP', 'queue', 0);
      await pool.rpush('queue', 'job');
      expect(await popped).toEqual([Buffer.from('queue'), Buffer.from('job')]);
    } finally {
      client.close();
    }
  });

  it('a thousand concurrent calls keep their order and their replies', async () => {
    const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => pool.incrby(`c{${i % 7}}`, 1)));
    const counts = new Map<number, number>();
    replies.forEach((reply, i) => {
      const seen = (counts.get(i % 7) ?? 0) + 1;
      counts.set(i % 7, seen);
      expect(reply).toBe(seen);
    });
  });
});

describe('JS values', () => {
  it('round-trips structured-clonable values through msgpackr', async () => {
    const value = { id: 7, name: 'ada', tags: ['x', 'y'], when: new Date(1_000), seen: new Set([1, 2]), map: new Map([['k', { deep: true }]]), big: 2n ** 70n };
    expect(await pool.setValue('v', value)).toBe('OK');
    expect(await pool.getValue('v')).toEqual(value);
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, label: `row ${i}` }));
    await pool.setValue('rows', rows);
    expect(await pool.getValue('rows')).toEqual(rows);
    expect(await pool.getValue('missing')).toBeUndefined();
    const [, back] = await pool.pipeline().setValue('p', [1, 'two']).getValue('p').exec();
    expect(back).toEqual([1, 'two']);
  });

  it('refuses values msgpackr cannot encode', async () => {
    await expect(pool.setValue('f', { run: () => 1 })).rejects.toThrow(PoolError);
    await expect(pool.setValue('f', Symbol('s'))).rejects.toThrow(/symbol cannot be stored/);
    await expect(pool.setValue('f', undefined)).rejects.toThrow(PoolError);
    expect(await pool.exists('f')).toBe(0);
  });
});

describe('introspection', () => {
  it('info() parses INFO into sections', async () => {
    await pool.set('k', 'v');
    const info = await pool.info();
    expect(info.server.redis_version).toBe('7.0.15');
    expect(info.keyspace.db0).toMatch(/^keys=1,/);
    expect(typeof info.memory.used_memory).toBe('number');
    expect(Object.keys(await pool.info('memory'))).toEqual(['memory']);
  });

  it('memoryStats() reports the allocator figures', async () => {
    await pool.set('k', 'v');
    const stats = await pool.memoryStats();
    expect(stats['keys.count']).toBe(1);
    expect(stats['allocator.allocated']).toBeGreaterThan(0);
    expect(stats['allocator.resident']).toBeGreaterThanOrEqual(stats['allocator.active'] as number);
    expect(stats['db.0']).toHaveProperty('overhead.hashtable.main');
  });
});

describe('pool.listen() and ioredis read what the API reads', () => {
  let redis: Redis;

  beforeAll(async () => {
    const { port } = await pool.listen({ port: 0 });
    redis = new Redis({ port, lazyConnect: true });
    await redis.connect();
  });

  afterAll(() => {
    redis.disconnect();
  });

  const commands: (string | number)[][] = [
    ['SET', 'a', 'x'],
    ['SET', 'a', 'y', 'NX'],
    ['GET', 'a'],
    ['MSET', 'k1', '1', 'k2', '2', 'k3', '3'],
    ['MGET', 'k1', 'k2', 'nope', 'k3'],
    ['INCRBY', 'k1', 41],
    ['EXISTS', 'k1', 'k2', 'nope'],
    ['EXPIRE', 'k2', 100],
    ['TTL', 'k2'],
    ['HSET', 'h', 'f', 'v', 'g', 'w'],
    ['HGETALL', 'h'],
    ['HINCRBY', 'h', 'n', 3],
    ['HGET', 'a', 'f'],
    ['RPUSH', 'l', 'a', 'b', 'c'],
    ['LRANGE', 'l', 0, -1],
    ['LPOP', 'l'],
    ['SADD', 's', 'm'],
    ['SISMEMBER', 's', 'm'],
    ['SCARD', 's'],
    ['ZADD', 'z', 1, 'a', 2, 'b'],
    ['ZRANGE', 'z', 0, -1, 'WITHSCORES'],
    ['ZINCRBY', 'z', 1.5, 'a'],
    ['DEL', 'a', 'k1', 'k2', 'k3'],
    ['INCR', 'h'],
    ['NOSUCH'],
    ['DBSIZE'],
  ];

  /** A reply or the error's message, for comparing. */
  const outcome = (promise: Promise<unknown>): Promise<unknown> => promise.catch((error: Error) => ({ error: error.message }));

  it('gives identical results for the same commands', async () => {
    const embedded: unknown[] = [];
    for (const [name, ...args] of commands) embedded.push(await outcome(pool.commandText(String(name), ...args)));
    await pool.command('FLUSHALL');
    const remote: unknown[] = [];
    for (const [name, ...args] of commands) remote.push(await outcome(redis.call(String(name), ...args) as Promise<Reply>));
    expect(embedded).toEqual(remote);
  });

  /** Both sides' replies in one shape: Buffers and simple strings as latin1 text, errors as their message. */
  const normal = (reply: unknown): unknown => {
    if (Buffer.isBuffer(reply)) return reply.toString('latin1');
    if (Array.isArray(reply)) return reply.map(normal);
    return reply;
  };
  const CLOCK = new Set(['ttl', 'pttl', 'expiretime', 'pexpiretime']);

  it('gives identical results over a seeded random sequence of string and key commands', async () => {
    const sequence = Array.from({ length: 400 }, commandGenerator(new Random(8)));
    const embedded: unknown[] = [];
    for (const [name, ...args] of sequence) embedded.push(normal(await outcome(pool.command(name.toString('latin1'), ...args))));
    await pool.command('FLUSHALL');
    const remote: unknown[] = [];
    for (const [name, ...args] of sequence) remote.push(normal(await outcome(redis.callBuffer(name.toString('latin1'), ...args) as Promise<Reply>)));
    sequence.forEach(([name], i) => {
      // Expiry readings move with the clock between the two runs: only their kind must agree.
      if (CLOCK.has(name.toString('latin1').toLowerCase())) expect(typeof embedded[i]).toBe(typeof remote[i]);
      else expect(embedded[i], `command ${i}: ${sequence[i].join(' ')}`).toEqual(remote[i]);
    });
  });

  it('CLIENT KILL of the pool connection ends that connection, not the pool', async () => {
    const id = (await pool.command('CLIENT', 'ID')) as number;
    expect(await redis.call('CLIENT', 'KILL', 'ID', String(id))).toBe(1);
    expect(await pool.set('after-kill', 1)).toBe('OK');
    expect(await pool.command('CLIENT', 'ID')).not.toBe(id);
  });

  it('sees the keys the API wrote, and the API sees its', async () => {
    await pool.hset('shared', { from: 'api' });
    expect(await redis.hgetall('shared')).toEqual({ from: 'api' });
    await redis.zadd('board', 10, 'ioredis');
    expect(await pool.zrange('board', 0, -1, true)).toEqual(await redis.zrange('board', 0, -1, 'WITHSCORES'));
  });
});
