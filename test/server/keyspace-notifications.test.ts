/**
 * Keyspace notifications end to end: sabre on three shards and a real redis-server, each with
 * notify-keyspace-events set, a subscriber on `__key*@*__:*`, and a writer running the same commands
 * over keys on every shard. The subscriber must receive the same messages in the same order, expiry
 * (lazy and active) included, and nothing once notifications are switched off.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { keysOnEveryShard } from '../helpers/keyspace.js';
import { sabreBesideRedis } from '../helpers/sabre-server.js';

const DONE = 'done-marker';

/** Runs `commands` one at a time on `port` and returns what a pattern subscriber received meanwhile. */
async function notifications(port: number, flags: string, commands: string[][], settleMs = 0): Promise<string[]> {
  // Connected before any command: an ioredis client given PSUBSCRIBE before it is ready can fail its
  // own ready check ("Connection in subscriber mode", seen under load) and reconnect, missing messages.
  const writer = new Redis({ port, lazyConnect: true });
  const subscriber = new Redis({ port, lazyConnect: true });
  await Promise.all([writer.connect(), subscriber.connect()]);
  try {
    await writer.flushall();
    await writer.config('SET', 'notify-keyspace-events', flags);
    const received: string[] = [];
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finished = resolve));
    subscriber.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
      if (channel.toString() === DONE) return finished();
      received.push(`${channel.toString('latin1')} ${message.toString('latin1')}`);
    });
    await subscriber.psubscribe('__key*@*__:*', DONE);
    for (const command of commands) await writer.call(command[0], ...command.slice(1)).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    await writer.publish(DONE, 'x');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${DONE} on port ${port} after ${JSON.stringify(received)}`)), 5000)))]);
    clearTimeout(timer);
    await writer.config('SET', 'notify-keyspace-events', '');
    return received;
  } finally {
    writer.disconnect();
    subscriber.disconnect();
  }
}

describe('keyspace notifications, sabre (3 shards) beside redis-server', () => {
  const servers = sabreBesideRedis(['--shards', '3']);
  const [a, b, c] = keysOnEveryShard('note');

  async function same(flags: string, commands: string[][], settleMs = 0): Promise<string[]> {
    const ours = await notifications(servers.sabre.port, flags, commands, settleMs);
    if (servers.redis !== undefined) expect(ours).toEqual(await notifications(servers.redis.port, flags, commands, settleMs));
    return ours;
  }

  it('publishes what Redis publishes for writes over keys on every shard', async () => {
    const received = await same('KEA', [
      ['SET', a, '1'],
      ['INCR', a],
      ['APPEND', b, 'x'],
      ['MSET', a, '1', b, '2', c, '3'],
      ['DEL', a, b, 'missing'],
      ['HSET', c, 'f', 'v'],
      ['SET', c, 'over'],
      ['RPUSH', a, 'x', 'y'],
      ['LPOP', a],
      ['LPOP', a],
      ['SADD', b, 'm'],
      ['SADD', b, 'm'],
      ['ZADD', c, '1', 'z'],
      ['EXPIRE', c, '100'],
      ['PERSIST', c],
      ['RENAME', c, a],
      ['GET', a],
      ['SADD', b, 'm2'],
      ['SUNIONSTORE', c, a, b],
      ['SINTERSTORE', c, b, 'missing'],
      ['SMOVE', b, a, 'm'],
      ['RPUSH', c, '3', '1', '2'],
      ['SORT', c, 'STORE', a],
      ['COPY', c, b],
      ['MSET', c, '1', a, '2', b, '3'],
    ]);
    expect(received.length).toBeGreaterThan(10);
  });

  it("counts changes in INFO's rdb_changes_since_last_save as Redis does, over keys on every shard", async () => {
    const changes = async (port: number) => {
      const client = new Redis({ port });
      try {
        await client.flushall();
        const read = async () => Number(/^rdb_changes_since_last_save:(\d+)/m.exec(await client.info('persistence'))![1]);
        const before = await read();
        await client.mset(a, '1', b, '2', c, '3');
        await client.sadd(b + 'set', 'x', 'y', 'x');
        await client.del(a, 'missing');
        await client.incr(c);
        return (await read()) - before;
      } finally {
        client.disconnect();
      }
    };
    const ours = await changes(servers.sabre.port);
    expect(ours).toBeGreaterThan(0);
    if (servers.redis !== undefined) expect(ours).toBe(await changes(servers.redis.port));
  });

  it('publishes expiry, lazy and active, and only the classes asked for', async () => {
    const received = await same(
      'Kx',
      [
        ['SET', a, 'v', 'PX', '20'],
        ['SET', b, 'v'],
        ['DEL', b],
      ],
      400,
    );
    expect(received).toEqual([`__keyspace@0__:${a} expired`]);
    expect(await same('', [['SET', a, 'v'], ['DEL', a]])).toEqual([]);
  });
});
