/**
 * Starting the servers a benchmark compares: sabre and a real redis-server side by side on free ports,
 * and reading INFO memory from either.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

export async function waitForPing(port: number): Promise<void> {
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

export async function memory(port: number): Promise<{ used: number; rss: number }> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'info', 'memory']);
  const read = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(stdout)?.[1] ?? NaN);
  return { used: read('used_memory'), rss: read('used_memory_rss') };
}

export interface Servers {
  sabre: number;
  redis: number;
  stop: () => void;
}

/** Starts sabre and redis-server on free ports, both with DEBUG enabled (for POPULATE). */
export async function startServers(): Promise<Servers> {
  const [sabre, redis] = [await freePort(), await freePort()];
  const bin = fileURLToPath(new URL('../../bin/sabre-server.js', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'sabre-bench-redis-'));
  const children: ChildProcess[] = [
    spawn(process.execPath, [bin, '--port', String(sabre), '--enable-debug-command', 'yes', '--save', '', '--dir', dir], { stdio: 'ignore' }),
    spawn('redis-server', ['--port', String(redis), '--save', '', '--appendonly', 'no', '--dir', dir, '--enable-debug-command', 'yes'], { stdio: 'ignore' }),
  ];
  const stop = () => {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all([waitForPing(sabre), waitForPing(redis)]);
  } catch (error) {
    stop();
    throw error;
  }
  return { sabre, redis, stop };
}

