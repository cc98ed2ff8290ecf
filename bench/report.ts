/**
 * Markdown tables and the number formats the benchmark reports use. Pure string building: no I/O, no
 * measurement, so any result can be re-rendered without re-running anything.
 */

export type Align = 'left' | 'right';

/** Shown wherever an allocator has no such counter, instead of a guessed figure. */
export const NOT_AVAILABLE = 'n/a';

/** A GitHub-flavoured markdown table, columns padded so it also reads well as plain text. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly Align[]): string {
  const widths = headers.map((header, c) => Math.max(header.length, ...rows.map((row) => row[c].length)));
  const alignOf = (c: number): Align => align?.[c] ?? (c === 0 ? 'left' : 'right');
  const cell = (text: string, c: number): string =>
    alignOf(c) === 'right' ? text.padStart(widths[c]) : text.padEnd(widths[c]);
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  const rule = widths.map((width, c) => (alignOf(c) === 'right' ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width)));
  return [line(headers), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n');
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes in the largest binary unit that keeps the figure ≥ 1, with 2 decimals; exact below 1 KiB. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return NOT_AVAILABLE;
  const sign = bytes < 0 ? '−' : '';
  const size = Math.abs(bytes);
  if (size < 1024) return `${sign}${size} B`;
  if (size < 1024 * 1024) return `${sign}${(size / 1024).toFixed(2)} KiB`;
  if (size < 1024 * 1024 * 1024) return `${sign}${(size / 1024 / 1024).toFixed(2)} MiB`;
  return `${sign}${(size / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** A signed byte difference, so that memory given back reads as a negative delta. */
export function formatBytesDelta(bytes: number): string {
  return bytes > 0 ? `+${formatBytes(bytes)}` : formatBytes(bytes);
}

export function formatRatio(ratio: number | null, digits = 2): string {
  if (ratio === null || !Number.isFinite(ratio)) return NOT_AVAILABLE;
  return ratio.toFixed(digits);
}

/** A speed ratio, written "3.2×" so that a column of them reads as "times as fast". */
export function formatSpeedup(ratio: number): string {
  if (!Number.isFinite(ratio)) return NOT_AVAILABLE;
  return ratio >= 10 ? `${ratio.toFixed(0)}×` : `${ratio.toFixed(2)}×`;
}

export function formatOpsPerSecond(opsPerSecond: number): string {
  if (opsPerSecond >= 1e6) return `${(opsPerSecond / 1e6).toFixed(2)} M`;
  if (opsPerSecond >= 1e3) return `${(opsPerSecond / 1e3).toFixed(1)} k`;
  return opsPerSecond.toFixed(0);
}

export function formatMillis(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}

export function formatPercent(percent: number): string {
  return `±${percent.toFixed(1)}%`;
}
