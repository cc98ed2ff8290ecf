/**
 * MULTI/EXEC/DISCARD/WATCH/UNWATCH on sabre with three shards beside a real redis-server: the same
 * replies byte for byte for scripted exchanges (keys on one shard and spread over all three), WATCH
 * aborts when another client (or the client itself) changes a watched key, and under concurrency no
 * client ever sees half a transaction and optimistic counters lose no update.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisConnection, b } from '../helpers/differential.js';
import { keysOnEveryShard } from '../helpers/keyspace.js';
import { sabreBesideRedis, type ServerPair } from '../helpers/sabre-server.js';

const text = (reply: Buffer) => reply.toString('latin1');
const commands = (lines: string[][]) => lines.map((args) => args.map(b));

/** A step: commands for one connection, or a pause in milliseconds. */
type Step = [number, string[][]] | number;

/** Runs each connection's script in turn (a step per connection, in the order given) on a server; returns every reply. */
async function transcript(port: number, steps: Step[]): Promise<string[]> {
  const connections = await Promise.all([0, 1].map(() => RedisConnection.open(port)));
  try {
    await connections[0].run(commands([['FLUSHALL']]));
    const replies: string[] = [];
    // HELLO's reply names the connection's id, which differs between the servers.
    const withoutId = (reply: string) => reply.replace(/\$2\r\nid\r\n:\d+\r\n/, '$2\r\nid\r\n:ID\r\n');
    for (const step of steps) {
      if (typeof step === 'number') await new Promise((resolve) => setTimeout(resolve, step));
      else replies.push(...(await connections[step[0]].run(commands(step[1]))).map(text).map(withoutId));
    }
    return replies;
  } finally {
    for (const connection of connections) connection.close();
  }
}

/** INFO commandstats on a fresh connection (INFO itself is not among the commands compared). */
async function transcriptInfo(port: number): Promise<string> {
  const connection = await RedisConnection.open(port);
  try {
    return text((await connection.run(commands([['INFO', 'commandstats']])))[0]);
  } finally {
    connection.close();
  }
}

async function sameTranscript(servers: ServerPair, steps: Step[]): Promise<string[]> {
  const ours = await transcript(servers.sabre.port, steps);
  if (servers.redis !== undefined) expect(ours).toEqual(await transcript(servers.redis.port, steps));
  return ours;
}

