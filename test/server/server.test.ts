import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERR_CROSS_SHARD } from '../../src/server/front.js';
import { RedisConnection, b, commandGenerator, encodeCommand, sameReply } from '../helpers/differential.js';
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

  it('serves redis-cli, and redis-cli --pipe mass insertion', async () => {
    const cli = (...args: string[]) => run('redis-cli', ['-p', String(sabre.port), ...args]);
    expect((await cli('ping')).stdout.trim()).toBe('PONG');
    expect((await cli('set', 'cli', 'v')).stdout.trim()).toBe('OK');
    expect((await cli('get', 'cli')).stdout.trim()).toBe('v');
    const commands = Buffer.concat(Array.from({ length: 50_000 }, (_, i) => encodeCommand([b('SET'), b(`mass:${i}`), b(`v${i}`)])));
    const piped = await new Promise<string>((resolve, reject) => {
      const child = spawn('redis-cli', ['-p', String(sabre.port), '--pipe']);
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(out));
      child.stdin.end(commands);
    });
    expect(piped).toContain('errors: 0, replies: 50000');
    expect((await cli('get', 'mass:49999')).stdout.trim()).toBe('v49999');
  });

  it('gives the same bytes as redis-server over TCP for seeded command sequences', async (context) => {
    if (redis === undefined) return context.skip();
    const ours = await RedisConnection.open(sabre.port);
    const theirs = await RedisConnection.open(redis.port);
    const mismatches: string[] = [];
    for (const seed of [21, 22]) {
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
    }
    ours.close();
    theirs.close();
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

  it('routes keys to both shards, and refuses a multi-key command that spans them', async () => {
    const client = new Redis({ port: sabre.port });
    for (let i = 0; i < 200; i++) await client.set(`k${i}`, `v${i}`);
    for (let i = 0; i < 200; i++) expect(await client.get(`k${i}`)).toBe(`v${i}`);
    // Hash tags keep keys together, so this MSET runs on one shard.
    expect(await client.mset('{user}.a', '1', '{user}.b', '2')).toBe('OK');
    expect(await client.mget('{user}.a', '{user}.b')).toEqual(['1', '2']);
    // 'a' and 'b' hash to slots 15495 and 3300: different shards when there are two.
    await expect(client.mset('a', '1', 'b', '2')).rejects.toThrow(ERR_CROSS_SHARD);
    expect(sabre.log()).toContain('"shards":2');
    client.disconnect();
  });
});
