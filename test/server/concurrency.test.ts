/**
 * Many clients pipelining writes at once into a three-shard sabre, checked exactly against a serial
 * replay on a real redis-server.
 *
 * The exactness comes from how the work is split. Every client owns a set of keys spread over all
 * shards, and only it touches them, with any command at all (SET with options, INCR, APPEND, DEL and
 * MSET across shards, EXPIRE including the deleting kind, PERSIST, reads): those keys' histories depend
 * on that client's order alone, which sabre must keep, so every reply on them, and their final values and
 * TTLs, must be what the same sequence gives on Redis. Shared keys only take INCRBY by positive amounts
 * and EXPIRE with one far-off TTL, which commute: their final values are the sums, and each INCRBY's reply
 * must fit a single serial order (sorted by reply, each reply is the one before plus its own increment,
 * starting from 0), which is linearizability for a counter. Running the clients' sequences one client
 * after another on Redis is one valid interleaving, so all of it compares with one replay.
 *
 * A second test checks program order across shards as other clients see it: atomic cross-shard MGETs
 * must always find a prefix of each writer's single-key SETs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOT_COUNT, keySlot } from '../../src/cluster/slot.js';
import { RedisConnection, b } from '../helpers/differential.js';
import { Random } from '../helpers/random.js';
import { startRedis, type RunningRedis } from '../helpers/redis-server.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

const SHARDS = 3;
const CLIENTS = 20;
const OWN_KEYS = 9;
const SHARED_KEYS = 6;
const COMMANDS_PER_CLIENT = 600;
/** Far enough that nothing expires while the test runs. */
const TTL_SECONDS = '50000';

/** The shard the front routes a key to: contiguous slot ranges per shard, as front.ts hands them out. */
const shardOf = (key: string): number => Math.floor((keySlot(b(key)) * SHARDS) / SLOT_COUNT);

const ownKey = (client: number, index: number): string => `own:${client}:${index}`;
const sharedKey = (index: number): string => `shared:${index}`;

interface Step {
  argv: Buffer[];
  /** For an INCRBY of a shared key: the key and the increment (its reply depends on the interleaving). */
  sharedIncrement?: { key: string; by: number };
}

function clientSequence(client: number, random: Random): Step[] {
  const own = (): string => ownKey(client, random.int(0, OWN_KEYS - 1));
  const value = (): string => random.pick(['0', '7', '-3', 'x', 'abc', String(random.int(0, 1e6)), 'long'.repeat(random.int(1, 200))]);
  const steps: Step[] = [];
  for (let i = 0; i < COMMANDS_PER_CLIENT; i++) {
    const roll = random.int(0, 19);
    let argv: string[];
    if (roll < 4) {
      const key = sharedKey(random.int(0, SHARED_KEYS - 1));
      const by = random.int(1, 100);
      steps.push({ argv: [b('INCRBY'), b(key), b(String(by))], sharedIncrement: { key, by } });
      continue;
    } else if (roll === 4) argv = ['EXPIRE', sharedKey(random.int(0, SHARED_KEYS - 1)), TTL_SECONDS];
    else if (roll < 8) argv = ['SET', own(), value(), ...random.pick([[], [], ['EX', TTL_SECONDS], ['KEEPTTL'], ['NX'], ['XX'], ['GET']])];
    else if (roll === 8) argv = ['INCR', own()];
    else if (roll === 9) argv = ['INCRBY', own(), String(random.int(-50, 50))];
    else if (roll === 10) argv = ['APPEND', own(), value()];
    else if (roll === 11) argv = ['DEL', own(), own(), own()];
    else if (roll === 12) argv = ['MSET', own(), value(), own(), value(), own(), value()];
    else if (roll === 13) argv = ['EXPIRE', own(), random.pick([TTL_SECONDS, TTL_SECONDS, '-1'])];
    else if (roll === 14) argv = ['PERSIST', own()];
    else if (roll === 15) argv = ['MGET', own(), own(), own()];
    else if (roll === 16) argv = ['GETDEL', own()];
    else if (roll === 17) argv = ['EXISTS', own(), own()];
    else argv = ['GET', own()];
    steps.push({ argv: argv.map(b) });
  }
  return steps;
}

