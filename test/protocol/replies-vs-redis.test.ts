/**
 * The shared error replies and the reply writer's encodings, checked against a real redis-server 7.0:
 *  - every constant and formatter in src/protocol/errors.ts is produced by a command that makes Redis
 *    send that error, and must equal Redis's text byte for byte;
 *  - doubles (`%.17g`) and the RESP3 types with their RESP2 fallbacks (null bulk and array, map, set,
 *    push, boolean, double, big number, verbatim) must equal what Redis sends for the same values, in
 *    both protocol versions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as errors from '../../src/protocol/errors.js';
import { ReplyReader, type RespValue } from '../../src/protocol/reply-reader.js';
import { ReplyWriter, type ProtocolVersion } from '../../src/protocol/reply-writer.js';
import { Random } from '../helpers/random.js';
import { rawExchange, startRedis, type RunningRedis } from '../helpers/redis-server.js';
import { latin1, multibulk } from './parse-outcome.js';

type Argv = (string | Buffer)[];

/** Sends the commands as one pipeline on a fresh connection and returns every reply with its bytes. */
async function ask(redis: RunningRedis, commands: readonly Argv[]): Promise<{ reply: RespValue; bytes: Buffer }[]> {
  const countReplies = (received: Buffer): number => {
    const reader = new ReplyReader();
    reader.feed(received);
    return reader.all().length;
  };
  const { received } = await rawExchange(redis.port, Buffer.concat(commands.map((argv) => multibulk(...argv))), {
    timeoutMs: 5000,
    until: (bytes) => countReplies(bytes) >= commands.length,
  });
  const reader = new ReplyReader();
  reader.feed(received);
  const replies: { reply: RespValue; bytes: Buffer }[] = [];
  for (let next = reader.nextWithBytes(); next !== undefined; next = reader.nextWithBytes()) replies.push(next);
  if (replies.length !== commands.length) throw new Error(`expected ${commands.length} replies, got ${replies.length}`);
  return replies;
}

/** The last reply's error text as bytes (latin1 round trip), or a description of what came instead. */
async function lastError(redis: RunningRedis, commands: readonly Argv[]): Promise<string> {
  const replies = await ask(redis, [['FLUSHALL'], ...commands]);
  const { reply } = replies[replies.length - 1];
  return reply.type === 'error' ? reply.value : `not an error: ${JSON.stringify(reply)}`;
}

const text = (message: string | Buffer): string => (typeof message === 'string' ? message : message.toString('latin1'));

let redis: RunningRedis | undefined;
let redisWithPassword: RunningRedis | undefined;

beforeAll(async () => {
  // One at a time, each assigned as it starts, so that afterAll stops every server even if a later one fails.
  redis = await startRedis();
  redisWithPassword = await startRedis({ config: { requirepass: 'secret' } });
});

afterAll(async () => {
  await Promise.all([redis?.stop(), redisWithPassword?.stop()]);
});

