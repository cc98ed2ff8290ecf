/**
 * A million-element list, hash, set and sorted set, each built the same way on a sabre with three shards
 * and on a real redis-server (pipelined multi-argument commands), then queried: sampled reads, ranges
 * near both ends and the middle, and writes into the big value must answer exactly as Redis does; the
 * replies chance decides (random members, scan pages) are compared by their shape; MEMORY USAGE is
 * positive on both, and DEL takes each away.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { SHARDS } from '../helpers/keyspace.js';
import { sabreBesideRedis, withBoth } from '../helpers/sabre-server.js';

const SIZE = 1_000_000;
/** Elements per building command. */
const BATCH = 10_000;
const KEY = 'big';

/** `count` indexes spread over [0, limit) by a stride prime to it, a few past the end included. */
const spread = (count: number, limit: number) => Array.from({ length: count }, (_, i) => (i * 7919) % (limit + 100));

interface LargeCollection {
  readonly name: string;
  /** CONFIG SET pairs to apply on both servers before building, and their defaults to restore after. */
  readonly config?: readonly [parameter: string, value: string, initial: string][];
  /** The command adding the batch numbered `batch` to KEY. */
  command(batch: number): string;
  /** The arguments that add element `j`. */
  element(j: number): string[];
  /** The command that counts the elements. */
  readonly card: string;
  /** The encoding both servers report for the built collection. */
  readonly encoding: string;
  /** Deterministic queries and writes, answered identically by both servers. */
  ask(server: Redis): Promise<unknown[]>;
  /** The replies chance decides, reduced to what it does not. */
  shape(server: Redis): Promise<unknown[]>;
  /** What `shape` must give on both servers. */
  readonly expectedShape: readonly unknown[];
}

/** A scan page's cursor and size reduced to what holds on any table: not finished, and at least COUNT items. */
async function scanShape(reply: Promise<[string, string[]]>, count: number, pattern: RegExp, stride = 1): Promise<unknown> {
  const [cursor, items] = await reply;
  const names = items.filter((_, i) => i % stride === 0);
  return { finished: cursor === '0', enough: names.length >= count, named: names.every((name) => pattern.test(name)) };
}

/** A random-members reply as its length, whether the names are distinct, and whether all look right. */
function randomShape(names: string[], pattern: RegExp): unknown {
  return { length: names.length, distinct: new Set(names).size === names.length, named: names.every((name) => pattern.test(name)) };
}

const listValue = (j: number) => (j % 7 === 0 ? String(j) : `element:${j}:${'z'.repeat(j % 50)}`);
const hashValue = (j: number) => (j % 7 === 0 ? String(j) : `value:${j}:${'z'.repeat(j % 50)}`);
const setMember = (j: number) => (j % 3 === 0 ? String(j) : `member:${j}`);
const zsetScore = (j: number) => String(((j * 7919) % 100_003) / 8);

