/**
 * sabre-server started with a config file: command-line options over the file, rename-command as
 * clients see it, CONFIG SET then CONFIG REWRITE (the file compared with the one a real redis-server
 * rewrites from the same start), protected mode and maxclients at accept, and the fatal report of a
 * bad file. Where a real redis-server can be started the same way, both are asked the same things.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandTable } from '../../src/commands/table.js';
import { DENIED_PROTECTED_MODE } from '../../src/server/admission.js';
import { RedisConnection, b } from '../helpers/differential.js';
import { findRedisServer, freePort, rawExchange } from '../helpers/redis-server.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/sabre-server.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sabre-server-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `# sabre test configuration
port 6379
dir ${dir}
hz 20
   # an indented comment

rename-command KEYS ""
rename-command DBSIZE MYSIZE
rename-command INCR BUMP
rename-command ECHO SAY
save ""
maxmemory 100mb
timeout 0
hash-max-ziplist-entries 100
list-max-ziplist-entries 5
appendfilename 'my file.aof'


notify-keyspace-events "Ex"
`;

interface StartedRedis {
  port: number;
  stop(): Promise<void>;
}

/** A real redis-server on `file` (its first argument), as sabre gets it; undefined when there is none. */
async function redisWithConfig(file: string, args: string[] = []): Promise<StartedRedis | undefined> {
  const binary = findRedisServer();
  if (binary === undefined) {
    if (process.env.CI === 'true') throw new Error('redis-server is required under CI=true');
    return undefined;
  }
  const port = await freePort();
  const child: ChildProcess = spawn(binary, [file, '--port', String(port), ...args], { stdio: 'ignore', cwd: dir });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));
  for (let attempt = 0; attempt < 200; attempt++) {
    const answer = await rawExchange(port, b('PING\r\n'), { timeoutMs: 200, until: (bytes) => bytes.includes('\r\n') }).catch(() => undefined);
    if (answer?.received.toString() === '+PONG\r\n') break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const cmd = (...args: string[]) => args.map(b);

describe('sabre-server with a config file', () => {
  const ourFile = join(dir, 'sabre.conf');
  const theirFile = join(dir, 'redis.conf');
  let sabre: RunningSabre;
  let redis: StartedRedis | undefined;
  let ours: RedisConnection;
  let theirs: RedisConnection | undefined;

  beforeAll(async () => {
    writeFileSync(ourFile, CONFIG);
    writeFileSync(theirFile, CONFIG);
    sabre = await startSabre(['--hz', '30'], ourFile);
    redis = await redisWithConfig(theirFile, ['--hz', '30']);
    ours = await RedisConnection.open(sabre.port);
    if (redis !== undefined) theirs = await RedisConnection.open(redis.port);
  });
  afterAll(async () => {
    ours.close();
    theirs?.close();
    expect(await sabre.stop()).toBe(0);
    await redis?.stop();
  });

  it('takes the file, with command-line options over it', async () => {
    const replies = await ours.run([cmd('CONFIG', 'GET', 'hz'), cmd('CONFIG', 'GET', 'port'), cmd('CONFIG', 'GET', 'maxmemory'), cmd('CONFIG', 'GET', 'save')]);
    expect(replies.map(String)).toEqual([
      '*2\r\n$2\r\nhz\r\n$2\r\n30\r\n',
      `*2\r\n$4\r\nport\r\n$5\r\n${sabre.port}\r\n`,
      '*2\r\n$9\r\nmaxmemory\r\n$9\r\n104857600\r\n',
      '*2\r\n$4\r\nsave\r\n$0\r\n\r\n',
    ]);
  });

  it('serves renamed commands under their new names only, as Redis does', async () => {
    const commands = [
      cmd('KEYS', '*'),
      cmd('DBSIZE'),
      cmd('INCR', 'counter'),
      cmd('BUMP', 'counter'),
      cmd('bump', 'counter'),
      cmd('BUMP'),
      cmd('ECHO', 'hi'),
      cmd('SAY', 'hi'),
      cmd('COMMAND', 'COUNT'),
    ];
    const replies = (await ours.run(commands)).map(String);
    expect(replies.slice(0, 8)).toEqual([
      "-ERR unknown command 'KEYS', with args beginning with: '*' \r\n",
      "-ERR unknown command 'DBSIZE', with args beginning with: \r\n",
      "-ERR unknown command 'INCR', with args beginning with: 'counter' \r\n",
      ':1\r\n',
      ':2\r\n',
      "-ERR wrong number of arguments for 'incr' command\r\n",
      "-ERR unknown command 'ECHO', with args beginning with: 'hi' \r\n",
      '$2\r\nhi\r\n',
    ]);
    // KEYS is gone from the table; the renamed ones are still there under new names.
    expect(replies[8]).toBe(`:${new CommandTable().size - 1}\r\n`);
    if (theirs !== undefined) expect((await theirs.run(commands.slice(0, 8))).map(String)).toEqual(replies.slice(0, 8));
  });

  it('rewrites the file as Redis rewrites it after CONFIG SET', async () => {
    const changes = [
      cmd('CONFIG', 'SET', 'hz', '15', 'maxmemory', '2gb', 'maxmemory-policy', 'allkeys-lru', 'hash-max-listpack-entries', '300'),
      cmd('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb 2mb 3', 'notify-keyspace-events', '', 'save', '100 1'),
      cmd('CONFIG', 'SET', 'maxmemory-clients', '5%', 'zset-max-listpack-value', '1025', 'timeout', '5'),
      cmd('CONFIG', 'REWRITE'),
    ];
    expect((await ours.run(changes)).map(String)).toEqual(['+OK\r\n', '+OK\r\n', '+OK\r\n', '+OK\r\n']);
    const rewritten = readFileSync(ourFile, 'utf8');
    expect(rewritten).toContain('# sabre test configuration\n');
    expect(rewritten).toContain(`port ${sabre.port}\ndir "${dir}"\nhz 15\n# an indented comment\n\nrename-command KEYS ""\nrename-command DBSIZE MYSIZE\n`);
    expect(rewritten).toContain('save 100 1\nmaxmemory 2gb\ntimeout 5\nhash-max-listpack-entries 300\n# ??? list-max-ziplist-entries 5\nappendfilename "my file.aof"\n\nnotify-keyspace-events ""\n');
    expect(rewritten).toContain('\n# Generated by CONFIG REWRITE\n');
    expect(rewritten).toContain('\nmaxmemory-policy allkeys-lru\n');
    // The rewritten file starts the same server again.
    const again = await startSabre([], ourFile);
    try {
      const connection = await RedisConnection.open(again.port);
      expect((await connection.run([cmd('CONFIG', 'GET', 'maxmemory-clients'), cmd('SAY', 'x')])).map(String)).toEqual([
        '*2\r\n$17\r\nmaxmemory-clients\r\n$2\r\n5%\r\n',
        '$1\r\nx\r\n',
      ]);
      connection.close();
    } finally {
      expect(await again.stop()).toBe(0);
    }
    if (theirs === undefined) return;
    expect((await theirs.run(changes)).map(String)).toEqual(['+OK\r\n', '+OK\r\n', '+OK\r\n', '+OK\r\n']);
    const theirText = readFileSync(theirFile, 'utf8').replace(`port ${redis!.port}`, `port ${sabre.port}`);
    const [ourKept, ourAdded] = rewritten.split('# Generated by CONFIG REWRITE\n');
    const [theirKept, theirAdded] = theirText.split('# Generated by CONFIG REWRITE\n');
    expect(ourKept).toBe(theirKept);
    // Redis appends in its dictionary's order, and writes ACL users, which sabre does not have yet.
    const lines = (text: string) => text.split('\n').filter((line) => line !== '' && !line.startsWith('user ')).sort();
    expect(lines(ourAdded)).toEqual(lines(theirAdded));
  });

  it('refuses a client over maxclients, as Redis does', async () => {
    expect((await ours.run([cmd('CONFIG', 'SET', 'maxclients', '1')])).map(String)).toEqual(['+OK\r\n']);
    try {
      const refused = await rawExchange(sabre.port, b('PING\r\n'), { timeoutMs: 2000, waitForClose: true });
      expect(refused).toMatchObject({ received: b('-ERR max number of clients reached\r\n'), closed: true });
    } finally {
      await ours.run([cmd('CONFIG', 'SET', 'maxclients', '10000')]);
    }
  });
});

/** A non-loopback IPv4 address of this machine, to connect from "outside"; undefined on a machine with none. */
function externalAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return undefined;
}

