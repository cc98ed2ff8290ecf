/**
 * `npm run bench:server`: starts sabre (its default shard count, one per core) and a real redis-server
 * on free ports, then runs redis-benchmark against each in alternation, for SET, GET, INCR, MSET, LPUSH,
 * LPOP and LRANGE_100 at -c 50 with -P 1 and -P 16 over 100,000 random keys (-r; the list tests use
 * redis-benchmark's one list key), and prints requests per second, the sabre/Redis ratio, and p50/p99
 * latency. Alternating per test keeps drifting machine load from
 * favouring either server.
 *
 * Then memory: fresh servers each get DEBUG POPULATE 1000000 (keys key:N, values value:N), and INFO
 * memory before and after gives used_memory and RSS per key, read from each server's own counters.
 * Last, one 1M-member collection per type: used_memory per member, then the stall DEL and UNLINK of it
 * cause (deletionStall). The `defrag` section is the delete-half workload with active defragmentation
 * (defrag-vs-redis.ts).
 */
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { markdownTable } from './report.js';
import { progress } from './progress.js';
import { memory, run, startServers } from './servers.js';
import { defragReport } from './defrag-vs-redis.js';

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

/** One redis-benchmark run, read from its --csv output. */
/** A redis-benchmark test: one of its built-in names (-t), or a command of our own with its label. */
type Test = string | { label: string; command: string[] };

const ZRANGE_KEY = 'bench:zset';
/** ZRANGE over a 1000-member sorted set (populated before the runs): the first 10 with scores. */
const ZRANGE: Test = { label: 'zrange_10', command: ['ZRANGE', ZRANGE_KEY, '0', '9', 'WITHSCORES'] };

async function benchmark(port: number, test: Test, pipeline: number, requests: number): Promise<Result> {
  const what = typeof test === 'string' ? ['-t', test] : [];
  const command = typeof test === 'string' ? [] : test.command;
  const args = ['-p', String(port), ...what, '-n', String(requests), '-r', '100000', '-c', '50', '-P', String(pipeline), '--csv', ...command];
  const { stdout } = await run('redis-benchmark', args, {
    maxBuffer: 1 << 20,
  });
  const row = stdout.trim().split('\n').at(-1)!.split(',').map((cell) => cell.replace(/"/g, ''));
  // Columns: test, rps, avg, min, p50, p95, p99, max (ms).
  return { rps: Number(row[1]), p50: Number(row[4]), p99: Number(row[6]) };
}

/** used_memory and used_memory_rss from INFO memory. */
async function throughput(): Promise<string> {
  const servers = await startServers();
  try {
    const rows: string[][] = [];
    const members = Array.from({ length: 1000 }, (_, i) => [String(i), `member:${i}`]).flat();
    for (const port of [servers.sabre, servers.redis]) await run('redis-cli', ['-p', String(port), 'ZADD', ZRANGE_KEY, ...members]);
    const tests: Test[] = ['set', 'get', 'incr', 'mset', 'hset', 'lpush', 'lpop', 'lrange_100', 'sadd', 'zadd', ZRANGE];
    for (const pipeline of [1, 16]) {
      for (const test of tests) {
        const label = typeof test === 'string' ? test : test.label;
        const requests = pipeline === 1 ? 100_000 : 500_000;
        progress(`${label} -P ${pipeline}: sabre`);
        const ours = await benchmark(servers.sabre, test, pipeline, requests);
        progress(`${label} -P ${pipeline}: redis`);
        const theirs = await benchmark(servers.redis, test, pipeline, requests);
        rows.push([
          label.toUpperCase(),
          String(pipeline),
          `${Math.round(ours.rps).toLocaleString('en-US')}`,
          `${Math.round(theirs.rps).toLocaleString('en-US')}`,
          `${(ours.rps / theirs.rps).toFixed(2)}×`,
          `${ours.p50.toFixed(3)} / ${ours.p99.toFixed(3)}`,
          `${theirs.p50.toFixed(3)} / ${theirs.p99.toFixed(3)}`,
        ]);
      }
    }
    return markdownTable(['test', '-P', 'sabre req/s', 'Redis req/s', 'sabre / Redis', 'sabre p50 / p99 ms', 'Redis p50 / p99 ms'], rows);
  } finally {
    servers.stop();
  }
}

const POPULATE_KEYS = 1_000_000;

async function populateMemory(): Promise<string> {
  const servers = await startServers();
  try {
    const rows: string[][] = [];
    for (const [name, port] of [
      ['sabre', servers.sabre],
      ['Redis', servers.redis],
    ] as const) {
      const before = await memory(port);
      progress(`DEBUG POPULATE ${POPULATE_KEYS}: ${name}`);
      await run('redis-cli', ['-p', String(port), 'debug', 'populate', String(POPULATE_KEYS)]);
      const after = await memory(port);
      const { stdout: size } = await run('redis-cli', ['-p', String(port), 'dbsize']);
      if (Number(size.trim()) !== POPULATE_KEYS) throw new Error(`${name} holds ${size.trim()} keys after DEBUG POPULATE`);
      rows.push([
        name,
        `${(after.used / 2 ** 20).toFixed(1)} MiB`,
        `${((after.used - before.used) / POPULATE_KEYS).toFixed(1)}`,
        `${(after.rss / 2 ** 20).toFixed(1)} MiB`,
        `${((after.rss - before.rss) / POPULATE_KEYS).toFixed(1)}`,
      ]);
    }
    return markdownTable(['server', 'used_memory', 'used B/key', 'RSS', 'RSS B/key'], rows);
  } finally {
    servers.stop();
  }
}

const ELEMENTS = 1_000_000;
const BATCH = 1000;

/** One RESP command. */
function encode(args: readonly string[]): Buffer {
  return Buffer.from(`*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`);
}

/** Sends the commands over one connection and waits for as many replies (each of these is one line). */
function pipe(port: number, commands: readonly Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.concat(commands)));
    let lines = 0;
    socket.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) lines++;
      if (lines >= commands.length) {
        socket.destroy();
        resolve();
      }
    });
    socket.once('error', reject);
  });
}

