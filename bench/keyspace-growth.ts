/**
 * `npm run bench:keyspace`: grows a keyspace to N keys (default 10 million, `-- --keys N`) one SET at a
 * time, as DEBUG POPULATE names them (key:i → value:i), and reports the worst single insert and the
 * memory per key, for a shard database in shared memory (sabre) and for a plain JavaScript Map of strings
 * (the in-process alternative). Each contender runs in a child process of its own, so RSS figures do not
 * mix; both use the same driver loop.
 *
 * The question it answers: does any single command stall while the index grows (sabre rehashes a few
 * buckets per call, V8's Map rehashes the whole table at once and its GC walks every entry)?
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Arena } from 'native-free-alloc';
import { Database } from '../src/shard/database.js';
import { formatBytes, formatCount, markdownTable } from './report.js';
import { progress, settleHeap } from './progress.js';

interface GrowthResult {
  contender: string;
  keys: number;
  seconds: number;
  /** Slowest single insert after the first 100,000 (JIT warm-up), and its key index. */
  worstMs: number;
  worstAt: number;
  p999Ms: number;
  over1Ms: number;
  /** Bytes the store itself accounts per key (arena allocated bytes; heapUsed for the Map). */
  storeBytesPerKey: number;
  rssBytesPerKey: number;
}

const WARM_UP = 100_000;

function grow(contender: 'sabre' | 'map', keys: number): GrowthResult {
  settleHeap();
  const rssBefore = process.memoryUsage.rss();
  const heapBefore = process.memoryUsage().heapUsed;
  const arena = contender === 'sabre' ? new Arena() : undefined;
  const db = arena !== undefined ? new Database(arena) : undefined;
  const map = new Map<string, string>();
  const keyBytes = Buffer.alloc(64);
  const valueBytes = Buffer.alloc(64);
  // Insert latencies in µs, bucketed, so the percentile costs no per-key memory of its own.
  const histogram = new Uint32Array(100_000);
  let worst = 0;
  let worstAt = 0;
  let over1 = 0;
  const started = performance.now();
  for (let i = 0; i < keys; i++) {
    const key = `key:${i}`;
    const value = `value:${i}`;
    const t = performance.now();
    if (db !== undefined) {
      const kl = keyBytes.write(key, 'latin1');
      const vl = valueBytes.write(value, 'latin1');
      db.setString(keyBytes.subarray(0, kl), valueBytes.subarray(0, vl));
      // The shard's idle loop gives rehashing a slice of time; here, a 0.2 ms slice every 1000 inserts.
      if (i % 1000 === 0 && db.dict.rehashing) db.dict.rehashForMilliseconds(0.2);
    } else map.set(key, value);
    const elapsed = performance.now() - t;
    if (i >= WARM_UP) {
      histogram[Math.min(histogram.length - 1, Math.floor(elapsed * 1000))]++;
      if (elapsed > worst) {
        worst = elapsed;
        worstAt = i;
      }
      if (elapsed > 1) over1++;
    }
    if (i % 1_000_000 === 999_999) progress(`${contender}: ${formatCount(i + 1)} keys`);
  }
  const seconds = (performance.now() - started) / 1000;
  settleHeap();
  const measured = keys - WARM_UP;
  let seen = 0;
  let p999 = 0;
  for (let us = 0; us < histogram.length; us++) {
    seen += histogram[us];
    if (seen >= measured * 0.999) {
      p999 = us / 1000;
      break;
    }
  }
  const storeBytes = arena !== undefined ? arena.stats().allocatedBytes : process.memoryUsage().heapUsed - heapBefore;
  const result: GrowthResult = {
    contender: contender === 'sabre' ? 'sabre shard database (shared memory)' : 'JavaScript Map<string, string>',
    keys,
    seconds,
    worstMs: worst,
    worstAt,
    p999Ms: p999,
    over1Ms: over1,
    storeBytesPerKey: storeBytes / keys,
    rssBytesPerKey: (process.memoryUsage.rss() - rssBefore) / keys,
  };
  // Keep the stores alive until measured.
  if (map.size + (db?.size ?? 0) !== keys) throw new Error('the store lost keys');
  return result;
}

function runChild(contender: string, keys: number): Promise<GrowthResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', contender, String(keys)], {
      execArgv: ['--expose-gc', '--max-old-space-size=16384'],
    });
    child.once('message', (message) => resolve(message as GrowthResult));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`${contender} run exited with code ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--child');
  if (at >= 0) {
    const result = grow(process.argv[at + 1] as 'sabre' | 'map', Number(process.argv[at + 2]));
    process.send!(result);
    return;
  }
  const keysAt = process.argv.indexOf('--keys');
  const keys = keysAt >= 0 ? Number(process.argv[keysAt + 1]) : 10_000_000;
  const results = [];
  for (const contender of ['sabre', 'map']) {
    progress(`${contender}: growing to ${formatCount(keys)} keys`);
    results.push(await runChild(contender, keys));
  }
  const table = markdownTable(
    ['store', 'keys', 'time', 'worst insert', 'p99.9 insert', 'inserts > 1 ms', 'store bytes/key', 'RSS bytes/key'],
    results.map((r) => [
      r.contender,
      formatCount(r.keys),
      `${r.seconds.toFixed(1)} s`,
      `${r.worstMs.toFixed(2)} ms (key ${formatCount(r.worstAt)})`,
      `${r.p999Ms.toFixed(3)} ms`,
      formatCount(r.over1Ms),
      formatBytes(Math.round(r.storeBytesPerKey)),
      formatBytes(Math.round(r.rssBytesPerKey)),
    ]),
  );
  process.stdout.write(
    `## Keyspace growth to ${formatCount(keys)} keys\n\n${table}\n\n` +
      `Inserts are timed one by one after the first ${formatCount(WARM_UP)} (JIT warm-up). Store bytes: the arena's allocated bytes (sabre), the growth of V8's heapUsed (Map). RSS: the process's resident set growth after a forced GC. For reference, Redis 7.0 holds 89 B/key (used_memory) for DEBUG POPULATE 1000000 on this machine.\n`,
  );
}

await main();
