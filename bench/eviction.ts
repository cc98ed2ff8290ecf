/**
 * `npm run bench:eviction`: maxmemory eviction on sabre and a real redis-server, side by side.
 *
 * Hit ratio: a cache-aside workload (GET; on a miss, SET) over KEYS keys drawn from a Zipf distribution,
 * with the budget at 10%, 25% and 50% of what the whole data set takes on that server (measured first:
 * used_memory with every key stored, less used_memory empty). Each cell replays the same seeded draws;
 * an exact LRU (the lru-cache package) holding the same share of the keys is the reference.
 *
 * Budget under load: redis-benchmark writes 1 GB of SETs (1 KiB values, random keys) into a 64 MB
 * allkeys-lru budget while INFO's used_memory is sampled and a probe client times GETs one at a time:
 * how far over the budget memory went, and how long the worst wait was.
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { createRandom, type Random } from './prng.js';
import { progress } from './progress.js';
import { markdownTable } from './report.js';
import { run, startServers } from './servers.js';

const KEYS = 100_000;
const VALUE = 'x'.repeat(100);
/** YCSB's Zipf constant. */
const ZIPF_EXPONENT = 0.99;
const WARMUP_OPS = 200_000;
const MEASURED_OPS = 400_000;
const BATCH = 1000;
const FRACTIONS = [0.1, 0.25, 0.5];
const POLICIES = ['allkeys-lru', 'allkeys-lfu'];
const SEED = 20261125;

/** Draws key ranks 0..n-1, rank r with probability ∝ 1/(r+1)^s, by binary search in the cumulative table. */
function zipf(n: number, exponent: number, random: Random): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let rank = 0; rank < n; rank++) cumulative[rank] = sum += 1 / Math.pow(rank + 1, exponent);
  return () => {
    const target = random() * sum;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle] < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

/** Every draw of one cell, the same for every server and policy. */
function draws(): Uint32Array {
  const next = zipf(KEYS, ZIPF_EXPONENT, createRandom(SEED));
  return Uint32Array.from({ length: WARMUP_OPS + MEASURED_OPS }, next);
}

const keyOf = (rank: number) => `key:${rank}`;

async function usedMemory(client: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await client.info('memory'))![1]);
}

/** What storing every key costs this server: used_memory full less used_memory empty. */
async function datasetBytes(client: Redis): Promise<{ empty: number; dataset: number }> {
  await client.config('SET', 'maxmemory', '0');
  await client.flushall();
  const empty = await usedMemory(client);
  for (let start = 0; start < KEYS; start += BATCH) {
    const pipeline = client.pipeline();
    for (let rank = start; rank < Math.min(KEYS, start + BATCH); rank++) pipeline.set(keyOf(rank), VALUE);
    await pipeline.exec();
  }
  const dataset = (await usedMemory(client)) - empty;
  await client.flushall();
  return { empty, dataset };
}

/** The cache-aside workload under `policy` with the budget at `fraction` of the data set: the measured hit ratio. */
async function serverHitRatio(client: Redis, sequence: Uint32Array, policy: string, fraction: number, sizes: { empty: number; dataset: number }): Promise<number> {
  await client.config('SET', 'maxmemory', '0');
  await client.flushall();
  await client.config('SET', 'maxmemory-policy', policy);
  await client.config('SET', 'maxmemory', String(Math.round(sizes.empty + fraction * sizes.dataset)));
  let hits = 0;
  for (let start = 0; start < sequence.length; start += BATCH) {
    const batch = sequence.subarray(start, start + BATCH);
    const reads = client.pipeline();
    for (const rank of batch) reads.get(keyOf(rank));
    const replies = (await reads.exec())!;
    const writes = client.pipeline();
    replies.forEach(([, value], i) => {
      if (value !== null) {
        if (start + i >= WARMUP_OPS) hits++;
      } else writes.set(keyOf(batch[i]), VALUE);
    });
    if (writes.length > 0) await writes.exec();
  }
  await client.config('SET', 'maxmemory', '0');
  return hits / MEASURED_OPS;
}