const COLLECTIONS: LargeCollection[] = [
  {
    name: 'list (small nodes, list-max-listpack-size 5)',
    config: [['list-max-listpack-size', '5', '-2']],
    // Alternate ends, so that both pushes build the big list.
    command: (batch) => (batch % 2 === 0 ? 'RPUSH' : 'LPUSH'),
    element: (j) => [listValue(j)],
    card: 'LLEN',
    encoding: 'quicklist',
    async ask(server) {
      const indexes = spread(300, SIZE).map((i) => i - 50);
      const middle = SIZE / 2;
      return Promise.all([
        Promise.all(indexes.map((index) => server.lindex(KEY, index))),
        server.lindex(KEY, 0),
        server.lindex(KEY, -1),
        server.lindex(KEY, SIZE),
        server.lrange(KEY, middle - 50, middle + 49),
        server.lrange(KEY, 0, 99),
        server.lrange(KEY, -120, -1),
        server.lrange(KEY, SIZE - 5, SIZE + 5),
        server.lpos(KEY, '7007'),
        server.lpos(KEY, '14', 'RANK', -1, 'COUNT', 0, 'MAXLEN', 150_000),
        server.lpos(KEY, '700000', 'RANK', 1),
        server.lset(KEY, 123_456, 'changed'),
        server.linsert(KEY, 'AFTER', '7007', 'inserted'),
        server.lrem(KEY, -2, '70'),
        server.ltrim(KEY, 1000, -1000),
        server.lrange(KEY, 0, 5),
        server.lindex(KEY, 122_456),
        server.rpop(KEY, 3),
        server.lpop(KEY, 3),
        server.llen(KEY),
      ]);
    },
    async shape() {
      return [];
    },
    expectedShape: [],
  },
  {
    name: 'hash',
    command: () => 'HSET',
    element: (j) => [`field:${j}`, hashValue(j)],
    card: 'HLEN',
    encoding: 'hashtable',
    async ask(server) {
      const sample = spread(500, SIZE).map((i) => `field:${i}`);
      return Promise.all([
        server.hmget(KEY, ...sample),
        Promise.all(sample.slice(0, 50).map((field) => server.hstrlen(KEY, field))),
        Promise.all(['field:0', 'field:1', `field:${SIZE - 1}`, `field:${SIZE}`].map((field) => server.hget(KEY, field))),
        server.hincrby(KEY, 'field:7', 5),
        server.hincrbyfloat(KEY, 'field:14', '0.5'),
        server.hexists(KEY, `field:${SIZE - 1}`),
        server.hsetnx(KEY, 'field:3', 'kept'),
        server.hget(KEY, 'field:3'),
        server.hdel(KEY, 'field:1', 'field:2', 'nope'),
        server.hlen(KEY),
      ]);
    },
    async shape(server) {
      return Promise.all([
        server.hrandfield(KEY, 20).then((fields) => randomShape(fields as string[], /^field:\d+$/)),
        server.hrandfield(KEY, -30).then((fields) => (fields as string[]).length),
        server.hrandfield(KEY, 10, 'WITHVALUES').then((items) => (items as string[]).length),
        scanShape(server.hscan(KEY, '0', 'COUNT', '100'), 100, /^field:\d+$/, 2),
      ]);
    },
    expectedShape: [{ length: 20, distinct: true, named: true }, 30, 20, { finished: false, enough: true, named: true }],
  },
  {
    name: 'set',
    command: () => 'SADD',
    element: (j) => [setMember(j)],
    card: 'SCARD',
    encoding: 'hashtable',
    async ask(server) {
      const sample = spread(500, SIZE).map((i) => `member:${i}`);
      return Promise.all([
        server.smismember(KEY, ...sample),
        Promise.all(spread(100, SIZE).map((i) => server.sismember(KEY, setMember(i)))),
        server.sismember(KEY, '3'),
        server.sismember(KEY, String(SIZE - 1)),
        server.sismember(KEY, `member:${SIZE - 1}`),
        server.call('SINTERCARD', '1', KEY, 'LIMIT', '1000'),
        server.call('SINTERCARD', '1', KEY),
        server.srem(KEY, 'member:1', 'member:2', 'nope'),
        server.sadd(KEY, 'member:1', 'member:4'),
        // To a key on the same shard: across shards SMOVE copies the whole set to a scratch shard (seconds at this size).
        server.smove(KEY, `{${KEY}}moved`, 'member:4'),
        server.scard(KEY),
      ]);
    },
    async shape(server) {
      return Promise.all([
        server.srandmember(KEY, 20).then((members) => randomShape(members as string[], /^(member:)?\d+$/)),
        server.srandmember(KEY, -30).then((members) => (members as string[]).length),
        scanShape(server.sscan(KEY, '0', 'COUNT', '100'), 100, /^(member:)?\d+$/),
      ]);
    },
    expectedShape: [{ length: 20, distinct: true, named: true }, 30, { finished: false, enough: true, named: true }],
  },
  {
    name: 'sorted set',
    command: () => 'ZADD',
    element: (j) => [zsetScore(j), `member:${j}`],
    card: 'ZCARD',
    encoding: 'skiplist',
    async ask(server) {
      const sample = spread(200, SIZE).map((i) => `member:${i}`);
      return Promise.all([
        server.zmscore(KEY, ...sample),
        Promise.all(sample.slice(0, 50).map((member) => server.zrank(KEY, member))),
        Promise.all(sample.slice(0, 50).map((member) => server.zrevrank(KEY, member))),
        Promise.all(sample.slice(50, 100).map((member) => server.zscore(KEY, member))),
        server.zrange(KEY, SIZE / 2, SIZE / 2 + 20, 'WITHSCORES'),
        server.zrange(KEY, 0, 9, 'WITHSCORES'),
        server.zrange(KEY, -10, -1, 'WITHSCORES'),
        server.zrange(KEY, SIZE - 3, SIZE + 3),
        server.zrevrange(KEY, 0, 9, 'WITHSCORES'),
        server.zrangebyscore(KEY, '(1000', 2000, 'WITHSCORES', 'LIMIT', 5, 20),
        server.zrangebyscore(KEY, '-inf', '+inf', 'LIMIT', SIZE - 10, 20),
        server.zrangebyscore(KEY, 12_000, '+inf', 'WITHSCORES', 'LIMIT', 0, 15),
        server.zrevrangebyscore(KEY, 5000, '-inf', 'LIMIT', 100, 10),
        server.zcount(KEY, 100, '(9000.5'),
        server.zincrby(KEY, 0.25, 'member:7'),
        server.zrank(KEY, 'member:7'),
        server.zremrangebyrank(KEY, 1000, 1999),
        server.zremrangebyscore(KEY, 0, 10),
        server.zpopmin(KEY, 3),
        server.zpopmax(KEY, 3),
        server.zcard(KEY),
        server.zrange(KEY, 50_000, 50_005, 'WITHSCORES'),
      ]);
    },
    async shape(server) {
      return Promise.all([
        server.zrandmember(KEY, 20).then((members) => randomShape(members as string[], /^member:\d+$/)),
        server.zrandmember(KEY, -30).then((members) => (members as string[]).length),
        scanShape(server.zscan(KEY, '0', 'COUNT', '100'), 100, /^member:\d+$/, 2),
      ]);
    },
    expectedShape: [{ length: 20, distinct: true, named: true }, 30, { finished: false, enough: true, named: true }],
  },
];

