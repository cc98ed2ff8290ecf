/**
 * BGSAVE from copy-on-write snapshots. While the shards' writer threads write the file, clients keep
 * overwriting, deleting, growing and shrinking keys of every type, freeing memory and filling it again;
 * the file must hold exactly the keyspace of the instant BGSAVE ran, on every shard at once (a
 * concurrent multi-shard MSET is wholly in it or not at all), and pass redis-check-rdb. Save points
 * start BGSAVE by themselves, and a failed save refuses writes with -MISCONF as Redis does.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RedisConnection, b } from '../helpers/differential.js';
import { startSabre } from '../helpers/sabre-server.js';
import { FIXTURES, fill, onConnection, readout, suiteResources } from './fixtures.js';

const run = promisify(execFile);

async function send(connection: RedisConnection, ...argv: string[]): Promise<string> {
  return (await connection.run([argv.map(b)]))[0].toString();
}

function infoField(info: string, name: string): string {
  return new RegExp(`^${name}:(.*)\\r$`, 'm').exec(info)![1];
}

async function waitForBackgroundSave(connection: RedisConnection): Promise<string> {
  for (;;) {
    const info = await send(connection, 'INFO', 'persistence');
    if (infoField(info, 'rdb_bgsave_in_progress') === '0') return info;
    await new Promise((wake) => setTimeout(wake, 20));
  }
}

/** Commands that change a key built by `fixture` (index `i` picks among them): writes of every kind. */
function mutations(key: string, i: number): string[][] {
  const kinds = [
    [['DEL', key]],
    [['SET', key, 'overwritten']],
    [['APPEND', key, 'x'.repeat(700)]],
    [['RPUSH', key, ...Array.from({ length: 300 }, (_, n) => `pushed-${n}`)], ['LTRIM', key, '1', '-2']],
    [['HSET', key, ...Array.from({ length: 200 }, (_, n) => `f${n}`)], ['HDEL', key, 'a', 'f0']],
    [['SADD', key, ...Array.from({ length: 300 }, (_, n) => `m${n}`)], ['SREM', key, '1', 'm0']],
    [['ZADD', key, ...Array.from({ length: 300 }, (_, n) => [`${n}`, `z${n}`]).flat()], ['ZREM', key, 'a', 'z0']],
    [['EXPIRE', key, '100000']],
    [['PERSIST', key]],
  ];
  return kinds[i % kinds.length];
}

