/**
 * The AOF as files: what sabre writes over several shards (cross-shard commands and transactions
 * included) is reloaded by sabre with the same keyspace, accepted by redis-check-aof, and loaded by a
 * real redis-server 7.0 with the same keyspace; BGREWRITEAOF and CONFIG SET appendonly yes start new
 * files that reload just as well.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAofCommands } from '../../src/persistence/aof-reader.js';
import { RedisConnection, b } from '../helpers/differential.js';
import { findRedisServer, startRedis } from '../helpers/redis-server.js';
import { serversPerTest } from '../helpers/sabre-server.js';

const { start: startSabre, tempDir } = serversPerTest();

async function run(port: number, commands: string[][]): Promise<string[]> {
  const connection = await RedisConnection.open(port);
  try {
    const replies = await connection.run(commands.map((command) => command.map(b)));
    return replies.map((reply) => reply.toString('latin1'));
  } finally {
    connection.close();
  }
}

/** Every key of databases 0–2 with its type, contents and whether it has a TTL, in a comparable form. */
async function keyspace(port: number): Promise<string[]> {
  const lines: string[] = [];
  const connection = await RedisConnection.open(port);
  try {
    for (let db = 0; db < 3; db++) {
      const [, keysReply] = await connection.run([[b('SELECT'), b(String(db))], [b('KEYS'), b('*')]]);
      const keys = keysReply
        .toString('latin1')
        .split('\r\n')
        .filter((_, i) => i > 0 && i % 2 === 0);
      for (const key of keys.sort()) {
        const [type, ttl] = (await connection.run([[b('TYPE'), b(key)], [b('PTTL'), b(key)]])).map((reply) => reply.toString('latin1'));
        const read: Record<string, string[]> = {
          '+string\r\n': ['GET', key],
          '+hash\r\n': ['HGETALL', key],
          '+list\r\n': ['LRANGE', key, '0', '-1'],
          '+set\r\n': ['SMEMBERS', key],
          '+zset\r\n': ['ZRANGE', key, '0', '-1', 'WITHSCORES'],
        };
        const [contents] = await connection.run([read[type].map(b)]);
        // Hash and set order is the encoding's; compare the elements sorted.
        const elements = contents.toString('latin1').split('\r\n');
        const shown = type === '+set\r\n' || type === '+hash\r\n' ? elements.sort().join('|') : elements.join('|');
        lines.push(`${db} ${key} ${type.trim()} ${shown} ttl:${ttl.startsWith(':-') ? ttl.trim() : 'yes'}`);
      }
    }
  } finally {
    connection.close();
  }
  return lines;
}

/** A mix of every type, expiries, and commands whose keys lie on several of 4 shards. */
const WORKLOAD: string[][] = [
  ['SET', 'plain', 'v'],
  ['SET', 'timed', 'v', 'EX', '1000'],
  ['INCRBYFLOAT', 'float', '0.1'],
  ['INCRBYFLOAT', 'float', '0.2'],
  ['HSET', 'hash', 'a', '1', 'b', '2'],
  ['HINCRBYFLOAT', 'hash', 'a', '1.5'],
  ['RPUSH', 'list', 'a', 'b', 'c', 'd'],
  ['LPOP', 'list'],
  ['ZADD', 'zset', '1', 'a', '2', 'b', '3', 'c'],
  ['ZPOPMAX', 'zset'],
  ['SADD', 'set', 'a', 'b', 'c', 'd', 'e'],
  ['SPOP', 'set', '2'],
  ['MSET', 'm1', '1', 'm2', '2', 'm3', '3', 'm4', '4', 'm5', '5'],
  ['MSETNX', 'n1', '1', 'n2', '2', 'n3', '3'],
  ['DEL', 'm1', 'm2'],
  ['RENAME', 'm3', 'renamed'],
  ['COPY', 'hash', 'hash-copy'],
  ['SADD', 'other', 'c', 'x', 'y'],
  ['SUNIONSTORE', 'union', 'set', 'other'],
  ['MULTI'],
  ['INCR', 'counter'],
  ['INCR', 'counter2'],
  ['SET', 'in-multi', 'x'],
  ['EXEC'],
  ['SELECT', '1'],
  ['SET', 'db1', 'x'],
  ['FLUSHDB'],
  ['SET', 'db1-after', 'y'],
  ['SELECT', '2'],
  ['SET', 'db2', 'z'],
  ['SWAPDB', '1', '2'],
  ['SELECT', '0'],
  ['EXPIRE', 'plain', '5000'],
  ['PERSIST', 'plain'],
];

