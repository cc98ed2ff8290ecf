/**
 * Bad input over real sockets, end to end: each input goes as raw bytes to the sabre server (two shards)
 * and to a real redis-server, and sabre must send back exactly Redis's bytes and close the connection
 * exactly when Redis does. The parser alone is checked more finely in test/protocol/differential.test.ts;
 * here the whole server is under test: routing, in-order replies across shards, closing, and surviving.
 *
 * After every input, a fresh connection must get PONG from sabre, a dataset written at the start must be
 * intact, the value the case wrote before its bad input must be intact, and the keys the input touched
 * must read the same on both servers (so commands before a protocol error ran, and half a command never
 * did). Inputs Redis leaves open are closed by the client after a quiet wait: "half a command, then close".
 *
 * Every case uses keys of its own (a prefix per case), so the cases run concurrently.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnection, b, encodeCommand } from '../helpers/differential.js';
import { Random } from '../helpers/random.js';
import { rawExchange, startRedis, type RawExchangeResult, type RunningRedis } from '../helpers/redis-server.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

/** How long a connection Redis leaves open is watched for a late reply or close before the client hangs up. */
const QUIET_MS = 200;
/** How long a close or a sentinel reply may take to arrive. */
const PATIENCE_MS = 10_000;
const KiB = 1024;
const MiB = 1024 * 1024;

const SENTINEL = encodeCommand([b('ECHO'), b('sentinel-5c1e')]);
const SENTINEL_REPLY = b('$13\r\nsentinel-5c1e\r\n');

/**
 * How the input ends. 'close': Redis closes (a protocol error). 'open': Redis waits for more bytes, and
 * the client hangs up after QUIET_MS. 'sentinel': the input ends between commands, so an ECHO appended
 * to it must be answered after everything else. 'unknown': fuzz input, Redis's outcome decides the wait.
 */
type Ending = 'close' | 'open' | 'sentinel' | 'unknown';

const endsWithSentinel = (received: Buffer): boolean =>
  received.length >= SENTINEL_REPLY.length && received.subarray(received.length - SENTINEL_REPLY.length).equals(SENTINEL_REPLY);

/**
 * With a sentinel, both servers at once, each exchange ending at the sentinel's reply. Otherwise Redis
 * first: when it closes, sabre must close too (however long that takes); when it stays open, sabre must
 * send at least as many bytes (however long that takes), and is then watched for QUIET_MS more, for
 * bytes beyond Redis's or a close. Either way the client then hangs up.
 */
async function exchangeBoth(sabrePort: number, redisPort: number, input: Buffer | readonly Buffer[], ending: Ending): Promise<{ ours: RawExchangeResult; theirs: RawExchangeResult }> {
  if (ending === 'sentinel') {
    const bytes = [...(Buffer.isBuffer(input) ? [input] : input), SENTINEL];
    const options = { timeoutMs: PATIENCE_MS, until: endsWithSentinel };
    const [ours, theirs] = await Promise.all([rawExchange(sabrePort, bytes, options), rawExchange(redisPort, bytes, options)]);
    return { ours, theirs };
  }
  const theirs = await rawExchange(redisPort, input, { waitForClose: true, timeoutMs: ending === 'close' ? PATIENCE_MS : QUIET_MS });
  const expectedLength = theirs.received.length;
  const ours = await rawExchange(
    sabrePort,
    input,
    theirs.closed
      ? { waitForClose: true, timeoutMs: PATIENCE_MS }
      : { timeoutMs: PATIENCE_MS, until: (received) => received.length >= expectedLength, settleMs: QUIET_MS },
  );
  return { ours, theirs };
}

/**
 * A short, readable account of how sabre's outcome differs from Redis's, or undefined if it does not.
 * A reset (the server closed with input unread, while the client was still writing) may discard replies
 * already sent, so after one the two byte strings need only agree as far as the shorter goes.
 */
