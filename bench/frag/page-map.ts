/**
 * The page map: the occupancy of every data page, drawn as an SVG heat map, one row per segment (256
 * pages of 4 KiB), one cell per page. A slab page's hue says its size class (small classes red, large
 * ones violet) and its darkness how full it is (live slots / the slots that fit); page runs are brown,
 * free pages pale, the metadata pages at the head of a segment grey.
 *
 * The rows come from a running server's SABRE.PAGEMAP (sabre-commands.ts) or straight from an arena in
 * this process (the lab's embedded target), in the same shape.
 */
import type { ArenaView } from 'native-free-alloc';
import { PAGE_KINDS, PAGE_MAP_HEADER } from '../../src/server/sabre-commands.js';
import { escapeXml } from './svg-chart.js';

export interface PageRow {
  shard: number;
  segment: number;
  page: number;
  kind: string;
  slotSize: number;
  live: number;
  capacity: number;
}

export function parsePageMap(text: string): PageRow[] {
  const lines = text.trimEnd().split('\n');
  if (lines[0] !== PAGE_MAP_HEADER) throw new Error(`not a page map (first line: ${lines[0]})`);
  return lines.slice(1).map((line) => {
    const [shard, segment, page, kind, slotSize, live, capacity] = line.split(',');
    return { shard: Number(shard), segment: Number(segment), page: Number(page), kind, slotSize: Number(slotSize), live: Number(live), capacity: Number(capacity) };
  });
}

export function pagesOfArena(arena: ArenaView, shard = 0): PageRow[] {
  return [...arena.pages()].map((p) => ({ shard, segment: p.segment, page: p.page, kind: PAGE_KINDS[p.kind], slotSize: p.slotSize, live: p.live, capacity: p.capacity }));
}

const CELL_WIDTH = 3.5;
const CELL_HEIGHT = 10;
const ROW_GAP = 2;
const PAGES_PER_ROW = 256;
const LEFT = 90;
const TOP = 70;
const WIDTH = LEFT + PAGES_PER_ROW * CELL_WIDTH + 20;

/** Slot sizes run from 8 B to 16 KiB; their log spreads over hues 0 (red) to 280 (violet). */
function classHue(slotSize: number): number {
  return Math.round(((Math.log2(slotSize) - 3) / 11) * 280);
}

const FREE_COLOUR = '#f3f3f3';
const METADATA_COLOUR = '#777';
const RUN_COLOUR = '#8c564b';

function cellColour(row: PageRow): string {
  if (row.kind === 'free') return FREE_COLOUR;
  if (row.kind === 'metadata') return METADATA_COLOUR;
  if (row.kind.startsWith('run')) return RUN_COLOUR;
  const fill = row.capacity === 0 ? 0 : row.live / row.capacity;
  return `hsl(${classHue(row.slotSize)},75%,${Math.round(90 - fill * 55)}%)`;
}

export interface PageMapSummary {
  dataPages: number;
  activePages: number;
  /** Slab pages holding live slots, and how many of those are at most a quarter full. */
  slabPages: number;
  sparseSlabPages: number;
}

export function summarize(rows: readonly PageRow[]): PageMapSummary {
  const slabs = rows.filter((r) => r.kind.startsWith('slab') && r.live > 0);
  return {
    dataPages: rows.length,
    activePages: rows.filter((r) => r.live > 0).length,
    slabPages: slabs.length,
    sparseSlabPages: slabs.filter((r) => r.live <= r.capacity / 4).length,
  };
}