describe('error replies are exactly Redis 7.0 wording', () => {
  /** [what Redis must answer, commands whose last reply is that error] */
  const cases: [string | Buffer, Argv[]][] = [
    [errors.ERR_SYNTAX, [['SET', 'k', 'v', 'XX', 'NX']]],
    [errors.WRONGTYPE, [['RPUSH', 'l', 'a'], ['GET', 'l']]],
    [errors.ERR_NOT_INTEGER, [['SET', 'k', 'v'], ['INCR', 'k']]],
    [errors.ERR_NOT_FLOAT, [['ZADD', 'z', 'x', 'a']]],
    [errors.ERR_NOT_POSITIVE, [['SPOP', 's', '-1']]],
    [errors.ERR_INCR_OVERFLOW, [['SET', 'n', '9223372036854775807'], ['INCR', 'n']]],
    [errors.ERR_DECR_OVERFLOW, [['DECRBY', 'n', '-9223372036854775808']]],
    [errors.ERR_INCR_NAN, [['SET', 'f', '1.5'], ['INCRBYFLOAT', 'f', 'inf']]],
    [errors.ERR_HASH_NOT_INTEGER, [['HSET', 'h', 'f', 'x'], ['HINCRBY', 'h', 'f', '1']]],
    [errors.ERR_HASH_NOT_FLOAT, [['HSET', 'h', 'f', 'x'], ['HINCRBYFLOAT', 'h', 'f', '1']]],
    [errors.ERR_MIN_MAX_NOT_FLOAT, [['ZRANGEBYSCORE', 'z', 'a', 'b']]],
    [errors.ERR_TIMEOUT_NOT_FLOAT, [['BLPOP', 'l', 'x']]],
    [errors.ERR_TIMEOUT_NEGATIVE, [['BLPOP', 'l', '-1']]],
    [errors.ERR_BIT_OFFSET, [['SETBIT', 'k', 'x', '1']]],
    [errors.ERR_BIT_VALUE, [['SETBIT', 'k', '0', '2']]],
    [errors.ERR_OFFSET_OUT_OF_RANGE, [['SETRANGE', 'k', '-1', 'x']]],
    [errors.ERR_NO_SUCH_KEY, [['RENAME', 'missing', 'x']]],
    [errors.ERR_INDEX_OUT_OF_RANGE, [['RPUSH', 'l', 'a'], ['LSET', 'l', '5', 'x']]],
    [errors.ERR_DB_INDEX_OUT_OF_RANGE, [['SELECT', '99']]],
    [errors.ERR_INVALID_CURSOR, [['SCAN', 'x']]],
    [errors.ERR_NOT_INT32, [['MOVE', 'k', '2147483648']]],
    [errors.ERR_VALUE_NAN, [['HINCRBYFLOAT', 'h', 'f', 'inf']]],
    [errors.ERR_NOT_LONG, [['HRANDFIELD', 'h', '-9223372036854775808']]],
    [errors.ERR_OUT_OF_RANGE, [['HRANDFIELD', 'h', '4611686018427387904', 'WITHVALUES']]],
    [errors.ERR_HASH_NOT_INTEGER, [['HSET', 'h', 'f', 'x'], ['HINCRBY', 'h', 'f', '1']]],
    [errors.ERR_HASH_NOT_FLOAT, [['HSET', 'h', 'f', 'x'], ['HINCRBYFLOAT', 'h', 'f', '1']]],
    [errors.ERR_INVALID_FIRST_DB_INDEX, [['SWAPDB', 'x', '0']]],
    [errors.ERR_INVALID_SECOND_DB_INDEX, [['SWAPDB', '0', '-2147483649']]],
    [errors.ERR_SAME_OBJECT, [['SET', 'k', 'v'], ['COPY', 'k', 'k']]],
    [errors.ERR_LFU_NOT_SELECTED, [['SET', 'k', 'v'], ['OBJECT', 'FREQ', 'k']]],
    [errors.ERR_MULTI_NESTED, [['MULTI'], ['MULTI']]],
    [errors.ERR_EXEC_WITHOUT_MULTI, [['EXEC']]],
    [errors.ERR_DISCARD_WITHOUT_MULTI, [['DISCARD']]],
    [errors.EXECABORT, [['MULTI'], ['NOSUCHCOMMAND'], ['EXEC']]],
    [errors.BUSYKEY, [['RPUSH', 'l', 'a'], ['RESTORE', 'l', '0', 'x']]],
    [errors.NOPROTO, [['HELLO', '4']]],
    [errors.ERR_PROTOCOL_VERSION_NOT_INTEGER, [['HELLO', 'x']]],
    [errors.wrongArity('get'), [['GET']]],
    [errors.wrongArity('config|get'), [['CONFIG', 'GET']]],
    [errors.invalidExpireTime('set'), [['SET', 'k', 'v', 'EX', '0']]],
    // GETEX of a missing key answers nil before it looks at the expiry.
    [errors.invalidExpireTime('getex'), [['SET', 'k', 'v'], ['GETEX', 'k', 'EX', '0']]],
    [errors.unknownSubcommand(latin1('foo'), 'config'), [['CONFIG', 'foo']]],
    [errors.unknownSubcommand(latin1(`x\r\n\xff\0y${'z'.repeat(200)}`), 'object'), [['OBJECT', latin1(`x\r\n\xff\0y${'z'.repeat(200)}`)]]],
  ];

  const unknown: Argv[] = [
    ['foo'],
    ['foo', 'a', 'b'],
    [''],
    ['N'.repeat(200), 'a'],
    [latin1('na\0me'), latin1('ar\0g')],
    ['x', latin1('a\r\nb'), latin1('\xff\xfe')],
    ['x', 'a'.repeat(30), 'b'.repeat(30), 'c'.repeat(30), 'd'.repeat(30), 'e'],
    ['x', 'a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60)],
    ['x', 'a'.repeat(126), 'b'],
    ['x', 'a'.repeat(125), 'b'],
    ['x', 'a'.repeat(300)],
    ['x', '', '', ''],
  ];

  it('for every shared constant and formatter', async (context) => {
    if (redis === undefined) return context.skip();
    const server = redis;
    const checks = [
      ...cases.map(([expected, commands]) => ({ expected: text(expected), commands })),
      ...unknown.map((argv) => ({ expected: text(errors.unknownCommand(argv.map((a) => (typeof a === 'string' ? latin1(a) : a)))), commands: [argv] })),
    ];
    // One after another: each starts with FLUSHALL on the one shared keyspace.
    const answers: string[] = [];
    for (const { commands } of checks) answers.push(await lastError(server, commands));
    expect(answers).toEqual(checks.map(({ expected }) => expected));
  });

  it('NOAUTH, from a server with a password', async (context) => {
    if (redisWithPassword === undefined) return context.skip();
    const [{ reply }] = await ask(redisWithPassword, [['PING']]);
    expect(reply).toEqual({ type: 'error', value: errors.NOAUTH });
  });
});

describe('reply encodings are exactly Redis 7.0 bytes, RESP2 and RESP3', () => {
  const encode = (protocol: ProtocolVersion, write: (writer: ReplyWriter) => void): string => {
    const writer = new ReplyWriter();
    writer.protocol = protocol;
    write(writer);
    return writer.take().toString('latin1');
  };

  /** Redis's bytes for the last command, after HELLO <protocol> and the setup commands. */
  async function lastReplyBytes(server: RunningRedis, protocol: ProtocolVersion, commands: Argv[]): Promise<string> {
    const replies = await ask(server, [['HELLO', String(protocol)], ['FLUSHALL'], ...commands]);
    return replies[replies.length - 1].bytes.toString('latin1');
  }

  it('doubles, formatted as %.17g', async (context) => {
    if (redis === undefined) return context.skip();
    const random = new Random(11);
    const values = [1.1, 0.1, 1 / 3, 3, 100, 1e16, 1e17, 1e20, 1e-4, 1e-5, 123456789012345678, 5e-324, 1.7976931348623157e308, -2.5e-7, Infinity, -Infinity];
    for (let i = 0; i < 40; i++) values.push((random.next() - 0.5) * 10 ** random.int(-30, 30));
    for (let i = 0; i < 10; i++) values.push(random.int(-1e6, 1e6));
    const members = values.map((_, i) => `m${i}`);
    const zadd: Argv = ['ZADD', 'z', ...values.flatMap((value, i) => [Number.isFinite(value) ? String(value) : value > 0 ? 'inf' : '-inf', members[i]])];
    for (const protocol of [2, 3] as const) {
      const replies = await ask(redis, [['HELLO', String(protocol)], ['DEL', 'z'], zadd, ...members.map((member) => ['ZSCORE', 'z', member])]);
      const theirs = replies.slice(3).map(({ bytes }) => bytes.toString('latin1'));
      expect(theirs, `RESP${protocol}`).toEqual(values.map((value) => encode(protocol, (w) => w.double(value))));
    }
  });

  it.for<[string, Argv[], (writer: ReplyWriter) => void]>([
    ['null bulk (GET of a missing key)', [['GET', 'missing']], (w) => w.nullBulk()],
    ['null array (BLPOP timing out)', [['BLPOP', 'missing', '0.01']], (w) => w.nullArray()],
    [
      'map (HGETALL)',
      [['HSET', 'h', 'f', '1'], ['HGETALL', 'h']],
      (w) => {
        w.mapHeader(1);
        w.bulk('f');
        w.bulk('1');
      },
    ],
    [
      'set (SMEMBERS)',
      [['SADD', 's', 'x'], ['SMEMBERS', 's']],
      (w) => {
        w.setHeader(1);
        w.bulk('x');
      },
    ],
    [
      'push (SUBSCRIBE)',
      [['SUBSCRIBE', 'channel']],
      (w) => {
        w.pushHeader(3);
        w.bulk('subscribe');
        w.bulk('channel');
        w.integer(1);
      },
    ],
    ['boolean true (Lua in RESP3 mode)', [['EVAL', 'redis.setresp(3); return true', '0']], (w) => w.boolean(true)],
    ['boolean false (Lua in RESP3 mode)', [['EVAL', 'redis.setresp(3); return false', '0']], (w) => w.boolean(false)],
    ['double (Lua)', [['EVAL', 'return {double=1.5}', '0']], (w) => w.double(1.5)],
    ['big number (Lua)', [['EVAL', "return {big_number='1234567890123456789012345678901234567890'}", '0']], (w) => w.bigNumber(1234567890123456789012345678901234567890n)],
    [
      'verbatim string (Lua)',
      [['EVAL', "return {verbatim_string={format='txt', string='hi\\nthere'}}", '0']],
      (w) => w.verbatim('hi\nthere'),
    ],
    [
      'verbatim string (MEMORY DOCTOR)',
      [['MEMORY', 'DOCTOR']],
      (w) =>
        w.verbatim(
          "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n",
        ),
    ],
    ['integer (a 64-bit counter)', [['SET', 'n', '9223372036854775806'], ['INCR', 'n']], (w) => w.integer(9223372036854775807n)],
    ['empty array (KEYS on an empty db)', [['KEYS', '*']], (w) => w.arrayHeader(0)],
    ['status (SET)', [['SET', 'k', 'v']], (w) => w.ok()],
  ])('%s', async ([, commands, write], context) => {
    if (redis === undefined) return context.skip();
    for (const protocol of [2, 3] as const) {
      expect(await lastReplyBytes(redis, protocol, commands), `RESP${protocol}`).toBe(encode(protocol, write));
    }
  });
});
