/**
 * Differential test of the string and key commands: the same command sequences run through sabre's
 * execution core (a shard database, the command table, the reply writer) and through a real
 * redis-server 7 over a socket, and every reply must be byte-identical. Replies that carry the clock
 * (TTL, PTTL, EXPIRETIME…) may differ by the milliseconds between the two runs, and only by that.
 */
import { defaultCollectionLimits } from '../../src/collections/limits.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Arena } from 'native-free-alloc';
import { execute } from '../../src/commands/dispatch.js';
import { CommandTable } from '../../src/commands/table.js';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { Database } from '../../src/shard/database.js';
import { RedisConnection, b, commandGenerator, sameReply } from '../helpers/differential.js';
import { Random } from '../helpers/random.js';
import { startRedis, type RunningRedis } from '../helpers/redis-server.js';

/** sabre's side: one database, executed in-process with the clock of the moment. */
function sabreRunner() {
  const table = new CommandTable();
  const db = new Database(new Arena());
  const reply = new ReplyWriter();
  return (argv: readonly Buffer[]): Buffer => {
    execute(table.lookup(argv[0]), { db, reply, now: Date.now(), databases: [db], dbIndex: 0, limits: defaultCollectionLimits() }, argv);
    return reply.take();
  };
}

describe('string and key commands against a real redis-server 7', () => {
  let redis: RunningRedis | undefined;
  let connection: RedisConnection | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    if (redis !== undefined) connection = await RedisConnection.open(redis.port);
  });
  afterAll(async () => {
    connection?.close();
    await redis?.stop();
  });

  it('rounds absolute and relative times to seconds as Redis does', async (context) => {
    if (connection === undefined) return context.skip();
    const commands = [
      [b('SET'), b('r'), b('v')],
      [b('PEXPIREAT'), b('r'), b('99999999999500')],
      [b('EXPIRETIME'), b('r')],
      [b('PEXPIREAT'), b('r'), b('99999999999499')],
      [b('EXPIRETIME'), b('r')],
      [b('PEXPIRE'), b('r'), b('100500000')],
      [b('TTL'), b('r')],
      [b('DEL'), b('r')],
    ];
    const expected = await connection.run(commands);
    const ours = sabreRunner();
    commands.forEach((argv, i) => expect(ours(argv).toString('latin1'), argv.join(' ')).toBe(expected[i].toString('latin1')));
  });

  for (const seed of [11, 12, 13, 14]) {
    it(`gives byte-identical replies over a seeded random sequence (seed ${seed})`, async (context) => {
      if (connection === undefined) return context.skip();
      await connection.run([[b('FLUSHALL')]]);
      const random = new Random(seed);
      const next = commandGenerator(random);
      const ours = sabreRunner();
      const mismatches: string[] = [];
      for (let batch = 0; batch < 20; batch++) {
        const commands = Array.from({ length: 100 }, next);
        const expected = await connection.run(commands);
        commands.forEach((argv, i) => {
          const actual = ours(argv);
          const name = argv[0].toString('latin1').toLowerCase();
          if (!sameReply(name, actual, expected[i]) && mismatches.length < 10) {
            const shown = argv.map((a) => JSON.stringify(a.length > 40 ? `${a.toString('latin1', 0, 20)}…(${a.length})` : a.toString('latin1'))).join(' ');
            mismatches.push(`${shown}\n    sabre: ${JSON.stringify(actual.toString('latin1'))}\n    redis: ${JSON.stringify(expected[i].toString('latin1'))}`);
          }
        });
      }
      expect(mismatches, mismatches.join('\n')).toEqual([]);
    });
  }
});
