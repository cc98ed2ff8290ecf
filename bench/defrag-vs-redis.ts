/**
 * The `defrag` section of `npm run bench:server`: the delete-half workload. Each server gets DEBUG
 * POPULATE 1000000 (keys key:N, values value:N), then every other key is deleted (DEL of 1000 keys per
 * command), which leaves every slab half full: used_memory halves and RSS stays. sabre then gets
 * `activedefrag yes` with thresholds low enough for this size (active-defrag-ignore-bytes 1mb,
 * active-defrag-threshold-lower 5; cycle-min/-max at Redis's defaults, 1 and 25) and is watched for up to
 * DEFRAG_WINDOW_MS while a GET load runs against it. Redis (Debian's build cannot defragment: its
 * jemalloc lacks the hint) is measured through the same steps without defragmentation.
 *
 * Figures: used_memory, RSS, mem_fragmentation_ratio, allocator_frag_ratio and allocator_resident on
 * the empty server, after populating, after deleting, after the GET loads without defragmentation (just
 * before `activedefrag yes`), and at the end of the window; and the p99 of redis-benchmark GET loads (-c 50) before
 * defragmentation starts and while it runs (the worst p99 over the loads that overlapped a cycle). The
 * loads GET key:__rand_int__, whose 12-digit padded names miss: each GET still walks the dictionary.
 */
import { Redis } from 'ioredis';
import { markdownTable } from './report.js';
import { progress } from './progress.js';
import { run } from './servers.js';

const KEYS = 1_000_000;
const DELETE_BATCH = 1000;
const DEFRAG_WINDOW_MS = 30_000;
/** Requests per GET load; about two seconds each on either server here. */
const LOAD_REQUESTS = 200_000;
const BASELINE_LOADS = 3;

interface MemoryFigures {
  used: number;
  rss: number;
  memFragmentation: number;
  allocatorFragmentation: number;
  /** sabre: bytes of segments the arenas hold; Redis: jemalloc's resident bytes. */
  allocatorResident: number;
}

async function memoryFigures(client: Redis): Promise<MemoryFigures> {
  const info = await client.info('memory');
  const read = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return { used: read('used_memory'), rss: read('used_memory_rss'), memFragmentation: read('mem_fragmentation_ratio'), allocatorFragmentation: read('allocator_frag_ratio'), allocatorResident: read('allocator_resident') };
}