export function renderPageMap(rows: readonly PageRow[], title: string): string {
  const bySegment = new Map<string, PageRow[]>();
  for (const row of rows) {
    const key = `${row.shard}/${row.segment}`;
    let list = bySegment.get(key);
    if (list === undefined) bySegment.set(key, (list = []));
    list.push(row);
  }
  const segments = [...bySegment.entries()].sort(([, a], [, b]) => a[0].shard - b[0].shard || a[0].segment - b[0].segment);
  const parts: string[] = [];
  let y = TOP;
  for (const [, pages] of segments) {
    const { shard, segment } = pages[0];
    const lastPage = Math.max(...pages.map((p) => p.page));
    const lines = Math.floor(lastPage / PAGES_PER_ROW) + 1;
    parts.push(`<text x="${LEFT - 6}" y="${y + CELL_HEIGHT - 1}" text-anchor="end">shard ${shard} seg ${segment}</text>`);
    // Free pages are the rows' background and a page run is one cell as wide as its pages, so the file
    // holds a shape per page in use only; each has a tooltip with its figures.
    for (let line = 0; line < lines; line++) {
      const span = Math.min(PAGES_PER_ROW, lastPage + 1 - line * PAGES_PER_ROW);
      parts.push(`<rect x="${LEFT}" y="${y + line * (CELL_HEIGHT + ROW_GAP)}" width="${(span * CELL_WIDTH).toFixed(1)}" height="${CELL_HEIGHT}" fill="${FREE_COLOUR}"/>`);
    }
    // The metadata pages before the first data page.
    const firstData = Math.min(...pages.map((p) => p.page));
    if (firstData > 0) parts.push(`<rect x="${LEFT}" y="${y}" width="${(firstData * CELL_WIDTH).toFixed(1)}" height="${CELL_HEIGHT}" fill="${METADATA_COLOUR}"/>`);
    for (let i = 0; i < pages.length; i++) {
      const page = pages[i];
      if (page.kind === 'free' || page.kind === 'run-tail') continue;
      let width = 1;
      // A run's tail pages follow its head in the same row.
      while (page.kind === 'run-head' && pages[i + width]?.kind === 'run-tail' && (page.page + width) % PAGES_PER_ROW !== 0) width++;
      const cx = LEFT + (page.page % PAGES_PER_ROW) * CELL_WIDTH;
      const cy = y + Math.floor(page.page / PAGES_PER_ROW) * (CELL_HEIGHT + ROW_GAP);
      const tip = page.kind === 'run-head' ? `run of ${page.slotSize / 4096} pages` : `${page.slotSize} B slots ${page.live}/${page.capacity}`;
      parts.push(`<rect x="${cx.toFixed(1)}" y="${cy}" width="${(width * CELL_WIDTH).toFixed(1)}" height="${CELL_HEIGHT}" fill="${cellColour(page)}"><title>${page.page}: ${tip}</title></rect>`);
    }
    y += lines * (CELL_HEIGHT + ROW_GAP);
  }
  const legendTop = y + 16;
  const legend: string[] = [];
  const sizes = [8, 32, 128, 512, 2048, 8192, 16384];
  sizes.forEach((size, i) => {
    const lx = LEFT + i * 70;
    legend.push(`<rect x="${lx}" y="${legendTop}" width="14" height="10" fill="hsl(${classHue(size)},75%,35%)"/>`);
    legend.push(`<text x="${lx + 18}" y="${legendTop + 9}">${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}</text>`);
  });
  const shadesTop = legendTop + 20;
  legend.push(`<text x="${LEFT}" y="${shadesTop + 9}">fill (128 B class):</text>`);
  [0.1, 0.25, 0.5, 0.75, 1].forEach((fill, i) => {
    const lx = LEFT + 110 + i * 60;
    legend.push(`<rect x="${lx}" y="${shadesTop}" width="14" height="10" fill="hsl(${classHue(128)},75%,${Math.round(90 - fill * 55)}%)"/>`);
    legend.push(`<text x="${lx + 18}" y="${shadesTop + 9}">${Math.round(fill * 100)}%</text>`);
  });
  const others: [string, string][] = [[RUN_COLOUR, 'page run'], [FREE_COLOUR, 'free'], [METADATA_COLOUR, 'metadata']];
  others.forEach(([colour, label], i) => {
    const lx = LEFT + 440 + i * 90;
    legend.push(`<rect x="${lx}" y="${shadesTop}" width="14" height="10" fill="${colour}" stroke="#ccc"/>`);
    legend.push(`<text x="${lx + 18}" y="${shadesTop + 9}">${label}</text>`);
  });
  const height = shadesTop + 30;
  const s = summarize(rows);
  const subtitle = `${s.dataPages} data pages, ${s.activePages} in use; ${s.slabPages} slab pages in use, ${s.sparseSlabPages} of them at most a quarter full. One row per 1 MiB segment, one cell per 4 KiB page.`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${LEFT}" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${LEFT}" y="44" fill="#444">${escapeXml(subtitle)}</text>`,
    ...parts,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
