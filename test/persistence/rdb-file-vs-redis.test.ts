/**
 * Whole RDB files between sabre and a real Redis 7.0: a file writeRdb makes from a Shard holding every
 * type and encoding passes redis-check-rdb and loads into redis-server with the same keys, values,
 * encodings and TTLs; a file redis-server SAVEs loads with loadRdb into a Shard with the same contents.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRdb } from '../../src/persistence/rdb-load.js';
import { rdbFileBytes } from '../../src/persistence/rdb-writer.js';
import { Shard } from '../../src/shard/shard.js';
import { RedisConnection, b } from '../helpers/differential.js';
import { startRedis, type RunningRedis } from '../helpers/redis-server.js';
import { expectSameContents, fill, onConnection, type Runner } from './fixtures.js';

const run = promisify(execFile);

/** A runner on one database of an in-process Shard. */
function onShard(shard: Shard, db: number): Runner {
  return async (argv) => Buffer.from(shard.execute(db, 2, argv));
}

describe('RDB files against a real redis-server 7', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("sabre's file passes redis-check-rdb and loads into redis-server with the same contents", async (context) => {
    const shard = new Shard();
    const keys = await fill(onShard(shard, 0), onShard(shard, 3));
    const dir = await mkdtemp(join(tmpdir(), 'sabre-rdb-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'sabre.rdb');
    await writeFile(file, rdbFileBytes(shard.databases, { compression: true, checksum: true }));
    let check: { stdout: string } | undefined;
    try {
      check = await run('redis-check-rdb', [file]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && process.env.CI !== 'true') return context.skip();
      throw error;
    }
    expect(check.stdout).toContain('RDB looks OK!');
    const redis: RunningRedis | undefined = await startRedis({ config: { dir, dbfilename: 'sabre.rdb' } });
    if (redis === undefined) return context.skip();
    cleanups.push(() => redis.stop());
    const db0 = await RedisConnection.open(redis.port);
    const db3 = await RedisConnection.open(redis.port);
    cleanups.push(async () => (db0.close(), db3.close()));
    await db3.run([[b('SELECT'), b('3')]]);
    await expectSameContents(onShard(shard, 0), onConnection(db0), keys, onShard(shard, 3), onConnection(db3));
  });

  it("redis-server's SAVEd file loads with loadRdb into a Shard with the same contents", async (context) => {
    const redis = await startRedis();
    if (redis === undefined) return context.skip();
    cleanups.push(() => redis.stop());
    const db0 = await RedisConnection.open(redis.port);
    const db3 = await RedisConnection.open(redis.port);
    cleanups.push(async () => (db0.close(), db3.close()));
    await db3.run([[b('SELECT'), b('3')]]);
    const keys = await fill(onConnection(db0), onConnection(db3));
    expect((await db0.run([[b('SAVE')]]))[0].toString()).toBe('+OK\r\n');
    const bytes = await readFile(join(redis.dir, 'dump.rdb'));
    const shard = new Shard();
    const summary = loadRdb(bytes, shard);
    expect(summary.version).toBe(10);
    expect(summary.aux.get('redis-ver')).toBe('7.0.15');
    expect(summary.keys).toBe(keys.length + 1);
    await expectSameContents(onShard(shard, 0), onConnection(db0), keys, onShard(shard, 3), onConnection(db3));
  });
});
