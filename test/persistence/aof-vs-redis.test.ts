/**
 * sabre's AOF against the real Redis's: the same commands, one at a time, on both servers (appendfsync
 * always, so each reply comes after its record is in the file), and after every command what each
 * appended to its incremental file must be the same commands. Absolute times may differ by the moment
 * each ran (within a few seconds), and SPOP's members by chance; everything else must match exactly.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAofCommands } from '../../src/persistence/aof-reader.js';
import { RedisConnection, b } from '../helpers/differential.js';
import { startRedis, type RunningRedis } from '../helpers/redis-server.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

const INCR = join('appendonlydir', 'appendonly.aof.1.incr.aof');
const TIME_TOLERANCE_MS = 5000;

/** The commands appended since `from`, with times and SPOP's random members made comparable. */
function appended(path: string, from: number): { commands: string[][]; times: number[]; size: number } {
  const bytes = readFileSync(path);
  const commands: string[][] = [];
  const times: number[] = [];
  for (const { argv } of readAofCommands(bytes, from)) {
    const words = argv.map((arg) => arg.toString('latin1'));
    commands.push(
      words.map((word, index) => {
        if (/^\d{13}$/.test(word)) {
          times.push(Number(word));
          return '<time>';
        }
        return words[0] === 'SREM' && index === 2 ? '<member>' : word;
      }),
    );
  }
  return { commands, times, size: bytes.length };
}

/**
 * A key found expired by the command that writes it is deleted in the command's own unit (MULTI, DEL,
 * the command, EXEC), unless active expiry got to it first (DEL alone, then the command): which one
 * happens is a matter of timing on either server, so both read as the second.
 */
function unwrapExpiry(commands: string[][]): string[][] {
  const [first, second, , last] = commands;
  if (commands.length === 4 && first[0] === 'MULTI' && second[0] === 'DEL' && last[0] === 'EXEC') return commands.slice(1, 3);
  return commands;
}

