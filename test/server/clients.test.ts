/**
 * Real clients against the real sabre server (two shards, so multi-key commands cross shards): node-redis
 * (the npm package `redis`) over RESP2 and RESP3, with auto-pipelined batches and binary values; and
 * redis-cli in the modes scripts use: `--no-raw` formatted output (compared with redis-server's, byte for
 * byte), `-x` (last argument from stdin) and `--pipe` mass insertion. ioredis is covered in server.test.ts.
 * `redis-cli --scan` waits for SCAN.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { RESP_TYPES, createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { RedisConnection, b, encodeCommand } from '../helpers/differential.js';
import { sabreBesideRedis } from '../helpers/sabre-server.js';

const run = promisify(execFile);

const servers = sabreBesideRedis(['--shards', '2']);

/** Every byte value, and the bytes RESP and inline parsing care about, in one value. */
const BINARY = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), b('\r\n$5\r\n*1\r\n\0\0\r')]);

function isSameBytes(actual: unknown, expected: Buffer): boolean {
  return Buffer.isBuffer(actual) && actual.equals(expected);
}

async function nodeRedis<RESP extends 2 | 3>(port: number, protocol: RESP) {
  const client = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: false }, RESP: protocol });
  client.on('error', () => {
    // Errors surface through the rejected command or connect(); without a listener node-redis would throw.
  });
  await client.connect();
  return client;
}