/** Sends the steps in pipelines of seeded random sizes; returns every reply's bytes, in order. */
async function runPipelined(connection: RedisConnection, steps: readonly Step[], random: Random): Promise<Buffer[]> {
  const replies: Buffer[] = [];
  for (let start = 0; start < steps.length; ) {
    const end = Math.min(steps.length, start + random.int(1, 150));
    replies.push(...(await connection.run(steps.slice(start, end).map((step) => step.argv))));
    start = end;
  }
  return replies;
}

/** A key's final state as the comparison sees it: its GET reply and whether it has no key, no TTL, or a TTL. */
async function finalState(port: number, keys: readonly string[]): Promise<string[]> {
  const connection = await RedisConnection.open(port);
  const replies = await connection.run(keys.flatMap((key) => [[b('GET'), b(key)], [b('TTL'), b(key)]]));
  connection.close();
  return keys.map((key, i) => {
    const ttl = Number(replies[2 * i + 1].toString().slice(1, -2));
    return `${key} = ${replies[2 * i].toString('latin1').trimEnd()}, ${ttl === -2 ? 'missing' : ttl === -1 ? 'no ttl' : 'ttl'}`;
  });
}

describe(`${CLIENTS} clients pipelining into ${SHARDS} shards, against a serial replay on redis-server`, () => {
  let sabre: RunningSabre;
  let redis: RunningRedis | undefined;
  beforeAll(async () => {
    sabre = await startSabre(['--shards', String(SHARDS)]);
    redis = await startRedis();
  });
  afterAll(async () => {
    expect(await sabre.stop()).toBe(0);
    await redis?.stop();
  });

  it('ends in the replay state, every own-key reply as on Redis, every shared INCRBY in one serial order', async (context) => {
    if (redis === undefined) return context.skip();
    const sequences = Array.from({ length: CLIENTS }, (_, c) => clientSequence(c, new Random(1000 + c)));
    const allKeys = [...Array.from({ length: CLIENTS * OWN_KEYS }, (_, i) => ownKey(Math.floor(i / OWN_KEYS), i % OWN_KEYS)), ...Array.from({ length: SHARED_KEYS }, (_, i) => sharedKey(i))];
    // The keys must really spread: every client's own keys, and the shared keys, over every shard.
    for (let c = 0; c < CLIENTS; c++) expect(new Set(Array.from({ length: OWN_KEYS }, (_, i) => shardOf(ownKey(c, i)))).size).toBe(SHARDS);
    expect(new Set(Array.from({ length: SHARED_KEYS }, (_, i) => shardOf(sharedKey(i)))).size).toBe(SHARDS);

    const setup = Array.from({ length: SHARED_KEYS }, (_, i) => [b('SET'), b(sharedKey(i)), b('0')]);
    const connections = await Promise.all(Array.from({ length: CLIENTS }, () => RedisConnection.open(sabre.port)));
    await connections[0].run(setup);
    const ours = await Promise.all(connections.map((connection, c) => runPipelined(connection, sequences[c], new Random(2000 + c))));
    for (const connection of connections) connection.close();

    const reference = await RedisConnection.open(redis.port);
    await reference.run(setup);
    const theirs: Buffer[][] = [];
    for (let c = 0; c < CLIENTS; c++) theirs.push(await runPipelined(reference, sequences[c], new Random(3000 + c)));
    reference.close();

    const mismatches: string[] = [];
    const increments = new Map<string, { by: number; total: number }[]>();
    sequences.forEach((steps, c) =>
      steps.forEach((step, i) => {
        const reply = ours[c][i].toString('latin1');
        if (step.sharedIncrement !== undefined) {
          const { key, by } = step.sharedIncrement;
          const list = increments.get(key) ?? [];
          list.push({ by, total: Number(reply.slice(1, -2)) });
          increments.set(key, list);
        } else if (reply !== theirs[c][i].toString('latin1') && mismatches.length < 5) {
          mismatches.push(`client ${c} step ${i} ${step.argv.join(' ').slice(0, 80)}: sabre ${JSON.stringify(reply)}, Redis ${JSON.stringify(theirs[c][i].toString('latin1'))}`);
        }
      }),
    );
    expect(mismatches).toEqual([]);

    for (const [key, list] of increments) {
      list.sort((x, y) => x.total - y.total);
      const outOfOrder = list.filter((entry, i) => entry.total - entry.by !== (i === 0 ? 0 : list[i - 1].total));
      expect(outOfOrder, `INCRBY replies of ${key} fit no serial order`).toEqual([]);
    }
    expect(increments.size).toBe(SHARED_KEYS);

    const [ourState, theirState] = await Promise.all([finalState(sabre.port, allKeys), finalState(redis.port, allKeys)]);
    expect(ourState).toEqual(theirState);
    // The run must leave something to compare: values, TTLs and deletions all present.
    for (const outcome of ['ttl', 'no ttl', 'missing']) expect(theirState.filter((line) => line.endsWith(`, ${outcome}`)).length).toBeGreaterThan(10);
  });

  it("shows every reader's cross-shard MGET a prefix of each writer's single-key SETs, in the writer's order", async () => {
    // Each writer sets its keys (spread over every shard) to the round number, in key order. A client's
    // commands run in the order it sent them, and MGET is atomic, so any MGET must find each writer's keys
    // as [r, …, r, r-1, …, r-1]: a key set in round r implies every key before it was.
    const WRITERS = 4;
    const KEYS_PER_WRITER = 60;
    const ROUNDS = 15;
    const keys = Array.from({ length: WRITERS }, (_, w) => Array.from({ length: KEYS_PER_WRITER }, (_, i) => `order:${w}:${i}`));
    for (const own of keys) expect(new Set(own.map(shardOf)).size).toBe(SHARDS);
    const writers = await Promise.all(keys.map(() => RedisConnection.open(sabre.port)));
    const readers = await Promise.all(Array.from({ length: 4 }, () => RedisConnection.open(sabre.port)));
    const mget = [b('MGET'), ...keys.flat().map(b)];
    await writers[0].run([[b('MSET'), ...keys.flat().flatMap((key) => [b(key), b('0')])]]);

    let writing = true;
    const writes = Promise.all(
      writers.map(async (writer, w) => {
        const random = new Random(4000 + w);
        for (let round = 1; round <= ROUNDS; round++) {
          const sets = keys[w].map((key) => [b('SET'), b(key), b(String(round))]);
          // Small pipelines, each awaited, so that readers' MGETs land between them.
          for (let start = 0; start < sets.length; ) {
            const end = Math.min(sets.length, start + random.int(1, 15));
            await writer.run(sets.slice(start, end));
            start = end;
          }
        }
      }),
    ).finally(() => (writing = false));
    const violations: string[] = [];
    let snapshots = 0;
    let midRound = 0;
    await Promise.all(
      readers.map(async (reader) => {
        while (writing) {
          const [reply] = await reader.run([mget]);
          const values = reply.toString('latin1').split('\r\n').filter((_, i) => i > 0 && i % 2 === 0).map(Number);
          snapshots++;
          if (values.some((value, i) => i % KEYS_PER_WRITER !== 0 && value !== values[i - 1])) midRound++;
          for (let w = 0; w < WRITERS; w++) {
            const own = values.slice(w * KEYS_PER_WRITER, (w + 1) * KEYS_PER_WRITER);
            const ordered = own.every((value, i) => i === 0 || value <= own[i - 1]) && own[0] - own[own.length - 1] <= 1;
            if (!ordered && violations.length < 3) violations.push(`writer ${w}: ${own.join(',')}`);
          }
        }
      }),
    );
    await writes;
    for (const connection of [...writers, ...readers]) connection.close();
    expect(snapshots).toBeGreaterThan(20);
    // The check has teeth only if readers caught writers mid-round.
    expect(midRound).toBeGreaterThan(10);
    expect(violations).toEqual([]);
  });
});