function describeDifference(ours: RawExchangeResult, theirs: RawExchangeResult): string | undefined {
  const length = Math.min(ours.received.length, theirs.received.length);
  const comparable = ours.reset || theirs.reset ? ours.received.subarray(0, length).equals(theirs.received.subarray(0, length)) : ours.received.equals(theirs.received);
  if (comparable && ours.closed === theirs.closed) return undefined;
  let at = 0;
  while (at < ours.received.length && at < theirs.received.length && ours.received[at] === theirs.received[at]) at++;
  const around = (bytes: Buffer): string => JSON.stringify(bytes.subarray(Math.max(0, at - 40), at + 80).toString('latin1'));
  return [
    `replies part at byte ${at} (sabre sent ${ours.received.length} bytes, Redis ${theirs.received.length})`,
    `  sabre: …${around(ours.received)}${howItEnded(ours)}`,
    `  redis: …${around(theirs.received)}${howItEnded(theirs)}`,
  ].join('\n');
}

const howItEnded = (outcome: RawExchangeResult): string => (outcome.reset ? ' then reset' : outcome.closed ? ' then closed' : ', open');

const show = (input: Buffer | readonly Buffer[]): string => {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.concat(input);
  const text = bytes.toString('latin1');
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…(${text.length} bytes)` : text);
};

const multibulk = (...argv: string[]): Buffer => encodeCommand(argv.map(b));
const concat = (...parts: (Buffer | string)[]): Buffer => Buffer.concat(parts.map((part) => (typeof part === 'string' ? b(part) : part)));

function randomBytes(seed: number, length: number): Buffer {
  const random = new Random(seed);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = random.int(0, 255);
  return bytes;
}

/** `count` commands over a few keys of the case, covering strings, counters, multi-key and errors. */
function deepPipeline(key: (name: string) => string, count: number, seed: number, form: 'multibulk' | 'inline'): Buffer {
  const random = new Random(seed);
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const k = key(`p${random.int(0, 49)}`);
    const argv = random.pick([
      () => ['SET', k, `v${i}`],
      () => ['GET', k],
      () => ['INCR', k],
      () => ['APPEND', k, `+${i}`],
      () => ['DEL', k],
      () => ['EXISTS', k, key(`p${random.int(0, 49)}`)],
      () => ['MGET', k, key(`p${random.int(0, 49)}`), key(`p${random.int(0, 49)}`)],
      () => ['MSET', k, String(i), key(`p${random.int(0, 49)}`), `m${i}`],
      () => ['STRLEN', k],
      () => ['ECHO', `e${i}`],
      () => ['GET'],
      () => ['NOSUCH', k],
    ])();
    parts.push(form === 'multibulk' ? encodeCommand(argv.map(b)) : b(`${argv.join(' ')}\r\n`));
  }
  return Buffer.concat(parts);
}

/** Splits bytes at seeded random offsets, so frames straddle writes. */
function splitRandomly(bytes: Buffer, seed: number, pieces: number): Buffer[] {
  const random = new Random(seed);
  const cuts = Array.from({ length: pieces - 1 }, () => random.int(1, bytes.length - 1)).sort((x, y) => x - y);
  return [0, ...cuts].map((start, i) => bytes.subarray(start, i < cuts.length ? cuts[i] : bytes.length));
}

interface BadInputCase {
  name: string;
  ending: Ending;
  /** The bytes to send (one write, or each chunk its own write); `key` gives a name the case's own prefix. */
  input: (key: (name: string) => string) => Buffer | Buffer[];
  /** Key names (before prefixing) that must read the same on both servers afterwards. */
  probes?: readonly string[];
}

const pipelineKeys = Array.from({ length: 50 }, (_, i) => `p${i}`);

const RANDOM_BYTES: BadInputCase[] = [
  // Inline lines of binary junk (unknown commands quoting raw bytes), NULs that stall a line, quotes that
  // do not balance, and past 64 KiB without a line end, "too big inline request".
  ...[16, 64, 300, 1500, 4 * KiB, 40 * KiB].flatMap((length) =>
    [1, 2, 3].map((seed): BadInputCase => ({ name: `${length} random bytes, seed ${seed}`, ending: 'unknown', input: () => randomBytes(seed * 1000 + length, length) })),
  ),
  { name: '200 KiB of random bytes', ending: 'close', input: () => randomBytes(7, 200 * KiB) },
  ...[8, 9, 10].map((seed): BadInputCase => ({ name: `random bytes after a star (seed ${seed})`, ending: 'unknown', input: () => concat('*', randomBytes(seed, 100)) })),
  ...[8, 9, 10].map(
    (seed): BadInputCase => ({ name: `random bytes inside a bulk header (seed ${seed})`, ending: 'unknown', input: () => concat('*2\r\n$4\r\nECHO\r\n$', randomBytes(seed, 30)) }),
  ),
];

const TRUNCATED: BadInputCase[] = [
  // Redis waits for the rest, answers nothing, and the client hangs up: half a command never runs.
  { name: 'truncated after the count', ending: 'open', input: () => b('*3\r\n') },
  { name: 'truncated in a bulk header', ending: 'open', input: (k) => concat(multibulk('SET', k('a'), '1'), '*3\r\n$3\r\nSET\r\n$1'), probes: ['a'] },
  { name: 'truncated in bulk data', ending: 'open', input: (k) => concat(`*3\r\n$3\r\nSET\r\n$${k('t').length}\r\n${k('t')}\r\n$5\r\nhel`), probes: ['t'] },
  { name: 'truncated before the CRLF after bulk data', ending: 'open', input: (k) => multibulk('SET', k('t'), 'hello').subarray(0, -2), probes: ['t'] },
  { name: 'truncated between CR and LF of a header', ending: 'open', input: () => b('*1\r\n$4\r') },
  { name: 'only the command name of a SET', ending: 'open', input: () => b('*3\r\n$3\r\nSET\r\n') },
  { name: 'inline command without its line end', ending: 'open', input: (k) => b(`SET ${k('t')} v`), probes: ['t'] },
  {
    name: 'a cross-shard MSET, then half of another',
    ending: 'open',
    input: (k) => concat(multibulk('MSET', k('x'), '1', k('y'), '2', k('z'), '3'), multibulk('MSET', k('x'), 'new', k('y'), 'new').subarray(0, 30)),
    probes: ['x', 'y', 'z'],
  },
  {
    name: 'a SET split over 40 writes, its last byte missing',
    ending: 'open',
    input: (k) => splitRandomly(multibulk('SET', k('s'), 'v'.repeat(100)).subarray(0, -1), 3, 40),
    probes: ['s'],
  },
];

const DECLARED_LENGTHS: BadInputCase[] = [
  { name: 'count 99999999999', ending: 'close', input: () => b('*99999999999\r\n') },
  { name: 'count INT_MAX + 1', ending: 'close', input: () => b('*2147483648\r\n') },
  { name: 'count INT_MAX waits for its elements', ending: 'open', input: () => b('*2147483647\r\n$4\r\nPING\r\n') },
  { name: 'count LLONG_MAX', ending: 'close', input: () => b('*9223372036854775807\r\n') },
  { name: '20-digit count', ending: 'close', input: () => b('*99999999999999999999\r\n') },
  { name: 'negative counts are empty commands', ending: 'sentinel', input: () => b('*-1\r\n*-99999999999\r\n*-9223372036854775808\r\nPING\r\n') },
  { name: 'bulk length 2^31', ending: 'close', input: () => b('*1\r\n$2147483648\r\n') },
  { name: 'bulk length 512 MiB + 1', ending: 'close', input: () => b('*1\r\n$536870913\r\n') },
  {
    name: 'bulk length 512 MiB, 1 MiB of it, then the client hangs up',
    ending: 'open',
    input: (k) => concat(`*3\r\n$3\r\nSET\r\n$${k('big').length}\r\n${k('big')}\r\n$536870912\r\n`, Buffer.alloc(MiB, 'x')),
    probes: ['big'],
  },
  { name: 'bulk length -1 after a SET', ending: 'close', input: (k) => concat(multibulk('SET', k('a'), 'kept'), '*2\r\n$3\r\nGET\r\n$-1\r\n'), probes: ['a'] },
  { name: 'bulk length -2147483649', ending: 'close', input: () => b('*1\r\n$-2147483649\r\n') },
  {
    name: 'bulk length 99999999999 for a value',
    ending: 'close',
    input: (k) => b(`*3\r\n$3\r\nSET\r\n$${k('v').length}\r\n${k('v')}\r\n$99999999999\r\n`),
    probes: ['v'],
  },
  { name: '25-digit bulk length', ending: 'close', input: () => b(`*1\r\n$${'9'.repeat(25)}\r\n`) },
];

const LONG_LINES: BadInputCase[] = [
  // Redis refuses an inline line, or a header line, that reaches 64 KiB without its end. When it closes
  // while the client is still writing, the reset can take its reply with it (see describeDifference).
  { name: '1 MiB inline line, no line end', ending: 'close', input: () => Buffer.alloc(MiB, 'a') },
  { name: '1 MiB inline line in 16 writes', ending: 'close', input: () => splitRandomly(Buffer.alloc(MiB, 'b'), 10, 16) },
  { name: '1 MiB inline SET, line end at the end', ending: 'close', input: (k) => concat(`SET ${k('long')} `, Buffer.alloc(MiB, 'x'), '\r\n'), probes: ['long'] },
  { name: 'a SET, then a 1 MiB inline line', ending: 'close', input: (k) => concat(multibulk('SET', k('a'), 'kept'), Buffer.alloc(MiB, ' ')), probes: ['a'] },
  { name: '60 KiB inline argument is fine', ending: 'sentinel', input: (k) => concat(`SET ${k('wide')} `, Buffer.alloc(60 * KiB, 'w'), '\r\n'), probes: ['wide'] },
  { name: '70 KB count line', ending: 'close', input: () => b(`*${'1'.repeat(70_000)}`) },
  { name: '70 KB bulk length line', ending: 'close', input: () => b(`*1\r\n$${'1'.repeat(70_000)}`) },
];

const QUOTES: BadInputCase[] = [
  { name: 'unbalanced double quote in SET', ending: 'close', input: (k) => b(`SET ${k('q')} "abc\r\n`), probes: ['q'] },
  { name: 'unbalanced single quote', ending: 'close', input: () => b("ECHO 'abc\r\n") },
  { name: 'closing quote followed by a letter', ending: 'close', input: () => b('ECHO "a"b\r\n') },
  { name: 'backslash before the closing quote', ending: 'close', input: () => b('ECHO "a\\"\r\n') },
  {
    name: 'commands before an unbalanced quote run, commands after it do not',
    ending: 'close',
    input: (k) => b(`SET ${k('q1')} before\r\nECHO "open\r\nSET ${k('q2')} after\r\n`),
    probes: ['q1', 'q2'],
  },
  { name: 'balanced quotes with escapes', ending: 'sentinel', input: (k) => b(`SET ${k('esc')} "a\\x41\\n\\"b"\r\nGET ${k('esc')}\r\n`), probes: ['esc'] },
];