/** INFO persistence once the first rewrite has finished (or after 10 s, for the assertions to report). */
async function afterFirstRewrite(port: number): Promise<string> {
  let info = '';
  for (let i = 0; i < 500 && !info.includes('aof_rewrites:1'); i++) {
    [info] = await run(port, [['INFO', 'persistence']]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return info;
}

function checkAof(dir: string): string {
  return execFileSync('redis-check-aof', [join(dir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' });
}

describe('the AOF on disk', () => {
  it('reloads on sabre, passes redis-check-aof and loads on a real redis-server with the same keyspace', async (context) => {
    const dir = tempDir();
    const args = ['--dir', dir, '--appendonly', 'yes', '--shards', '4'];
    const first = await startSabre(args);
    const replies = await run(first.port, WORKLOAD);
    expect(replies.filter((reply) => reply.startsWith('-'))).toEqual([]);
    const before = await keyspace(first.port);
    expect(before.length).toBeGreaterThan(15);
    expect(await first.stop()).toBe(0);

    // MSET's parts on the four shards went out as one transaction: MULTI before the first, EXEC after the last.
    const names = [...readAofCommands(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof')))].map(({ argv }) => argv[0].toString().toUpperCase());
    const firstPart = names.indexOf('MSET');
    const multi = names.lastIndexOf('MULTI', firstPart);
    expect(multi).toBeGreaterThan(names.lastIndexOf('EXEC', firstPart));
    const block = names.slice(multi + 1, names.indexOf('EXEC', firstPart));
    expect(block.filter((name) => name === 'MSET').length).toBeGreaterThan(1);
    expect(block.every((name) => name === 'MSET' || name === 'SELECT')).toBe(true);
    const second = await startSabre(args);
    expect(await keyspace(second.port)).toEqual(before);
    expect(second.log()).toContain('DB loaded from append only file');
    expect(await second.stop()).toBe(0);

    if (findRedisServer() === undefined) return context.skip();
    expect(checkAof(dir)).toContain('All AOF files and manifest are valid');
    const copy = tempDir();
    cpSync(join(dir, 'appendonlydir'), join(copy, 'appendonlydir'), { recursive: true });
    const real = await startRedis({ config: { appendonly: 'yes', dir: copy } });
    try {
      expect(await keyspace(real!.port)).toEqual(before);
    } finally {
      await real!.stop();
    }
  });

  it("loads redis-server's AOF, cross-shard commands included, with the same keyspace", async (context) => {
    const redis = await startRedis({ config: { appendonly: 'yes', 'aof-use-rdb-preamble': 'yes' } });
    if (redis === undefined) return context.skip();
    const dir = tempDir();
    let before: string[];
    try {
      await run(redis.port, WORKLOAD);
      before = await keyspace(redis.port);
      // Its first base is an empty RDB: everything is in the incremental file, as redis-server wrote it.
      cpSync(join(redis.dir, 'appendonlydir'), join(dir, 'appendonlydir'), { recursive: true });
    } finally {
      await redis.stop();
    }
    const sabre = await startSabre(['--dir', dir, '--appendonly', 'yes', '--shards', '4']);
    try {
      expect(await keyspace(sabre.port)).toEqual(before);
    } finally {
      expect(await sabre.stop()).toBe(0);
    }
  });

  it('upgrades a single-file AOF from before Redis 7 into the base of a multi-part one', async () => {
    const dir = tempDir();
    const commands = [['SELECT', '0'], ['SET', 'old', 'style'], ['RPUSH', 'list', 'a', 'b'], ['SELECT', '1'], ['SET', 'other', 'db']];
    writeFileSync(join(dir, 'appendonly.aof'), commands.map((argv) => `*${argv.length}\r\n${argv.map((arg) => `$${arg.length}\r\n${arg}\r\n`).join('')}`).join(''));
    const args = ['--dir', dir, '--appendonly', 'yes', '--shards', '2'];
    const sabre = await startSabre(args);
    try {
      expect(await keyspace(sabre.port)).toEqual([
        '0 list +list *2|$1|a|$1|b| ttl::-1',
        '0 old +string $5|style| ttl::-1',
        '1 other +string $2|db| ttl::-1',
      ]);
      await run(sabre.port, [['SET', 'new', '1']]);
    } finally {
      expect(await sabre.stop()).toBe(0);
    }
    expect(existsSync(join(dir, 'appendonly.aof'))).toBe(false);
    expect(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1')).toBe(
      'file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    );
    const again = await startSabre(args);
    try {
      expect((await keyspace(again.port)).length).toBe(4);
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });

  it('BGREWRITEAOF starts a new base and incremental file that reload to the same keyspace', async () => {
    const dir = tempDir();
    const args = ['--dir', dir, '--appendonly', 'yes', '--shards', '3'];
    const sabre = await startSabre(args);
    await run(sabre.port, WORKLOAD);
    expect(await run(sabre.port, [['BGREWRITEAOF']])).toEqual(['+Background append only file rewriting started\r\n']);
    const info = await afterFirstRewrite(sabre.port);
    expect(info).toContain('aof_rewrite_in_progress:0');
    expect(info).toContain('aof_last_bgrewrite_status:ok');
    expect(info).toContain('aof_enabled:1');
    await run(sabre.port, [['SET', 'after-rewrite', '1'], ['INCR', 'counter']]);
    const before = await keyspace(sabre.port);
    expect(await sabre.stop()).toBe(0);
    const files = readdirSync(join(dir, 'appendonlydir')).sort();
    expect(files).toEqual(['appendonly.aof.2.base.rdb', 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
    expect(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1')).toBe(
      'file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
    );
    const again = await startSabre(args);
    expect(await keyspace(again.port)).toEqual(before);
    expect(await again.stop()).toBe(0);
  });

  it('writes the base from a copy-on-write snapshot while writes go on, after a running BGSAVE', async () => {
    const dir = tempDir();
    const args = ['--dir', dir, '--appendonly', 'yes', '--shards', '2', '--enable-debug-command', 'yes'];
    const sabre = await startSabre(args);
    await run(sabre.port, [['DEBUG', 'POPULATE', '60000', 'bulk', '100']]);
    expect(await run(sabre.port, [['BGSAVE'], ['BGREWRITEAOF']])).toEqual(['+Background saving started\r\n', '+Background append only file rewriting scheduled\r\n']);
    const writer = await RedisConnection.open(sabre.port);
    let stop = false;
    let round = 0;
    const writing = (async () => {
      while (!stop) {
        round++;
        await writer.run(Array.from({ length: 50 }, (_, n) => (n % 2 === 0 ? [b('INCR'), b('counter')] : [b('SET'), b(`bulk:${(round * 97 + n) % 60000}`), b(`changed-${round}`)])));
      }
    })();
    const info = await afterFirstRewrite(sabre.port);
    stop = true;
    await writing;
    writer.close();
    expect(info).toContain('aof_last_bgrewrite_status:ok');
    expect(info).toContain('rdb_last_bgsave_status:ok');
    // The writes met the rewrite's snapshot: the shards copied pages aside for it.
    expect(Number(/^aof_last_cow_size:(\d+)/m.exec(info)![1])).toBeGreaterThan(0);
    const before = await run(sabre.port, [['DBSIZE'], ['GET', 'counter'], ['MGET', ...Array.from({ length: 200 }, (_, i) => `bulk:${i * 293}`)]]);
    expect(await sabre.stop()).toBe(0);
    const again = await startSabre(args);
    expect(await run(again.port, [['DBSIZE'], ['GET', 'counter'], ['MGET', ...Array.from({ length: 200 }, (_, i) => `bulk:${i * 293}`)]])).toEqual(before);
    expect(await again.stop()).toBe(0);
  });

  it('writes the base as commands with aof-use-rdb-preamble no, which both servers load', async (context) => {
    const dir = tempDir();
    const args = ['--dir', dir, '--appendonly', 'yes', '--aof-use-rdb-preamble', 'no', '--shards', '3'];
    const sabre = await startSabre(args);
    await run(sabre.port, WORKLOAD);
    expect(await run(sabre.port, [['BGREWRITEAOF']])).toEqual(['+Background append only file rewriting started\r\n']);
    expect(await afterFirstRewrite(sabre.port)).toContain('aof_last_bgrewrite_status:ok');
    await run(sabre.port, [['SET', 'after-rewrite', '1']]);
    const before = await keyspace(sabre.port);
    expect(await sabre.stop()).toBe(0);
    expect(readdirSync(join(dir, 'appendonlydir')).sort()).toEqual(['appendonly.aof.2.base.aof', 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
    expect(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.2.base.aof'), 'latin1')).toContain('RESTORE');
    const again = await startSabre(args);
    expect(await keyspace(again.port)).toEqual(before);
    expect(await again.stop()).toBe(0);
    if (findRedisServer() === undefined) return context.skip();
    expect(checkAof(dir)).toContain('All AOF files and manifest are valid');
    const real = await startRedis({ config: { appendonly: 'yes', dir } });
    try {
      expect(await keyspace(real!.port)).toEqual(before);
    } finally {
      await real!.stop();
    }
  });

  it('rewrites on its own once the AOF has grown by auto-aof-rewrite-percentage past auto-aof-rewrite-min-size', async () => {
    const dir = tempDir();
    const args = ['--dir', dir, '--appendonly', 'yes', '--auto-aof-rewrite-min-size', '4kb', '--auto-aof-rewrite-percentage', '100', '--shards', '2'];
    const sabre = await startSabre(args);
    const [info] = await run(sabre.port, [['INFO', 'persistence']]);
    expect(info).toContain('aof_rewrites:0');
    await run(
      sabre.port,
      Array.from({ length: 200 }, (_, i) => ['SET', `key:${i}`, 'x'.repeat(20)]),
    );
    let after = '';
    for (let i = 0; i < 150 && !after.includes('aof_rewrites:1'); i++) {
      [after] = await run(sabre.port, [['INFO', 'persistence']]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(after).toContain('aof_rewrites:1');
    expect(sabre.log()).toContain('Starting automatic rewriting of AOF');
    const before = await keyspace(sabre.port);
    expect(await sabre.stop()).toBe(0);
    const again = await startSabre(args);
    expect(await keyspace(again.port)).toEqual(before);
    expect(await again.stop()).toBe(0);
  });

  it('CONFIG SET appendonly yes writes the keyspace as a base first, then appends', async () => {
    const dir = tempDir();
    const sabre = await startSabre(['--dir', dir, '--shards', '2']);
    await run(sabre.port, [['SET', 'before', '1'], ['RPUSH', 'list', 'a', 'b']]);
    expect(existsSync(join(dir, 'appendonlydir'))).toBe(false);
    expect(await run(sabre.port, [['CONFIG', 'SET', 'appendonly', 'yes']])).toEqual(['+OK\r\n']);
    let info = await afterFirstRewrite(sabre.port);
    expect(info).toContain('aof_enabled:1');
    await run(sabre.port, [['SET', 'after', '2'], ['LPOP', 'list']]);
    const before = await keyspace(sabre.port);
    // Turned off, it stops appending (and INFO says so); what it holds stays on disk.
    const incremental = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    const size = statSync(incremental).size;
    expect(size).toBeGreaterThan(0);
    expect(await run(sabre.port, [['CONFIG', 'SET', 'appendonly', 'no'], ['SET', 'not-appended', '1']])).toEqual(['+OK\r\n', '+OK\r\n']);
    [info] = await run(sabre.port, [['INFO', 'persistence']]);
    expect(info).toContain('aof_enabled:0');
    expect(statSync(incremental).size).toBe(size);
    await sabre.kill();
    const again = await startSabre(['--dir', dir, '--shards', '2', '--appendonly', 'yes']);
    expect(await keyspace(again.port)).toEqual(before);
    expect(await again.stop()).toBe(0);
  });
});
