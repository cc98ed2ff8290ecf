/**
 * A real redis-server for differential tests, and a raw-socket exchange to talk to it (or to sabre) below
 * any client library, where protocol errors and connection closes are visible.
 *
 * `startRedis()` runs `redis-server` on a free port with persistence off (`--save '' --appendonly no`) in
 * a fresh temporary directory, and resolves once it accepts connections. When the binary is missing it
 * returns undefined and says so on the console, so suites skip visibly; under CI (`CI=true`) a missing
 * binary is an error instead, so a broken CI image can never pass by skipping every comparison.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface RunningRedis {
  readonly host: string;
  readonly port: number;
  /** The server's temporary working directory (its log is `redis.log` there). */
  readonly dir: string;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** Extra configuration, each as `--name value` (e.g. `{ requirepass: 'secret' }`). */
  config?: Record<string, string>;
  /** How long to wait for the server to accept connections. */
  startTimeoutMs?: number;
}

const HOST = '127.0.0.1';

/** The redis-server executable on PATH, or undefined. */
export function findRedisServer(): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, 'redis-server');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export async function startRedis(options: StartRedisOptions = {}): Promise<RunningRedis | undefined> {
  const binary = findRedisServer();
  if (binary === undefined) {
    const message = 'redis-server not found on PATH: differential tests against real Redis are skipped';
    if (process.env.CI === 'true') throw new Error(`${message} (CI=true requires it; install the redis-server package)`);
    console.warn(`\n⚠ ${message}\n`);
    return undefined;
  }
  const dir = await mkdtemp(join(tmpdir(), 'sabre-redis-'));
  // Another process can take the free port between our probe and redis binding it; try a few ports.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const args = [
      '--port', String(port),
      '--bind', HOST,
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--logfile', 'redis.log',
      '--daemonize', 'no',
      ...Object.entries(options.config ?? {}).flatMap(([name, value]) => [`--${name}`, value]),
    ];
    const child = spawn(binary, args, { stdio: 'ignore' });
    // If the test process ends without stop() (a crash, a killed worker), take the server and its
    // directory with it; an exit handler must be synchronous.
    const killOnExit = (): void => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    try {
      await waitUntilAccepting(child, port, options.startTimeoutMs ?? 10_000);
      return { host: HOST, port, dir, stop: stopper(child, dir) };
    } catch (error) {
      lastError = error;
      await stopChild(child);
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`redis-server did not start: ${String(lastError)}`);
}

/** A port the OS just handed out (redis cannot listen on port 0 and report it back). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilAccepting(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`redis-server exited during startup on port ${port}`);
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server did not accept connections on port ${port} within ${timeoutMs} ms`);
}

/**
 * Connected is not enough: redis accepts before it has loaded (and answers -LOADING), so wait for a PONG,
 * or for -NOAUTH from a server started with a password, which is just as ready.
 */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    let received = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.on('data', (data) => {
      received += data.toString('latin1');
      if (received.includes('\r\n')) finish(received === '+PONG\r\n' || received.startsWith('-NOAUTH '));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
}

/** SIGTERM, then SIGKILL if it lingers; resolves once the process is gone. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface RawExchangeOptions {
  /**
   * Expect the server to close: wait for the close itself (bounded by timeoutMs) and ignore `until`, so
   * a close that follows the last reply is seen. Either way, a close always ends the exchange.
   */
  waitForClose?: boolean;
  /** Stop waiting after this long and report what arrived, the connection counted as open. */
  timeoutMs: number;
  /**
   * Stop early, connection open, once what arrived satisfies this (e.g. it ends with a sentinel reply).
   * Checked on every arrival, and once just after connecting.
   */
  until?: (received: Buffer) => boolean;
  /**
   * Once `until` is satisfied, keep listening this much longer instead of stopping at once, so bytes
   * beyond the expected ones, or a close, are seen.
   */
  settleMs?: number;
  host?: string;
}

export interface RawExchangeResult {
  /** Every byte the server sent. */
  received: Buffer;
  /** Whether the server closed (or reset) the connection before we stopped listening. */
  closed: boolean;
  /**
   * Whether the connection ended in a reset (ECONNRESET, or EPIPE on a write). A server that closes with
   * input unread resets the connection, and the reset can discard replies it had sent: `received` may
   * then be short of what the server wrote.
   */
  reset: boolean;
}

/**
 * Connects, writes `bytes` in one write (or each chunk as its own write, in order), and collects what
 * comes back until the server closes, `until` is satisfied, or the timeout passes.
 */
export function rawExchange(port: number, bytes: Buffer | readonly Buffer[], options: RawExchangeOptions): Promise<RawExchangeResult> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, options.host ?? HOST);
    const chunks: Buffer[] = [];
    let settled = false;
    let satisfied = false;
    const finish = (closed: boolean, reset = false): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closed, reset });
    };
    let timer = setTimeout(() => finish(false), options.timeoutMs);
    const checkUntil = (): void => {
      if (satisfied || options.waitForClose === true || options.until?.(Buffer.concat(chunks)) !== true) return;
      satisfied = true;
      if (options.settleMs === undefined) return finish(false);
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), options.settleMs);
    };
    socket.on('data', (data) => {
      chunks.push(data);
      checkUntil();
    });
    // A reset after the server closed on a protocol error is still a close.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish(true, true);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.on('close', () => finish(true));
    socket.once('connect', () => {
      for (const chunk of Array.isArray(bytes) ? bytes : [bytes]) socket.write(chunk);
      checkUntil();
    });
  });
}