const DEEP_PIPELINES: BadInputCase[] = [
  { name: '10k mixed commands in one write', ending: 'sentinel', input: (k) => deepPipeline(k, 10_000, 11, 'multibulk'), probes: pipelineKeys },
  {
    name: '10k inline commands in 500 writes split mid-line',
    ending: 'sentinel',
    input: (k) => splitRandomly(deepPipeline(k, 10_000, 12, 'inline'), 13, 500),
    probes: pipelineKeys,
  },
  {
    name: '10k commands, then a protocol error, then a SET that must not run',
    ending: 'close',
    input: (k) => concat(deepPipeline(k, 10_000, 15, 'multibulk'), '*1\r\n$x\r\n', multibulk('SET', k('p0'), 'late')),
    probes: pipelineKeys,
  },
  { name: '10k PINGs between empty commands', ending: 'sentinel', input: () => b('*1\r\n$4\r\nPING\r\n*0\r\n\r\nPING\r\n'.repeat(5000)) },
];

const JUNK_AFTER_COMMANDS: BadInputCase[] = [
  ...[21, 22, 23, 24, 25, 26].map(
    (seed): BadInputCase => ({
      name: `SET, INCR and a cross-shard MSET, then 200 random bytes (seed ${seed})`,
      ending: 'unknown',
      input: (k) => concat(multibulk('SET', k('j'), 'v'), multibulk('INCR', k('n')), multibulk('MSET', k('m1'), 'a', k('m2'), 'b'), randomBytes(seed, 200)),
      probes: ['j', 'n', 'm1', 'm2'],
    }),
  ),
  { name: 'SET, then NUL and high bytes (a stalled line)', ending: 'open', input: (k) => concat(multibulk('SET', k('j'), 'v'), Buffer.from([0, 0xff, 0xfe, 13, 10])), probes: ['j'] },
  {
    name: 'SET, then high bytes as an inline command',
    ending: 'sentinel',
    input: (k) => concat(multibulk('SET', k('j'), 'v'), Buffer.from([0xff, 0xfe, 0x20, 0x80, 0x01, 13, 10])),
    probes: ['j'],
  },
  { name: 'cross-shard MSET, then a bad bulk header', ending: 'close', input: (k) => concat(multibulk('MSET', k('x'), '1', k('y'), '2'), '*1\r\n$x\r\n'), probes: ['x', 'y'] },
  { name: 'SET, then a star line of control bytes', ending: 'close', input: (k) => concat(multibulk('SET', k('j'), 'v'), '*\x01\x02\r\n'), probes: ['j'] },
  { name: "SET, then an expected-'$' error quoting a raw byte", ending: 'close', input: (k) => concat(multibulk('SET', k('j'), 'v'), '*1\r\n\xe9\r\n'), probes: ['j'] },
];

