/**
 * `npm run bench:embed [-- --time ms --rounds N --gc-keys N]`: the embedded shard pool against what an
 * application would use instead, side by side in one tinybench run: ioredis against a real redis-server
 * and against sabre's server on loopback, a plain Map (the in-process limit) and lru-cache. GET, SET,
 * INCR and HSET, one awaited call at a time, in batches of 100 (a pipeline for the pool and ioredis, a
 * loop for the in-process maps) and as 100 independent calls in flight at once (as a server's concurrent
 * requests make them), each task's best of `--rounds` (3). Four threads on one shared
 * counter: attached to one pool, or each with its own ioredis to redis-server. Then, with --gc-keys N
 * (default 0: skipped), the GC story: the latency of single gets while the store holds N keys, the pool
 * versus a Map of N entries.
 *
 * Every contender gets the same 10,000 keys of 64-byte values first. Servers run with no persistence.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { Bench } from 'tinybench';
import { ShardPool } from '../src/embed/index.js';
import { formatOpsPerSecond, formatSpeedup, markdownTable } from './report.js';
import { progress, settleHeap } from './progress.js';
import { startServers } from './servers.js';

const KEYS = 10_000;
const BATCH = 100;
const VALUE = 'v'.repeat(64);
const OPS = ['GET', 'SET', 'INCR', 'HSET'] as const;
type Op = (typeof OPS)[number];

/** One contender: a single operation, and a batch of BATCH of them, on key number i. */
interface Contender {
  name: string;
  single: Record<Op, (i: number) => unknown>;
  batch: Record<Op, (i: number) => unknown>;
}

const key = (i: number): string => `key:${i % KEYS}`;
const hashKey = (i: number): string => `hash:${i % 100}`;
const field = (i: number): string => `f${i % 1000}`;

