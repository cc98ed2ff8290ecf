/**
 * The server commands the front answers (INFO, COMMAND, CLIENT, SLOWLOG, LATENCY, TIME, MONITOR, DEBUG,
 * SHUTDOWN, CONFIG RESETSTAT's effect), against sabre on two shards and a real redis-server: byte for
 * byte where the reply is deterministic, field for field where it holds times or addresses.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RedisConnection, b } from '../helpers/differential.js';
import { rawExchange, startRedis } from '../helpers/redis-server.js';
import { rawBesideRedis, startSabre } from '../helpers/sabre-server.js';

const cmd = (...args: string[]) => args.map(b);
const text = (reply: Buffer) => reply.toString('latin1');

/** The value of `field` in an INFO reply. */
function infoField(reply: Buffer, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)\\r$`, 'm').exec(text(reply))?.[1];
}

describe('server commands, sabre (2 shards) beside redis-server', () => {
  const servers = rawBesideRedis(['--shards', '2', '--enable-debug-command', 'yes'], { config: { 'enable-debug-command': 'yes' } });

  /** Runs the commands on both servers and expects identical replies. */
  async function same(commands: string[][]): Promise<void> {
    if (servers.theirs === undefined) return;
    const argvs = commands.map((args) => cmd(...args));
    const [mine, reference] = [await servers.ours.run(argvs), await servers.theirs.run(argvs)];
    commands.forEach((args, i) => expect(text(mine[i]), args.join(' ')).toBe(text(reference[i])));
  }

  it('answers COMMAND INFO, DOCS, GETKEYS and their errors as Redis does', async (context) => {
    if (servers.theirs === undefined) return context.skip();
    await same([
      ['COMMAND', 'INFO', 'get', 'set', 'mget', 'nosuch'],
      ['COMMAND', 'DOCS', 'get', 'set'],
      ['COMMAND', 'GETKEYS', 'mset', 'a', 'b', 'c', 'd'],
      ['COMMAND', 'GETKEYS', 'set', 'k', 'v', 'EX', '10'],
      ['COMMAND', 'GETKEYS', 'ping'],
      ['COMMAND', 'GETKEYS', 'nosuch', 'x'],
      ['COMMAND', 'GETKEYS', 'get'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'set', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'lmpop', '2', 'a', 'b', 'LEFT'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'lmpop', '1', 'a', 'RIGHT', 'COUNT', '2'],
      ['COMMAND', 'GETKEYS', 'lmpop', '0', 'a', 'LEFT'],
      ['COMMAND', 'GETKEYS', 'lmpop', '5', 'a', 'LEFT'],
      ['COMMAND', 'GETKEYS', 'lmpop', 'x', 'a', 'LEFT'],
      ['COMMAND', 'LIST', 'FILTERBY', 'bogus', 'x'],
      ['COMMAND', 'NOSUCH'],
    ]);
  });

  it('lists exactly the commands it serves, filtered as Redis filters', async () => {
    const [count, list, pattern, category] = await servers.ours.run([
      cmd('COMMAND', 'COUNT'),
      cmd('COMMAND', 'LIST'),
      cmd('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'get*'),
      cmd('COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'bitmap'),
    ]);
    const names = (reply: Buffer) => [...text(reply).matchAll(/\$\d+\r\n([^\r]+)\r\n/g)].map((match) => match[1]).sort();
    expect(text(count)).toBe(`:${names(list).length}\r\n`);
    expect(names(pattern)).toEqual(['get', 'getbit', 'getdel', 'getex', 'getrange', 'getset']);
    expect(names(category)).toEqual(['bitcount', 'bitfield', 'bitfield_ro', 'bitop', 'bitpos', 'getbit', 'setbit']);
  });

  it('answers CLIENT, SLOWLOG and LATENCY subcommands and their errors as Redis does', async (context) => {
    if (servers.theirs === undefined) return context.skip();
    await same([
      ['CLIENT', 'SETNAME', 'worker-1'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', 'two words'],
      ['CLIENT', 'NO-EVICT', 'on'],
      ['CLIENT', 'NO-EVICT', 'maybe'],
      ['CLIENT', 'REPLY', 'sometimes'],
      ['CLIENT', 'KILL', '10.1.2.3:4567'],
      ['CLIENT', 'KILL', 'ID', '987654'],
      ['CLIENT', 'KILL', 'ID', '0'],
      ['CLIENT', 'KILL', 'TYPE', 'nonsense'],
      ['CLIENT', 'PAUSE', 'soon'],
      ['CLIENT', 'LIST', 'TYPE', 'nonsense'],
      ['CLIENT', 'LIST', 'ID', 'x'],
      ['CLIENT', 'GETREDIR'],
      ['CLIENT', 'NOSUCH'],
      ['SLOWLOG', 'HELP'],
      ['SLOWLOG', 'GET', 'x'],
      ['SLOWLOG', 'GET', '-2'],
      ['LATENCY', 'LATEST'],
      ['LATENCY', 'HISTORY', 'command'],
      ['LATENCY', 'RESET'],
      ['LATENCY', 'DOCTOR'],
      ['DEBUG', 'SLEEP', '0'],
      ['DEBUG', 'NOSUCH'],
      ['SHUTDOWN', 'SOMETIMES'],
      ['SHUTDOWN', 'ABORT'],
    ]);
  });

  it('fills INFO keyspace, stats and commandstats from real counters', async (context) => {
    if (servers.theirs === undefined) return context.skip();
    const script = [
      ['FLUSHALL'],
      ['CONFIG', 'RESETSTAT'],
      ['DEBUG', 'POPULATE', '1000'],
      ['DEBUG', 'POPULATE', '5', 'pad', '3'],
      ['GET', 'pad:2'],
      ['GET', 'key:999'],
      ['GET', 'nosuch'],
      ['MGET', 'key:1', 'nosuch', 'key:2'],
      ['SET', 'short', 'lived', 'PX', '1'],
      ['NOSUCHCOMMAND'],
      ['GET'],
    ];
    await same(script);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await same([['GET', 'short']]);
    const [mine, reference] = [await servers.ours.run([cmd('INFO', 'everything')]), await servers.theirs.run([cmd('INFO', 'everything')])];
    for (const field of ['db0', 'keyspace_hits', 'keyspace_misses', 'expired_keys', 'cmdstat_get', 'errorstat_ERR', 'total_error_replies']) {
      const value = (reply: Buffer) => infoField(reply, field)?.replace(/usec=\d+,usec_per_call=[\d.]+,/, '');
      expect(value(mine[0]), field).toBe(value(reference[0]));
    }
    expect(infoField(mine[0], 'total_commands_processed')).toBe(String(script.length - 2));
    expect(Number(infoField(mine[0], 'used_memory'))).toBeGreaterThan(1000 * 20);
    for (const section of ['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Commandstats', 'Errorstats', 'Cluster', 'Keyspace']) {
      expect(text(mine[0])).toContain(`# ${section}\r\n`);
    }
  });

  it('describes keys with DEBUG OBJECT as Redis does, addresses and LRU clocks aside', async (context) => {
    if (servers.theirs === undefined) return context.skip();
    const setup = [
      ['SET', 'shared', '42'],
      ['SET', 'int32', '-2000000000'],
      ['SET', 'wide', '123456789012'],
      ['SET', 'short', 'hello'],
      ['SET', 'distinct', 'abcdefghijklmnopqrstuvwxyz0123'],
      ['SET', 'grown', 'x'],
      ['APPEND', 'grown', 'yz'],
      ['SET', 'big', 'q'.repeat(70)],
      ['HSET', 'hash', 'a', '1', 'b', '2'],
      ['SADD', 'ints', '1', '2', '3'],
      ['SADD', 'words', 'a', 'b', 'c'],
      ['ZADD', 'zset', '1', 'a', '2', 'b'],
    ];
    await same(setup);
    // Lists are left out: Redis adds its quicklist's figures (ql_nodes …), which sabre does not print.
    const keys = ['shared', 'int32', 'wide', 'short', 'distinct', 'grown', 'hash', 'ints', 'words', 'zset', 'nosuch'];
    const normalised = (reply: Buffer) => text(reply).replace(/Value at:0x[0-9a-f]+/, 'Value at:*').replace(/ lru:\d+/, ' lru:*');
    const mine = await servers.ours.run(keys.map((key) => cmd('DEBUG', 'OBJECT', key)));
    const reference = await servers.theirs.run(keys.map((key) => cmd('DEBUG', 'OBJECT', key)));
    // A shared small integer's idle time is that of Redis's one shared object (see the README's notes);
    // the others were made just now, but the LRU clock counts whole seconds, so one may have ticked since.
    for (const [i, key] of keys.entries()) if (key !== 'shared' && key !== 'nosuch') expect(text(mine[i]), key).toMatch(/ lru_seconds_idle:[01]\r\n$/);
    const idle = (reply: string) => reply.replace(/lru_seconds_idle:\d+/, 'lru_seconds_idle:*');
    keys.forEach((key, i) => expect(idle(normalised(mine[i])), key).toBe(idle(normalised(reference[i]))));
    // Both LZF-compress this one, with different compressors: sabre's RDB writer gives 9 bytes, Redis 13.
    expect(text((await servers.ours.run([cmd('DEBUG', 'OBJECT', 'big')]))[0])).toContain('encoding:raw serializedlength:9 ');
  });

  it('applies CONFIG SET hll-sparse-max-bytes on every shard, as Redis does', async (context) => {
    if (servers.theirs === undefined) return context.skip();
    const elements = (count: number) => Array.from({ length: count }, (_, i) => `e${i}`);
    await same([
      ['CONFIG', 'SET', 'hll-sparse-max-bytes', '40'],
      ['PFADD', '{a}few', ...elements(7)],
      ['PFADD', '{b}many', ...elements(20)],
      ['PFDEBUG', 'ENCODING', '{a}few'],
      ['PFDEBUG', 'ENCODING', '{b}many'],
      ['GET', '{b}many'],
      ['CONFIG', 'SET', 'hll-sparse-max-bytes', '3000'],
    ]);
  });

  it('shows CLIENT LIST with Redis’s fields, in Redis’s order', async (context) => {
    if (servers.theirs === undefined) return context.skip();
    const fields = (reply: Buffer) => [...text(reply).split('\r\n')[1].split('\n')[0].matchAll(/(\S+?)=/g)].map((match) => match[1]);
    const [mine, reference] = [await servers.ours.run([cmd('CLIENT', 'INFO')]), await servers.theirs.run([cmd('CLIENT', 'INFO')])];
    expect(fields(mine[0])).toEqual(fields(reference[0]));
    expect(text(mine[0])).toMatch(/ name=worker-1 .* cmd=client\|info /);
  });

  it('logs slow commands in the SLOWLOG with their arguments and client', async () => {
    await servers.ours.run([cmd('CONFIG', 'SET', 'slowlog-log-slower-than', '0'), cmd('SLOWLOG', 'RESET')]);
    await servers.ours.run([cmd('SET', 'slow-key', 'x'.repeat(200))]);
    const [entries, length] = await servers.ours.run([cmd('SLOWLOG', 'GET', '1'), cmd('SLOWLOG', 'LEN')]);
    await servers.ours.run([cmd('CONFIG', 'SET', 'slowlog-log-slower-than', '10000')]);
    expect(text(length)).toMatch(/^:[1-9]\d*\r\n$/);
    expect(text(entries)).toMatch(/^\*1\r\n\*6\r\n:\d+\r\n:\d+\r\n:\d+\r\n\*3\r\n\$3\r\nSET\r\n\$8\r\nslow-key\r\n\$147\r\nx{128}\.\.\. \(72 more bytes\)\r\n\$\d+\r\n127\.0\.0\.1:\d+\r\n\$8\r\nworker-1\r\n$/);
  });

  it('answers TIME with the current unix time and microseconds', async () => {
    const before = Date.now();
    const [reply] = await servers.ours.run([cmd('TIME')]);
    const [seconds, micros] = [...text(reply).matchAll(/\$\d+\r\n(\d+)\r\n/g)].map((match) => Number(match[1]));
    // The reply's milliseconds are Date.now()'s at the call, so it lies in [before, after + 1 ms).
    expect(seconds * 1_000_000 + micros).toBeGreaterThanOrEqual(before * 1000);
    expect(seconds * 1_000_000 + micros).toBeLessThan((Date.now() + 1) * 1000);
    expect(micros).toBeLessThan(1_000_000);
  });

  it('silences replies with CLIENT REPLY OFF and SKIP exactly as Redis does', async (context) => {
    if (servers.redis === undefined) return context.skip();
    const input = b('CLIENT REPLY SKIP\r\nPING\r\nECHO a\r\nCLIENT REPLY OFF\r\nPING\r\nCLIENT REPLY SKIP\r\nECHO b\r\nCLIENT REPLY ON\r\nECHO c\r\n');
    const options = { timeoutMs: 2000, until: (bytes: Buffer) => bytes.includes('c\r\n') };
    const [mine, reference] = [await rawExchange(servers.sabre.port, input, options), await rawExchange(servers.redis.port, input, options)];
    expect(text(mine.received)).toBe(text(reference.received));
  });

  it('holds writes during CLIENT PAUSE WRITE and lets reads through', async () => {
    const [reader, writer] = [await RedisConnection.open(servers.sabre.port), await RedisConnection.open(servers.sabre.port)];
    try {
      await servers.ours.run([cmd('CLIENT', 'PAUSE', '300', 'WRITE')]);
      const started = performance.now();
      const read = reader.run([cmd('GET', 'key:1')]).then(() => performance.now() - started);
      const write = writer.run([cmd('SET', 'paused', '1')]).then(() => performance.now() - started);
      expect(await read).toBeLessThan(200);
      expect(await write).toBeGreaterThanOrEqual(250);
    } finally {
      reader.close();
      writer.close();
    }
  });

  it('kills a client by id, and feeds MONITOR every command in Redis’s format', async () => {
    const monitor = connect(servers.sabre.port, '127.0.0.1');
    let feed = '';
    monitor.on('data', (chunk) => (feed += chunk.toString('latin1')));
    await new Promise((resolve) => monitor.once('connect', resolve));
    monitor.write('MONITOR\r\n');
    while (!feed.includes('+OK\r\n')) await new Promise((resolve) => setTimeout(resolve, 5));
    await servers.ours.run([cmd('SELECT', '3'), cmd('SET', 'watched', 'a "quoted"\nvalue'), cmd('SELECT', '0')]);
    while (!feed.includes('"SELECT" "0"')) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(feed).toMatch(/\+\d+\.\d{6} \[3 127\.0\.0\.1:\d+\] "SET" "watched" "a \\"quoted\\"\\nvalue"\r\n/);
    const [list] = await servers.ours.run([cmd('CLIENT', 'LIST')]);
    const id = /id=(\d+) [^\n]* flags=O /.exec(text(list))?.[1];
    expect(id).toBeDefined();
    const closed = new Promise((resolve) => monitor.once('close', resolve));
    expect(text((await servers.ours.run([cmd('CLIENT', 'KILL', 'ID', id!)]))[0])).toBe(':1\r\n');
    await closed;
  });
});

describe('DEBUG and SHUTDOWN', () => {
  it('refuses DEBUG by default, as Redis 7 does, and exits cleanly on SHUTDOWN', async () => {
    const sabre = await startSabre();
    const redis = await startRedis();
    try {
      const connection = await RedisConnection.open(sabre.port);
      const [refused] = await connection.run([cmd('DEBUG', 'SLEEP', '0')]);
      if (redis !== undefined) {
        const reference = await RedisConnection.open(redis.port);
        expect(text(refused)).toBe(text((await reference.run([cmd('DEBUG', 'SLEEP', '0')]))[0]));
        reference.close();
      } else expect(text(refused)).toMatch(/^-ERR DEBUG command not allowed/);
      const result = await rawExchange(sabre.port, b('SHUTDOWN NOSAVE\r\n'), { timeoutMs: 5000, waitForClose: true });
      expect(result.closed).toBe(true);
      expect(result.received.length).toBe(0);
      connection.close();
    } finally {
      expect(await sabre.stop()).toBe(0);
      await redis?.stop();
    }
  });
});
