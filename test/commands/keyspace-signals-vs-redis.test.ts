/**
 * Differential test of what writes signal: keyspace notifications, the dirty count and WATCH touches,
 * in-process Shard against a real redis-server 7, command by command.
 *
 *   notifications  Redis publishes to a connection PSUBSCRIBEd to `__key*@*__:*`; a sentinel PUBLISH
 *                  after each command marks where its messages end. sabre's shard.signals.events of
 *                  the command become the same (channel, message) pairs, keyspace first.
 *   dirty          the increment of Redis's rdb_changes_since_last_save (started with --save '')
 *                  against the increment of shard.signals.dirty.
 *   WATCH          one connection per watched key WATCHes it before the command and runs MULTI/PING/EXEC
 *                  after it (a null reply: touched); sabre compares signals.versionOf with watch().
 *
 * Each case group runs with notify-keyspace-events KEA and again with KEAnm (new-key and key-miss
 * events), on a fresh Shard and a flushed Redis.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyReader, type RespValue } from '../../src/protocol/reply-reader.js';
import { Shard } from '../../src/shard/shard.js';
import { notifyFlags } from '../../src/shard/keyspace-signals.js';
import { RedisConnection, b, commandGenerator, encodeCommand } from '../helpers/differential.js';
import { argvOf, type Line } from '../helpers/in-process-sabre.js';
import { Random } from '../helpers/random.js';
import { startRedis, type RunningRedis } from '../helpers/redis-server.js';

/** The keys whose WATCH is compared: [db, key]. */
const WATCHED: readonly (readonly [number, string])[] = [
  ...['a', 'b', 'c', 'd', 'k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'].map((key) => [0, key] as const),
  ...['a', 'b', 'k0'].map((key) => [1, key] as const),
];
const SENTINEL = '__keyspace@0__:__sentinel__';

