/**
 * `npm run bench:server`: starts sabre (its default shard count, one per core) and a real redis-server
 * on free ports, then runs redis-benchmark against each in alternation, for SET, GET, INCR and MSET at
 * -c 50 with -P 1 and -P 16, and prints requests per second, the sabre/Redis ratio, and p50/p99
 * latency. Alternating per test keeps drifting machine load from favouring either server.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { markdownTable } from './report.js';
import { progress } from './progress.js';

const run = promisify(execFile);

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function waitForPing(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
      if (stdout.trim() === 'PONG') return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing answers PING on port ${port}`);
}

/** One redis-benchmark run, read from its --csv output. */
async function benchmark(port: number, test: string, pipeline: number, requests: number): Promise<Result> {
  const { stdout } = await run('redis-benchmark', ['-p', String(port), '-t', test, '-n', String(requests), '-c', '50', '-P', String(pipeline), '--csv'], {
    maxBuffer: 1 << 20,
  });
  const row = stdout.trim().split('\n').at(-1)!.split(',').map((cell) => cell.replace(/"/g, ''));
  // Columns: test, rps, avg, min, p50, p95, p99, max (ms).
  return { rps: Number(row[1]), p50: Number(row[4]), p99: Number(row[6]) };
}

async function main(): Promise<void> {
  const [sabrePort, redisPort] = [await freePort(), await freePort()];
  const bin = fileURLToPath(new URL('../../bin/sabre-server.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'sabre-bench-redis-'));
  const children: ChildProcess[] = [
    spawn(process.execPath, [bin, '--port', String(sabrePort)], { stdio: 'ignore' }),
    spawn('redis-server', ['--port', String(redisPort), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' }),
  ];
  try {
    await Promise.all([waitForPing(sabrePort), waitForPing(redisPort)]);
    const rows: string[][] = [];
    for (const pipeline of [1, 16]) {
      for (const test of ['set', 'get', 'incr', 'mset']) {
        const requests = pipeline === 1 ? 100_000 : 500_000;
        progress(`${test} -P ${pipeline}: sabre`);
        const ours = await benchmark(sabrePort, test, pipeline, requests);
        progress(`${test} -P ${pipeline}: redis`);
        const theirs = await benchmark(redisPort, test, pipeline, requests);
        rows.push([
          test.toUpperCase(),
          String(pipeline),
          `${Math.round(ours.rps).toLocaleString('en-US')}`,
          `${Math.round(theirs.rps).toLocaleString('en-US')}`,
          `${(ours.rps / theirs.rps).toFixed(2)}×`,
          `${ours.p50.toFixed(3)} / ${ours.p99.toFixed(3)}`,
          `${theirs.p50.toFixed(3)} / ${theirs.p99.toFixed(3)}`,
        ]);
      }
    }
    const { stdout: version } = await run('redis-server', ['--version']);
    process.stdout.write(
      `## sabre vs redis-server (redis-benchmark -c 50)\n\n${markdownTable(
        ['test', '-P', 'sabre req/s', 'Redis req/s', 'sabre / Redis', 'sabre p50 / p99 ms', 'Redis p50 / p99 ms'],
        rows,
      )}\n\nsabre with its default shards (one per core); ${version.trim().split(' ').slice(0, 3).join(' ')}; both on this machine, alternating per test. MSET writes 10 keys per call, which spread over sabre's shards and run as one cross-shard transaction.\n`,
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
