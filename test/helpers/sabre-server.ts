/**
 * Starts the real sabre server (bin/sabre-server.js, the compiled build that `npm test` makes first) as
 * a child process on a free port, and waits for its startup log line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { RedisConnection } from './differential.js';
import { freePort, startRedis, type RunningRedis, type StartRedisOptions } from './redis-server.js';

export interface RunningSabre {
  port: number;
  log: () => string;
  stop: () => Promise<number | null>;
  /** Kills the process with SIGKILL, as a crash would (no shutdown work); resolves once it is gone. */
  kill: () => Promise<void>;
}

const BIN = fileURLToPath(new URL('../../bin/sabre-server.js', import.meta.url));

/**
 * `configFile`, when given, comes first, as redis-server wants it; `--port` and `args` follow and override it.
 * Without a file the server runs as startRedis runs Redis: no save points, in a fresh temporary directory,
 * so no test reads or leaves a dump.rdb anywhere else.
 */
export async function startSabre(args: readonly string[] = [], configFile?: string): Promise<RunningSabre> {
  const dir = configFile === undefined ? mkdtempSync(join(tmpdir(), 'sabre-test-')) : undefined;
  const first = dir === undefined ? [configFile!] : ['--save', '', '--dir', dir];
  // The port is free when chosen, but a server that loads a file first may find it taken by then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(first, args, dir);
    } catch (error) {
      if (attempt === 3 || !(error as Error).message.includes('EADDRINUSE')) throw error;
    }
  }
}

async function launch(first: readonly string[], args: readonly string[], dir: string | undefined): Promise<RunningSabre> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, ...first, '--port', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sabre did not start within 15 s:\n${output}`)), 15_000);
    const check = () => {
      if (output.includes('ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sabre exited with ${code} before starting:\n${output}`));
    });
  });
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    port,
    log: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      return code;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** sabre and a real redis-server for the enclosing suite (redis undefined where it cannot run). */
export interface ServerPair {
  readonly sabre: RunningSabre;
  readonly redis: RunningRedis | undefined;
}

/** Starts sabre (with `args`) and redis-server before the enclosing suite, and stops both after it. */
export function sabreBesideRedis(args: readonly string[] = [], redisOptions: StartRedisOptions = {}): ServerPair {
  const pair: { sabre?: RunningSabre; redis?: RunningRedis } = {};
  beforeAll(async () => {
    pair.sabre = await startSabre(args);
    pair.redis = await startRedis(redisOptions);
  });
  afterAll(async () => {
    expect(await pair.sabre?.stop()).toBe(0);
    await pair.redis?.stop();
  });
  return {
    get sabre() {
      return pair.sabre!;
    },
    get redis() {
      return pair.redis;
    },
  };
}

/** A ServerPair with a raw RESP connection to each server, open for the whole suite (theirs undefined where redis-server cannot run). */
export interface RawServerPair extends ServerPair {
  readonly ours: RedisConnection;
  readonly theirs: RedisConnection | undefined;
}

/** sabreBesideRedis, and a RedisConnection to each server opened before the suite's tests and closed after. */
export function rawBesideRedis(args: readonly string[] = [], redisOptions: StartRedisOptions = {}): RawServerPair {
  const servers = sabreBesideRedis(args, redisOptions);
  const connections: { ours?: RedisConnection; theirs?: RedisConnection } = {};
  beforeAll(async () => {
    connections.ours = await RedisConnection.open(servers.sabre.port);
    if (servers.redis !== undefined) connections.theirs = await RedisConnection.open(servers.redis.port);
  });
  afterAll(() => {
    connections.ours?.close();
    connections.theirs?.close();
  });
  return {
    get sabre() {
      return servers.sabre;
    },
    get redis() {
      return servers.redis;
    },
    get ours() {
      return connections.ours!;
    },
    get theirs() {
      return connections.theirs;
    },
  };
}

/** ioredis clients of both servers, after FLUSHALL on both (theirs undefined where redis-server cannot run). */
export async function connectBoth(servers: ServerPair): Promise<[Redis, Redis | undefined]> {
  const ours = new Redis({ port: servers.sabre.port, lazyConnect: true });
  await ours.connect();
  let theirs: Redis | undefined;
  if (servers.redis !== undefined) {
    theirs = new Redis({ port: servers.redis.port, lazyConnect: true });
    await theirs.connect();
  }
  await Promise.all([ours.flushall(), theirs?.flushall()]);
  return [ours, theirs];
}

/** Runs `body` with fresh clients of both servers (as connectBoth gives them), and disconnects them however it ends. */
export async function withBoth(servers: ServerPair, body: (ours: Redis, theirs: Redis | undefined) => Promise<void>): Promise<void> {
  const [ours, theirs] = await connectBoth(servers);
  try {
    await body(ours, theirs);
  } finally {
    ours.disconnect();
    theirs?.disconnect();
  }
}

/** What `answers` gives on sabre, once it is checked equal to what it gives on Redis (where redis-server runs). */
export async function sameAnswers<T>(ours: Redis, theirs: Redis | undefined, answers: (server: Redis) => Promise<T>): Promise<T> {
  const mine = await answers(ours);
  if (theirs !== undefined) expect(mine).toEqual(await answers(theirs));
  return mine;
}

/**
 * For tests that start and restart servers themselves: every server `start` made is killed after its test
 * (one a failed expectation left running too), and every directory `tempDir` made is removed.
 */
export function serversPerTest(): { start: (args: readonly string[]) => Promise<RunningSabre>; tempDir: () => string } {
  const servers: RunningSabre[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.kill();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    start: async (args) => {
      const server = await startSabre(args);
      servers.push(server);
      return server;
    },
    tempDir: () => {
      const dir = mkdtempSync(join(tmpdir(), 'sabre-test-'));
      dirs.push(dir);
      return dir;
    },
  };
}