/** A seeded fuzz input: a few valid commands on the input's own keys, then broken in one of several ways. */
function fuzzCase(random: Random, index: number): BadInputCase {
  const special = [...'*$\r\n"\' \\-0123456789x', '\0', '\xff'];
  const shape = random.next();
  const commandCount = random.int(1, 4);
  const mutationSeed = random.int(0, 2 ** 31);
  return {
    name: `fuzz ${index}`,
    ending: 'unknown',
    probes: ['a', 'b', 'c'],
    input: (key) => {
      const local = new Random(mutationSeed);
      const k = (): string => key(local.pick(['a', 'b', 'c']));
      const value = (): string => local.pick(['1', '-7', 'x y', '"q"', 'v'.repeat(local.int(0, 40)), '\\x41']);
      const parts: Buffer[] = [];
      for (let i = 0; i < commandCount; i++) {
        const argv = local.pick([
          () => ['PING'],
          () => ['ECHO', value()],
          () => ['SET', k(), value()],
          () => ['GET', k()],
          () => ['INCR', k()],
          () => ['APPEND', k(), value()],
          () => ['DEL', k(), k()],
          () => ['MGET', k(), k()],
          () => ['MSET', k(), value(), k(), value()],
          () => ['STRLEN', k()],
        ])();
        parts.push(local.next() < 0.7 ? encodeCommand(argv.map(b)) : b(`${argv.join(' ')}\r\n`));
      }
      let bytes = Buffer.concat(parts);
      if (shape < 0.15) {
        bytes = Buffer.from(Array.from({ length: local.int(1, 300) }, () => (local.next() < 0.5 ? b(local.pick(special))[0] : local.int(0, 255))));
      } else if (shape < 0.35) {
        bytes = bytes.subarray(0, local.int(1, bytes.length - 1));
      } else if (shape < 0.7) {
        const mutations = local.int(1, 3);
        for (let i = 0; i < mutations; i++) {
          const at = local.int(0, bytes.length - 1);
          const replacement = local.next() < 0.7 ? b(local.pick(special)) : Buffer.from([local.int(0, 255)]);
          const operation = local.int(0, 2);
          const rest = bytes.subarray(at + (operation === 1 ? 0 : 1));
          bytes = Buffer.concat([bytes.subarray(0, at), operation === 2 ? Buffer.alloc(0) : replacement, rest]);
        }
      } else if (shape < 0.85) {
        bytes = Buffer.concat([bytes, randomBytes(local.int(0, 2 ** 31), local.int(1, 64))]);
      }
      return local.next() < 0.3 && bytes.length > 2 ? splitRandomly(bytes, local.int(0, 2 ** 31), local.int(2, Math.min(8, bytes.length))) : bytes;
    },
  };
}