/** A connection that collects the pmessages of a PSUBSCRIBE. */
class Subscriber {
  private readonly reader = new ReplyReader();
  private readonly messages: string[] = [];
  private waiting: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.reader.feed(chunk);
      for (const reply of this.reader.all()) {
        const parts = reply.type === 'array' && reply.value !== null ? reply.value.map(text) : [];
        if (parts[0] === 'pmessage') this.messages.push(`${parts[2]} -> ${parts[3]}`);
        else if (parts[0] === 'psubscribe') this.messages.push('subscribed');
      }
      this.waiting?.();
    });
  }

  static async open(port: number): Promise<Subscriber> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const opened = connect(port, '127.0.0.1', () => resolve(opened));
      opened.once('error', reject);
    });
    const subscriber = new Subscriber(socket);
    socket.write(encodeCommand(argvOf('PSUBSCRIBE __key*@*__:*')));
    await subscriber.until((message) => message === 'subscribed');
    return subscriber;
  }

  /** The messages up to the first one `last` accepts, which is left out. */
  async until(last: (message: string) => boolean): Promise<string[]> {
    for (;;) {
      const end = this.messages.findIndex(last);
      if (end >= 0) return this.messages.splice(0, end + 1).slice(0, end);
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A bulk reply's payload. */
function parseBulk(reply: Buffer): Buffer {
  const reader = new ReplyReader();
  reader.feed(reply);
  const value = reader.next();
  if (value?.type !== 'bulk' || value.value === null) throw new Error(`not a bulk string: ${reply.toString('latin1')}`);
  return value.value;
}

function text(value: RespValue): string {
  if (value.type === 'bulk' || value.type === 'simple') return value.value === null ? 'null' : value.value.toString('latin1');
  return value.type === 'integer' ? String(value.value) : value.type;
}

const shown = (argv: readonly Buffer[]) => argv.map((arg) => (arg.length > 30 ? `${arg.toString('latin1', 0, 12)}…(${arg.length})` : arg.toString('latin1'))).join(' ');

/** One command as each side runs it. */
interface PerSide {
  redis: readonly Buffer[];
  sabre: readonly Buffer[];
}

interface Signals {
  events: string[];
  dirty: number;
  touched: string[];
}

function describeSignals(signals: Signals): string {
  return `events ${JSON.stringify(signals.events)}, dirty +${signals.dirty}, touched [${signals.touched.join(' ')}]`;
}

describe('keyspace signals (notifications, dirty, WATCH) against a real redis-server 7', () => {
  let redis: RunningRedis | undefined;
  let main: RedisConnection;
  let subscriber: Subscriber;
  let watchers: RedisConnection[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    if (redis === undefined) return;
    const port = redis.port;
    main = await RedisConnection.open(port);
    subscriber = await Subscriber.open(port);
    watchers = await Promise.all(WATCHED.map(() => RedisConnection.open(port)));
    await Promise.all(watchers.map((watcher, i) => watcher.run([[b('SELECT'), b(String(WATCHED[i][0]))]])));
  });
  afterAll(async () => {
    main?.close();
    subscriber?.close();
    for (const watcher of watchers) watcher.close();
    await redis?.stop();
  });

  async function redisDirty(): Promise<number> {
    const [info] = await main.run([argvOf('INFO persistence')]);
    return Number(/rdb_changes_since_last_save:(\d+)/.exec(info.toString('latin1'))![1]);
  }

  /** Runs one command on Redis and returns what it signalled. */
  async function onRedis(argv: readonly Buffer[], before: number): Promise<[Signals, number]> {
    await Promise.all(watchers.map((watcher, i) => watcher.run([[b('WATCH'), b(WATCHED[i][1])]])));
    await main.run([argv, [b('PUBLISH'), b(SENTINEL), b('end')]]);
    const events = await subscriber.until((message) => message === `${SENTINEL} -> end`);
    const dirty = await redisDirty();
    const touched: string[] = [];
    await Promise.all(
      watchers.map(async (watcher, i) => {
        const [, , exec] = await watcher.run([[b('MULTI')], [b('PING')], [b('EXEC')]]);
        if (exec.toString('latin1') === '*-1\r\n') touched.push(WATCHED[i].join(':'));
      }),
    );
    touched.sort();
    return [{ events, dirty: dirty - before, touched }, dirty];
  }

  /**
   * Runs one command on the shard and returns what it signalled, in Redis's shape: `touched` is what
   * EXEC would find of a WATCH made just before the command, Redis's rules for expired keys included.
   */
  function onSabre(shard: Shard, argv: readonly Buffer[]): Signals {
    const signals = shard.signals;
    const WATCHER = 1;
    for (const [db, key] of WATCHED) signals.watch(db, b(key), WATCHER);
    const before = signals.dirty;
    shard.execute(0, 2, argv);
    const events: string[] = [];
    for (const { db, event, key } of signals.events) {
      events.push(`__keyspace@${db}__:${key.toString('latin1')} -> ${event}`, `__keyevent@${db}__:${event} -> ${key.toString('latin1')}`);
    }
    const touched = WATCHED.filter(([db, key]) => signals.touched(db, b(key), WATCHER)).map((watched) => watched.join(':'));
    for (const [db, key] of WATCHED) signals.unwatch(db, b(key), WATCHER);
    touched.sort();
    return { events, dirty: signals.dirty - before, touched };
  }

  /**
   * Runs the commands on both sides from empty databases; each command whose signals differ, described.
   * A command may differ by side (RESTORE's dump is Redis's, _sabre.key-restore's sabre's).
   */
  async function differences(flags: string, commands: readonly (readonly Buffer[] | PerSide)[]): Promise<string[]> {
    await main.run([[b('FLUSHALL')], argvOf(`CONFIG SET notify-keyspace-events ${flags}`), [b('PUBLISH'), b(SENTINEL), b('start')]]);
    await subscriber.until((message) => message === `${SENTINEL} -> start`);
    let dirty = await redisDirty();
    const shard = new Shard();
    shard.configure({ 'notify-keyspace-events': notifyFlags(flags) });
    const found: string[] = [];
    for (const command of commands) {
      const { redis: argv, sabre } = 'redis' in command ? command : { redis: command, sabre: command };
      const [theirs, after] = await onRedis(argv, dirty);
      dirty = after;
      const ours = onSabre(shard, sabre);
      const same = JSON.stringify(ours) === JSON.stringify(theirs);
      if (!same && found.length < 12) found.push(`${shown(argv)}\n    sabre: ${describeSignals(ours)}\n    redis: ${describeSignals(theirs)}`);
    }
    return found;
  }

  const CASES: Record<string, readonly Line[]> = {
    strings: [
      'SET a 1', 'SET a 2', 'SET a 3 NX', 'SET b 1 XX', 'SET b 1 NX', 'SET b 2 GET', 'SET c 5 GET', 'SET c 6 XX GET', 'SET d 1 NX GET',
      'SET a 1 KEEPTTL', 'SET a x EX 100', 'SET a y KEEPTTL', 'SETNX a 1', 'SETNX d 1', 'SETEX c 100 v', 'PSETEX c 100000 v',
      'SETEX c 0 v', 'SET c v EX 0', 'GETSET a 9', 'GETSET k0 1', 'GETDEL a', 'GETDEL a', 'GET a', 'GET b', 'MGET a b c k5',
      'GETEX b', 'GETEX b EX 100', 'GETEX b PERSIST', 'GETEX b PERSIST', 'GETEX k1 EX 100', 'GETEX b PXAT 1', 'GETEX b',
      'MSET a 1 b 2 a 3', 'MSETNX a 1 k1 2', 'MSETNX k1 1 k2 2 k1 3', 'APPEND a x', 'APPEND k3 y', ['APPEND', 'k3', ''],
      'INCR a', 'INCR k4', 'INCRBY a 10', 'DECR a', 'DECRBY a 5', 'INCR k3', 'INCRBYFLOAT a 1.5', 'INCRBYFLOAT k5 2', 'INCRBYFLOAT k5 abc',
      ['SETRANGE', 'a', '0', ''], ['SETRANGE', 'k6', '3', ''], 'SETRANGE k6 3 xy', 'SETRANGE k6 0 z', 'SETRANGE a 1 q', 'STRLEN a',
      'GETRANGE a 0 -1', 'GETRANGE k7 0 -1', 'STRLEN k7', 'SET d 1 PX 100000', 'SET d 2 GET KEEPTTL', 'INCR d', 'HSET k7 f v', 'GET k7',
      'INCR k7', 'APPEND k7 x', 'SET k7 s GET', 'SET k7 s', 'GETDEL k7', 'GETEX k7 PERSIST', 'LPUSH k2 x', 'MSETNX k2 x', 'SET k2 v NX GET',
      'SET k0 v PXAT 1', 'EXISTS k0', 'SET k0 v EXAT 1 GET', 'SET k0 v', 'SET k0 w XX EX 100', 'GETEX k0 EXAT 1', 'SETNX k0 v',
      'SET k0 v KEEPTTL GET', 'INCRBYFLOAT k0 1', 'SET k0 1', 'INCRBY k0 9223372036854775807', 'DECRBY k0 x', 'SETRANGE k0 -1 x',
    ],
    keys: [
      'SET a 1', 'SET b 2', 'RPUSH c x', 'DEL a b k0', 'DEL a', 'UNLINK c', 'UNLINK c', 'SET a 1', 'EXISTS a b', 'TOUCH a b', 'TYPE a', 'TYPE b',
      'EXPIRE a 100', 'EXPIRE a 100 NX', 'EXPIRE a 200 XX', 'EXPIRE a 50 GT', 'EXPIRE a 500 GT', 'EXPIRE a 5 LT', 'PEXPIRE a 100000',
      'EXPIREAT a 99999999999', 'PEXPIREAT a 99999999999999', 'EXPIRE b 100', 'TTL a', 'PTTL b', 'EXPIRETIME a', 'PEXPIRETIME k0',
      'PERSIST a', 'PERSIST a', 'PERSIST b', 'EXPIRE a 0', 'EXISTS a', 'SET a 1', 'EXPIRE a -1', 'SET a 1', 'PEXPIREAT a 1', 'SET a 1',
      'EXPIREAT a 1 NX', 'SET a 1 EX 100', 'EXPIRE a 1 XX', 'SET a 1', 'EXPIRE a x', 'EXPIRE a 100 BOGUS', 'SADD b m', 'EXPIRE b -5',
      'HSET a f v', 'PEXPIRE a -1 GT', 'PEXPIRE a -1 LT', 'TYPE a',
    ],
    keyspace: [
      'SET a 1', 'SET b 2', 'RENAME a c', 'RENAME a c', 'RENAME c c', 'RENAME c b', 'RENAMENX b c', 'SET d 4', 'RENAMENX b d',
      'RENAMENX d d', 'RENAMENX d a', 'SET k0 x EX 100', 'RENAME k0 k1', 'TTL k1', 'MOVE k1 1', 'MOVE k1 1', 'SET k1 y', 'MOVE k1 1',
      'MOVE a 0', 'MOVE nothere 1', 'COPY b k2', 'COPY b k2', 'COPY b k2 REPLACE', 'COPY b k3 DB 1', 'COPY b k3 DB 1', 'COPY b a DB 1 REPLACE',
      'COPY nothere k4', 'COPY b b', 'RPUSH k5 1 2 3', 'COPY k5 k6', 'SADD k4 m', 'COPY k4 k5 REPLACE', 'SWAPDB 0 1', 'GET a', 'SWAPDB 0 1',
      'SWAPDB 1 1', 'SWAPDB 0 x', 'DBSIZE', 'KEYS *', 'RANDOMKEY', 'FLUSHDB', 'SET a 1', 'SET k0 2', 'FLUSHALL', 'FLUSHDB',
      'FLUSHALL', 'SET a 1', 'FLUSHDB ASYNC', 'FLUSHALL SYNC', 'OBJECT ENCODING a', 'SET a 1', 'OBJECT ENCODING a',
    ],
    bits: [
      'SETBIT a 7 1', 'SETBIT a 7 1', 'SETBIT a 7 0', 'SETBIT a 100 0', 'SETBIT k0 3 0', 'GETBIT a 7', 'GETBIT k1 0', 'BITCOUNT a', 'BITCOUNT k1',
      'BITPOS a 1', 'BITPOS k1 0', 'SET b abc', 'BITOP AND c a b', 'BITOP OR c a nothere', 'BITOP XOR c nothere k9', 'BITOP NOT d b',
      'BITOP NOT d nothere', 'BITOP AND d', 'HSET k2 f v', 'BITOP OR c k2', 'SETBIT k2 1 1',
      'BITFIELD a SET u8 0 255', 'BITFIELD a GET u8 0', 'BITFIELD k3 GET u8 0', 'BITFIELD k3 INCRBY i5 100 1', 'BITFIELD k3 INCRBY u2 0 1 OVERFLOW FAIL INCRBY u2 0 5',
      'BITFIELD k4 OVERFLOW FAIL INCRBY u2 0 5', 'BITFIELD_RO a GET u8 0', 'BITFIELD_RO k5 GET u8 0', 'BITFIELD k2 GET u8 0', 'BITFIELD a SET u8 0 255',
    ],
    hashes: [
      'HSET a f 1', 'HSET a f 1', 'HSET a f 2 g 3', 'HMSET a f 1', 'HSETNX a f 1', 'HSETNX a h 1', 'HSETNX b f 1', 'HGET a f', 'HGET k0 f',
      'HMGET a f g', 'HLEN k1', 'HEXISTS a x', 'HGETALL k1', 'HKEYS a', 'HVALS k2', 'HSTRLEN a f', 'HRANDFIELD k3', 'HRANDFIELD a',
      'HDEL a nothere', 'HDEL a f', 'HDEL a g h nothere', 'HDEL a x', 'HDEL k4 f', 'HINCRBY b f 2', 'HINCRBY b g 2', 'HINCRBY k5 f 1',
      'HINCRBY b f x', 'HSET b s abc', 'HINCRBY b s 1', 'HINCRBYFLOAT b f 1.5', 'HINCRBYFLOAT k6 f 2.5', 'HINCRBYFLOAT b s 1', 'HSCAN b 0',
      'HSCAN k7 0', 'SET c x', 'HSET c f v', 'HDEL c f', 'HINCRBY c f 1',
    ],
    lists: [
      'LPUSH a 1 2 3', 'RPUSH a 4', 'LPUSHX a 5', 'RPUSHX a 6', 'LPUSHX b 1', 'RPUSHX b 1', 'LPOP a', 'RPOP a', 'LPOP a 2', 'LPOP a 0',
      'LPOP k0', 'RPOP k0 2', 'LLEN a', 'LRANGE a 0 -1', 'LRANGE k1 0 -1', 'LINDEX a 0', 'LINDEX k1 0', 'LPOS a 2', 'LPOS k1 2',
      'LSET a 0 x', 'LSET a 99 x', 'LSET k1 0 x', 'LINSERT a BEFORE x y', 'LINSERT a AFTER nothere y', 'LINSERT k1 AFTER x y',
      'LREM a 0 nothere', 'LREM a 1 y', 'LREM k1 0 x', 'LTRIM a 0 -1', 'LTRIM a 1 0', 'LTRIM k1 0 1', 'RPUSH a 1 2 3', 'LTRIM a 0 0',
      'RPOP a', 'RPUSH a 1 2', 'LMOVE a b LEFT RIGHT', 'LMOVE a b LEFT LEFT', 'LMOVE a b LEFT LEFT', 'LMOVE b b LEFT RIGHT',
      'RPOPLPUSH b c', 'RPOPLPUSH b c', 'RPOPLPUSH k2 c', 'LMPOP 2 k2 c LEFT', 'RPUSH d 1 2 3', 'LMPOP 2 k2 d RIGHT COUNT 5',
      'LMPOP 1 k2 LEFT', 'SET k3 x', 'LPUSH k3 1', 'LMOVE k3 a LEFT LEFT', 'RPUSH a 1', 'LMOVE a k3 LEFT LEFT', 'RPUSH a 1 2', 'LPOP a 5',
    ],
    sets: [
      'SADD a 1 2 3', 'SADD a 1', 'SADD a 1 4 4', 'SREM a nothere', 'SREM a 1 nothere', 'SREM k0 1', 'SCARD a', 'SCARD k0', 'SISMEMBER a 2',
      'SISMEMBER k0 1', 'SMISMEMBER k0 1', 'SMEMBERS k0', 'SMEMBERS a', 'SRANDMEMBER k0', 'SADD b x y', 'SMOVE a b 2', 'SMOVE a b nothere',
      'SMOVE a c 3', 'SMOVE k0 b 1', 'SMOVE b b x', 'SMOVE b b nothere', 'SADD d 1', 'SMOVE d e 1', 'SPOP k1', 'SPOP a', 'SADD a 1 2 3 4 5',
      'SPOP a 2', 'SPOP a 0', 'SPOP a 10', 'SPOP k1 2', 'SADD a 1 2', 'SADD b 2 3', 'SINTER a b', 'SINTER a k1', 'SINTERCARD 2 a b',
      'SINTERSTORE c a b', 'SINTERSTORE c a k1', 'SINTERSTORE c a k1', 'SUNIONSTORE c a b', 'SUNIONSTORE d k1 k2', 'SDIFFSTORE c a b',
      'SDIFFSTORE c a a', 'SUNION a k1', 'SDIFF k1 a', 'SSCAN a 0', 'SSCAN k1 0', 'SET k2 x', 'SADD k2 1', 'SINTERSTORE c k2 a',
      'SINTERSTORE k2 a b', 'SREM a 1 2',
    ],
    'sorted sets': [
      'ZADD a 1 x 2 y', 'ZADD a 1 x', 'ZADD a 3 x', 'ZADD a NX 5 x', 'ZADD a XX 5 z', 'ZADD a XX CH 5 x', 'ZADD a GT 1 x', 'ZADD a LT 1 x',
      'ZADD a INCR 2 x', 'ZADD a NX INCR 2 x', 'ZADD k0 XX 1 x', 'ZADD a 0 x', 'ZINCRBY a 1 y', 'ZINCRBY k1 2 m', 'ZADD a nan x',
      'ZADD a INCR inf x', 'ZADD a INCR -inf x', 'ZREM a nothere', 'ZREM a k y', 'ZREM k2 x', 'ZCARD a', 'ZCARD k2', 'ZSCORE k2 x',
      'ZRANGE k2 0 -1', 'ZRANK k2 x', 'ZCOUNT k2 0 1', 'ZRANGEBYSCORE a 0 10', 'ZLEXCOUNT k2 - +', 'ZRANDMEMBER k2', 'ZMSCORE k2 x',
      'ZADD b 1 a 2 b 3 c 4 d', 'ZREMRANGEBYRANK b 0 0', 'ZREMRANGEBYRANK b 10 20', 'ZREMRANGEBYSCORE b 100 200', 'ZREMRANGEBYSCORE b 2 2',
      'ZREMRANGEBYLEX b [x [z', 'ZREMRANGEBYLEX b - +', 'ZREMRANGEBYRANK k3 0 1', 'ZADD b 1 a 2 b 3 c', 'ZPOPMIN b', 'ZPOPMAX b 0', 'ZPOPMAX b 5',
      'ZPOPMIN k3', 'ZPOPMIN k3 2', 'ZADD b 1 a 2 b', 'ZMPOP 2 k3 b MIN', 'ZMPOP 2 k3 b MAX COUNT 3', 'ZMPOP 1 k3 MIN', 'ZADD c 1 a 2 b',
      'ZADD d 2 b 3 c', 'ZUNIONSTORE e 2 c d', 'ZINTERSTORE e 2 c d', 'ZINTERSTORE e 2 c k4', 'ZINTERSTORE e 2 c k4', 'ZDIFFSTORE e 2 c d',
      'ZDIFFSTORE e 2 c c', 'ZUNIONSTORE e 1 k4', 'ZRANGESTORE e c 0 -1', 'ZRANGESTORE e c 5 10', 'ZRANGESTORE e k4 0 -1', 'ZUNION 2 c k4',
      'ZINTER 2 c k4', 'ZDIFF 2 k4 c', 'ZINTERCARD 2 c k4', 'ZSCAN c 0', 'ZSCAN k4 0', 'SADD k5 a', 'ZUNIONSTORE e 2 c k5', 'SET k6 x', 'ZADD k6 1 a',
    ],
    reads: [
      'SET a hello', 'SET b world', 'LCS a b', 'LCS a k0', 'LCS k0 k1', 'RPUSH l x y', 'SADD s 1 2', 'ZADD z 1 x', 'HSET h f v',
      'ZRANDMEMBER k0', 'ZRANDMEMBER z 2', 'SRANDMEMBER k0 2', 'HRANDFIELD k0 2', 'ZRANGEBYSCORE k0 0 1', 'ZRANGE k0 0 -1 REV',
      'GETRANGE k0 0 1', 'BITPOS k0 1', 'SUNION k0 k1 s', 'SINTERCARD 2 s k0', 'SMISMEMBER k0 a', 'ZMSCORE k0 a', 'LPOS k0 a',
      'HMGET k0 a', 'HSTRLEN k0 f', 'HEXISTS k0 f', 'ZCOUNT k0 0 1', 'ZLEXCOUNT k0 - +', 'ZREVRANK k0 x', 'MEMORY USAGE k0',
      'MEMORY USAGE a', 'OBJECT REFCOUNT k0', 'OBJECT IDLETIME k0', 'TYPE k0', 'EXISTS k0 k0 a', 'TOUCH k0 a', 'SSCAN k0 0', 'ZSCAN k0 0',
      'HSCAN k0 0', 'SCAN 0 TYPE string', 'GETDEL k0', 'GETEX k0', 'SET k0 v GET', 'COPY k0 k1', 'SORT k0', 'SORT_RO k0',
      'BITFIELD_RO k0 GET u8 0', 'PFCOUNT k0 k1', 'PFMERGE k2 k0', 'ZUNIONSTORE k3 2 k0 k1', 'SDIFFSTORE k3 k0', 'ZRANGESTORE k3 k0 0 -1',
      'BITOP OR k3 k0 k1', 'GET a', 'MGET a k0', 'STRLEN k0', 'LLEN k0', 'LINDEX k0 0', 'LRANGE k0 0 1', 'SCARD k0', 'ZCARD k0', 'HLEN k0',
    ],
    hyperloglog: [
      'PFADD a x y', 'PFADD a x', 'PFADD a', 'PFADD b', 'PFADD b', 'PFCOUNT a', 'PFCOUNT k0', 'PFCOUNT a k0', 'PFMERGE c a', 'PFMERGE c',
      'PFMERGE k1 k2', 'PFMERGE k1 k2 a', 'PFCOUNT k1', 'PFCOUNT k1', 'SET d x', 'PFADD d x', 'PFMERGE e d', 'PFDEBUG ENCODING a',
      'PFDEBUG TODENSE a', 'PFDEBUG TODENSE a', 'PFADD k3 x', 'PFDEBUG GETREG k3', 'PFCOUNT a b', 'PFCOUNT a',
    ],
    sort: [
      'RPUSH a 3 1 2', 'SORT a', 'SORT k0', 'SORT a STORE b', 'SORT a STORE b', 'SORT k0 STORE b', 'SORT k0 STORE b', 'SADD c z y x',
      'SORT c ALPHA STORE d', 'SORT c ALPHA LIMIT 5 5 STORE d', 'SORT_RO a', 'SORT_RO k1', 'ZADD k2 1 a', 'SORT k2 ALPHA STORE k3',
      'SET k4 x', 'SORT k4 STORE b', 'SORT a BY nosort STORE k5', 'SET w_1 3', 'HSET h_2 f x', 'SORT a BY w_* GET # GET h_*->f',
      'SORT a BY w_* GET h_*->f STORE k6', 'SORT_RO a BY w_* GET # GET h_*->f',
    ],
  };

  for (const flags of ['KEA', 'KEAnm']) {
    for (const [name, lines] of Object.entries(CASES)) {
      it(`${name} signal as in Redis (notify-keyspace-events ${flags})`, async (context) => {
        if (redis === undefined) return context.skip();
        const found = await differences(flags, lines.map(argvOf));
        expect(found, found.join('\n')).toEqual([]);
      });
    }
  }

  it('_sabre.key-restore signals as RESTORE, COPY or RENAME would', async (context) => {
    if (redis === undefined) return context.skip();
    const [, dump] = await main.run([argvOf('SET dumped 1'), argvOf('DUMP dumped'), argvOf('DEL dumped')]);
    const redisDump = parseBulk(dump);
    const scratch = new Shard();
    scratch.execute(0, 2, argvOf('SET dumped 1'));
    const sabreDump = parseBulk(Buffer.from(scratch.execute(0, 2, argvOf('_sabre.key-dump dumped'))));
    const restore = (key: string, mode: string, redisOptions: string[], sabreOptions: string[]): PerSide => ({
      redis: [b('RESTORE'), b(key), b('0'), redisDump, ...redisOptions.map(b)],
      sabre: [b('_sabre.key-restore'), b(key), sabreDump, b(mode), ...sabreOptions.map(b)],
    });
    const same = (line: string): PerSide => ({ redis: argvOf(line), sabre: argvOf(line) });
    const found = await differences('KEAnm', [
      restore('a', 'NX', [], ['restore']),
      restore('a', 'NX', [], ['restore']),
      restore('a', 'REPLACE', ['REPLACE'], ['restore']),
      restore('b', 'REPLACE', ['REPLACE'], ['restore']),
      same('SET c 1'),
      { redis: argvOf('COPY c d'), sabre: [b('_sabre.key-restore'), b('d'), sabreDump, b('NX'), b('copy_to')] },
      { redis: argvOf('COPY c d'), sabre: [b('_sabre.key-restore'), b('d'), sabreDump, b('NX'), b('copy_to')] },
      { redis: argvOf('COPY c d REPLACE'), sabre: [b('_sabre.key-restore'), b('d'), sabreDump, b('REPLACE'), b('copy_to')] },
      { redis: argvOf('COPY c k0 DB 1'), sabre: [b('_sabre.key-restore'), b('k0'), sabreDump, b('NX'), b('copy_to'), b('1')] },
    ]);
    expect(found, found.join('\n')).toEqual([]);
  });

  it('signals as Redis does over seeded random sequences of string and key commands', async (context) => {
    if (redis === undefined) return context.skip();
    for (const seed of [1, 2, 5]) {
      const next = commandGenerator(new Random(seed));
      const found = await differences(seed % 2 === 1 ? 'KEA' : 'KEAnm', Array.from({ length: 200 }, next));
      expect(found, found.join('\n')).toEqual([]);
    }
  });

  it('signals as Redis does over seeded random sequences of collection commands', async (context) => {
    if (redis === undefined) return context.skip();
    for (const seed of [3, 4, 7, 8]) {
      const next = collectionGenerator(new Random(seed));
      const found = await differences(seed % 2 === 1 ? 'KEA' : 'KEAnm', Array.from({ length: 250 }, next));
      expect(found, found.join('\n')).toEqual([]);
    }
  });
});

/** Collection and keyspace commands over a few keys, so that types collide and collections empty. */
function collectionGenerator(random: Random): () => Buffer[] {
  const key = () => `k${random.int(0, 4)}`;
  const member = () => random.pick(['1', '2', '3', 'x', 'y']);
  const commands: (() => string)[] = [
    () => `SADD ${key()} ${member()} ${member()}`,
    () => `SREM ${key()} ${member()} ${member()}`,
    // SPOP picks at random: only counts that pop nothing or everything keep both sides alike.
    () => `SPOP ${key()} ${random.pick([0, 9])}`,
    () => `SMOVE ${key()} ${key()} ${member()}`,
    () => `${random.pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE'])} ${key()} ${key()} ${key()}`,
    () => `${random.pick(['LPUSH', 'RPUSH', 'LPUSHX'])} ${key()} ${member()}`,
    () => `${random.pick(['LPOP', 'RPOP'])} ${key()} ${random.int(1, 2)}`,
    () => `LMOVE ${key()} ${key()} ${random.pick(['LEFT', 'RIGHT'])} ${random.pick(['LEFT', 'RIGHT'])}`,
    () => `LREM ${key()} 0 ${member()}`,
    () => `LTRIM ${key()} ${random.int(-2, 1)} ${random.int(-2, 1)}`,
    () => `HSET ${key()} ${member()} ${member()}`,
    () => `HDEL ${key()} ${member()} ${member()}`,
    () => `HINCRBY ${key()} ${member()} 1`,
    () => `ZADD ${key()} ${random.pick(['', 'NX ', 'XX ', 'GT ', 'CH '])}${random.int(0, 3)} ${member()}`,
    () => `ZREM ${key()} ${member()}`,
    () => `ZPOPMIN ${key()} ${random.int(1, 2)}`,
    () => `ZREMRANGEBYSCORE ${key()} ${random.int(0, 2)} ${random.int(1, 3)}`,
    () => `${random.pick(['ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE'])} ${key()} 2 ${key()} ${key()}`,
    () => `SORT ${key()} ALPHA STORE ${key()}`,
    () => `${random.pick(['RENAME', 'RENAMENX'])} ${key()} ${key()}`,
    () => `COPY ${key()} ${key()}${random.pick(['', ' REPLACE'])}`,
    () => `MOVE ${key()} 1`,
    () => `${random.pick(['DEL', 'EXISTS', 'TYPE'])} ${key()}`,
    () => `${random.pick(['SCARD', 'LLEN', 'HGET', 'ZSCORE'])} ${key()}${random.pick(['', ' x'])}`,
    () => `EXPIRE ${key()} ${random.pick(['100', '-1', '0'])}`,
    () => `PFADD ${key()} ${member()}`,
    () => `SETBIT ${key()} ${random.int(0, 9)} ${random.int(0, 1)}`,
    () => `BITFIELD ${key()} ${random.pick(['SET u4 0 3', 'INCRBY u2 2 1', 'OVERFLOW FAIL INCRBY u2 0 3', 'GET u8 0'])}`,
    () => `BITOP ${random.pick(['AND', 'OR'])} ${key()} ${key()} ${key()}`,
    () => `PFMERGE ${key()} ${key()}`,
    () => `PFCOUNT ${key()}`,
    () => `LMPOP 2 ${key()} ${key()} ${random.pick(['LEFT', 'RIGHT COUNT 2'])}`,
    () => `ZMPOP 2 ${key()} ${key()} ${random.pick(['MIN', 'MAX COUNT 2'])}`,
    () => `ZADD ${key()} ${random.pick(['INCR', 'NX INCR', 'XX INCR'])} ${random.int(0, 2)} ${member()}`,
    () => `ZRANGESTORE ${key()} ${key()} ${random.int(0, 2)} ${random.int(-1, 1)}`,
    () => `${random.pick(['SINTERCARD', 'ZINTERCARD'])} 2 ${key()} ${key()}`,
    () => `HINCRBYFLOAT ${key()} ${member()} 0.5`,
    () => `HSETNX ${key()} ${member()} v`,
    () => `LSET ${key()} ${random.int(-1, 1)} v`,
    () => `LINSERT ${key()} ${random.pick(['BEFORE', 'AFTER'])} ${member()} v`,
    () => `${random.pick(['GETDEL', 'GET', 'STRLEN'])} ${key()}`,
    () => `GETEX ${key()} ${random.pick(['EX 100', 'PERSIST', 'PXAT 1', ''])}`,
    () => `${random.pick(['APPEND', 'SET', 'SETNX', 'GETSET'])} ${key()} ${member()}`,
    () => `${random.pick(['INCRBYFLOAT', 'INCRBY'])} ${key()} ${random.pick(['1', '0', 'x'])}`,
    () => `SETRANGE ${key()} ${random.int(0, 2)} ${random.pick(['ab', ''])}`,
    // A set's order is its hash table's, which differs from Redis's: the pattern lookups (and their key
    // misses) follow the order of a list's elements only.
    () => `RPUSH list ${member()}`,
    () => `SORT list BY w_* GET # GET h_*->f${random.pick(['', ` STORE ${key()}`])}`,
    () => `${random.pick(['PERSIST', 'TTL'])} ${key()}`,
    () => random.pick(['SWAPDB 0 1', 'FLUSHDB', 'DBSIZE']),
  ];
  return () => argvOf(random.pick(commands)().replace(/ (?=$)/, ''));
}
