/**
 * A real redis-server for the lab to run the same workloads against: started on a free port with
 * persistence off in a temporary directory, or undefined when no redis-server is on PATH (the lab then
 * charts sabre alone and says so).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../servers.js';

export interface RedisProcess {
  port: number;
  pid: number;
  version: string;
  stop(): void;
}

function onPath(name: string): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue;
    try {
      accessSync(join(directory, name), constants.X_OK);
      return join(directory, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

async function answersPing(port: number): Promise<string | undefined> {
  const client = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return /^redis_version:(.*)$/m.exec(await client.info('server'))?.[1]?.trim();
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

export async function startRedisServer(): Promise<RedisProcess | undefined> {
  const binary = onPath('redis-server');
  if (binary === undefined) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sabre-frag-redis-'));
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], { stdio: 'ignore' });
  const stop = () => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  for (let attempt = 0; attempt < 100; attempt++) {
    const version = await answersPing(port);
    if (version !== undefined) return { port, pid: child.pid!, version, stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  stop();
  throw new Error(`redis-server did not answer on port ${port}`);
}
