/**
 * `npm run bench:snapshot`: BGSAVE under a write load, sabre beside a real redis-server in one run.
 *
 * Each server holds 1M keys of 100-byte values (DEBUG POPULATE). Four clients SET random keys among the
 * first 20% of them, one command at a time each, at the same fixed rate on both servers (so that the
 * pages a save must copy compare like for like), timing every command: first for a few seconds with no
 * snapshot (the baseline), then from BGSAVE until the save has finished. Reported per server:
 * - the snapshot's time, and the pause it cost (INFO's latest_fork_usec: Redis's fork; sabre's holding
 *   of every shard while each opens its copy-on-write epoch);
 * - the extra memory: the pages copied because the load wrote them (rdb_last_cow_size: Redis's child
 *   reports its copy-on-write; sabre counts the pages its shards copied aside), and for sabre also the
 *   process's RSS growth during the save (which adds the writer threads' page caches and heaps; Redis's
 *   equivalent lives in the child process, outside the parent's RSS);
 * - p50, p99 and max latency of the clients' SETs with and without the snapshot.
 */
import { Redis } from 'ioredis';
import { progress } from './progress.js';
import { markdownTable } from './report.js';
import { memory, run, startServers } from './servers.js';

const KEYS = 1_000_000;
const VALUE_BYTES = 100;
const HOT_KEYS = KEYS / 5;
const CLIENTS = 4;
/** SETs per second per client: well under either server's throughput here, so both see the same load. */
const RATE_PER_CLIENT = 1000;
const BASELINE_MS = 3000;

interface Latencies {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

function summary(waits: number[]): Latencies {
  waits.sort((a, b) => a - b);
  const at = (share: number) => waits[Math.min(waits.length - 1, Math.floor(waits.length * share))];
  return { p50: at(0.5), p99: at(0.99), max: waits[waits.length - 1], count: waits.length };
}

/** Runs the SET load until `until` resolves; returns every command's time in ms. */
async function setLoad(port: number, until: Promise<unknown>): Promise<number[]> {
  const waits: number[] = [];
  let done = false;
  void until.then(() => (done = true));
  const value = Buffer.alloc(VALUE_BYTES, 'x');
  const clients = Array.from({ length: CLIENTS }, () => new Redis({ port }));
  try {
    await Promise.all(
      clients.map(async (client) => {
        let due = performance.now();
        while (!done) {
          const key = `key:${Math.floor(Math.random() * HOT_KEYS)}`;
          const sent = performance.now();
          await client.set(key, value);
          const now = performance.now();
          waits.push(now - sent);
          due += 1000 / RATE_PER_CLIENT;
          if (due > now) await new Promise((resolve) => setTimeout(resolve, due - now));
        }
      }),
    );
  } finally {
    for (const client of clients) client.disconnect();
  }
  return waits;
}

function field(info: string, name: string): number {
  return Number(new RegExp(`^${name}:(-?\\d+)`, 'm').exec(info)?.[1] ?? NaN);
}

interface SnapshotResult {
  seconds: number;
  pauseUs: number;
  cowBytes: number;
  rssGrowth: number;
  baseline: Latencies;
  during: Latencies;
}

async function measure(name: string, port: number): Promise<SnapshotResult> {
  const admin = new Redis({ port });
  try {
    await admin.flushall();
    progress(`${name}: populating ${KEYS.toLocaleString('en-US')} keys`);
    await admin.call('DEBUG', 'POPULATE', String(KEYS), 'key', String(VALUE_BYTES));
    progress(`${name}: baseline load, ${BASELINE_MS / 1000} s`);
    const baseline = summary(await setLoad(port, new Promise((resolve) => setTimeout(resolve, BASELINE_MS))));
    const rssBefore = (await memory(port)).rss;
    let peakRss = rssBefore;
    progress(`${name}: BGSAVE under the same load`);
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const loading = setLoad(port, finished);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    await admin.bgsave();
    let info = '';
    for (;;) {
      info = await admin.info();
      peakRss = Math.max(peakRss, field(info, 'used_memory_rss'));
      if (field(info, 'rdb_bgsave_in_progress') === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    finish();
    const during = summary(await loading);
    if (/^rdb_last_bgsave_status:ok/m.exec(info) === null) throw new Error(`${name}: the background save failed`);
    return { seconds, pauseUs: field(info, 'latest_fork_usec'), cowBytes: field(info, 'rdb_last_cow_size'), rssGrowth: peakRss - rssBefore, baseline, during };
  } finally {
    await admin.flushall();
    admin.disconnect();
  }
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const ms = (value: number) => value.toFixed(2);

async function main(): Promise<void> {
  const { stdout: version } = await run('redis-server', ['--version']);
  const servers = await startServers();
  try {
    const results: [string, SnapshotResult][] = [];
    for (const [name, port] of [['sabre', servers.sabre], ['Redis', servers.redis]] as const) results.push([name, await measure(name, port)]);
    const rows = results.map(([name, r]) => [
      name,
      r.seconds.toFixed(2),
      String(r.pauseUs),
      mb(r.cowBytes),
      name === 'sabre' ? mb(r.rssGrowth) : '(in the child)',
      `${ms(r.baseline.p50)} / ${ms(r.baseline.p99)} / ${ms(r.baseline.max)}`,
      `${ms(r.during.p50)} / ${ms(r.during.p99)} / ${ms(r.during.max)}`,
      r.during.count.toLocaleString('en-US'),
    ]);
    const [sabre, redis] = results.map(([, r]) => r);
    process.stdout.write(
      `## BGSAVE under a SET load (${KEYS.toLocaleString('en-US')} keys of ${VALUE_BYTES} bytes, ${CLIENTS} clients writing ${HOT_KEYS.toLocaleString('en-US')} of them, ${(CLIENTS * RATE_PER_CLIENT).toLocaleString('en-US')} SETs/s at most)\n\n` +
        markdownTable(
          ['server', 'snapshot (s)', 'pause (µs)', 'copy-on-write (MB)', 'RSS growth (MB)', 'SET p50 / p99 / max without (ms)', 'SET p50 / p99 / max during (ms)', 'SETs during'],
          rows,
        ) +
        `\n\nsabre / Redis: copy-on-write ${(sabre.cowBytes / Math.max(1, redis.cowBytes)).toFixed(2)}×, max latency during the save ${(sabre.during.max / redis.during.max).toFixed(2)}×, pause ${(sabre.pauseUs / Math.max(1, redis.pauseUs)).toFixed(2)}×. ${version.trim().split(' ').slice(0, 3).join(' ')}.\n`,
    );
  } finally {
    servers.stop();
  }
}

await main();