/** One GET load of LOAD_REQUESTS at -c 50 over the populated key names; its p99 in ms. */
async function getLoadP99(port: number): Promise<number> {
  const { stdout } = await run('redis-benchmark', ['-p', String(port), '-n', String(LOAD_REQUESTS), '-c', '50', '-r', String(KEYS), '--csv', 'GET', 'key:__rand_int__'], { maxBuffer: 1 << 20 });
  const row = stdout.trim().split('\n').at(-1)!.split(',').map((cell) => cell.replace(/"/g, ''));
  return Number(row[6]);
}

async function deleteEveryOtherKey(client: Redis): Promise<void> {
  for (let from = 0; from < KEYS; from += DELETE_BATCH * 100) {
    const pipeline = client.pipeline();
    for (let batch = from; batch < Math.min(KEYS, from + DELETE_BATCH * 100); batch += DELETE_BATCH) {
      pipeline.del(...Array.from({ length: DELETE_BATCH / 2 }, (_, i) => `key:${batch + 2 * i}`));
    }
    await pipeline.exec();
  }
}

interface Run {
  empty: MemoryFigures;
  populated: MemoryFigures;
  deleted: MemoryFigures;
  /** After the baseline GET loads, just before activedefrag yes (the loads themselves grow the front's heap). */
  loaded: MemoryFigures;
  end: MemoryFigures;
  baselineP99: number;
  duringP99: number | undefined;
  /** When the defragmentation cycles had finished, ms after activedefrag yes; undefined if still running at the end. */
  finishedMs: number | undefined;
  hits: number;
}

async function measure(name: string, port: number, defrag: boolean): Promise<Run> {
  const client = new Redis(port, { lazyConnect: true });
  await client.connect();
  try {
    const empty = await memoryFigures(client);
    progress(`defrag: DEBUG POPULATE ${KEYS} on ${name}`);
    await client.call('DEBUG', 'POPULATE', String(KEYS));
    const populated = await memoryFigures(client);
    progress(`defrag: deleting every other key on ${name}`);
    await deleteEveryOtherKey(client);
    const deleted = await memoryFigures(client);
    progress(`defrag: GET loads without defragmentation on ${name}`);
    let baselineP99 = 0;
    for (let i = 0; i < BASELINE_LOADS; i++) baselineP99 = Math.max(baselineP99, await getLoadP99(port));
    const loaded = await memoryFigures(client);
    if (!defrag) {
      await new Promise((resolve) => setTimeout(resolve, DEFRAG_WINDOW_MS));
      return { empty, populated, deleted, loaded, end: await memoryFigures(client), baselineP99, duringP99: undefined, finishedMs: undefined, hits: 0 };
    }
    progress(`defrag: activedefrag yes on ${name}, GET loads meanwhile`);
    await client.config('SET', 'active-defrag-ignore-bytes', '1mb', 'active-defrag-threshold-lower', '5', 'activedefrag', 'yes');
    const started = performance.now();
    let finishedMs: number | undefined;
    let duringP99 = 0;
    let hits = 0;
    while (finishedMs === undefined && performance.now() - started < DEFRAG_WINDOW_MS) {
      const p99 = await getLoadP99(port);
      const stats = await client.info('stats');
      const running = Number(/^active_defrag_running:(\d+)/m.exec(await client.info('memory'))?.[1]);
      hits = Number(/^active_defrag_hits:(\d+)/m.exec(stats)?.[1]);
      // A load that began with the cycles running overlapped them.
      duringP99 = Math.max(duringP99, p99);
      if (running === 0 && hits > 0) finishedMs = performance.now() - started;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, DEFRAG_WINDOW_MS - (performance.now() - started))));
    return { empty, populated, deleted, loaded, end: await memoryFigures(client), baselineP99, duringP99, finishedMs, hits };
  } finally {
    client.disconnect();
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Runs the workload on both servers (sabre first, then Redis) and returns the section's tables. */
export async function defragReport(ports: { sabre: number; redis: number }): Promise<string> {
  const ours = await measure('sabre', ports.sabre, true);
  const theirs = await measure('Redis', ports.redis, false);
  const rows: string[][] = [];
  for (const [name, result] of [
    ['sabre', ours],
    ['Redis', theirs],
  ] as const) {
    for (const [step, figures] of [
      ['empty', result.empty],
      ['populated', result.populated],
      ['every other key deleted', result.deleted],
      ['after the GET loads', result.loaded],
      [name === 'sabre' ? `${DEFRAG_WINDOW_MS / 1000} s later, activedefrag yes` : `${DEFRAG_WINDOW_MS / 1000} s later (no activedefrag)`, result.end],
    ] as const) {
      rows.push([name, step, mib(figures.used), mib(figures.rss), figures.memFragmentation.toFixed(2), figures.allocatorFragmentation.toFixed(2), mib(figures.allocatorResident)]);
    }
  }
  const memory = markdownTable(['server', 'step', 'used_memory', 'RSS', 'mem_fragmentation_ratio', 'allocator_frag_ratio', 'allocator_resident'], rows);
  const latency = markdownTable(
    ['server', 'GET p99 ms, no defrag', 'GET p99 ms, defrag running', 'defrag done after', 'allocations moved'],
    [
      ['sabre', ours.baselineP99.toFixed(3), ours.duringP99?.toFixed(3) ?? '–', ours.finishedMs === undefined ? 'still running' : `${(ours.finishedMs / 1000).toFixed(1)} s`, ours.hits.toLocaleString('en-US')],
      ['Redis', theirs.baselineP99.toFixed(3), '–', '–', '–'],
    ],
  );
  const drop = (before: number, after: number) => `${((1 - after / before) * 100).toFixed(0)}%`;
  const aboveEmpty = (figures: MemoryFigures) => figures.rss - ours.empty.rss;
  return (
    `${memory}\n\n${latency}\n\nFrom just before activedefrag yes to the window's end, sabre's RSS fell by ${drop(ours.loaded.rss, ours.end.rss)} ` +
    `(${drop(aboveEmpty(ours.loaded), aboveEmpty(ours.end))} of what it held above the empty server) and its arenas' resident segments by ` +
    `${drop(ours.loaded.allocatorResident, ours.end.allocatorResident)}.`
  );
}
