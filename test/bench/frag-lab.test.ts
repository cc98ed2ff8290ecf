/**
 * The fragmentation lab at tiny sizes: a workload run writes a CSV with the lab's columns whose counters
 * follow the workload (and obey allocated ≤ active ≤ committed), a well-formed SVG chart with a line
 * per counter and target, and a page map; against a running sabre the counters come from INFO and the
 * page map from SABRE.PAGEMAP; with redis-server installed its run lands in the same chart.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../bench/frag/csv.js';
import { runLab, takePageMap, type LabOptions } from '../../bench/frag/lab.js';
import { parsePageMap } from '../../bench/frag/page-map.js';
import { findRedisServer } from '../helpers/redis-server.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

const out = mkdtempSync(join(tmpdir(), 'sabre-frag-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const tiny = (workload: string, extra: Partial<LabOptions> = {}): LabOptions => ({
  workload,
  target: 'embedded',
  out,
  keys: 300,
  seed: 7,
  redis: false,
  batchSize: 50,
  settleMs: 1,
  ...extra,
});

type Row = Record<(typeof CSV_COLUMNS)[number], string>;

function readCsv(path: string): Row[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  expect(header).toBe(CSV_COLUMNS.join(','));
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [CSV_COLUMNS[i], value])) as Row);
}

/** Every tag closed in order, attributes quoted, no NaN or undefined written into the drawing. */
function expectWellFormedSvg(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  const open: string[] = [];
  for (const [, closing, name, attributes, selfClosing] of svg.matchAll(/<(\/?)([a-z]+)([^>]*?)(\/?)>/g)) {
    expect(attributes.replace(/\s+[a-zA-Z0-9:-]+="[^"]*"/g, '').trim(), `attributes of <${name}>`).toBe('');
    if (closing === '/') expect(open.pop()).toBe(name);
    else if (selfClosing !== '/') open.push(name);
  }
  expect(open).toEqual([]);
}

describe('fragmentation lab', () => {
  it('runs delete-half embedded: CSV series, chart and page map', async () => {
    const files = await runLab(tiny('delete-half'));
    expect(files.map((file) => file.slice(out.length + 1))).toEqual(['delete-half-sabre-embedded.csv', 'delete-half-sabre-embedded-pagemap.svg', 'delete-half.svg']);
    const rows = readCsv(files[0]);
    // start, 6 fill batches, 3 delete batches, 10 settle samples.
    expect(rows.map((row) => row.phase)).toEqual(['start', ...Array(6).fill('fill'), ...Array(3).fill('delete half'), ...Array(10).fill('settle')]);
    expect(rows.map((row) => Number(row.commands))).toEqual([0, 50, 100, 150, 200, 250, 300, 350, 400, 450, ...Array(10).fill(450)]);
    for (const row of rows) {
      expect(row.target).toBe('sabre-embedded');
      const [requested, allocated, active, committed] = [row.requested, row.allocated, row.active, row.committed].map(Number);
      expect(requested).toBeLessThanOrEqual(allocated);
      expect(allocated).toBeLessThanOrEqual(active);
      expect(active).toBeLessThanOrEqual(committed);
      expect(Number(row.rss)).toBeGreaterThan(committed);
    }
    const filled = Number(rows[6].requested);
    const halved = Number(rows[9].requested);
    expect(filled - Number(rows[0].requested)).toBeGreaterThan(300 * 16);
    expect(halved).toBeLessThan(filled);
    const chart = readFileSync(files[2], 'utf8');
    expectWellFormedSvg(chart);
    // requested, allocated, active, committed, RSS: one line each for the one target.
    expect(chart.match(/<polyline /g)).toHaveLength(5);
    expect(chart).toContain('delete half');
    expectWellFormedSvg(readFileSync(files[1], 'utf8'));
  });

  it('grows every value by APPEND, round after round', async () => {
    const [csv] = await runLab(tiny('growth', { keys: 100, batchSize: 300 }));
    const rows = readCsv(csv);
    const fill = rows.filter((row) => row.phase === 'fill').at(-1)!;
    const grown = rows.filter((row) => row.phase === 'append').at(-1)!;
    // 12 rounds of 8–96 bytes each on every key.
    expect(Number(grown.requested) - Number(fill.requested)).toBeGreaterThan(100 * 12 * 8);
  });

  it('samples a running sabre through INFO, takes its page map, and runs redis-server beside it where installed', async () => {
    let sabre: RunningSabre | undefined;
    try {
      sabre = await startSabre(['--shards', '2']);
      const redis = findRedisServer() !== undefined;
      const files = await runLab(tiny('sawtooth', { keys: 100, target: { host: '127.0.0.1', port: sabre.port }, redis }));
      const rows = readCsv(files[0]);
      expect(rows[0].target).toBe('sabre');
      expect(rows.some((row) => row.phase === 'empty 3')).toBe(true);
      // Every value is gone after an empty phase; only the key tables' growth may remain.
      const requested = (phase: string) => Number(rows.filter((row) => row.phase === phase).at(-1)!.requested) - Number(rows[0].requested);
      expect(requested('fill 1')).toBeGreaterThan(100 * 16);
      expect(requested('empty 1')).toBeLessThan(requested('fill 1') / 4);
      const chart = readFileSync(files.at(-1)!, 'utf8');
      expectWellFormedSvg(chart);
      if (redis) {
        const redisRows = readCsv(files.find((file) => file.endsWith('sawtooth-redis.csv'))!);
        expect(redisRows.length).toBe(rows.length);
        expect(redisRows.every((row) => row.requested === '' && Number(row.allocated) > 0 && Number(row.active) >= Number(row.allocated))).toBe(true);
        expect(chart).toContain('stroke-dasharray');
      }
      const [mapCsv, mapSvg] = await takePageMap({ host: '127.0.0.1', port: sabre.port }, out);
      const pages = parsePageMap(readFileSync(mapCsv, 'utf8'));
      expect(new Set(pages.map((page) => page.shard))).toEqual(new Set([0, 1]));
      expectWellFormedSvg(readFileSync(mapSvg, 'utf8'));
    } finally {
      await sabre?.stop();
    }
  });
});