describe('transactions, sabre (3 shards) beside redis-server', () => {
  const servers = sabreBesideRedis(['--shards', '3']);
  const [k1, k2, k3] = keysOnEveryShard('tx');

  it('queues, executes and refuses as Redis does, keys on one shard or spread', async () => {
    const replies = await sameTranscript(servers, [
      [
        0,
        [
          ['MULTI'],
          ['SET', k1, '1'],
          ['INCR', k1],
          ['MSET', k2, 'a', k3, 'b'],
          ['MGET', k1, k2, k3, 'missing'],
          ['LPUSH', k1, 'x'],
          ['DEL', k2, k3],
          ['PING'],
          ['ECHO', 'hi'],
          ['SELECT', '3'],
          ['SET', k1, 'in-3'],
          ['GET', k1],
          ['SELECT', '0'],
          ['RENAME', k1, k2],
          ['EXISTS', k1, k2, k3],
          ['DBSIZE'],
          ['UNWATCH'],
          ['EXEC'],
          ['GET', k2],
          ['EXEC'],
          ['DISCARD'],
          ['MULTI'],
          ['MULTI'],
          ['WATCH', k1],
          ['SET', k1, 'discarded'],
          ['DISCARD'],
          ['GET', k1],
          ['MULTI'],
          ['SET', k1],
          ['NOSUCH', 'x'],
          ['SET', k1, 'never'],
          ['EXEC'],
          ['GET', k1],
          ['MULTI'],
          ['EXEC'],
          ['MULTI'],
          ['SUBSCRIBE', 'c'],
          ['EXEC'],
        ],
      ],
    ]);
    expect(replies).toContain('+QUEUED\r\n');
  });

  it('aborts EXEC with a null reply when a watched key changed, by another client or the same one', async () => {
    const replies = await sameTranscript(servers, [
      [0, [['SET', k1, '1'], ['WATCH', k1, k2]]],
      [1, [['SET', k2, 'other']]],
      [0, [['MULTI'], ['INCR', k1], ['EXEC'], ['GET', k1]]],
      [0, [['WATCH', k1], ['MULTI'], ['INCR', k1], ['EXEC'], ['GET', k1]]],
      [0, [['WATCH', k3], ['SET', k3, 'mine'], ['MULTI'], ['GET', k3], ['EXEC']]],
      [0, [['WATCH', k1], ['UNWATCH']]],
      [1, [['SET', k1, '5']]],
      [0, [['MULTI'], ['INCR', k1], ['EXEC']]],
      [0, [['WATCH', 'nokey'], ['MULTI'], ['PING'], ['EXEC']]],
      [0, [['WATCH', k2]]],
      [1, [['DEL', k2]]],
      [0, [['MULTI'], ['PING'], ['EXEC']]],
      [0, [['HELLO', '3'], ['WATCH', k1]]],
      [1, [['INCR', k1]]],
      [0, [['MULTI'], ['GET', k1], ['EXEC'], ['HELLO', '2']]],
    ]);
    expect(replies.filter((reply) => reply === '*-1\r\n').length).toBe(3);
  });

  it('follows Redis for watched keys that expire: stale when watched is no change, expiring after WATCH is', async () => {
    const replies = await sameTranscript(servers, [
      [0, [['SET', k1, 'v', 'PX', '1']]],
      20,
      [0, [['WATCH', k1], ['MULTI'], ['PING'], ['EXEC']]],
      [0, [['SET', k1, 'v', 'PX', '1']]],
      20,
      [0, [['WATCH', k1], ['DEL', k1], ['MULTI'], ['PING'], ['EXEC']]],
      [0, [['SET', k1, 'v', 'PX', '1']]],
      20,
      [0, [['WATCH', k1], ['FLUSHDB'], ['MULTI'], ['PING'], ['EXEC']]],
      [0, [['SET', k2, 'v', 'PX', '30'], ['WATCH', k2]]],
      60,
      [0, [['MULTI'], ['PING'], ['EXEC']]],
    ]);
    expect(replies.filter((reply) => reply === '*-1\r\n').length).toBe(1);
  });

  it('answers WAIT as Redis without replicas does, waiting out its timeout, and at once inside EXEC', async () => {
    const started = performance.now();
    await sameTranscript(servers, [
      [
        0,
        [
          ['WAIT', '0', '0'],
          ['WAIT', '1', '50'],
          ['WAIT', '-1', '10'],
          ['WAIT', '1', '-1'],
          ['WAIT', 'x', '1'],
          ['WAIT', '1', 'x'],
          ['WAIT', 'x', '-1'],
          ['WAIT', '1', '1.5'],
          ['MULTI'],
          ['WAIT', '1', '0'],
          ['EXEC'],
        ],
      ],
    ]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('counts the commands EXEC runs in commandstats, as Redis does', async () => {
    const calls = (info: string) =>
      Object.fromEntries(
        [...info.matchAll(/^cmdstat_(\w+):calls=(\d+),.*failed_calls=(\d+)/gm)]
          .filter(([, name]) => ['multi', 'exec', 'set', 'incr', 'get', 'mget'].includes(name))
          .map(([, name, count, failed]) => [name, `${count}/${failed}`]),
      );
    const [ours, theirs] = await sameTranscript(servers, [
      [0, [['CONFIG', 'RESETSTAT'], ['MULTI'], ['SET', k1, '1'], ['INCR', k1], ['GET', k1], ['MGET', k1, k2], ['SET', k2, 'x'], ['INCR', k2], ['EXEC']]],
    ]).then(async () => Promise.all([servers.sabre.port, servers.redis?.port].map(async (port) => (port === undefined ? undefined : transcriptInfo(port)))));
    expect(calls(ours!)).toEqual({ multi: '1/0', exec: '1/0', set: '2/0', incr: '2/1', get: '1/0', mget: '1/0' });
    if (theirs !== undefined) expect(calls(ours!)).toEqual(calls(theirs));
  });

  it('never lets a reader see half a transaction across shards', async () => {
    const writer = new Redis({ port: servers.sabre.port });
    const reader = new Redis({ port: servers.sabre.port });
    try {
      await writer.mset(k1, '0', k2, '0', k3, '0');
      let writing = true;
      const writes = (async () => {
        for (let i = 1; i <= 300; i++) await writer.multi().set(k1, String(i)).incr(k2).set(k3, String(i)).exec();
        writing = false;
      })();
      let reads = 0;
      while (writing) {
        const [plain, inTransaction] = await Promise.all([reader.mget(k1, k2, k3), reader.multi().get(k1).get(k2).get(k3).exec()]);
        for (const values of [plain, inTransaction!.map(([, value]) => value)]) expect(new Set(values).size, JSON.stringify(values)).toBe(1);
        reads++;
      }
      await writes;
      expect(reads).toBeGreaterThan(10);
      expect(await reader.mget(k1, k2, k3)).toEqual(['300', '300', '300']);
    } finally {
      writer.disconnect();
      reader.disconnect();
    }
  });

  it('keeps optimistic counters over keys on different shards exact under concurrent WATCH/MULTI/EXEC', async () => {
    const CLIENTS = 6;
    const INCREMENTS = 40;
    const clients = Array.from({ length: CLIENTS }, () => new Redis({ port: servers.sabre.port }));
    try {
      await clients[0].mset(k1, '0', k3, '0');
      let aborted = 0;
      await Promise.all(
        clients.map(async (client) => {
          for (let done = 0; done < INCREMENTS; ) {
            await client.watch(k1, k3);
            const [first, third] = await client.mget(k1, k3);
            const result = await client.multi().set(k1, String(Number(first) + 1)).set(k3, String(Number(third) + 1)).exec();
            if (result === null) aborted++;
            else done++;
          }
        }),
      );
      expect(await clients[0].mget(k1, k3)).toEqual([String(CLIENTS * INCREMENTS), String(CLIENTS * INCREMENTS)]);
      expect(aborted).toBeGreaterThan(0);
    } finally {
      for (const client of clients) client.disconnect();
    }
  });
});
