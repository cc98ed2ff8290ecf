/**
 * sabre's execution core in-process (one database, the command table, the reply writer), and the
 * reply-for-reply comparison of a command sequence between it and a real redis-server.
 *
 * A generator emits `[MAKE_HASH, key]` to put a key of another type in place for WRONGTYPE checks: it
 * becomes `DEL key` + `HSET key f v` on both sides, with the replies left out of the comparison.
 */
import { Arena } from 'native-free-alloc';
import { defaultCollectionLimits, type CollectionLimitName, type CollectionLimits } from '../../src/collections/limits.js';
import { execute } from '../../src/commands/dispatch.js';
import { CommandTable } from '../../src/commands/table.js';
import type { RespValue } from '../../src/protocol/reply-reader.js';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { Database } from '../../src/shard/database.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisConnection, b, sameReply } from './differential.js';
import { elements, parseReply, text } from './keyspace.js';
import { Random } from './random.js';
import { startRedis, type RunningRedis } from './redis-server.js';

export const MAKE_HASH = '__make_hash__';

export class InProcessSabre {
  readonly arena = new Arena();
  readonly db = new Database(this.arena);
  readonly limits = defaultCollectionLimits();
  private readonly table = new CommandTable();
  private readonly reply = new ReplyWriter();

  constructor(protocol: 2 | 3 = 2) {
    this.reply.protocol = protocol;
  }

  run(argv: readonly Buffer[]): Buffer {
    execute(this.table.lookup(argv[0]), { db: this.db, reply: this.reply, now: Date.now(), databases: [this.db], dbIndex: 0, limits: this.limits }, argv);
    // No idle loop here: what UNLINK or FLUSHDB ASYNC left for the background is freed at once.
    this.db.lazyFree.drain();
    return this.reply.take();
  }

  /** Replaces `key` with a key of type hash (see the module comment). */
  makeHash(key: Buffer): void {
    this.run([b('DEL'), key]);
    this.run([b('HSET'), key, b('f'), b('v')]);
  }
}

const shown = (arg: Buffer): string => JSON.stringify(arg.length > 40 ? `${arg.toString('latin1', 0, 20)}…(${arg.length})` : arg.toString('latin1'));
const replyText = (reply: Buffer): string => JSON.stringify(reply.length > 300 ? `${reply.toString('latin1', 0, 300)}…(${reply.length})` : reply.toString('latin1'));

/**
 * Whether two replies to `argv` count as the same (exact bytes, but for the clock: sameReply). `sabre`
 * is the side that just answered, for a comparison that depends on its state (such as an encoding).
 */
export type Agreement = (argv: readonly Buffer[], ours: Buffer, theirs: Buffer, sabre: InProcessSabre) => boolean;

const exactly: Agreement = (argv, ours, theirs) => sameReply(argv[0].toString('latin1').toLowerCase(), ours, theirs);

/**
 * Runs `commands` on both sides, Redis as one pipeline, and returns a description of each reply that
 * differs (at most `limit`), so a failing test shows the commands and both replies.
 */
export async function differences(
  redis: RedisConnection,
  sabre: InProcessSabre,
  commands: readonly (readonly Buffer[])[],
  limit = 10,
  agree: Agreement = exactly,
): Promise<string[]> {
  const sent: Buffer[][] = [];
  const compared: number[] = [];
  for (const argv of commands) {
    if (argv[0].toString('latin1') === MAKE_HASH) sent.push([b('DEL'), argv[1]], [b('HSET'), argv[1], b('f'), b('v')]);
    else {
      compared.push(sent.length);
      sent.push([...argv]);
    }
  }
  const expected = await redis.run(sent);
  const mismatches: string[] = [];
  let next = 0;
  for (const argv of commands) {
    if (argv[0].toString('latin1') === MAKE_HASH) {
      sabre.makeHash(argv[1]);
      continue;
    }
    const actual = sabre.run(argv);
    const theirs = expected[compared[next++]];
    if (!agree(argv, actual, theirs, sabre) && mismatches.length < limit) {
      mismatches.push(`${argv.map(shown).join(' ')}\n    sabre: ${replyText(actual)}\n    redis: ${replyText(theirs)}`);
    }
  }
  return mismatches;
}

/** A command written as one line split on spaces, or as its arguments (for empty or binary ones). */
export type Line = string | readonly string[];
export const argvOf = (line: Line): Buffer[] => (typeof line === 'string' ? line.split(' ') : line).map(b);

/** A redis-server for the enclosing suite, with one RESP2 and one RESP3 connection (undefined when it cannot run). */
export interface RedisPair {
  connection(protocol: 2 | 3): RedisConnection | undefined;
}