describe('BGSAVE', () => {
  const { cleanups, freshDir } = suiteResources('sabre-bgsave-');

  it('writes the keyspace of the instant it ran while clients change every type of key', async () => {
    const dir = freshDir();
    const sabre = await startSabre(['--shards', '2', '--dir', dir, '--enable-debug-command', 'yes']);
    cleanups.push(() => sabre.stop());
    const db0 = await RedisConnection.open(sabre.port);
    const db3 = await RedisConnection.open(sabre.port);
    const writer = await RedisConnection.open(sabre.port);
    cleanups.push(() => (db0.close(), db3.close(), writer.close()));
    await send(db3, 'SELECT', '3');
    const keys = await fill(onConnection(db0), onConnection(db3));
    // Bulk, so that the writer threads are still at work while the changes below land.
    expect(await send(db0, 'DEBUG', 'POPULATE', '60000', 'bulk', '120')).toBe('+OK\r\n');
    const pairs = Array.from({ length: 16 }, (_, i) => `pair:${i}`);
    expect(await send(db0, 'MSET', ...pairs.flatMap((key) => [key, 'v0']))).toBe('+OK\r\n');
    const before = new Map<string, string>();
    for (const key of keys) before.set(key, await readout(onConnection(db0), key));
    const size = await send(db0, 'DBSIZE');

    // A second client rewrites every pair in one MSET after another across both shards.
    let stop = false;
    let round = 0;
    const overwriting = (async () => {
      while (!stop) {
        round++;
        await writer.run(Array.from({ length: 20 }, (_, n) => [b('MSET'), ...pairs.flatMap((key) => [b(key), b(`v${round}-${n}`)])]));
      }
    })();
    await new Promise((wake) => setTimeout(wake, 30));
    const pairsAtSave = (await db0.run([[b('BGSAVE')], [b('MGET'), ...pairs.map(b)]]))[1].toString();
    expect(pairsAtSave).not.toContain('v0\r\n');
    // Every kind of write, on every fixture, while the snapshot is written; then memory freed and reused.
    const changes = keys.flatMap((key, i) => mutations(key, i)).map((argv) => argv.map(b));
    await db0.run(changes);
    await db0.run(Array.from({ length: 3000 }, (_, i) => [b('DEL'), b(`bulk:${i * 7}`)]));
    await db0.run([[b('DEBUG'), b('POPULATE'), b('20000'), b('fresh'), b('300')]]);
    await db3.run([[b('FLUSHDB')], [b('SET'), b('in-db-3'), b('changed')]]);
    const info = await waitForBackgroundSave(db0);
    stop = true;
    await overwriting;
    expect(infoField(info, 'rdb_last_bgsave_status')).toBe('ok');
    expect(infoField(info, 'rdb_changes_since_last_save')).not.toBe('0');
    // Pages were copied aside: the writes above really met the snapshot.
    expect(Number(infoField(info, 'rdb_last_cow_size'))).toBeGreaterThan(0);
    expect(Number(infoField(info, 'rdb_saves'))).toBe(1);
    expect(sabre.log()).toContain('Background saving terminated with success');
    expect(sabre.log()).toMatch(/Copy-on-write for RDB: current \d+ MB, peak \d+ MB/);

    try {
      const check = await run('redis-check-rdb', [join(dir, 'dump.rdb')]);
      expect(check.stdout).toContain('RDB looks OK!');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || process.env.CI === 'true') throw error;
    }

    // A second server loads the file: it must hold the keyspace as it was when BGSAVE ran.
    const copy = freshDir();
    copyFileSync(join(dir, 'dump.rdb'), join(copy, 'dump.rdb'));
    const loaded = await startSabre(['--shards', '3', '--dir', copy]);
    cleanups.push(() => loaded.stop());
    const after = await RedisConnection.open(loaded.port);
    const afterDb3 = await RedisConnection.open(loaded.port);
    cleanups.push(() => (after.close(), afterDb3.close()));
    await send(afterDb3, 'SELECT', '3');
    for (const key of keys) expect(await readout(onConnection(after), key), key).toBe(before.get(key));
    expect(await send(after, 'DBSIZE')).toBe(size);
    expect((await after.run([[b('MGET'), ...pairs.map(b)]]))[0].toString()).toBe(pairsAtSave);
    expect(await send(after, 'GET', 'bulk:0')).toMatch(/^\$120\r\nvalue:0\0/);
    expect(await send(after, 'EXISTS', 'fresh:1')).toBe(':0\r\n');
    expect(await send(afterDb3, 'GET', 'in-db-3')).toBe('$5\r\nthree\r\n');
    expect(FIXTURES.length).toBeGreaterThan(20);
  });

  it('answers as Redis: one at a time, SAVE refused meanwhile, syntax checked', async () => {
    const sabre = await startSabre(['--shards', '2', '--enable-debug-command', 'yes']);
    cleanups.push(() => sabre.stop());
    const client = await RedisConnection.open(sabre.port);
    cleanups.push(() => client.close());
    expect(await send(client, 'BGSAVE', 'NOW')).toBe('-ERR syntax error\r\n');
    expect(await send(client, 'DEBUG', 'POPULATE', '100000', 'k', '200')).toBe('+OK\r\n');
    const replies = (await client.run([[b('BGSAVE')], [b('BGSAVE')], [b('SAVE')]])).map(String);
    expect(replies).toEqual(['+Background saving started\r\n', '-ERR Background save already in progress\r\n', '-ERR Background save already in progress\r\n']);
    await waitForBackgroundSave(client);
    expect(await send(client, 'BGSAVE', 'SCHEDULE')).toBe('+Background saving started\r\n');
    await waitForBackgroundSave(client);
    expect(infoField(await send(client, 'INFO', 'persistence'), 'rdb_saves')).toBe('2');
  });

  it('saves by itself at a save point, and refuses writes with -MISCONF after a failed save', async () => {
    const dir = freshDir();
    const sabre = await startSabre(['--shards', '2', '--dir', dir, '--save', '1 3', '--enable-debug-command', 'yes']);
    cleanups.push(() => sabre.stop());
    const client = await RedisConnection.open(sabre.port);
    cleanups.push(() => client.close());
    await client.run([[b('SET'), b('a'), b('1')], [b('SET'), b('b'), b('2')], [b('SET'), b('c'), b('3')]]);
    let info = '';
    for (let tries = 0; tries < 100; tries++) {
      info = await send(client, 'INFO', 'persistence');
      if (infoField(info, 'rdb_saves') === '1' && infoField(info, 'rdb_bgsave_in_progress') === '0') break;
      await new Promise((wake) => setTimeout(wake, 50));
    }
    expect(infoField(info, 'rdb_changes_since_last_save')).toBe('0');
    expect(sabre.log()).toContain('3 changes in 1 seconds. Saving...');
    // FLUSHALL with save points saves the empty keyspace at once (not counted as a save), as Redis's.
    const saved = statSync(join(dir, 'dump.rdb')).size;
    expect(await send(client, 'FLUSHALL')).toBe('+OK\r\n');
    expect(statSync(join(dir, 'dump.rdb')).size).toBeLessThan(saved);
    info = await send(client, 'INFO', 'persistence');
    expect(infoField(info, 'rdb_changes_since_last_save')).toBe('0');
    expect(infoField(info, 'rdb_saves')).toBe('1');
    await client.run([[b('SET'), b('a'), b('1')]]);
    // A BGSAVE that FLUSHALL's save supersedes (Redis kills its child) leaves the newer file, and no error.
    expect(await send(client, 'DEBUG', 'POPULATE', '100000', 'big', '100')).toBe('+OK\r\n');
    expect((await client.run([[b('BGSAVE')], [b('FLUSHALL')], [b('SET'), b('a'), b('1')]])).map(String)).toEqual(['+Background saving started\r\n', '+OK\r\n', '+OK\r\n']);
    const flushedSize = statSync(join(dir, 'dump.rdb')).size;
    expect(infoField(await waitForBackgroundSave(client), 'rdb_last_bgsave_status')).toBe('ok');
    expect(statSync(join(dir, 'dump.rdb')).size).toBe(flushedSize);
    expect(sabre.log()).toContain('a foreground save superseded it');

    // A directory where the file goes makes the rename fail, as it fails Redis's.
    rmSync(join(dir, 'dump.rdb'));
    mkdirSync(join(dir, 'dump.rdb'));
    expect(await send(client, 'BGSAVE')).toBe('+Background saving started\r\n');
    info = await waitForBackgroundSave(client);
    expect(infoField(info, 'rdb_last_bgsave_status')).toBe('err');
    const misconf = "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.";
    expect(await send(client, 'SET', 'd', '4')).toMatch(new RegExp(`^${misconf.replace(/[.]/g, '\\.')}`));
    expect(await send(client, 'PING')).toMatch(/^-MISCONF/);
    expect(await send(client, 'GET', 'a')).toBe('$1\r\n1\r\n');
    const queued = (await client.run([[b('MULTI')], [b('SET'), b('d'), b('4')], [b('EXEC')]])).map(String);
    expect(queued[1]).toMatch(/^-MISCONF/);
    expect(queued[2]).toBe('-EXECABORT Transaction discarded because of previous errors.\r\n');
    expect(await send(client, 'CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'no')).toBe('+OK\r\n');
    expect(await send(client, 'SET', 'd', '4')).toBe('+OK\r\n');
    rmSync(join(dir, 'dump.rdb'), { recursive: true });
    expect(await send(client, 'BGSAVE')).toBe('+Background saving started\r\n');
    expect(infoField(await waitForBackgroundSave(client), 'rdb_last_bgsave_status')).toBe('ok');
  });
});