function argOf(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

function redisContender(name: string, redis: Redis): Contender {
  const batch = (add: (pipeline: ReturnType<Redis['pipeline']>, i: number) => void) => (i: number) => {
    const pipeline = redis.pipeline();
    for (let j = 0; j < BATCH; j++) add(pipeline, i + j);
    return pipeline.exec();
  };
  return {
    name,
    single: {
      GET: (i) => redis.get(key(i)),
      SET: (i) => redis.set(key(i), VALUE),
      INCR: (i) => redis.incr(`counter:${i % 100}`),
      HSET: (i) => redis.hset(hashKey(i), field(i), VALUE),
    },
    batch: {
      GET: batch((p, i) => p.get(key(i))),
      SET: batch((p, i) => p.set(key(i), VALUE)),
      INCR: batch((p, i) => p.incr(`counter:${i % 100}`)),
      HSET: batch((p, i) => p.hset(hashKey(i), field(i), VALUE)),
    },
  };
}

function poolContender(pool: ShardPool): Contender {
  const batch = (add: (pipeline: ReturnType<ShardPool['pipeline']>, i: number) => void) => (i: number) => {
    const pipeline = pool.pipeline();
    for (let j = 0; j < BATCH; j++) add(pipeline, i + j);
    return pipeline.exec();
  };
  return {
    name: 'shard pool (in-process)',
    single: {
      GET: (i) => pool.get(key(i)),
      SET: (i) => pool.set(key(i), VALUE),
      INCR: (i) => pool.incr(`counter:${i % 100}`),
      HSET: (i) => pool.hset(hashKey(i), field(i), VALUE),
    },
    batch: {
      GET: batch((p, i) => p.get(key(i))),
      SET: batch((p, i) => p.set(key(i), VALUE)),
      INCR: batch((p, i) => p.incr(`counter:${i % 100}`)),
      HSET: batch((p, i) => p.hset(hashKey(i), field(i), VALUE)),
    },
  };
}

/** A Map-like store of strings and hashes, as an application keeps one on its heap. */
interface Heap {
  get(key: string): unknown;
  set(key: string, value: unknown): unknown;
}

function heapContender(name: string, store: Heap): Contender {
  const single: Record<Op, (i: number) => unknown> = {
    GET: (i) => store.get(key(i)),
    SET: (i) => store.set(key(i), VALUE),
    INCR: (i) => {
      const name = `counter:${i % 100}`;
      store.set(name, ((store.get(name) as number | undefined) ?? 0) + 1);
    },
    HSET: (i) => {
      let hash = store.get(hashKey(i)) as Map<string, string> | undefined;
      if (hash === undefined) store.set(hashKey(i), (hash = new Map()));
      hash.set(field(i), VALUE);
    },
  };
  const loop = (op: (i: number) => unknown) => (i: number) => {
    for (let j = 0; j < BATCH; j++) op(i + j);
  };
  return { name, single, batch: { GET: loop(single.GET), SET: loop(single.SET), INCR: loop(single.INCR), HSET: loop(single.HSET) } };
}

/** One awaited call; BATCH calls sent as one batch; BATCH independent awaited calls in flight at once. */
type Mode = 'single' | 'batch' | 'concurrent';
const MODES: readonly Mode[] = ['single', 'batch', 'concurrent'];
const MODE_NAMES: Record<Mode, string> = { single: '(one awaited call)', batch: `(batches of ${BATCH})`, concurrent: `(${BATCH} callers in flight)` };

/** BATCH calls of `op` at once, each awaited on its own (what a server's concurrent requests do). */
function concurrently(contender: Contender, op: Op, i: number): Promise<unknown> {
  const calls = new Array<unknown>(BATCH);
  for (let j = 0; j < BATCH; j++) calls[j] = contender.single[op](i + j);
  return Promise.all(calls);
}

interface Row {
  contender: string;
  op: Op;
  mode: Mode;
  opsPerSecond: number;
}

/**
 * Every task `rounds` times over (the whole set each round), keeping each task's best round: other
 * work on a shared machine only ever slows a task down, and the best round is the one it disturbed least.
 */
async function throughput(contenders: readonly Contender[], timeMs: number, rounds: number): Promise<Row[]> {
  let best: Row[] = [];
  for (let round = 1; round <= rounds; round++) {
    progress(`throughput: round ${round} of ${rounds}`);
    const rows = await throughputRound(contenders, timeMs);
    best = best.length === 0 ? rows : rows.map((row, i) => (row.opsPerSecond > best[i].opsPerSecond ? row : best[i]));
  }
  return best;
}

async function throughputRound(contenders: readonly Contender[], timeMs: number): Promise<Row[]> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs), throws: true });
  const rows: Omit<Row, 'opsPerSecond'>[] = [];
  for (const contender of contenders) {
    for (const mode of MODES) {
      for (const op of OPS) {
        let i = 0;
        const run = mode === 'concurrent' ? (at: number) => concurrently(contender, op, at) : contender[mode][op];
        bench.add(`${contender.name} ${op} ${mode}`, async () => {
          await run(i);
          i += mode === 'single' ? 1 : BATCH;
        }, { beforeAll: settleHeap });
        rows.push({ contender: contender.name, op, mode });
      }
    }
  }
  bench.addEventListener('cycle', (event) => {
    if (event.task !== undefined) progress(`${event.task.name}: done`);
  });
  await bench.run();
  return bench.tasks.map((task, index) => {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name} ended ${result.state}`);
    const row = rows[index];
    return { ...row, opsPerSecond: ((row.mode === 'single' ? 1 : BATCH) * 1000) / result.period };
  });
}

function render(rows: readonly Row[], contenders: readonly Contender[]): string {
  const find = (contender: string, op: Op, mode: string) => rows.find((row) => row.contender === contender && row.op === op && row.mode === mode)!.opsPerSecond;
  const redisName = contenders[1].name;
  const mapName = contenders[3].name;
  const table: string[][] = [];
  for (const mode of MODES) {
    for (const op of OPS) {
      const pool = find(contenders[0].name, op, mode);
      table.push([
        `${op} ${MODE_NAMES[mode]}`,
        ...contenders.map((contender) => formatOpsPerSecond(find(contender.name, op, mode))),
        formatSpeedup(pool / find(redisName, op, mode)),
        formatSpeedup(find(mapName, op, mode) / pool),
      ]);
    }
  }
  return markdownTable(['ops/s', ...contenders.map((c) => c.name), 'pool ÷ ioredis→redis', 'Map ÷ pool'], table);
}

/** Latency percentiles of `samples` awaited (or plain) calls of `get`, in µs. */
async function latencies(samples: number, get: (i: number) => unknown): Promise<string[]> {
  const times = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await get(i);
    times[i] = (performance.now() - started) * 1000;
  }
  times.sort();
  const at = (q: number) => times[Math.min(samples - 1, Math.floor(q * samples))];
  return [at(0.5), at(0.99), at(0.999), times[samples - 1]].map((us) => (us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(1)} µs`));
}

const heapMiB = (): string => {
  settleHeap();
  return `${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(0)} MiB`;
};

/**
 * The GC story: single gets while the store holds `count` keys, the pool (filled with DEBUG POPULATE,
 * so the JS heap never sees the keys) versus a Map of as many entries. The Map's side allocates a
 * fresh string per get, as an application does while it works, so the collector runs meanwhile.
 */
async function gcStory(pool: ShardPool, count: number): Promise<string> {
  const samples = 200_000;
  const spread = (i: number) => (i * 7919) % count;
  progress(`gc: filling the pool with ${count} keys`);
  await pool.command('FLUSHALL');
  await pool.command('DEBUG', 'POPULATE', count, 'gc', 64);
  const poolHeap = heapMiB();
  const poolRow = await latencies(samples, (i) => pool.get(`gc:${spread(i)}`));
  await pool.command('FLUSHALL');
  progress(`gc: filling a Map with ${count} entries`);
  const map = new Map<string, string>();
  for (let i = 0; i < count; i++) map.set(`gc:${i}`, `${VALUE}${i}`);
  const mapHeap = heapMiB();
  let kept = '';
  const mapRow = await latencies(samples, (i) => {
    const value = map.get(`gc:${spread(i)}`)!;
    kept = `${value.slice(0, 8)}${i}`;
    return kept;
  });
  map.clear();
  return markdownTable(
    [`single get, ${count.toLocaleString('en-US')} keys`, 'JS heap', 'p50', 'p99', 'p99.9', 'max'],
    [
      ['shard pool (awaited get)', poolHeap, ...poolRow],
      ['Map (get, plus a fresh string)', mapHeap, ...mapRow],
    ],
  );
}