/** Builds `collection` on `server` through one pipeline of BATCH-element commands. */
async function build(server: Redis, collection: LargeCollection): Promise<void> {
  const pipeline = server.pipeline();
  for (let from = 0; from < SIZE; from += BATCH) {
    const args: string[] = [];
    for (let j = from; j < Math.min(from + BATCH, SIZE); j++) args.push(...collection.element(j));
    pipeline.call(collection.command(from / BATCH), KEY, ...args);
  }
  const replies = (await pipeline.exec()) ?? [];
  for (const [error] of replies) expect(error).toBeNull();
}

describe('million-element collections on three shards, beside Redis', () => {
  const servers = sabreBesideRedis(['--shards', String(SHARDS)]);

  for (const collection of COLLECTIONS) {
    it(`builds a 1M-element ${collection.name} whose sampled reads match Redis`, (context) =>
      withBoth(servers, async (ours, theirs) => {
        if (theirs === undefined) return context.skip();
        const both = [ours, theirs];
        const config = collection.config ?? [];
        try {
          for (const server of both) for (const [parameter, value] of config) await server.config('SET', parameter, value);
          await Promise.all(both.map((server) => build(server, collection)));
          for (const server of both) {
            expect(await server.call(collection.card, KEY)).toBe(SIZE);
            expect(await server.object('ENCODING', KEY)).toBe(collection.encoding);
          }
          const [mine, reference] = await Promise.all(both.map((server) => collection.ask(server)));
          expect(mine).toEqual(reference);
          for (const shape of await Promise.all(both.map((server) => collection.shape(server)))) expect(shape).toEqual(collection.expectedShape);
          for (const server of both) {
            expect(await server.memory('USAGE', KEY)).toBeGreaterThan(0);
            expect(await server.del(KEY)).toBe(1);
            expect(await server.exists(KEY)).toBe(0);
          }
        } finally {
          for (const server of both) for (const [parameter, , initial] of config) await server.config('SET', parameter, initial);
        }
      }));
  }
});
