/**
 * Shared by the differential tests: a RESP connection that returns each reply's raw bytes, the seeded
 * generator of string and key command sequences, and the reply comparison that tolerates only the
 * clock (milliseconds between two runs).
 */
import { connect, type Socket } from 'node:net';
import { ReplyReader } from '../../src/protocol/reply-reader.js';
import type { Random } from './random.js';

const CLOCK_COMMANDS = new Set(['ttl', 'pttl', 'expiretime', 'pexpiretime']);

export function encodeCommand(argv: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const arg of argv) parts.push(Buffer.from(`$${arg.length}\r\n`), arg, Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** Sends commands to the real server one pipeline at a time and returns each reply's bytes. */
export class RedisConnection {
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

export const b = (s: string) => Buffer.from(s, 'latin1');

export function commandGenerator(random: Random) {
  const key = () => b(`k${random.int(0, 7)}`);
  /**
   * A relative expiry in ms, whole seconds and a quarter apart from any other draw (bar an equal draw):
   * which of two expiries set a few milliseconds apart is later (GT, LT) must not hang on those
   * milliseconds, which differ between the two servers. In seconds it rounds down to a value no ms draw
   * can equal; and a quarter second keeps TTL's rounding to the nearest second off its half-way point.
   */
  const relativeMs = () => random.int(100, 5000) * 1000 + 250;
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
        const base = absolute ? (past ? 1_000_000 : Date.now() + 1_000_000_000) : relativeMs();
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
        const inMs = command.startsWith('P');
        const when = absolute ? random.pick([1_000, Date.now() + 500_000_000]) : random.next() < 0.2 ? -1 : relativeMs();
        const scaled = inMs ? when : Math.floor(when / 1000);
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

export function sameReply(command: string, ours: Buffer, theirs: Buffer): boolean {
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

