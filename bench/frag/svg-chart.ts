/**
 * Line charts as plain SVG text: stacked panels over one shared x axis, shaded phase bands, a legend.
 * Hand-written because the lab needs only lines, ticks and text, and a file that renders anywhere (a
 * browser, GitHub's README view) without scripts or fonts to load.
 */

export interface Series {
  label: string;
  color: string;
  /** SVG stroke-dasharray; solid when absent. */
  dash?: string;
  width?: number;
  /** One value per x position; undefined leaves a gap. */
  values: readonly (number | undefined)[];
}

export interface Panel {
  title: string;
  /** Values are divided by this for the axis (2**20 for MiB). */
  scale: number;
  unit: string;
  height: number;
  series: readonly Series[];
}

export interface Band {
  from: number;
  to: number;
  label: string;
}

export interface LegendEntry {
  label: string;
  color: string;
  dash?: string;
}

export interface Chart {
  title: string;
  subtitle: string;
  xLabel: string;
  /** Number of x positions (samples). */
  points: number;
  bands: readonly Band[];
  panels: readonly Panel[];
  legend: readonly LegendEntry[];
}

const WIDTH = 980;
const LEFT = 70;
const RIGHT = 20;
const TOP = 62;
const PANEL_GAP = 46;
const BOTTOM = 80;
const LEGEND_COLUMNS = 3;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round step (1, 2 or 5 × 10^k) that cuts `span` into about `parts` intervals. */
export function niceStep(span: number, parts: number): number {
  if (span <= 0) return 1;
  const raw = span / parts;
  const power = 10 ** Math.floor(Math.log10(raw));
  const multiple = [1, 2, 5, 10].find((m) => m * power >= raw)!;
  return multiple * power;
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.max(0, -Math.floor(Math.log10(Math.abs(value) || 1)) + 1));
}

/** One panel; `labelBands` writes each phase's name at the top of its band (the first panel does). */
function renderPanel(panel: Panel, top: number, points: number, bands: readonly Band[], labelBands: boolean): string {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (i: number) => LEFT + (points <= 1 ? 0 : (i / (points - 1)) * plotWidth);
  const scaled = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined).map((v) => v / panel.scale));
  const low = Math.min(0, ...scaled);
  // Headroom above the highest line for the phase names written at the top.
  const high = Math.max(low + 1e-9, ...scaled) * (labelBands ? 1.12 : 1);
  const step = niceStep(high - low, 5);
  const axisLow = Math.floor(low / step) * step;
  const axisHigh = Math.ceil(high / step) * step;
  const y = (v: number) => top + panel.height - ((v - axisLow) / (axisHigh - axisLow)) * panel.height;
  const parts: string[] = [];
  bands.forEach((band, index) => {
    if (index % 2 === 1) parts.push(`<rect x="${x(band.from).toFixed(1)}" y="${top}" width="${(x(band.to) - x(band.from)).toFixed(1)}" height="${panel.height}" fill="#f2f2f2"/>`);
  });
  for (let v = axisLow; v <= axisHigh + step / 2; v += step) {
    const at = y(v).toFixed(1);
    parts.push(`<line x1="${LEFT}" y1="${at}" x2="${WIDTH - RIGHT}" y2="${at}" stroke="#ddd"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${at}" dy="4" text-anchor="end">${formatTick(v)}</text>`);
  }
  if (labelBands) {
    bands.forEach((band, index) => {
      // Alternate rows, so that the names of short neighbouring phases do not overlap.
      if (x(band.to) - x(band.from) > 12) parts.push(`<text x="${(x(band.from) + 3).toFixed(1)}" y="${top + 13 + (index % 2) * 12}" fill="#666" font-style="italic">${escapeXml(band.label)}</text>`);
    });
  }
  parts.push(`<text x="${LEFT}" y="${top - 8}" font-weight="bold">${escapeXml(panel.title)} (${escapeXml(panel.unit)})</text>`);
  for (const series of panel.series) {
    const segments: string[] = [];
    let current: string[] = [];
    series.values.forEach((value, i) => {
      if (value === undefined) {
        if (current.length > 0) segments.push(current.join(' '));
        current = [];
      } else current.push(`${x(i).toFixed(1)},${y(value / panel.scale).toFixed(1)}`);
    });
    if (current.length > 0) segments.push(current.join(' '));
    const dash = series.dash === undefined ? '' : ` stroke-dasharray="${series.dash}"`;
    for (const points of segments) {
      parts.push(`<polyline points="${points}" fill="none" stroke="${series.color}" stroke-width="${series.width ?? 2}"${dash}><title>${escapeXml(series.label)}</title></polyline>`);
    }
  }
  parts.push(`<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${panel.height}" fill="none" stroke="#888"/>`);
  return parts.join('\n');
}

export function renderChart(chart: Chart): string {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (i: number) => LEFT + (chart.points <= 1 ? 0 : (i / (chart.points - 1)) * plotWidth);
  const panelsHeight = chart.panels.reduce((sum, panel) => sum + panel.height, 0) + PANEL_GAP * (chart.panels.length - 1);
  const legendRows = Math.ceil(chart.legend.length / LEGEND_COLUMNS);
  const height = TOP + 18 + panelsHeight + BOTTOM + legendRows * 18;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
    `<text x="${LEFT}" y="40" fill="#444">${escapeXml(chart.subtitle)}</text>`,
  ];
  let top = TOP + 18;
  chart.panels.forEach((panel, index) => {
    parts.push(renderPanel(panel, top, chart.points, chart.bands, index === 0));
    top += panel.height + PANEL_GAP;
  });
  top -= PANEL_GAP;
  const step = niceStep(chart.points - 1, 10);
  for (let i = 0; i < chart.points; i += step) parts.push(`<text x="${x(i).toFixed(1)}" y="${top + 16}" text-anchor="middle">${i}</text>`);
  parts.push(`<text x="${LEFT + plotWidth / 2}" y="${top + 34}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  chart.legend.forEach((entry, index) => {
    const lx = LEFT + (index % LEGEND_COLUMNS) * 300;
    const ly = top + 56 + Math.floor(index / LEGEND_COLUMNS) * 18;
    const dash = entry.dash === undefined ? '' : ` stroke-dasharray="${entry.dash}"`;
    parts.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 28}" y2="${ly - 4}" stroke="${entry.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${lx + 34}" y="${ly}">${escapeXml(entry.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
