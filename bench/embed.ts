/**
 * `npm run bench:embed [-- --time ms] [-- --gc-keys N]`: the embedded shard pool against what an
 * application would use instead, side by side in one tinybench run: ioredis against a real redis-server
 * and against sabre's server on loopback, a plain Map (the in-process limit) and lru-cache. GET, SET,
 * INCR and HSET, one awaited call at a time and in batches of 100 (a pipeline for the pool and ioredis,
 * a loop for the in-process maps). Then, with --gc-keys N (0 to skip; default 0), the GC story: the
 * latency of single gets while the store holds N keys, the pool versus a Map of N entries.
 *
 * Every contender gets the same 10,000 keys of 64-byte values first. Servers run with no persistence.
 */
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

interface Row {
  contender: string;
  op: Op;
  mode: 'single' | 'batch';
  opsPerSecond: number;
}

async function throughput(contenders: readonly Contender[], timeMs: number): Promise<Row[]> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs), throws: true });
  const rows: Omit<Row, 'opsPerSecond'>[] = [];
  for (const contender of contenders) {
    for (const mode of ['single', 'batch'] as const) {
      for (const op of OPS) {
        let i = 0;
        const run = contender[mode][op];
        bench.add(`${contender.name} ${op} ${mode}`, async () => {
          await run(i);
          i += mode === 'batch' ? BATCH : 1;
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
    return { ...row, opsPerSecond: ((row.mode === 'batch' ? BATCH : 1) * 1000) / result.period };
  });
}

function render(rows: readonly Row[], contenders: readonly Contender[]): string {
  const find = (contender: string, op: Op, mode: string) => rows.find((row) => row.contender === contender && row.op === op && row.mode === mode)!.opsPerSecond;
  const redisName = contenders[1].name;
  const mapName = contenders[3].name;
  const table: string[][] = [];
  for (const mode of ['single', 'batch'] as const) {
    for (const op of OPS) {
      const pool = find(contenders[0].name, op, mode);
      table.push([
        `${op} ${mode === 'single' ? '(one awaited call)' : `(batches of ${BATCH})`}`,
        ...contenders.map((contender) => formatOpsPerSecond(find(contender.name, op, mode))),
        formatSpeedup(pool / find(redisName, op, mode)),
        formatSpeedup(find(mapName, op, mode) / pool),
      ]);
    }
  }
  return markdownTable(['ops/s', ...contenders.map((c) => c.name), 'pool ÷ ioredis→redis', 'Map ÷ pool'], table);
}

/** p50/p99/max of single gets (µs) while `count` keys are stored, pool versus Map. */
async function gcStory(pool: ShardPool, count: number): Promise<string> {
  const samples = 200_000;
  const percentiles = (times: Float64Array) => {
    const sorted = Float64Array.from(times).sort();
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return [at(0.5), at(0.99), sorted[sorted.length - 1]].map((us) => `${us.toFixed(1)} µs`);
  };
  progress(`gc: filling the pool with ${count} keys`);
  await pool.command('FLUSHALL');
  for (let start = 0; start < count; start += 10_000) {
    const pipeline = pool.pipeline();
    for (let i = start; i < Math.min(count, start + 10_000); i++) pipeline.set(`gc:${i}`, VALUE);
    await pipeline.exec();
  }
  const poolTimes = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await pool.get(`gc:${(i * 7919) % count}`);
    poolTimes[i] = (performance.now() - started) * 1000;
  }
  await pool.command('FLUSHALL');
  progress(`gc: filling a Map with ${count} entries`);
  const map = new Map<string, string>();
  for (let i = 0; i < count; i++) map.set(`gc:${i}`, `${VALUE}${i}`);
  const mapTimes = new Float64Array(samples);
  // The application allocates as it works (a fresh value per get here), so the collector runs, and
  // every full collection walks the whole map.
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const value = map.get(`gc:${(i * 7919) % count}`);
    map.set(`gc:${(i * 7919) % count}`, `${value!.slice(0, 64)}${i}`);
    mapTimes[i] = (performance.now() - started) * 1000;
  }
  map.clear();
  return markdownTable(
    [`single get, ${count.toLocaleString('en-US')} keys`, 'p50', 'p99', 'max'],
    [
      ['shard pool (awaited get)', ...percentiles(poolTimes)],
      ['Map (get + set of a fresh string)', ...percentiles(mapTimes)],
    ],
  );
}

async function main(): Promise<void> {
  const timeMs = argOf('--time', 1000);
  const gcKeys = argOf('--gc-keys', 0);
  progress('starting redis-server, sabre-server and the pool');
  const servers = await startServers();
  const pool = await ShardPool.start({ shards: argOf("--shards", 1) });
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
    const rows = await throughput(contenders, timeMs);
    process.stdout.write(`${render(rows, contenders)}\n`);
    if (gcKeys > 0) process.stdout.write(`\n${await gcStory(pool, gcKeys)}\n`);
  } finally {
    toRedis.disconnect();
    toSabre.disconnect();
    await pool.close();
    servers.stop();
  }
}

await main();
