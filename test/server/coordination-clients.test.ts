/**
 * The coordination features through node-redis and redis-cli against sabre on two shards: MULTI/EXEC
 * and WATCH with node-redis's own transaction API (keys on both shards), a blocked node-redis BLPOP woken
 * by a push, keyspace notifications to a node-redis subscriber, and redis-cli running a transaction
 * from stdin and receiving notifications, compared with redis-server's output.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { keyPerShard } from '../helpers/keyspace.js';
import { sabreBesideRedis } from '../helpers/sabre-server.js';

const run = promisify(execFile);
const servers = sabreBesideRedis(['--shards', '2']);
const [left, right] = keyPerShard('coord', 2);

async function nodeRedis(port: number) {
  const client = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: false } });
  client.on('error', () => {
    // Errors surface through the rejected command; without a listener node-redis would throw.
  });
  await client.connect();
  return client;
}

describe('node-redis: transactions, blocking and notifications on sabre', () => {
  it('runs MULTI/EXEC over both shards and aborts a WATCHed transaction another client broke', async () => {
    const [client, other] = await Promise.all([nodeRedis(servers.sabre.port), nodeRedis(servers.sabre.port)]);
    try {
      await client.del([left, right]);
      expect(await client.multi().set(left, '1').incr(left).set(right, 'x').mGet([left, right]).exec()).toEqual(['OK', 2, 'OK', ['2', 'x']]);
      await client.watch([left, right]);
      await other.set(right, 'changed');
      await expect(client.multi().set(left, 'lost').exec()).rejects.toThrow(/watch/i);
      expect(await client.get(left)).toBe('2');
      await client.watch(left);
      expect(await client.multi().set(left, 'kept').exec()).toEqual(['OK']);
      expect(await client.get(left)).toBe('kept');
    } finally {
      await Promise.all([client.quit(), other.quit()]);
    }
  });

  it('wakes a blocked BLPOP with a push from another client', async () => {
    const [blocked, pusher] = await Promise.all([nodeRedis(servers.sabre.port), nodeRedis(servers.sabre.port)]);
    try {
      await pusher.del([left, right]);
      const waiting = blocked.blPop(left, 5);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await pusher.rPush(left, ['first', 'second'])).toBe(2);
      expect(await waiting).toEqual({ key: left, element: 'first' });
      expect(await pusher.lRange(left, 0, -1)).toEqual(['second']);
      expect(await blocked.blPop(right, 0.05)).toBeNull();
    } finally {
      await Promise.all([blocked.quit(), pusher.quit()]);
    }
  });

  it('delivers keyspace notifications to a node-redis subscriber', async () => {
    const [client, subscriber] = await Promise.all([nodeRedis(servers.sabre.port), nodeRedis(servers.sabre.port)]);
    try {
      await client.del([left, right]);
      await client.configSet('notify-keyspace-events', 'KEA');
      const received: string[] = [];
      await subscriber.pSubscribe('__keyevent@0__:*', (message, channel) => received.push(`${channel} ${message}`));
      await client.set(left, 'v');
      await client.hSet(right, 'f', 'v');
      await client.del([left, right]);
      for (let wait = 0; received.length < 4 && wait < 100; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(received).toEqual([`__keyevent@0__:set ${left}`, `__keyevent@0__:hset ${right}`, `__keyevent@0__:del ${left}`, `__keyevent@0__:del ${right}`]);
    } finally {
      await client.configSet('notify-keyspace-events', '');
      await Promise.all([client.quit(), subscriber.quit()]);
    }
  });
});

describe('redis-cli: transactions and notifications, sabre beside redis-server', () => {
  /** A transaction typed into redis-cli's stdin, as a script would feed it. */
  async function transaction(port: number): Promise<string> {
    await run('redis-cli', ['-p', String(port), 'del', left, right]);
    return new Promise((resolve, reject) => {
      const cli = spawn('redis-cli', ['-p', String(port)]);
      let output = '';
      cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      cli.once('error', reject);
      cli.once('close', () => resolve(output));
      cli.stdin.end(`MULTI\nSET ${left} 1\nINCR ${left}\nLPUSH ${right} a b\nNOSUCH\nEXEC\nMULTI\nINCR ${left}\nEXEC\nDISCARD\n`);
    });
  }

  it('runs a transaction from stdin with the output redis-server gives', async (context) => {
    const ours = await transaction(servers.sabre.port);
    expect(ours).toContain('EXECABORT');
    if (servers.redis === undefined) return context.skip();
    expect(ours).toBe(await transaction(servers.redis.port));
  });

  it('prints the notifications a redis-cli PSUBSCRIBE receives as redis-server does', async (context) => {
    const listen = async (port: number) => {
      await run('redis-cli', ['-p', String(port), 'config', 'set', 'notify-keyspace-events', 'Kg$']);
      const cli = spawn('redis-cli', ['-p', String(port), '--csv', 'psubscribe', '__keyspace@0__:coord*']);
      let output = '';
      cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      while (!output.includes('psubscribe')) await new Promise((resolve) => setTimeout(resolve, 10));
      for (const args of [['set', left, '1'], ['append', left, '2'], ['rename', left, right], ['del', right]]) await run('redis-cli', ['-p', String(port), ...args]);
      // The last event, whole: DEL's line ends the exchange.
      while (!output.includes('"del"\n')) await new Promise((resolve) => setTimeout(resolve, 10));
      cli.kill();
      await run('redis-cli', ['-p', String(port), 'config', 'set', 'notify-keyspace-events', '']);
      return output;
    };
    const ours = await listen(servers.sabre.port);
    expect(ours).toContain('rename_from');
    if (servers.redis === undefined) return context.skip();
    expect(ours).toBe(await listen(servers.redis.port));
  });
});