/**
 * Writes `input`; once the server's reply and end arrive, keeps writing for a while. 'closed' when the
 * server refuses those writes (or closes); 'still open' when it takes them, or never ends at all.
 */
function keepsWritingAfterEnd(port: number, input: Buffer): Promise<'closed' | 'still open'> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: our side must not end when the server's end arrives, or we could not tell a full
    // close (Redis's close(): our next write is refused) from a half close that goes on reading.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let writes = 0;
    let writer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => finish('still open'), PATIENCE_MS);
    const finish = (outcome: 'closed' | 'still open'): void => {
      clearInterval(writer);
      clearTimeout(deadline);
      socket.destroy();
      resolve(outcome);
    };
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? finish('closed') : reject(error)));
    socket.on('close', () => finish('closed'));
    socket.resume();
    socket.once('end', () => {
      writer = setInterval(() => (writes++ < 12 ? socket.write('PING\r\n') : finish('still open')), 20);
    });
    socket.once('connect', () => socket.write(input));
  });
}

async function pool<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

// Concurrent: every case has keys of its own, and most of the time goes to quiet waits that can overlap.
describe.concurrent('bad input to the sabre server, compared with redis-server', () => {
  let sabre: RunningSabre;
  let redis: RunningRedis | undefined;
  /** Written before any case runs; every case checks it afterwards. */
  const dataset = Array.from({ length: 200 }, (_, i) => [b(`data:${i}`), b(`value-${i}-${'z'.repeat(i)}`)] as const);
  const datasetReply = Buffer.concat([b(`*${dataset.length}\r\n`), ...dataset.flatMap(([, value]) => [b(`$${value.length}\r\n`), value, b('\r\n')])]);

  beforeAll(async () => {
    sabre = await startSabre(['--shards', '2']);
    redis = await startRedis();
    const connection = await RedisConnection.open(sabre.port);
    await connection.run([[b('MSET'), ...dataset.flat()]]);
    connection.close();
  });
  afterAll(async () => {
    expect(await sabre.stop()).toBe(0);
    await redis?.stop();
    // pino's error (50) and fatal (60) levels: bad input is the client's fault, never an internal error.
    expect(sabre.log()).not.toMatch(/"level":(50|60)/);
  });

  /**
   * Runs one case on both servers; returns what went wrong, or undefined. Checks, in order: Redis does
   * what the case says it does (so the case tests what its name claims), sabre sends Redis's bytes and
   * closes when Redis closes, and afterwards a fresh connection gets PONG, the dataset and the value
   * written before the case are intact, and the probed keys read as on Redis.
   */
  async function runCase(testCase: BadInputCase, prefix: string): Promise<string | undefined> {
    const redisPort = redis!.port;
    const key = (name: string): string => `${prefix}${name}`;
    const before = [b('SET'), b(key('before')), b(`written before ${prefix}`)];
    const [ourSetup, theirSetup] = await Promise.all([RedisConnection.open(sabre.port), RedisConnection.open(redisPort)]);
    await Promise.all([ourSetup.run([before]), theirSetup.run([before])]);
    const input = testCase.input(key);
    const label = `${testCase.name}: ${show(input)}`;
    const { ours, theirs } = await exchangeBoth(sabre.port, redisPort, input, testCase.ending);
    const problems: string[] = [];
    if ((testCase.ending === 'close' || testCase.ending === 'open') && theirs.closed !== (testCase.ending === 'close')) {
      problems.push(`the case expects Redis to ${testCase.ending === 'close' ? 'close' : 'stay open'}, and it did not`);
    }
    if (testCase.ending === 'sentinel' && !endsWithSentinel(theirs.received)) problems.push('Redis did not answer the sentinel');
    const difference = describeDifference(ours, theirs);
    if (difference !== undefined) problems.push(difference);

    const probes = [[b('GET'), b(key('before'))], ...(testCase.probes ?? []).map((name) => [b('GET'), b(key(name))])];
    try {
      const [pong, values, ...ourProbes] = await ourSetup.run([[b('PING')], [b('MGET'), ...dataset.map(([name]) => name)], ...probes]);
      const theirProbes = await theirSetup.run(probes);
      if (!pong.equals(b('+PONG\r\n'))) problems.push(`PING afterwards answered ${show(pong)}`);
      if (!values.equals(datasetReply)) problems.push('the dataset changed');
      ourProbes.forEach((reply, i) => {
        if (!reply.equals(theirProbes[i])) problems.push(`${probes[i][1].toString()} reads ${show(reply)} on sabre, ${show(theirProbes[i])} on Redis`);
      });
    } finally {
      ourSetup.close();
      theirSetup.close();
    }
    return problems.length === 0 ? undefined : `${label}\n  ${problems.join('\n  ')}`;
  }

  async function runAll(cases: readonly BadInputCase[], group: string): Promise<string[]> {
    const outcomes = await pool(cases, 16, (testCase) => runCase(testCase, `${group}${cases.indexOf(testCase)}:`));
    return outcomes.filter((outcome): outcome is string => outcome !== undefined);
  }

  const groups: [string, string, BadInputCase[]][] = [
    ['random bytes', 'rnd', RANDOM_BYTES],
    ['truncated frames, and half a command before the client hangs up', 'cut', TRUNCATED],
    ['giant and negative declared lengths', 'len', DECLARED_LENGTHS],
    ['1 MiB inline lines and overlong header lines', 'long', LONG_LINES],
    ['unbalanced quotes in inline commands', 'quote', QUOTES],
    ['10k-deep pipelines', 'deep', DEEP_PIPELINES],
    ['binary junk after valid commands', 'junk', JUNK_AFTER_COMMANDS],
  ];
  for (const [title, group, cases] of groups) {
    it(`answers ${title} as Redis does, and loses nothing`, async ({ expect, skip }) => {
      if (redis === undefined) return skip();
      expect(await runAll(cases, group)).toEqual([]);
    });
  }

  it('survives 300 seeded fuzz inputs, answering each as Redis does', async ({ expect, skip }) => {
    if (redis === undefined) return skip();
    const random = new Random(20240607);
    const cases = Array.from({ length: 300 }, (_, i) => fuzzCase(random, i));
    // A token per run keeps a mutated key name from ever meeting another input's keys.
    const mismatches = await pool(cases, 32, (testCase) => runCase(testCase, `fz${cases.indexOf(testCase)}.q7:`));
    expect(mismatches.filter((mismatch) => mismatch !== undefined)).toEqual([]);
  });

  it('survives clients that hang up mid-pipeline, with cross-shard commands in flight', async ({ expect }) => {
    const commands = Buffer.concat(
      Array.from({ length: 5000 }, (_, i) => (i % 2 === 0 ? multibulk('MSET', `hang:a${i % 50}`, String(i), `hang:b${i % 37}`, String(i)) : multibulk('GET', `hang:a${i % 50}`))),
    );
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const socket = connect(sabre.port, '127.0.0.1');
        socket.on('error', () => {
          // A reset while we hang up is expected.
        });
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write(commands);
        await new Promise((resolve) => setTimeout(resolve, i * 3));
        socket.destroy();
      }),
    );
    const connection = await RedisConnection.open(sabre.port);
    const [pong, values] = await connection.run([[b('PING')], [b('MGET'), ...dataset.map(([name]) => name)]]);
    connection.close();
    expect(pong.toString()).toBe('+PONG\r\n');
    expect(values.equals(datasetReply)).toBe(true);
  });

  // A protocol error (and QUIT) make Redis close the socket: a client that goes on writing is refused.
  const CLOSING_INPUTS = ['*1\r\n$x\r\n', 'QUIT\r\n', 'ECHO "open\r\n'];

  it('(the reference) redis-server closes the connection entirely after a protocol error or QUIT', async ({ expect, skip }) => {
    if (redis === undefined) return skip();
    for (const input of CLOSING_INPUTS) expect(await keepsWritingAfterEnd(redis.port, b(input)), JSON.stringify(input)).toBe('closed');
  });

  it.for(CLOSING_INPUTS)('closes the connection entirely after %j, as Redis does', async (input, { expect }) => {
    expect(await keepsWritingAfterEnd(sabre.port, b(input))).toBe('closed');
  });
});
