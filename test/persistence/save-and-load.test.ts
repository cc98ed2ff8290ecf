/**
 * The sabre server's RDB file, beside a real redis-server 7: SAVE writes one file from both shards that
 * passes redis-check-rdb and loads into redis-server with the same contents; a restarted sabre loads it
 * back, and loads a file redis-server saved; SHUTDOWN and SIGTERM save as Redis does (with save points,
 * unless NOSAVE); a file that cannot be read stops the server at startup instead of serving nothing.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RedisConnection, b, encodeCommand } from '../helpers/differential.js';
import { rawExchange, startRedis } from '../helpers/redis-server.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';
import { expectSameContents, fill, onConnection, suiteResources } from './fixtures.js';

const run = promisify(execFile);

async function connections(port: number): Promise<{ db0: RedisConnection; db3: RedisConnection; close: () => void }> {
  const db0 = await RedisConnection.open(port);
  const db3 = await RedisConnection.open(port);
  await db3.run([[b('SELECT'), b('3')]]);
  return { db0, db3, close: () => (db0.close(), db3.close()) };
}

async function send(connection: RedisConnection, ...argv: string[]): Promise<string> {
  return (await connection.run([argv.map(b)]))[0].toString();
}

function infoField(info: string, name: string): string {
  return new RegExp(`^${name}:(.*)\\r$`, 'm').exec(info)![1];
}

describe('SAVE and loading at startup', () => {
  const { cleanups, freshDir } = suiteResources('sabre-save-');

  it('saves one file from every shard that redis-server loads, and loads it back after a restart', async (context) => {
    const dir = freshDir();
    const sabre = await startSabre(['--shards', '2', '--dir', dir]);
    const ours = await connections(sabre.port);
    const keys = await fill(onConnection(ours.db0), onConnection(ours.db3));
    const before = Number((await send(ours.db0, 'LASTSAVE')).slice(1));
    expect(Number(infoField(await send(ours.db0, 'INFO', 'persistence'), 'rdb_changes_since_last_save'))).toBeGreaterThan(0);
    expect(await send(ours.db0, 'SAVE')).toBe('+OK\r\n');
    expect(Number((await send(ours.db0, 'LASTSAVE')).slice(1))).toBeGreaterThanOrEqual(before);
    const info = await send(ours.db0, 'INFO', 'persistence');
    expect(infoField(info, 'rdb_changes_since_last_save')).toBe('0');
    expect(infoField(info, 'rdb_last_bgsave_status')).toBe('ok');
    expect(await send(ours.db0, 'MULTI')).toBe('+OK\r\n');
    expect(await send(ours.db0, 'SAVE')).toMatch(/^-ERR Command not allowed inside a transaction/);
    await send(ours.db0, 'DISCARD');

    try {
      const check = await run('redis-check-rdb', [join(dir, 'dump.rdb')]);
      expect(check.stdout).toContain('RDB looks OK!');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || process.env.CI === 'true') throw error;
    }
    const redis = await startRedis({ config: { dir, dbfilename: 'dump.rdb' } });
    if (redis === undefined) return context.skip();
    cleanups.push(() => redis.stop());
    const theirs = await connections(redis.port);
    cleanups.push(theirs.close);
    await expectSameContents(onConnection(ours.db0), onConnection(theirs.db0), keys, onConnection(ours.db3), onConnection(theirs.db3));
    ours.close();
    expect(await sabre.stop()).toBe(0);

    const restarted = await startSabre(['--shards', '2', '--dir', dir]);
    cleanups.push(() => restarted.stop());
    const again = await connections(restarted.port);
    cleanups.push(again.close);
    expect(restarted.log()).toContain('DB loaded from disk');
    await expectSameContents(onConnection(again.db0), onConnection(theirs.db0), keys, onConnection(again.db3), onConnection(theirs.db3));
  });

  it('loads a file redis-server saved, each shard taking its own keys', async (context) => {
    const redis = await startRedis();
    if (redis === undefined) return context.skip();
    cleanups.push(() => redis.stop());
    const theirs = await connections(redis.port);
    cleanups.push(theirs.close);
    const keys = await fill(onConnection(theirs.db0), onConnection(theirs.db3));
    expect(await send(theirs.db0, 'SAVE')).toBe('+OK\r\n');
    const sabre = await startSabre(['--shards', '2', '--dir', redis.dir]);
    cleanups.push(() => sabre.stop());
    const ours = await connections(sabre.port);
    cleanups.push(ours.close);
    await expectSameContents(onConnection(ours.db0), onConnection(theirs.db0), keys, onConnection(ours.db3), onConnection(theirs.db3));
  });

  it('saves at SHUTDOWN and SIGTERM when save points are set, and not after NOSAVE', async () => {
    const dir = freshDir();
    const file = join(dir, 'dump.rdb');
    const restart = async (): Promise<[RunningSabre, RedisConnection]> => {
      const sabre = await startSabre(['--shards', '2', '--dir', dir, '--save', '3600 1']);
      return [sabre, await RedisConnection.open(sabre.port)];
    };
    /** SHUTDOWN as Redis answers it when it goes through: no reply, the connection closed. */
    const shutdown = async (port: number, ...options: string[]) =>
      (await rawExchange(port, encodeCommand([b('SHUTDOWN'), ...options.map(b)]), { waitForClose: true, timeoutMs: 10_000 })).closed;
    let [sabre, client] = await restart();
    await send(client, 'SET', 'a', '1');
    expect(await shutdown(sabre.port)).toBe(true);
    expect(await sabre.stop()).toBe(0);
    expect(existsSync(file)).toBe(true);

    [sabre, client] = await restart();
    expect(await send(client, 'GET', 'a')).toBe('$1\r\n1\r\n');
    await send(client, 'SET', 'b', '2');
    expect(await shutdown(sabre.port, 'NOSAVE')).toBe(true);
    await sabre.stop();

    [sabre, client] = await restart();
    expect(await send(client, 'EXISTS', 'b')).toBe(':0\r\n');
    expect(await send(client, 'SHUTDOWN', 'SAVE', 'NOSAVE')).toBe('-ERR syntax error\r\n');
    await send(client, 'SET', 'c', '3');
    client.close();
    expect(await sabre.stop()).toBe(0);

    [sabre, client] = await restart();
    expect(await send(client, 'MGET', 'a', 'b', 'c')).toBe('*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n');
    client.close();
    await sabre.stop();
  });

  it('answers DEBUG RELOAD and its options as Redis does', async () => {
    const script = async (port: number) => {
      const connection = await RedisConnection.open(port);
      try {
        const replies: string[] = [];
        for (const argv of [
          ['SET', 'a', '1'],
          ['DEBUG', 'RELOAD'],
          ['GET', 'a'],
          ['SET', 'b', '2'],
          ['DEBUG', 'RELOAD', 'NOSAVE'],
          ['EXISTS', 'b'],
          ['SET', 'c', '3'],
          ['SET', 'a', 'changed'],
          ['DEBUG', 'RELOAD', 'NOSAVE', 'NOFLUSH', 'MERGE'],
          ['MGET', 'a', 'b', 'c'],
          ['DEBUG', 'RELOAD', 'SOMETIMES'],
          ['DBSIZE'],
        ])
          replies.push(await send(connection, ...argv));
        return replies;
      } finally {
        connection.close();
      }
    };
    const sabre = await startSabre(['--shards', '2', '--enable-debug-command', 'yes']);
    cleanups.push(() => sabre.stop());
    const ours = await script(sabre.port);
    expect(ours[9]).toBe('*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n');
    const redis = await startRedis({ config: { 'enable-debug-command': 'yes' } });
    if (redis === undefined) return;
    cleanups.push(() => redis.stop());
    expect(ours).toEqual(await script(redis.port));
  });

  it('refuses to start over a file it cannot read, naming the problem', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'dump.rdb'), Buffer.from('REDIS0010\xfa\x09redis-ver', 'latin1'));
    await expect(startSabre(['--dir', dir])).rejects.toThrow(/Fatal error loading the DB/);
  });
});
