/**
 * The fragmentation lab: runs one workload against sabre (embedded, or a running server) and, where
 * redis-server is installed, against a real one the lab starts; writes each target's time series as CSV,
 * one chart of all of them, and the page map sabre's arena was left with.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { samplesCsv } from './csv.js';
import { pagesOfArena, parsePageMap, renderPageMap, type PageRow } from './page-map.js';
import { startRedisServer } from './redis-process.js';
import { runWorkload } from './run-workload.js';
import { EmbeddedTarget, ServerTarget, type Target } from './targets.js';
import { workloadChart, type TargetRun } from './workload-chart.js';
import { WORKLOADS, type Workload, type WorkloadOptions } from './workloads.js';

export interface Address {
  host: string;
  port: number;
}

export interface LabOptions {
  workload: string;
  /** "embedded", or the address of a running sabre or redis-server. */
  target: 'embedded' | Address;
  out: string;
  keys: number;
  seed: number;
  /** Also run the workload against a redis-server the lab starts (when one is installed). */
  redis: boolean;
  /** Commands per batch; about keys / 40 when absent (some 60 to 500 samples a workload). */
  batchSize?: number;
  /** The settle phase's pause per sample (200 ms unless set). */
  settleMs?: number;
}

export type Progress = (message: string) => void;

export function parseAddress(text: string): Address {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`not host:port: ${text}`);
  return { host: text.slice(0, colon) || '127.0.0.1', port };
}

function workloadNamed(name: string): Workload {
  const workload = WORKLOADS.get(name);
  if (workload === undefined) throw new Error(`no workload ${name}; there are: ${[...WORKLOADS.keys()].join(', ')}`);
  return workload;
}

/** The page map a sabre target holds now, or undefined for Redis (it has no such view). */
async function pageMapOf(target: Target): Promise<PageRow[] | undefined> {
  if (target instanceof EmbeddedTarget) return pagesOfArena(target.shard.arena);
  if (target instanceof ServerTarget && target.name === 'sabre') return parsePageMap(await target.text('SABRE.PAGEMAP'));
  return undefined;
}

async function runOn(target: Target, label: string, workload: Workload, options: WorkloadOptions, lab: LabOptions, files: string[], progress: Progress): Promise<TargetRun> {
  try {
    const samples = await runWorkload(target, workload, options, progress);
    const csv = join(lab.out, `${workload.name}-${target.name}.csv`);
    writeFileSync(csv, samplesCsv(samples));
    files.push(csv);
    const pages = await pageMapOf(target);
    if (pages !== undefined) {
      const svg = join(lab.out, `${workload.name}-${target.name}-pagemap.svg`);
      writeFileSync(svg, renderPageMap(pages, `${label} after ${workload.name} (${lab.keys.toLocaleString('en-US')} keys)`));
      files.push(svg);
    }
    return { label, samples };
  } finally {
    await target.close();
  }
}

/** Runs the workload; resolves with the files written (CSVs, the chart, page maps). */
export async function runLab(lab: LabOptions, progress: Progress = () => undefined): Promise<string[]> {
  const workload = workloadNamed(lab.workload);
  const options: WorkloadOptions = { keys: lab.keys, seed: lab.seed, batchSize: lab.batchSize ?? Math.max(50, Math.ceil(lab.keys / 40)), settleMs: lab.settleMs };
  mkdirSync(lab.out, { recursive: true });
  const files: string[] = [];
  const runs: TargetRun[] = [];
  const first = lab.target === 'embedded' ? new EmbeddedTarget() : await ServerTarget.connect(lab.target.host, lab.target.port);
  runs.push(await runOn(first, first.name === 'redis' ? 'redis-server' : first.name, workload, options, lab, files, progress));
  if (lab.redis && first.name !== 'redis') {
    const redis = await startRedisServer();
    if (redis === undefined) progress('redis-server is not installed: the chart shows sabre alone');
    else {
      try {
        const target = await ServerTarget.connect('127.0.0.1', redis.port, redis.pid);
        runs.push(await runOn(target, `redis-server ${redis.version}`, workload, options, lab, files, progress));
      } finally {
        redis.stop();
      }
    }
  }
  const chart = join(lab.out, `${workload.name}.svg`);
  const subtitle = `${workload.description}; ${lab.keys.toLocaleString('en-US')} keys, seed ${lab.seed}. ${runs.map((r) => r.label).join(' vs ')}.`;
  writeFileSync(chart, workloadChart(`Fragmentation lab: ${workload.name}`, subtitle, options, runs));
  files.push(chart);
  return files;
}

/** Takes a running sabre's page map now: writes it as CSV (as the server sent it) and as an SVG heat map. */
export async function takePageMap(address: Address, out: string): Promise<string[]> {
  const target = await ServerTarget.connect(address.host, address.port);
  try {
    if (target.name !== 'sabre') throw new Error(`${address.host}:${address.port} is not sabre (no SABRE.PAGEMAP)`);
    const text = await target.text('SABRE.PAGEMAP');
    mkdirSync(out, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const csv = join(out, `pagemap-${stamp}.csv`);
    const svg = join(out, `pagemap-${stamp}.svg`);
    writeFileSync(csv, text);
    writeFileSync(svg, renderPageMap(parsePageMap(text), `sabre at ${address.host}:${address.port}, ${new Date().toISOString()}`));
    return [csv, svg];
  } finally {
    await target.close();
  }
}
