/**
 * One workload's chart: every target's counters over the same batches, one colour per counter and one
 * line style per target, the workload's phases as shaded bands; the allocator's counters in one panel,
 * the process's RSS in a second, and defragmentation moves in a third when any target made some.
 *
 * RSS is drawn as its growth since the workload began: a process's resident set starts with the runtime
 * itself (tens of MB for Node, a few for Redis), which would otherwise flatten every other line.
 */
import type { Sample } from './run-workload.js';
import { SETTLE_PAUSE_MS, type WorkloadOptions } from './workloads.js';
import { renderChart, type Band, type LegendEntry, type Series } from './svg-chart.js';

export interface TargetRun {
  /** The legend's name for the target (e.g. "sabre", "redis-server 7.0.15"). */
  label: string;
  samples: readonly Sample[];
}

const MEASURES = [
  { key: 'requested', label: 'requested', color: '#8c8c8c' },
  { key: 'allocated', label: 'allocated (used_memory)', color: '#1f77b4' },
  { key: 'active', label: 'active pages (allocator_active)', color: '#2ca02c' },
  { key: 'committed', label: 'committed (allocator_resident)', color: '#ff7f0e' },
] as const;
const RSS_COLOUR = '#d62728';
const MOVES_COLOUR = '#9467bd';

/** Line styles by target, in the order the runs are given. */
const STYLES = [{ width: 2 }, { width: 1.5, dash: '6 4' }, { width: 1.5, dash: '2 3' }];

/** The runs of consecutive samples in one phase, as bands over sample positions. */
export function phaseBands(samples: readonly Sample[]): Band[] {
  const bands: Band[] = [];
  samples.forEach((sample, i) => {
    if (sample.phase === 'start') return;
    const last = bands.at(-1);
    if (last !== undefined && last.label === sample.phase) last.to = i;
    else bands.push({ from: Math.max(0, i - 1), to: i, label: sample.phase });
  });
  return bands;
}

export function workloadChart(title: string, subtitle: string, options: WorkloadOptions, runs: readonly TargetRun[]): string {
  const allocator: Series[] = [];
  const rss: Series[] = [];
  const moves: Series[] = [];
  runs.forEach((run, index) => {
    const style = STYLES[index % STYLES.length];
    for (const measure of MEASURES) {
      const values = run.samples.map((s) => s[measure.key]);
      if (values.every((v) => v === undefined)) continue;
      allocator.push({ label: `${run.label}: ${measure.label}`, color: measure.color, values, ...style, width: measure.key === 'requested' ? 1 : style.width });
    }
    const rssAtStart = run.samples[0]?.rss ?? 0;
    rss.push({ label: `${run.label}: RSS growth`, color: RSS_COLOUR, values: run.samples.map((s) => s.rss - rssAtStart), ...style });
    moves.push({ label: `${run.label}: defrag moves`, color: MOVES_COLOUR, values: run.samples.map((s) => s.moves), ...style });
  });
  const anyMoves = runs.some((run) => run.samples.some((s) => s.moves > 0));
  const legend: LegendEntry[] = [
    ...MEASURES.map(({ label, color }) => ({ label, color })),
    { label: 'RSS growth since the start', color: RSS_COLOUR },
    ...(anyMoves ? [{ label: 'defrag moves (cumulative)', color: MOVES_COLOUR }] : []),
    ...runs.map((run, index) => ({ label: run.label, color: '#333', dash: STYLES[index % STYLES.length].dash })),
  ];
  return renderChart({
    title,
    subtitle,
    xLabel: `samples: one after every batch of up to ${options.batchSize} commands (settle: one every ${options.settleMs ?? SETTLE_PAUSE_MS} ms, no commands)`,
    points: Math.max(...runs.map((run) => run.samples.length)),
    bands: phaseBands(runs[0].samples),
    panels: [
      { title: 'allocator', scale: 2 ** 20, unit: 'MiB', height: 260, series: allocator },
      { title: 'process RSS, growth since the start', scale: 2 ** 20, unit: 'MiB', height: 120, series: rss },
      ...(anyMoves ? [{ title: 'defragmentation moves', scale: 1, unit: 'allocations', height: 90, series: moves }] : []),
    ],
    legend,
  });
}