describe('protected mode', () => {
  it('refuses non-loopback clients with Redis’s explanation until protected-mode is off', async (context) => {
    const address = externalAddress();
    if (address === undefined) return context.skip();
    // sabre listens on loopback only by default; protected mode matters once it listens further.
    const sabre = await startSabre(['--bind', '*']);
    try {
      const denied = await rawExchange(sabre.port, b('PING\r\n'), { host: address, timeoutMs: 2000, waitForClose: true });
      expect(denied).toMatchObject({ received: b(`-${DENIED_PROTECTED_MODE}\r\n`), closed: true });
      expect(sabre.log()).toContain('protected mode is on');
      const local = await RedisConnection.open(sabre.port);
      expect((await local.run([cmd('CONFIG', 'SET', 'protected-mode', 'no')])).map(String)).toEqual(['+OK\r\n']);
      local.close();
      const served = await rawExchange(sabre.port, b('PING\r\n'), { host: address, timeoutMs: 2000, until: (bytes) => bytes.includes('\r\n') });
      expect(served.received.toString()).toBe('+PONG\r\n');
    } finally {
      expect(await sabre.stop()).toBe(0);
    }
    const empty = join(dir, 'empty.conf');
    writeFileSync(empty, '');
    const redis = await redisWithConfig(empty);
    if (redis === undefined) return;
    try {
      const theirs = await rawExchange(redis.port, b('PING\r\n'), { host: address, timeoutMs: 2000, waitForClose: true });
      expect(theirs).toMatchObject({ received: b(`-${DENIED_PROTECTED_MODE}\r\n`), closed: true });
    } finally {
      await redis.stop();
    }
  });
});

describe('starting up', () => {
  it('prints Redis’s fatal report for a bad file and exits with 1', async () => {
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'port 7000\nmaxmemory lots\n');
    const failure = await run(process.execPath, [BIN, bad]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toBe(
      "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'maxmemory lots'\nargument must be a memory value\n",
    );
  });

  it('refuses settings it cannot honour instead of running without them', async () => {
    for (const args of [['--daemonize', 'yes'], ['--requirepass', 'secret'], ['--tls-port', '6380']]) {
      const failure = await run(process.execPath, [BIN, ...args]).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toMatch(/^\n\*\*\* FATAL CONFIG ERROR \*\*\*\nsabre /);
    }
  });

  it('answers --version as redis-server does', async () => {
    const { stdout } = await run(process.execPath, [BIN, '--version']);
    expect(stdout).toMatch(/^Redis server v=7\.0\.15 /);
  });
});
