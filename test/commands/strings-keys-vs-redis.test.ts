/**
 * Differential test of the string and key commands: the same command sequences run through sabre's
 * execution core (a shard database, the command table, the reply writer) and through a real
 * redis-server 7 over a socket, and every reply must be byte-identical. Replies that carry the clock
 * (TTL, PTTL, EXPIRETIME…) may differ by the milliseconds between the two runs, and only by that.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Arena } from 'native-free-alloc';
import { execute } from '../../src/commands/dispatch.js';
import { CommandTable } from '../../src/commands/table.js';
import { ReplyReader } from '../../src/protocol/reply-reader.js';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { Database } from '../../src/shard/database.js';
import { Random } from '../helpers/random.js';
import { startRedis, type RunningRedis } from '../helpers/redis-server.js';

const CLOCK_COMMANDS = new Set(['ttl', 'pttl', 'expiretime', 'pexpiretime']);

function encodeCommand(argv: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const arg of argv) parts.push(Buffer.from(`$${arg.length}\r\n`), arg, Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** Sends commands to the real server one pipeline at a time and returns each reply's bytes. */
class RedisConnection {
  private readonly reader = new ReplyReader();
  private waiting: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.reader.feed(chunk);
      this.waiting?.();
    });
  }

  static open(port: number): Promise<RedisConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RedisConnection(socket)));
      socket.once('error', reject);
    });
  }

  async run(commands: readonly (readonly Buffer[])[]): Promise<Buffer[]> {
    this.socket.write(Buffer.concat(commands.map(encodeCommand)));
    const replies: Buffer[] = [];
    while (replies.length < commands.length) {
      const next = this.reader.nextWithBytes();
      if (next !== undefined) replies.push(Buffer.from(next.bytes));
      else await new Promise<void>((resolve) => (this.waiting = resolve));
    }
    return replies;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** sabre's side: one database, executed in-process with the clock of the moment. */
function sabreRunner() {
  const table = new CommandTable();
  const db = new Database(new Arena());
  const reply = new ReplyWriter();
  return (argv: readonly Buffer[]): Buffer => {
    execute(table, { db, reply, now: Date.now() }, argv);
    return reply.take();
  };
}

const b = (s: string) => Buffer.from(s, 'latin1');

function commandGenerator(random: Random) {
  const key = () => b(`k${random.int(0, 7)}`);
  const integer = () =>
    b(random.pick(['0', '1', '-1', '42', '-17', '9223372036854775806', '9223372036854775807', '-9223372036854775808', '-9223372036854775807', '007', '+5', '1.5', 'abc', '', ' 3', '10000000000000000000']));
  const float = () => b(random.pick(['0.1', '1.5', '-2.25', '1e3', '10', '3.0e2', 'abc', 'inf', '1e400', '.5', '5.', ' 1', '0']));
  const value = () => {
    const roll = random.next();
    if (roll < 0.3) return integer();
    if (roll < 0.4) return float();
    if (roll < 0.8) return b(`v${random.int(0, 999)}`);
    if (roll < 0.9) return Buffer.alloc(random.int(500, 700), random.int(97, 122));
    return Buffer.from([random.int(0, 255), 0, 13, 10, random.int(0, 255)]);
  };
  const seconds = () => b(random.pick(['100', '5000', '0', '-5', 'x', '9223372036854775807', '922337203685477']));
  const setOptions = (): Buffer[] => {
    const options: Buffer[] = [];
    const count = random.int(0, 3);
    for (let i = 0; i < count; i++) {
      const option = random.pick(['NX', 'XX', 'GET', 'KEEPTTL', 'EX', 'PX', 'EXAT', 'PXAT', 'nx', 'ex', 'BOGUS', 'PERSIST']);
      options.push(b(option));
      if (/^(ex|px|exat|pxat)$/i.test(option)) {
        const absolute = /at$/i.test(option);
        const past = random.next() < 0.3;
        const ms = option.toLowerCase().startsWith('p');
        const base = absolute ? (past ? 1_000_000 : Date.now() + 1_000_000_000) : 100_000;
        options.push(random.next() < 0.85 ? b(String(ms ? base : Math.floor(base / 1000))) : seconds());
      }
    }
    return options;
  };
  return (): Buffer[] => {
    const roll = random.int(0, 30);
    switch (roll) {
      case 0:
      case 1:
      case 2:
        return [b('SET'), key(), value(), ...setOptions()];
      case 3:
        return [b('GET'), key()];
      case 4:
        return [b('SETNX'), key(), value()];
      case 5:
        return [b(random.pick(['SETEX', 'PSETEX'])), key(), seconds(), value()];
      case 6:
        return [b('GETSET'), key(), value()];
      case 7:
        return [b('GETDEL'), key()];
      case 8:
        return [b('GETEX'), key(), ...setOptions().filter((o) => !/^(nx|xx|get|keepttl)$/i.test(o.toString('latin1')))];
      case 9:
        return [b('MGET'), key(), key(), key()];
      case 10:
        return random.next() < 0.9 ? [b('MSET'), key(), value(), key(), value()] : [b('MSET'), key(), value(), key()];
      case 11:
        return [b('MSETNX'), key(), value(), key(), value()];
      case 12:
        return [b('APPEND'), key(), value()];
      case 13:
        return [b('STRLEN'), key()];
      case 14:
        return [b(random.pick(['INCR', 'DECR'])), key()];
      case 15:
        return [b(random.pick(['INCRBY', 'DECRBY'])), key(), integer()];
      case 16:
        return [b('INCRBYFLOAT'), key(), float()];
      case 17:
        return [b(random.pick(['GETRANGE', 'SUBSTR'])), key(), integer(), b(String(random.int(-10, 10)))];
      case 18:
        return [b('SETRANGE'), key(), b(String(random.pick([0, 1, 3, 10, 600, -1]))), value()];
      case 19:
        return [b(random.pick(['DEL', 'UNLINK', 'EXISTS', 'TOUCH'])), key(), key()];
      case 20:
        return [b('TYPE'), key()];
      case 21:
      case 22: {
        const command = random.pick(['EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT']);
        const flags = random.next() < 0.5 ? [] : [b(random.pick(['NX', 'XX', 'GT', 'LT', 'gt', 'BAD']))];
        if (random.next() < 0.1) flags.push(b(random.pick(['NX', 'XX', 'GT', 'LT'])));
        const absolute = command.endsWith('AT');
        const when = absolute ? random.pick([1_000, Date.now() + 500_000_000]) : random.pick([100_000, 5_000_000, -1]);
        const scaled = command.startsWith('P') ? when : Math.floor(when / 1000);
        return [b(command), key(), random.next() < 0.9 ? b(String(scaled)) : seconds(), ...flags];
      }
      case 23:
        return [b(random.pick(['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME'])), key()];
      case 24:
        return [b('PERSIST'), key()];
      case 25:
        return [b(random.pick(['get', 'Set', 'incr'])), key(), ...(random.next() < 0.5 ? [value()] : [])];
      case 26:
        return [b('GET')];
      case 27:
        return [b('NOSUCHCOMMAND'), key(), value()];
      default:
        return [b('SET'), key(), value()];
    }
  };
}

function sameReply(command: string, ours: Buffer, theirs: Buffer): boolean {
  if (ours.equals(theirs)) return true;
  if (!CLOCK_COMMANDS.has(command)) return false;
  const a = /^:(-?\d+)\r\n$/.exec(ours.toString('latin1'));
  const c = /^:(-?\d+)\r\n$/.exec(theirs.toString('latin1'));
  // Milliseconds may differ by the time between the two runs. A TTL in seconds may not: every expiry
  // here is at least 100 s away and the run takes milliseconds. An absolute time in seconds set from
  // each side's own clock may straddle a half second; the fixed case below pins its rounding exactly.
  const tolerance = command.startsWith('p') ? 2000 : command === 'expiretime' ? 1 : 0;
  return a !== null && c !== null && Number(a[1]) > 0 && Math.abs(Number(a[1]) - Number(c[1])) <= tolerance;
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