describe('the AOF sabre writes, command by command, against Redis 7.0', () => {
  let sabre: RunningSabre;
  let redis: RunningRedis | undefined;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sabre-aof-'));
    sabre = await startSabre(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--shards', '1']);
    redis = await startRedis({ config: { appendonly: 'yes', appendfsync: 'always' } });
  });
  afterAll(async () => {
    expect(await sabre.stop()).toBe(0);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends the same commands', async (context) => {
    if (redis === undefined) return context.skip();
    const ours = await RedisConnection.open(sabre.port);
    const theirs = await RedisConnection.open(redis.port);
    const now = Date.now();
    const [payload] = await theirs.run([[b('SET'), b('payload'), b('value')], [b('DUMP'), b('payload')]]).then((replies) => replies.slice(1));
    await ours.run([[b('SET'), b('payload'), b('value')]]);
    const dumped = payload.subarray(payload.indexOf(0x0a) + 1, payload.length - 2);
    const script: (string[] | Buffer[] | number)[] = [
      ['SET', 'a', '1'],
      ['SET', 'b', '2', 'EX', '100'],
      ['SET', 'c', '3', 'PX', '100000', 'NX', 'GET'],
      ['SETEX', 'd', '100', 'v'],
      ['PSETEX', 'd2', '100000', 'v'],
      ['SET', 'e', 'v', 'EXAT', String(Math.floor(now / 1000) + 100)],
      ['SET', 'e2', 'v', 'PXAT', String(now + 100000)],
      ['SET', 'k', 'v', 'KEEPTTL', 'GET'],
      ['EXPIRE', 'a', '1000'],
      ['EXPIRE', 'a', '2000', 'XX'],
      ['EXPIRE', 'nokey', '10'],
      ['EXPIREAT', 'a', String(Math.floor(now / 1000) + 3000)],
      ['PEXPIRE', 'a', '50000'],
      ['PEXPIREAT', 'a', String(now + 60000)],
      ['EXPIRE', 'd', '-1'],
      ['GETEX', 'b', 'PERSIST'],
      ['GETEX', 'a', 'EX', '50'],
      ['GETEX', 'e', 'PXAT', String(now - 1000)],
      ['INCR', 'cnt'],
      ['INCRBYFLOAT', 'f', '1.5'],
      ['HINCRBYFLOAT', 'h', 'x', '2.5'],
      ['SADD', 's', 'a'],
      ['SPOP', 's'],
      ['SADD', 's', 'a', 'b', 'c', 'd'],
      ['SPOP', 's', '2'],
      ['SPOP', 's', '5'],
      ['SRANDMEMBER', 's'],
      ['RPUSH', 'l', 'a', 'b', 'c', 'd'],
      ['BLPOP', 'l', '0'],
      ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '2'],
      ['BLMPOP', '0', '2', 'nolist', 'l', 'RIGHT'],
      ['RPUSH', 'l2', 'a', 'b'],
      ['BLMOVE', 'l2', 'l3', 'LEFT', 'RIGHT', '0'],
      ['BRPOPLPUSH', 'l2', 'l3', '0'],
      ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd'],
      ['BZPOPMIN', 'z', '0'],
      ['ZMPOP', '1', 'z', 'MIN', 'COUNT', '1'],
      ['BZMPOP', '0', '1', 'z', 'MAX'],
      ['SELECT', '2'],
      ['SET', 'x', 'y'],
      ['SELECT', '0'],
      ['SET', 'gone', 'v', 'PX', '1'],
      20,
      ['SET', 'gone', 'w'],
      ['SET', 'gone2', 'v', 'PX', '1'],
      20,
      ['GET', 'gone2'],
      ['DEL', 'nokey'],
      ['MULTI'],
      ['SET', 't', '1'],
      ['INCR', 't'],
      ['EXEC'],
      ['MULTI'],
      ['GET', 't'],
      ['EXEC'],
      [b('RESTORE'), b('r'), b('100000'), dumped],
      [b('RESTORE'), b('r2'), b(String(now + 100000)), dumped, b('ABSTTL')],
      ['RENAME', 'c', 'c2'],
      ['RENAMENX', 'c2', 'k'],
      ['GETDEL', 'k'],
      ['GETSET', 'k', 'v2'],
      ['SETNX', 'k', 'v3'],
      ['SETNX', 'k4', 'v'],
      ['SET', 'missing', 'v', 'EX', '100', 'XX'],
      ['APPEND', 'k', 'tail'],
      ['SETRANGE', 'k', '1', 'xy'],
      ['DECRBY', 'cnt', '5'],
      ['EXPIRE', 'cnt', '100', 'GT'],
      ['HSETNX', 'h', 'y', '1'],
      ['HDEL', 'h', 'nofield'],
      ['HDEL', 'h', 'y'],
      ['LPUSHX', 'nolist', 'a'],
      ['RPUSH', 'l4', 'a', 'b', 'c', 'd', 'e'],
      ['LSET', 'l4', '0', 'z'],
      ['LTRIM', 'l4', '1', '-1'],
      ['LREM', 'l4', '0', 'c'],
      ['SADD', 's1', 'a', 'b', 'c'],
      ['SADD', 's2', 'b', 'c', 'd'],
      ['SMOVE', 's1', 's2', 'a'],
      ['SINTERSTORE', 's3', 's1', 's2'],
      ['SREM', 's3', 'zz'],
      ['ZINCRBY', 'z2', '1.5', 'm'],
      ['ZADD', 'z2', '1', 'a', '2', 'b', '3', 'c'],
      ['ZRANGESTORE', 'z3', 'z2', '0', '1'],
      ['ZREMRANGEBYSCORE', 'z2', '2', '2'],
      ['ZUNIONSTORE', 'z4', '2', 'z2', 'z3'],
      ['COPY', 'z4', 'z5'],
      ['MOVE', 'z5', '3'],
      ['SETBIT', 'bits', '7', '1'],
      ['BITOP', 'OR', 'bits2', 'bits', 'k'],
      ['BITFIELD', 'bf', 'INCRBY', 'u8', '0', '10'],
      ['PFADD', 'hll', 'a', 'b'],
      ['PFADD', 'hll', 'a'],
      ['PFMERGE', 'hll2', 'hll'],
      ['SORT', 'l4', 'ALPHA', 'STORE', 'sorted'],
      ['UNLINK', 'sorted', 'nokey'],
      ['DEL', 'l4', 'hll2'],
      ['SWAPDB', '0', '1'],
      ['FLUSHDB'],
      ['FLUSHALL'],
      ['SET', 'last', '1'],
    ];
    let ourSize = 0;
    let theirSize = 0;
    ({ size: ourSize } = appended(join(dir, INCR), 0));
    ({ size: theirSize } = appended(join(redis.dir, INCR), 0));
    for (const step of script) {
      if (typeof step === 'number') {
        await new Promise((resolve) => setTimeout(resolve, step));
        continue;
      }
      const argv = step.map((arg) => (typeof arg === 'string' ? b(arg) : arg));
      const [ourReply] = await ours.run([argv]);
      const [theirReply] = await theirs.run([argv]);
      const label = argv.map((arg) => arg.toString('latin1')).join(' ');
      // Replies differ only where the command is random or timed; what matters here is the file.
      if (!/^(SPOP|SRANDMEMBER|RESTORE)/i.test(label)) expect(ourReply.toString('latin1'), label).toBe(theirReply.toString('latin1'));
      const ourPart = appended(join(dir, INCR), ourSize);
      const theirPart = appended(join(redis.dir, INCR), theirSize);
      ourSize = ourPart.size;
      theirSize = theirPart.size;
      expect(unwrapExpiry(ourPart.commands), label).toEqual(unwrapExpiry(theirPart.commands));
      ourPart.times.forEach((time, i) => expect(Math.abs(time - theirPart.times[i]), label).toBeLessThan(TIME_TOLERANCE_MS));
    }
    ours.close();
    theirs.close();
  });

  it('propagates a blocked client served later as the non-blocking pop', async (context) => {
    if (redis === undefined) return context.skip();
    const parts: string[][][] = [];
    for (const [port, directory] of [
      [sabre.port, dir],
      [redis.port, redis.dir],
    ] as const) {
      const from = appended(join(directory, INCR), 0).size;
      const waiting = await RedisConnection.open(port);
      const pusher = await RedisConnection.open(port);
      const served = waiting.run([[b('BLPOP'), b('queue'), b('0')]]);
      const moved = (async () => {
        const other = await RedisConnection.open(port);
        const reply = await other.run([[b('BLMOVE'), b('source'), b('destination'), b('RIGHT'), b('LEFT'), b('0')]]);
        other.close();
        return reply;
      })();
      // Both wait before anything arrives.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await pusher.run([[b('RPUSH'), b('queue'), b('job')], [b('RPUSH'), b('source'), b('a'), b('b')]]);
      expect((await served)[0].toString('latin1')).toBe('*2\r\n$5\r\nqueue\r\n$3\r\njob\r\n');
      await moved;
      parts.push(appended(join(directory, INCR), from).commands);
      waiting.close();
      pusher.close();
    }
    expect(parts[0]).toEqual(parts[1]);
    expect(parts[0].map((command) => command[0])).toEqual(['RPUSH', 'LPOP', 'RPUSH', 'LMOVE']);
  });
});