/**
 * A worker of the threads comparison: INCRs on one shared counter, one awaited call at a time or in
 * batches of BATCH, through the pool's handle or its own ioredis connection. Plain JS (an eval worker):
 * it imports the compiled pool and ioredis by URL.
 */
const THREAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { mode, handle, port, ops, batch, poolUrl, ioredisUrl } = workerData;
  const client = mode === 'pool' ? (await import(poolUrl)).ShardPool.attach(handle) : new (await import(ioredisUrl)).Redis({ port });
  await client.incr('threads:warmup');
  parentPort.postMessage('ready');
  await new Promise((resolve) => parentPort.once('message', resolve));
  if (batch === 1) for (let i = 0; i < ops; i++) await client.incr('threads:counter');
  else for (let i = 0; i < ops; i += batch) {
    const pipeline = client.pipeline();
    for (let j = 0; j < batch; j++) pipeline.incr('threads:counter');
    await pipeline.exec();
  }
  mode === 'pool' ? client.close() : client.disconnect();
  parentPort.postMessage('done');
})();
`;

/** INCR ops/s of four threads together on one counter, through the pool's handle or each its own ioredis. */
async function threads(pool: ShardPool, redisPort: number, mode: 'pool' | 'ioredis', batch: number): Promise<number> {
  const ops = batch === 1 ? 5_000 : 50_000;
  const data = {
    mode,
    handle: pool.handle(),
    port: redisPort,
    ops,
    batch,
    poolUrl: new URL('../src/embed/index.js', import.meta.url).href,
    ioredisUrl: pathToFileURL(createRequire(import.meta.url).resolve('ioredis')).href,
  };
  const workers = Array.from({ length: 4 }, () => new Worker(THREAD_WORKER, { eval: true, workerData: data }));
  const next = (worker: Worker) => new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  await Promise.all(workers.map(next));
  const started = performance.now();
  const done = workers.map(next);
  for (const worker of workers) worker.postMessage('go');
  await Promise.all(done);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map((worker) => worker.terminate()));
  return (4 * ops) / seconds;
}

async function threadsTable(pool: ShardPool, redisPort: number): Promise<string> {
  const rows: string[][] = [];
  for (const batch of [1, BATCH]) {
    progress(`threads: INCR ${batch === 1 ? 'single' : 'batches'}`);
    const viaPool = await threads(pool, redisPort, 'pool', batch);
    const viaRedis = await threads(pool, redisPort, 'ioredis', batch);
    rows.push([
      batch === 1 ? 'INCR (one awaited call per thread)' : `INCR (batches of ${BATCH})`,
      formatOpsPerSecond(viaPool),
      formatOpsPerSecond(viaRedis),
      formatSpeedup(viaPool / viaRedis),
    ]);
  }
  return markdownTable(['four threads, one shared counter, ops/s', 'attached to one pool', 'each its own ioredis → redis-server', 'pool ÷ redis'], rows);
}

async function main(): Promise<void> {
  const timeMs = argOf('--time', 1000);
  const gcKeys = argOf('--gc-keys', 0);
  const rounds = argOf('--rounds', 3);
  progress('starting redis-server, sabre-server and the pool');
  const servers = await startServers();
  const pool = await ShardPool.start({ shards: argOf('--shards', 1), enableDebugCommand: 'yes' });
  const toRedis = new Redis({ port: servers.redis });
  const toSabre = new Redis({ port: servers.sabre });
  const map = new Map<string, unknown>();
  const lru = new LRUCache<string, NonNullable<unknown>>({ max: 2 * KEYS });
  const contenders = [
    poolContender(pool),
    redisContender('ioredis → redis-server', toRedis),
    redisContender('ioredis → sabre-server', toSabre),
    heapContender('Map', map),
    heapContender('lru-cache', lru as Heap),
  ];
  try {
    for (const contender of contenders) for (let i = 0; i < KEYS; i += BATCH) await contender.batch.SET(i);
    const rows = await throughput(contenders, timeMs, rounds);
    process.stdout.write(`${render(rows, contenders)}\n`);
    process.stdout.write(`\n${await threadsTable(pool, servers.redis)}\n`);
    if (gcKeys > 0) process.stdout.write(`\n${await gcStory(pool, gcKeys)}\n`);
  } finally {
    toRedis.disconnect();
    toSabre.disconnect();
    await pool.close();
    servers.stop();
  }
}

await main();
