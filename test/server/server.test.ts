import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnection, commandGenerator, sameReply } from '../helpers/differential.js';
import { Random } from '../helpers/random.js';
import { rawExchange, startRedis, type RunningRedis } from '../helpers/redis-server.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

const run = promisify(execFile);

describe('the sabre server with real clients', () => {
  let sabre: RunningSabre;
  let redis: RunningRedis | undefined;
  beforeAll(async () => {
    sabre = await startSabre();
    redis = await startRedis();
  });
  afterAll(async () => {
    expect(await sabre.stop()).toBe(0);
    await redis?.stop();
  });

  it('serves ioredis, pipelines included', async () => {
    const client = new Redis({ port: sabre.port, lazyConnect: true });
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    expect(await client.set('greeting', 'hello', 'EX', 100)).toBe('OK');
    expect(await client.get('greeting')).toBe('hello');
    expect(await client.ttl('greeting')).toBe(100);
    const pipeline = client.pipeline();
    for (let i = 0; i < 10_000; i++) pipeline.set(`p:${i}`, String(i));
    for (let i = 0; i < 10_000; i++) pipeline.incr(`p:${i}`);
    const results = await pipeline.exec();
    expect(results).toHaveLength(20_000);
    for (let i = 0; i < 10_000; i++) expect(results![10_000 + i]).toEqual([null, i + 1]);
    expect(await client.mget('p:1', 'p:2', 'missing')).toEqual(['2', '3', null]);
    await expect(client.call('nosuchcommand', 'a')).rejects.toThrow("ERR unknown command 'nosuchcommand'");
    client.disconnect();
  });

  // redis-cli's other modes (--no-raw, -x, --pipe) are in clients.test.ts.
  it('serves redis-cli', async () => {
    const cli = (...args: string[]) => run('redis-cli', ['-p', String(sabre.port), ...args]);
    expect((await cli('ping')).stdout.trim()).toBe('PONG');
    expect((await cli('set', 'cli', 'v')).stdout.trim()).toBe('OK');
    expect((await cli('get', 'cli')).stdout.trim()).toBe('v');
  });

  it('gives the same bytes as redis-server over TCP for seeded command sequences', async (context) => {
    if (redis === undefined) return context.skip();
    const mismatches: string[] = [];
    // RESP3 too: cross-shard MGET merges elements that are then nulls of the other protocol.
    for (const [seed, protocol] of [[21, 2], [22, 2], [23, 3]] as const) {
      const ours = await RedisConnection.open(sabre.port);
      const theirs = await RedisConnection.open(redis.port);
      const hello = [[Buffer.from('HELLO'), Buffer.from(String(protocol))]];
      await Promise.all([ours.run(hello), theirs.run(hello)]);
      const next = commandGenerator(new Random(seed));
      for (let batch = 0; batch < 10; batch++) {
        const commands = Array.from({ length: 100 }, next);
        const [a, c] = await Promise.all([ours.run(commands), theirs.run(commands)]);
        commands.forEach((argv, i) => {
          if (!sameReply(argv[0].toString('latin1').toLowerCase(), a[i], c[i]) && mismatches.length < 5) {
            mismatches.push(`${argv.map((x) => x.toString('latin1').slice(0, 30)).join(' ')}: ${JSON.stringify(a[i].toString('latin1'))} vs ${JSON.stringify(c[i].toString('latin1'))}`);
          }
        });
      }
      ours.close();
      theirs.close();
    }
    expect(mismatches).toEqual([]);
  });

  it('answers a protocol error as Redis does, closes that connection only, and keeps serving', async (context) => {
    if (redis === undefined) return context.skip();
    for (const input of ['*1\r\n$3\r\nPING\r\n*x\r\n', '*2\r\n$3\r\nGET\r\n$-5\r\n', 'ECHO "unbalanced\r\n', `*1\r\n$${'9'.repeat(20)}\r\n`]) {
      const ours = await rawExchange(sabre.port, Buffer.from(input), { waitForClose: true, timeoutMs: 2000 });
      const theirs = await rawExchange(redis.port, Buffer.from(input), { waitForClose: true, timeoutMs: 2000 });
      expect(ours.received.toString('latin1'), JSON.stringify(input)).toBe(theirs.received.toString('latin1'));
      expect(ours.closed).toBe(theirs.closed);
    }
    const client = new Redis({ port: sabre.port });
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('keeps every write of many concurrent pipelining clients', async () => {
    const clients = Array.from({ length: 16 }, () => new Redis({ port: sabre.port }));
    await Promise.all(
      clients.map(async (client, c) => {
        const pipeline = client.pipeline();
        for (let i = 0; i < 500; i++) pipeline.incrby(`counter:${i % 10}`, 1).set(`own:${c}:${i}`, String(i));
        await pipeline.exec();
      }),
    );
    const check = clients[0];
    for (let k = 0; k < 10; k++) expect(await check.get(`counter:${k}`)).toBe(String(16 * 50));
    expect(await check.get('own:15:499')).toBe('499');
    for (const client of clients) client.disconnect();
  });
});

describe('the sabre server with two shards', () => {
  let sabre: RunningSabre;
  beforeAll(async () => {
    sabre = await startSabre(['--shards', '2']);
  });
  afterAll(async () => {
    expect(await sabre.stop()).toBe(0);
  });

  // 'a' and 'b' hash to slots 15495 and 3300: different shards when there are two.
  it('runs multi-key commands across shards with their single-instance semantics', async () => {
    const client = new Redis({ port: sabre.port });
    expect(sabre.log()).toContain('"shards":2');
    expect(await client.mset('a', '1', 'b', '2', '{user}.c', '3')).toBe('OK');
    expect(await client.mget('b', 'missing', 'a', '{user}.c')).toEqual(['2', null, '1', '3']);
    expect(await client.exists('a', 'b', 'a', 'nope')).toBe(3);
    expect(await client.msetnx('a', 'x', 'fresh', 'y')).toBe(0);
    expect(await client.get('fresh')).toBeNull();
    expect(await client.msetnx('fresh', 'y', 'fresh2', 'z')).toBe(1);
    expect(await client.mget('fresh', 'fresh2')).toEqual(['y', 'z']);
    expect(await client.del('a', 'b', 'fresh', 'nope')).toBe(3);
    expect(await client.mget('a', 'b')).toEqual([null, null]);
    await expect(client.call('mset', 'a', '1', 'b')).rejects.toThrow("ERR wrong number of arguments for 'mset' command");
    // A client's commands keep their order around a cross-shard one.
    const pipeline = client.pipeline().set('a', 'before').mset('a', 'during', 'b', 'during').get('a').select(1).get('a').select(0);
    expect((await pipeline.exec())!.map(([, value]) => value)).toEqual(['OK', 'OK', 'during', 'OK', null, 'OK']);
    client.disconnect();
  });

  it('never lets a reader observe half of a cross-shard MSET', async () => {
    const writer = new Redis({ port: sabre.port });
    const reader = new Redis({ port: sabre.port });
    await writer.mset('a', '0', 'b', '0');
    let torn = 0;
    let reads = 0;
    let writing = true;
    const writes = (async () => {
      for (let i = 1; i <= 2000; i++) await writer.mset('a', String(i), 'b', String(i));
      writing = false;
    })();
    let backwards = 0;
    while (writing) {
      const pipeline = reader.pipeline();
      for (let i = 0; i < 20; i++) pipeline.mget('a', 'b');
      // Single-key reads too: reading b, then a, can never find a older than b.
      for (let i = 0; i < 20; i++) pipeline.get('b').get('a');
      const results = (await pipeline.exec())!.map(([, value]) => value);
      for (let i = 0; i < 20; i++) {
        const [x, y] = results[i] as [string, string];
        reads++;
        if (x !== y) torn++;
      }
      for (let i = 20; i < results.length; i += 2) if (Number(results[i + 1]) < Number(results[i])) backwards++;
    }
    await writes;
    expect(reads).toBeGreaterThan(100);
    expect(torn).toBe(0);
    expect(backwards).toBe(0);
    writer.disconnect();
    reader.disconnect();
  });

  it('keeps MSETNX across shards atomic between its check and its writes', async () => {
    const first = new Redis({ port: sabre.port });
    const second = new Redis({ port: sabre.port });
    let impossible = 0;
    for (let round = 0; round < 300; round++) {
      await first.del('a', 'b');
      // Serially, either MSETNX runs first (returns 1, then SET leaves 'y') or SET does (MSETNX returns 0).
      // MSETNX returning 1 with 'x' left in a means the SET ran between MSETNX's check and its writes.
      const [setnx] = await Promise.all([first.msetnx('a', 'x', 'b', 'x'), second.set('a', 'y')]);
      if (setnx === 1 && (await first.get('a')) === 'x') impossible++;
    }
    expect(impossible).toBe(0);
    first.disconnect();
    second.disconnect();
  });
});
