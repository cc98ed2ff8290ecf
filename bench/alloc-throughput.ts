/**
 * Allocation throughput: alloc+free operations per second for each allocator on the same seeded batch
 * workloads, all measured in one tinybench run so the machine state is comparable across rows.
 *
 * One task iteration = one round: allocate a batch of objects, then free all of them in a random order.
 * ops/s counts both allocations and frees (2 × batch per iteration) and comes from tinybench's period
 * (total time / iterations), not from its mean of per-sample rates, which overweights fast samples.
 */
import { Bench } from 'tinybench';
import { CONTENDERS, JS_HEAP, THING_MALLOC, type Contender, type RoundRunner } from './contenders.js';
import { progress, settleHeap } from './progress.js';
import {
  formatMillis,
  formatOpsPerSecond,
  formatPercent,
  formatSpeedup,
  markdownTable,
} from './report.js';
import { MEDIUM_SIZES, MIXED_SIZES, SMALL_SIZES, makeBatchWorkload, type BatchWorkload } from './workloads.js';

export interface ThroughputOptions {
  batchSize: number;
  roundCount: number;
  seed: number;
  /** tinybench time budget per task, in ms. */
  timeMs: number;
  warmupMs: number;
}

export const DEFAULT_THROUGHPUT_OPTIONS: ThroughputOptions = {
  batchSize: 1000,
  roundCount: 32,
  seed: 0x5ab7e,
  timeMs: 2000,
  warmupMs: 500,
};

export interface ThroughputRow {
  workload: BatchWorkload;
  contender: Contender;
  opsPerSecond: number;
  /** Mean time of one round (batch allocated and freed), in ms. */
  roundMillis: number;
  /** Relative margin of error of the round time, in percent (95% confidence). */
  relativeMarginOfError: number;
  rounds: number;
}

export async function measureThroughput(options: ThroughputOptions = DEFAULT_THROUGHPUT_OPTIONS): Promise<ThroughputRow[]> {
  const workloads = [SMALL_SIZES, MEDIUM_SIZES, MIXED_SIZES].map((distribution, i) =>
    makeBatchWorkload(distribution, options.batchSize, options.roundCount, options.seed + i),
  );
  const bench = new Bench({ time: options.timeMs, warmupTime: options.warmupMs, throws: true });
  const pairs = new Map<string, { workload: BatchWorkload; contender: Contender }>();
  for (const workload of workloads) {
    for (const contender of CONTENDERS) {
      const name = `${workload.distribution.name} / ${contender.name}`;
      pairs.set(name, { workload, contender });
      let runner: RoundRunner | undefined;
      bench.add(name, () => runner!.runRound(), {
        beforeAll() {
          // A fresh allocator per phase, and a settled heap, so no task inherits another's garbage.
          runner?.dispose();
          runner = contender.prepare(workload);
          settleHeap();
        },
        afterAll() {
          runner?.dispose();
          runner = undefined;
          settleHeap();
        },
      });
    }
  }
  bench.addEventListener('cycle', (event) => {
    const task = event.task;
    if (task !== undefined) progress(`throughput: ${task.name} done (${task.runs} rounds)`);
  });
  progress(
    `throughput: ${bench.tasks.length} tasks, ~${((options.timeMs + options.warmupMs) / 1000).toFixed(1)} s each (tinybench warms all of them up first)`,
  );
  await bench.run();

  return bench.tasks.map((task) => {
    const pair = pairs.get(task.name)!;
    const result = task.result;
    if (result.state !== 'completed') {
      throw new Error(`throughput task ${task.name} ended ${result.state}${result.state === 'errored' ? `: ${result.error.message}` : ''}`);
    }
    return {
      ...pair,
      opsPerSecond: (2 * pair.workload.batchSize * 1000) / result.period,
      roundMillis: result.period,
      relativeMarginOfError: result.latency.rme,
      rounds: task.runs,
    };
  });
}

function opsOf(rows: readonly ThroughputRow[], workload: BatchWorkload, contender: Contender): number {
  return rows.find((row) => row.workload === workload && row.contender === contender)!.opsPerSecond;
}

export function renderThroughput(rows: readonly ThroughputRow[], options: ThroughputOptions = DEFAULT_THROUGHPUT_OPTIONS): string {
  const table = markdownTable(
    ['workload', 'allocator', 'ops/s (alloc+free)', '± (95%)', 'per round', 'rounds', 'vs JS heap', 'vs thi.ng'],
    rows.map((row) => [
      `${row.workload.distribution.name} (${row.workload.distribution.description})`,
      row.contender.name,
      formatOpsPerSecond(row.opsPerSecond),
      formatPercent(row.relativeMarginOfError),
      formatMillis(row.roundMillis),
      String(row.rounds),
      formatSpeedup(row.opsPerSecond / opsOf(rows, row.workload, JS_HEAP)),
      formatSpeedup(row.opsPerSecond / opsOf(rows, row.workload, THING_MALLOC)),
    ]),
    ['left', 'left'],
  );
  const notes = [
    `One round = ${options.batchSize} allocations in order, then ${options.batchSize} frees in a random order; ` +
      `${options.roundCount} seeded rounds per workload, replayed identically by every allocator. ` +
      `ops/s = 2 × ${options.batchSize} / mean round time. "vs" columns: this row's ops/s ÷ that allocator's on the same workload.`,
    ...CONTENDERS.map((contender) => `- **${contender.name}**: ${contender.description}.`),
  ];
  return `${table}\n\n${notes.join('\n')}`;
}