/** The same workload on an exact LRU of `fraction` × KEYS entries. */
function exactLruHitRatio(sequence: Uint32Array, fraction: number): number {
  const cache = new LRUCache<number, true>({ max: Math.round(fraction * KEYS) });
  let hits = 0;
  sequence.forEach((rank, i) => {
    if (cache.get(rank) !== undefined) {
      if (i >= WARMUP_OPS) hits++;
    } else cache.set(rank, true);
  });
  return hits / MEASURED_OPS;
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

async function hitRatios(): Promise<string> {
  const servers = await startServers();
  const sabre = new Redis({ port: servers.sabre });
  const redis = new Redis({ port: servers.redis });
  try {
    const sequence = draws();
    const sizes = { sabre: await datasetBytes(sabre), redis: await datasetBytes(redis) };
    progress(`data set: sabre ${sizes.sabre.dataset} B, Redis ${sizes.redis.dataset} B for ${KEYS} keys`);
    const rows: string[][] = [];
    for (const fraction of FRACTIONS) {
      const exact = exactLruHitRatio(sequence, fraction);
      for (const policy of POLICIES) {
        progress(`${policy} at ${fraction * 100}%`);
        const ours = await serverHitRatio(sabre, sequence, policy, fraction, sizes.sabre);
        const theirs = await serverHitRatio(redis, sequence, policy, fraction, sizes.redis);
        rows.push([`${fraction * 100}%`, policy, percent(ours), percent(theirs), `${((ours - theirs) * 100).toFixed(1)}`, percent(exact)]);
      }
    }
    return markdownTable(['budget', 'policy', 'sabre', 'Redis', 'sabre − Redis (points)', 'exact LRU (lru-cache)'], rows);
  } finally {
    sabre.disconnect();
    redis.disconnect();
    servers.stop();
  }
}

const LOAD_BYTES = 1024 ** 3;
const LOAD_VALUE = 1024;
const LOAD_BUDGET = 64 * 1024 * 1024;

interface LoadResult {
  peakOver: number;
  evicted: number;
  probeP99Ms: number;
  probeMaxMs: number;
  seconds: number;
}

/**
 * Writes LOAD_BYTES with redis-benchmark into an allkeys-lru `budget` (0: none, the baseline), watching
 * memory and a GET probe.
 */
async function budgetUnderLoad(port: number, budget: number): Promise<LoadResult> {
  const admin = new Redis({ port });
  const probe = new Redis({ port });
  try {
    await admin.flushall();
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru', 'maxmemory', String(budget));
    await probe.set('probe', 'x');
    const requests = Math.round(LOAD_BYTES / LOAD_VALUE);
    const started = performance.now();
    const writer = spawn('redis-benchmark', ['-p', String(port), '-t', 'set', '-n', String(requests), '-r', '100000000', '-d', String(LOAD_VALUE), '-P', '16', '-c', '8', '-q'], { stdio: 'ignore' });
    const finished = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
    let done = false;
    void finished.then(() => (done = true));
    let peak = 0;
    const waits: number[] = [];
    const watch = (async () => {
      while (!done) {
        peak = Math.max(peak, await usedMemory(admin));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    while (!done) {
      const sent = performance.now();
      await probe.get('probe');
      waits.push(performance.now() - sent);
    }
    await watch;
    const seconds = (performance.now() - started) / 1000;
    const evicted = Number(/^evicted_keys:(\d+)/m.exec(await admin.info('stats'))![1]);
    await admin.config('SET', 'maxmemory', '0');
    await admin.flushall();
    waits.sort((a, b) => a - b);
    return { peakOver: peak - budget, evicted, probeP99Ms: waits[Math.floor(waits.length * 0.99)], probeMaxMs: waits[waits.length - 1], seconds };
  } finally {
    admin.disconnect();
    probe.disconnect();
  }
}

async function loadTable(): Promise<string> {
  const servers = await startServers();
  try {
    const rows: string[][] = [];
    for (const [name, port] of [['sabre', servers.sabre], ['Redis', servers.redis]] as const) {
      for (const budget of [0, LOAD_BUDGET]) {
        progress(`${name}: 1 GB ${budget === 0 ? 'with no budget' : 'into 64 MB'}`);
        const result = await budgetUnderLoad(port, budget);
        rows.push([
          name,
          budget === 0 ? 'none' : '64 MB',
          budget === 0 ? '' : `${(result.peakOver / 1024).toFixed(0)} KiB`,
          result.evicted.toLocaleString('en-US'),
          result.probeP99Ms.toFixed(2),
          result.probeMaxMs.toFixed(2),
          result.seconds.toFixed(1),
        ]);
      }
    }
    return markdownTable(['server', 'maxmemory', 'highest used_memory − maxmemory', 'evicted_keys', 'probe GET p99 (ms)', 'probe GET max (ms)', 'seconds'], rows);
  } finally {
    servers.stop();
  }
}

/** `npm run bench:eviction -- ratio` or `-- load` runs one section; both by default. */
async function main(): Promise<void> {
  const chosen = process.argv.slice(2);
  const wants = (name: string) => chosen.length === 0 || chosen.includes(name);
  const { stdout: version } = await run('redis-server', ['--version']);
  const redis = version.trim().split(' ').slice(0, 3).join(' ');
  const sections: string[] = [];
  if (wants('ratio')) {
    sections.push(
      `## Eviction hit ratio (Zipf ${ZIPF_EXPONENT}, ${KEYS.toLocaleString('en-US')} keys, ${MEASURED_OPS.toLocaleString('en-US')} measured GETs after ${WARMUP_OPS.toLocaleString('en-US')})\n\n${await hitRatios()}\n\n` +
        `Budget = share of the data set's own used_memory on each server; a miss is followed by a SET of the key; ${redis}, maxmemory-samples 5 on both.\n`,
    );
  }
  if (wants('load')) {
    sections.push(
      `## 1 GB written into a 64 MB budget (allkeys-lru, redis-benchmark -t set -d 1024 -P 16 -c 8)\n\n${await loadTable()}\n\n` +
        `used_memory sampled every 10 ms during the load; the probe sends GET one at a time on its own connection. The rows without a budget are the same load with nothing evicted: the probe's waits there are the load's own, not eviction's.\n`,
    );
  }
  process.stdout.write(sections.join('\n'));
}

await main();
