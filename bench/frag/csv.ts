/** The lab's time series as CSV: one row per sample, bytes as integers, empty where a target has no such counter. */
import type { Sample } from './run-workload.js';

export const CSV_COLUMNS = ['target', 'phase', 'commands', 'elapsed_ms', 'requested', 'allocated', 'active', 'committed', 'rss', 'defrag_moves'] as const;

/** A field as RFC 4180 wants it: quoted only when it holds a comma, quote or line break. */
function field(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function samplesCsv(samples: readonly Sample[]): string {
  const rows = samples.map((s) =>
    [s.target, s.phase, s.commands, s.elapsedMs, s.requested, s.allocated, s.active, s.committed, s.rss, s.moves].map(field).join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
}
