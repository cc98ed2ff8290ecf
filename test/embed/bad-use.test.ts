/** Misuse of the embedded pool fails clearly, before anything reaches the shards. */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { PoolError, ShardPool } from 'sabre';

describe('options', () => {
  it('bad options fail with the server configuration error', async () => {
    await expect(ShardPool.start({ shards: 1, maxmemoryPolicy: 'sometimes' as never })).rejects.toThrow(/argument\(s\) must be one of the following|maxmemory-policy/);
    await expect(ShardPool.start({ shards: 1, noSuchOption: 1 })).rejects.toThrow(/Bad directive or wrong number of arguments/);
    await expect(ShardPool.start({ shards: 1, dir: '/no/such/dir' })).rejects.toThrow(PoolError);
  });

  it('writes no dump.rdb unless asked, and saves on close with save points', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sabre-embed-'));
    try {
      const quiet = await ShardPool.start({ shards: 1, dir });
      await quiet.set('k', 'v');
      await quiet.close();
      expect(existsSync(join(dir, 'dump.rdb'))).toBe(false);
      const saving = await ShardPool.start({ shards: 2, dir, save: '3600 1' });
      await saving.mset({ k: 'v', other: 'w' });
      await saving.close();
      expect(existsSync(join(dir, 'dump.rdb'))).toBe(true);
      const reloaded = await ShardPool.start({ shards: 2, dir });
      expect(await reloaded.mget('k', 'other')).toEqual(['v', 'w']);
      await reloaded.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a running pool', () => {
  it('refuses commands with no place in embedded mode', async () => {
    const pool = await ShardPool.start({ shards: 1 });
    try {
      for (const argv of [['SUBSCRIBE', 'c'], ['MONITOR'], ['SHUTDOWN'], ['QUIT'], ['HELLO', '3'], ['CLIENT', 'REPLY', 'OFF'], ['BLPOP', 'q', '0']]) {
        await expect(pool.command(argv[0], ...argv.slice(1))).rejects.toThrow(PoolError);
      }
      expect(() => pool.pipeline().command('MONITOR')).toThrow(/MONITOR is not allowed in embedded mode/);
      // The pool still answers afterwards: nothing refused reached the front.
      expect(await pool.command('PING')).toBe('PONG');
    } finally {
      await pool.close();
    }
  });

  it('fails every call after close, and a batch sent twice', async () => {
    const pool = await ShardPool.start({ shards: 1 });
    const batch = pool.pipeline().set('a', 1);
    await batch.exec();
    await expect(batch.exec()).rejects.toThrow(/sent already/);
    const handle = pool.handle();
    await pool.close();
    await expect(pool.get('a')).rejects.toThrow(/the pool is closed/);
    await expect(pool.pipeline().get('a').exec()).rejects.toThrow(/the pool is closed/);
    expect(() => pool.client()).toThrow(/the pool is closed/);
    expect(() => ShardPool.attach(handle)).toThrow(/pool that is closed/);
    await pool.close();
  });

  it('an attached pool fails once its pool closes, and closing it first leaves the pool serving', async () => {
    const pool = await ShardPool.start({ shards: 1 });
    const early = ShardPool.attach(pool.handle());
    expect(await early.incr('n')).toBe(1);
    early.close();
    await expect(early.get('n')).rejects.toThrow(/this attached pool is closed/);
    expect(await pool.get('n')).toBe('1');
    const late = ShardPool.attach(pool.handle());
    expect(await late.incr('n')).toBe(2);
    await pool.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(late.get('n')).rejects.toThrow(/the pool is closed/);
  });

  it('SHUTDOWN from a socket client closes the pool, not the process', async () => {
    const pool = await ShardPool.start({ shards: 1 });
    const { port } = await pool.listen({ port: 0 });
    const redis = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
    await redis.connect();
    await redis.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    redis.disconnect();
    for (let attempt = 0; attempt < 50; attempt++) {
      if (await pool.command('PING').then(() => false, () => true)) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await expect(pool.get('k')).rejects.toThrow(/the pool is closed/);
    await pool.close();
  });

  it('a blocked dedicated client fails when closed, and the pool goes on', async () => {
    const pool = await ShardPool.start({ shards: 1 });
    try {
      const client = pool.client();
      const blocked = client.command('BLPOP', 'q', 0);
      await new Promise((resolve) => setTimeout(resolve, 20));
      client.close();
      await expect(blocked).rejects.toThrow(/this pool client is closed/);
      await expect(client.get('x')).rejects.toThrow(PoolError);
      expect(await pool.rpush('q', 'x')).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('listen on a port in use fails, and a second try on another port serves', async () => {
    const pool = await ShardPool.start({ shards: 1 });
    const other = await ShardPool.start({ shards: 1 });
    try {
      const { port } = await pool.listen({ port: 0 });
      await expect(other.listen({ port })).rejects.toThrow(/EADDRINUSE/);
      expect((await other.listen({ port: 0 })).port).not.toBe(port);
      await expect(other.listen({ port: 0 })).rejects.toThrow(/listens already/);
    } finally {
      await Promise.all([pool.close(), other.close()]);
    }
  });

  it('arguments must be strings, Buffers or numbers', async () => {
    const pool = await ShardPool.start({ shards: 1 });
    try {
      await expect(pool.set('k', null as never)).rejects.toThrow(/not null/);
    } finally {
      await pool.close();
    }
  });
});