describe('node-redis against sabre', () => {
  it('connects and runs string and key commands', async () => {
    const client = await nodeRedis(servers.sabre.port, 2);
    try {
      expect(await client.ping()).toBe('PONG');
      expect(await client.set('nr:greeting', 'hello')).toBe('OK');
      expect(await client.get('nr:greeting')).toBe('hello');
      expect(await client.get('nr:missing')).toBeNull();
      expect(await client.set('nr:greeting', 'hi', { condition: 'NX' })).toBeNull();
      expect(await client.set('nr:greeting', 'hi', { GET: true })).toBe('hello');
      expect(await client.mSet({ 'nr:a': '1', 'nr:b': '2', 'nr:c': '3' })).toBe('OK');
      expect(await client.mGet(['nr:a', 'nr:missing', 'nr:c', 'nr:greeting'])).toEqual(['1', null, '3', 'hi']);
      expect(await client.incr('nr:a')).toBe(2);
      expect(await client.incrBy('nr:a', 40)).toBe(42);
      expect(await client.decr('nr:a')).toBe(41);
      expect(await client.incrByFloat('nr:b', 0.5)).toBe('2.5');
      expect(await client.append('nr:greeting', ' there')).toBe(8);
      expect(await client.strLen('nr:greeting')).toBe(8);
      expect(await client.getRange('nr:greeting', 0, 1)).toBe('hi');
      expect(await client.expire('nr:greeting', 100)).toBe(1);
      expect(await client.ttl('nr:greeting')).toBe(100);
      expect(await client.pExpire('nr:a', 50_000)).toBe(1);
      expect(await client.pTTL('nr:a')).toBeGreaterThan(49_000);
      expect(await client.persist('nr:a')).toBe(1);
      expect(await client.ttl('nr:a')).toBe(-1);
      expect(await client.ttl('nr:missing')).toBe(-2);
      expect(await client.setEx('nr:short', 1000, 'v')).toBe('OK');
      expect(await client.exists(['nr:a', 'nr:b', 'nr:missing', 'nr:a'])).toBe(3);
      expect(await client.type('nr:a')).toBe('string');
      expect(await client.getDel('nr:short')).toBe('v');
      expect(await client.del(['nr:a', 'nr:b', 'nr:c', 'nr:missing'])).toBe(3);
      expect(await client.mGet(['nr:a', 'nr:b'])).toEqual([null, null]);
      await expect(client.incr('nr:greeting')).rejects.toThrow('ERR value is not an integer or out of range');
      await expect(client.sendCommand(['NOSUCH', 'x'])).rejects.toThrow("ERR unknown command 'NOSUCH', with args beginning with: 'x' ");
      // The connection survives its errors.
      expect(await client.get('nr:greeting')).toBe('hi there');
    } finally {
      client.destroy();
    }
  });

  it('batches commands issued together into pipelines, each reply to its own promise', async () => {
    const client = await nodeRedis(servers.sabre.port, 2);
    try {
      // node-redis writes every command issued in one tick together: a 3000-command pipeline over both shards.
      const writes = await Promise.all(Array.from({ length: 1000 }, (_, i) => [client.set(`batch:${i}`, String(i)), client.incrBy(`batch:${i}`, i), client.get(`batch:${i}`)]).flat());
      for (let i = 0; i < 1000; i++) expect(writes.slice(3 * i, 3 * i + 3)).toEqual(['OK', 2 * i, String(2 * i)]);
      const keys = Array.from({ length: 1000 }, (_, i) => `batch:${i}`);
      expect(await client.mGet(keys)).toEqual(keys.map((_, i) => String(2 * i)));
      // An explicit pipeline (no MULTI/EXEC), with an error in the middle that fails only its own command.
      const replies = await client.multi().set('batch:x', '1').incr('batch:x').incr('batch:0').get('batch:x').execAsPipeline();
      expect(replies).toEqual(['OK', 2, 1, '2']);
      const mixed = await Promise.allSettled([client.set('batch:word', 'w'), client.incr('batch:word'), client.get('batch:word')]);
      expect(mixed.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(mixed[2]).toEqual({ status: 'fulfilled', value: 'w' });
    } finally {
      client.destroy();
    }
  });

  it('speaks RESP3 (HELLO 3 on connect), with the same HELLO reply as redis-server apart from the client id', async () => {
    const client = await nodeRedis(servers.sabre.port, 3);
    try {
      const hello = await client.hello();
      expect(hello).toMatchObject({ server: 'redis', version: '7.0.15', proto: 3, mode: 'standalone', role: 'master', modules: [] });
      if (servers.redis !== undefined) {
        const reference = await nodeRedis(servers.redis.port, 3);
        const theirs = await reference.hello();
        reference.destroy();
        expect({ ...hello, id: 0 }).toEqual({ ...theirs, id: 0 });
      }
      expect(await client.set('r3:k', 'v')).toBe('OK');
      expect(await client.get('r3:missing')).toBeNull();
      expect(await client.mGet(['r3:k', 'r3:missing'])).toEqual(['v', null]);
      expect(await client.incrByFloat('r3:f', 1.25)).toBe('1.25');
      expect(await client.expire('r3:k', 30)).toBe(1);
      expect(await client.ttl('r3:k')).toBe(30);
      await expect(client.incr('r3:k')).rejects.toThrow('ERR value is not an integer or out of range');
      // Raw RESP3 types: GET of a missing key is `_`, not `$-1`.
      const raw = await RedisConnection.open(servers.sabre.port);
      const [, missing, array] = await raw.run([[b('HELLO'), b('3')], [b('GET'), b('r3:missing')], [b('MGET'), b('r3:k'), b('r3:missing')]]);
      raw.close();
      expect(missing.toString()).toBe('_\r\n');
      expect(array.toString()).toBe('*2\r\n$1\r\nv\r\n_\r\n');
    } finally {
      client.destroy();
    }
  });

  it('round-trips binary keys and values as Buffers, small and large', async () => {
    const client = (await nodeRedis(servers.sabre.port, 2)).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    try {
      const binaryKey = Buffer.concat([b('bin:'), BINARY]);
      expect(await client.set(binaryKey, BINARY)).toBe('OK');
      expect(await client.get(binaryKey)).toEqual(BINARY);
      const large = Buffer.alloc(700 * 1024);
      for (let i = 0; i < large.length; i++) large[i] = (i * 7919) & 0xff;
      await client.set('bin:large', large);
      // Buffer.equals: a deep toEqual of 700 KiB takes a second.
      expect(isSameBytes(await client.get('bin:large'), large)).toBe(true);
      expect(await client.append('bin:large', BINARY)).toBe(large.length + BINARY.length);
      expect(await client.getRange('bin:large', large.length - 2, large.length + 3)).toEqual(Buffer.concat([large.subarray(-2), BINARY.subarray(0, 4)]));
      expect(await client.mGet([binaryKey, 'bin:missing'])).toEqual([BINARY, null]);
      expect(await client.set('bin:empty', Buffer.alloc(0))).toBe('OK');
      expect(await client.get('bin:empty')).toEqual(Buffer.alloc(0));
      expect(await client.strLen(binaryKey)).toBe(BINARY.length);
    } finally {
      client.destroy();
    }
  });
});

describe('redis-cli against sabre, beside redis-server', () => {
  const cli = async (port: number, ...args: string[]): Promise<string> => (await run('redis-cli', ['-p', String(port), ...args])).stdout;

  /** Runs redis-cli with `input` on stdin; resolves to its exit code and stdout (`--pipe` exits 1 after any error reply). */
  function cliWithInput(port: number, args: readonly string[], input: Buffer): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn('redis-cli', ['-p', String(port), ...args]);
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')));
      child.on('error', reject);
      child.stdin.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
      child.stdin.end(input);
    });
  }

  it('prints the same --no-raw output as for redis-server', async (context) => {
    if (servers.redis === undefined) return context.skip();
    const commands: string[][] = [
      ['SET', 'cli:greeting', 'hello world'],
      ['GET', 'cli:greeting'],
      ['GET', 'cli:missing'],
      ['SET', 'cli:greeting', 'quoted "text"\twith\\escapes é', 'GET'],
      ['GET', 'cli:greeting'],
      ['MSET', 'cli:a', '1', 'cli:b', '2'],
      ['MGET', 'cli:a', 'cli:missing', 'cli:b'],
      ['INCRBY', 'cli:a', '41'],
      ['INCRBYFLOAT', 'cli:b', '0.25'],
      ['INCR', 'cli:greeting'],
      ['APPEND', 'cli:a', '!'],
      ['STRLEN', 'cli:a'],
      ['EXPIRE', 'cli:a', '100'],
      ['TTL', 'cli:a'],
      ['EXISTS', 'cli:a', 'cli:b', 'cli:missing'],
      ['GETRANGE', 'cli:greeting', '0', '5'],
      ['TYPE', 'cli:a'],
      ['DEL', 'cli:a', 'cli:b', 'cli:missing'],
      ['NOSUCH', 'x', 'y'],
      ['GET'],
      ['PING'],
      ['ECHO', 'line\nbreak'],
      ['-3', 'MGET', 'cli:greeting', 'cli:missing'],
      ['-3', 'GET', 'cli:missing'],
    ];
    for (const command of commands) {
      const ours = await cli(servers.sabre.port, '--no-raw', ...command);
      const theirs = await cli(servers.redis.port, '--no-raw', ...command);
      expect(ours, command.join(' ')).toBe(theirs);
    }
  });

  it('takes the last argument from stdin with -x, binary bytes included', async (context) => {
    if (servers.redis === undefined) return context.skip();
    const input = Buffer.concat([BINARY, b('\n')]);
    for (const port of [servers.sabre.port, servers.redis.port]) {
      expect(await cliWithInput(port, ['-x', 'SET', 'cli:x'], input)).toEqual({ code: 0, out: 'OK\n' });
      expect(await cliWithInput(port, ['-x', 'APPEND', 'cli:x'], b('tail'))).toEqual({ code: 0, out: `${input.length + 4}\n` });
    }
    const [ours, theirs] = await Promise.all([servers.sabre.port, servers.redis.port].map(async (port) => {
      const connection = await RedisConnection.open(port);
      const [reply] = await connection.run([[b('GET'), b('cli:x')]]);
      connection.close();
      return reply;
    }));
    expect(ours).toEqual(theirs);
    expect(ours).toEqual(Buffer.concat([b(`$${input.length + 4}\r\n`), input, b('tail\r\n')]));
  });

  it('mass-inserts 100k commands with --pipe, every error reply as redis-server gives it', async (context) => {
    if (servers.redis === undefined) return context.skip();
    const commands: Buffer[] = [];
    for (let i = 0; i < 100_000; i++) {
      // INCR of a value that is not a number: an error, except after a NOSUCH left the key unset.
      if (i % 1000 === 999) commands.push(encodeCommand([b('INCR'), b(`mass:${i - 1}`)]));
      else if (i % 5000 === 4998) commands.push(encodeCommand([b('NOSUCH'), b(`mass:${i}`)]));
      else if (i % 10 === 0) commands.push(encodeCommand([b('INCRBY'), b(`mass:counter:${i % 7}`), b(String(i))]));
      else commands.push(encodeCommand([b('SET'), b(`mass:${i}`), b(`v${i}`)]));
    }
    const input = Buffer.concat(commands);
    const [ours, theirs] = await Promise.all([cliWithInput(servers.sabre.port, ['--pipe'], input), cliWithInput(servers.redis.port, ['--pipe'], input)]);
    expect(ours.out).toContain('errors: 100, replies: 100000');
    expect(ours).toEqual(theirs);
    const sample = [...Array.from({ length: 7 }, (_, i) => `mass:counter:${i}`), 'mass:0', 'mass:1', 'mass:997', 'mass:998', 'mass:4998', 'mass:99999'];
    const [ourValues, theirValues] = await Promise.all([cli(servers.sabre.port, 'MGET', ...sample), cli(servers.redis.port, 'MGET', ...sample)]);
    expect(ourValues).toBe(theirValues);
    expect(ourValues.split('\n').slice(7, 9)).toEqual(['', 'v1']);
  });
});