/** Starts a redis-server before the enclosing suite and stops it after. */
export function redisPair(): RedisPair {
  let redis: RunningRedis | undefined;
  let resp2: RedisConnection | undefined;
  let resp3: RedisConnection | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    if (redis === undefined) return;
    resp2 = await RedisConnection.open(redis.port);
    resp3 = await RedisConnection.open(redis.port);
    await resp3.run([[b('HELLO'), b('3')]]);
  });
  afterAll(async () => {
    resp2?.close();
    resp3?.close();
    await redis?.stop();
  });
  return { connection: (protocol) => (protocol === 2 ? resp2 : resp3) };
}

/** One test per edge-case group and protocol: the group's commands give the same replies on both sides. */
export function edgeCaseTests(pair: RedisPair, cases: Record<string, readonly Line[]>, agree: Agreement = exactly): void {
  for (const [name, lines] of Object.entries(cases)) {
    for (const protocol of [2, 3] as const) {
      it(`${name} (RESP${protocol})`, async (context) => {
        const connection = pair.connection(protocol);
        if (connection === undefined) return context.skip();
        await connection.run([[b('FLUSHALL')]]);
        expect(await differences(connection, new InProcessSabre(protocol), lines.map(argvOf), 10, agree)).toEqual([]);
      });
    }
  }
}

/** What a seeded random sequence runs under, beyond its seed and protocol. */
export interface SequenceOptions {
  /** Collection limits set on both sides for the run (CONFIG SET on Redis, restored to the defaults after). */
  readonly limits?: Partial<CollectionLimits>;
  /** When two replies count as the same (byte for byte unless given). */
  readonly agree?: Agreement;
  /** Checks sabre's state after each batch. */
  readonly afterBatch?: (sabre: InProcessSabre) => void;
}

/**
 * One test per seed: `batches` × 100 commands from a seeded generator give the same replies on both
 * sides. `generator` makes the command source for a seed's random stream.
 */
export function randomSequenceTests(
  pair: RedisPair,
  seeds: readonly (readonly [number, 2 | 3])[],
  generator: (random: Random) => () => Buffer[],
  batches: number,
  { limits = {}, agree = exactly, afterBatch }: SequenceOptions = {},
): void {
  const limited = Object.entries(limits) as [CollectionLimitName, number][];
  const under = limited.map(([name, value]) => `, ${name} ${value}`).join('');
  const configSet = (values: readonly (readonly [string, number])[]) => values.map(([name, value]) => argvOf(['CONFIG', 'SET', name, String(value)]));
  for (const [seed, protocol] of seeds) {
    it(`gives the same replies over a seeded random sequence (seed ${seed}, RESP${protocol}${under})`, async (context) => {
      const connection = pair.connection(protocol);
      if (connection === undefined) return context.skip();
      await connection.run([[b('FLUSHALL')], ...configSet(limited)]);
      const next = generator(new Random(seed));
      const sabre = new InProcessSabre(protocol);
      Object.assign(sabre.limits, limits);
      const mismatches: string[] = [];
      try {
        for (let batch = 0; batch < batches; batch++) {
          mismatches.push(...(await differences(connection, sabre, Array.from({ length: 100 }, next), 10 - mismatches.length, agree)));
          afterBatch?.(sabre);
        }
      } finally {
        const defaults = defaultCollectionLimits();
        await connection.run(configSet(limited.map(([name]) => [name, defaults[name]])));
      }
      expect(mismatches, mismatches.join('\n')).toEqual([]);
    });
  }
}

/**
 * One test: a whole iteration of `scan` (HSCAN, SSCAN, ZSCAN) with COUNT 50 over the collection `build`
 * makes at `key` returns the same `size` names on both sides (RESP2), in more than ten pages and in
 * about as many pages as Redis takes (COUNT counts fields and members, not reply elements).
 */
export function wholeScanTest(pair: RedisPair, title: string, scan: string, key: string, build: Line, size: number, names: (items: RespValue[]) => string[]): void {
  it(title, async (context) => {
    const connection = pair.connection(2);
    if (connection === undefined) return context.skip();
    const sabre = new InProcessSabre(2);
    const commands: Buffer[][] = [[b('FLUSHALL')], argvOf(build)];
    await connection.run(commands);
    commands.forEach((argv) => sabre.run(argv));
    const iterate = async (run: (argv: Buffer[]) => Promise<Buffer>) => {
      const seen = new Set<string>();
      let cursor = '0';
      let calls = 0;
      do {
        const [next, items] = elements(parseReply(await run(argvOf([scan, key, cursor, 'COUNT', '50']))));
        cursor = text(next);
        names(elements(items)).forEach((name) => seen.add(name));
        calls++;
      } while (cursor !== '0');
      return { seen, calls };
    };
    const theirs = await iterate(async (argv) => (await connection.run([argv]))[0]);
    const ours = await iterate(async (argv) => sabre.run(argv));
    expect(ours.seen.size).toBe(size);
    expect([...ours.seen].sort()).toEqual([...theirs.seen].sort());
    expect(ours.calls).toBeGreaterThan(10);
    expect(ours.calls, `${theirs.calls} pages on Redis`).toBeLessThan(theirs.calls * 1.5);
  });
}
