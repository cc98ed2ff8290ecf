/**
 * Entry point of `npm run bench`: runs the allocator benchmarks, then the RESP parser and the front ↔
 * shard transport, prints the results as markdown on stdout (progress goes to stderr) and writes the same
 * document to bench/results/bench.md. The keyspace growth run is longer and has its own script
 * (`npm run bench:keyspace`).
 *
 * Run it through `npm run bench` (node --expose-gc), so memory readings are taken on a settled heap.
 */
import { cpus, loadavg } from 'node:os';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_FRAGMENTATION_OPTIONS,
  measureFragmentation,
  renderHeadline,
  renderSideBySide,
} from './alloc-fragmentation.js';
import { DEFAULT_THROUGHPUT_OPTIONS, measureThroughput, renderThroughput } from './alloc-throughput.js';
import { runRespBench } from './resp-parser.js';
import { runTransportBench } from './transport.js';
import { formatCount } from './report.js';
import { progress, warnWithoutGc } from './progress.js';

/** bench/results/ in the source tree, whether this runs from dist/bench/ or directly under a TS loader. */
const RESULTS_DIR = fileURLToPath(new URL(import.meta.url.includes('/dist/bench/') ? '../../bench/results/' : './results/', import.meta.url));

/** Read before anything runs: the load the benchmarks themselves add must not count as the machine's. */
function environment(): string {
  const cpu = cpus();
  return [
    `- date: ${new Date().toISOString()}`,
    `- node ${process.version}, ${process.platform}/${process.arch}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`,
    // Other work on the machine skews every figure below; the load says how busy it was when this began.
    `- load average at start (1 / 5 / 15 min): ${loadavg().map((load) => load.toFixed(2)).join(' / ')}`,
    '- command: `npm run bench` (= `tsc -b && node --expose-gc dist/bench/run.js`)',
  ].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  const machine = environment();
  warnWithoutGc();
  // Fragmentation first: its RSS readings are of a process that has not yet grown its JS heap for the
  // JS-heap throughput contender, so the process-wide figures are closer to what the arena alone costs.
  const fragmentationResults = measureFragmentation(DEFAULT_FRAGMENTATION_OPTIONS);
  const throughput = await measureThroughput(DEFAULT_THROUGHPUT_OPTIONS);
  progress('RESP parser');
  const resp = await runRespBench();
  progress('front ↔ shard transport');
  const transport = await runTransportBench();
  const headlineObjects = formatCount(DEFAULT_FRAGMENTATION_OPTIONS.headlineObjects);

  const document = [
    '# native-free-alloc benchmarks',
    machine,
    '## Allocation throughput',
    renderThroughput(throughput, DEFAULT_THROUGHPUT_OPTIONS),
    `## Fragmentation: native-free-alloc, ${headlineObjects} objects`,
    renderHeadline(fragmentationResults),
    '## Fragmentation: native-free-alloc and @thi.ng/malloc side by side',
    renderSideBySide(fragmentationResults),
    '# Server parts',
    '## RESP request parsing',
    resp,
    '## Front ↔ shard transport',
    transport,
  ].join('\n\n') + '\n';

  process.stdout.write(document);
  await mkdir(RESULTS_DIR, { recursive: true });
  // Written aside then renamed, so an interrupted run never leaves a half-written results file.
  const target = `${RESULTS_DIR}bench.md`;
  await writeFile(`${target}.tmp`, document);
  await rename(`${target}.tmp`, target);
  progress(`wrote ${target} (total ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

await main();