/** Commands building one collection of ELEMENTS small members, BATCH members per command. */
const COLLECTIONS: [string, (from: number) => string[]][] = [
  ['hash (HSET f:N v:N)', (from) => ['HSET', 'h', ...Array.from({ length: BATCH }, (_, i) => [`f:${from + i}`, `v:${from + i}`]).flat()]],
  ['list (RPUSH m:N)', (from) => ['RPUSH', 'l', ...Array.from({ length: BATCH }, (_, i) => `m:${from + i}`)]],
  ['set (SADD m:N)', (from) => ['SADD', 's', ...Array.from({ length: BATCH }, (_, i) => `m:${from + i}`)]],
  ['sorted set (ZADD N m:N)', (from) => ['ZADD', 'z', ...Array.from({ length: BATCH }, (_, i) => [String(from + i), `m:${from + i}`]).flat()]],
];

interface Stall {
  /** How long the deleting command took to answer. */
  replyMs: number;
  /** The longest another client waited for a command on the same key's shard until everything was freed. */
  worstProbeMs: number;
}

/**
 * Deletes `key` with `verb` while a second client sends EXISTS on the same key (so the same shard)
 * back to back, until INFO reports no background free pending: the stall a large deletion causes.
 */
async function deletionStall(port: number, key: string, verb: 'DEL' | 'UNLINK'): Promise<Stall> {
  const [client, probe] = [new Redis(port, { lazyConnect: true }), new Redis(port, { lazyConnect: true })];
  await Promise.all([client.connect(), probe.connect()]);
  let probing = true;
  let worstProbeMs = 0;
  const probes = (async () => {
    while (probing) {
      const started = performance.now();
      await probe.exists(key);
      worstProbeMs = Math.max(worstProbeMs, performance.now() - started);
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const started = performance.now();
  await client.call(verb, key);
  const replyMs = performance.now() - started;
  while (/^lazyfree_pending_objects:([1-9]\d*)/m.test(await client.info('memory'))) await new Promise((resolve) => setTimeout(resolve, 5));
  probing = false;
  await probes;
  client.disconnect();
  probe.disconnect();
  return { replyMs, worstProbeMs };
}

async function collectionMemory(): Promise<{ memory: string; deletion: string }> {
  const servers = await startServers();
  try {
    const rows: string[][] = [];
    const deletions: string[][] = [];
    for (const [label, command] of COLLECTIONS) {
      const commands = Array.from({ length: ELEMENTS / BATCH }, (_, batch) => encode(command(batch * BATCH)));
      const key = command(0)[1];
      const perElement: string[] = [];
      for (const [name, port] of [
        ['sabre', servers.sabre],
        ['Redis', servers.redis],
      ] as const) {
        progress(`${label}, ${ELEMENTS} elements: ${name}`);
        const before = await memory(port);
        await pipe(port, commands);
        const after = await memory(port);
        perElement.push(((after.used - before.used) / ELEMENTS).toFixed(1));
        const stalls: Stall[] = [];
        for (const verb of ['DEL', 'UNLINK'] as const) {
          if (verb === 'UNLINK') await pipe(port, commands);
          progress(`${label}: ${verb} on ${name}`);
          stalls.push(await deletionStall(port, key, verb));
        }
        deletions.push([label, name, ...stalls.map(({ replyMs, worstProbeMs }) => `${replyMs.toFixed(1)} / ${worstProbeMs.toFixed(1)}`)]);
      }
      rows.push([label, perElement[0], perElement[1], `${(Number(perElement[0]) / Number(perElement[1])).toFixed(2)}×`]);
    }
    return {
      memory: markdownTable(['collection of 1M members', 'sabre B/member', 'Redis B/member', 'sabre / Redis'], rows),
      deletion: markdownTable(['collection of 1M members', 'server', 'DEL: reply / worst other ms', 'UNLINK: reply / worst other ms'], deletions),
    };
  } finally {
    servers.stop();
  }
}

/** The report's sections, each run on fresh servers; `npm run bench:server -- collections` runs one. */
const SECTIONS: Record<string, (redis: string) => Promise<string>> = {
  throughput: async (redis) =>
    `## sabre vs redis-server (redis-benchmark -c 50 -r 100000)\n\n${await throughput()}\n\nsabre with its default shards (one per core); ${redis}; both on this machine, alternating per test. MSET writes 10 keys per call, which spread over sabre's shards: each shard gets its part at once (scatter.ts), with no shard held.\n`,
  memory: async () =>
    `## Memory for DEBUG POPULATE ${POPULATE_KEYS.toLocaleString('en-US')}\n\n${await populateMemory()}\n\nPer key = (after − before) / keys, from each server's INFO memory. sabre's used_memory is its allocators' allocated bytes; RSS is the whole process (front, shard threads, V8 heaps).\n`,
  collections: async () => {
    const collections = await collectionMemory();
    return (
      `## Memory per member of one 1M-member collection\n\n${collections.memory}\n\nused_memory growth while one key grows to 1M members, 1000 per command, divided by 1M.\n\n` +
      `## Deleting a 1M-member collection\n\n${collections.deletion}\n\nHow long DEL or UNLINK of the collection takes to answer, and the longest another client waits meanwhile for EXISTS on the same key (on sabre, the same shard), sent back to back until INFO shows no background free pending.\n`
    );
  },
  defrag: async (redis) => {
    const servers = await startServers();
    try {
      return `## Active defragmentation: DEBUG POPULATE ${POPULATE_KEYS.toLocaleString('en-US')}, then every other key deleted\n\n${await defragReport(servers)}\n\nsabre with its default shards and activedefrag yes (active-defrag-ignore-bytes 1mb, active-defrag-threshold-lower 5, cycle-min/-max 1/25); ${redis}, whose Debian build cannot defragment, through the same steps. GET loads: redis-benchmark -c 50 -n 200000 GET key:__rand_int__ (its 12-digit padded names miss, so each GET walks the dictionary the cycles rewrite).\n`;
    } finally {
      servers.stop();
    }
  },
};

async function main(): Promise<void> {
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter((name) => !(name in SECTIONS));
  if (unknown.length > 0) throw new Error(`unknown section ${unknown.join(', ')}; sections: ${Object.keys(SECTIONS).join(', ')}`);
  const { stdout: version } = await run('redis-server', ['--version']);
  const redis = version.trim().split(' ').slice(0, 3).join(' ');
  const reports: string[] = [];
  for (const name of chosen.length > 0 ? chosen : Object.keys(SECTIONS)) reports.push(await SECTIONS[name](redis));
  process.stdout.write(reports.join('\n'));
}

await main();
