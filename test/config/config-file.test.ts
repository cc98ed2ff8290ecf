/**
 * The config file and command-line reader: sdssplitargs quoting, the command line turned into
 * directives, include (plain and glob), rename-command, and fatal errors, the last compared byte for
 * byte with what a real redis-server 7.0 prints for the same file and arguments.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_COMMAND_NAMES } from '../../src/commands/redis-command-names.js';
import { ConfigFileError, loadConfig, parseCommandLine, splitArgs } from '../../src/config/config-file.js';
import { CommandTable } from '../../src/commands/table.js';
import { findRedisServer, startRedis } from '../helpers/redis-server.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'sabre-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function file(text: string): string {
  const path = join(dir, `c${fileCount++}.conf`);
  writeFileSync(path, text, 'latin1');
  return path;
}

function load(text: string, ...args: string[]) {
  return loadConfig(parseCommandLine([file(text), ...args]));
}

function fatal(argv: string[]): string {
  try {
    loadConfig(parseCommandLine(argv));
  } catch (error) {
    if (error instanceof ConfigFileError) return error.message;
    throw error;
  }
  return '(loaded)';
}

describe('splitting a line into arguments (sdssplitargs)', () => {
  it.each([
    ['port 6379', ['port', '6379']],
    ['  save   900 1  ', ['save', '900', '1']],
    ['a\tb', ['a', 'b']],
    ['"hello world" x', ['hello world', 'x']],
    ['"a\\"b" c', ['a"b', 'c']],
    ['"\\n\\r\\t\\b\\a\\\\\\z"', ['\n\r\t\b\x07\\z']],
    ['"\\x41\\x4a\\x4" ', ['AJx4']],
    ["'it\\'s' 'a\\nb'", ["it's", 'a\\nb']],
    ['ab"cd"', ['abcd']],
    ["ab'c d'", ['abc d']],
    ['""', ['']],
    ["'' x", ['', 'x']],
    ['', []],
  ])('%j', (line, expected) => {
    expect(splitArgs(line)).toEqual(expected);
  });

  it.each(['"abc', "'abc", '"a"b', "'a'b", 'x "y'])('refuses unbalanced quotes: %j', (line) => {
    expect(splitArgs(line)).toBeUndefined();
  });
});

describe('the command line', () => {
  it('takes a first argument without dashes as the config file and quotes option values', () => {
    expect(parseCommandLine(['/etc/redis.conf', '--port', '6380', '--save', '900 1', '300', '10'])).toEqual({
      file: '/etc/redis.conf',
      stdin: false,
      options: 'port "6380" \nsave "900 1" "300" "10" ',
    });
  });

  it('follows redis-server on "--name value" arguments, dashes in values, --save with nothing, and stdin', () => {
    expect(parseCommandLine(['--port 6380', '--hz', '--5']).options).toBe('port 6380 \nhz "--5" ');
    expect(parseCommandLine(['--save', '--port', '1']).options).toBe('save ""\nport "1" ');
    expect(parseCommandLine(['--port', '1', '--save']).options).toBe('port "1" \nsave ""');
    expect(parseCommandLine(['-', '--port', '1'])).toEqual({ stdin: true, options: 'port "1" ' });
  });

  it('lets options override the file, and several values reach a multi-argument parameter', () => {
    const config = load('hz 20\nsave 900 1\nport 7000\n', '--hz', '30', '--save', '60 5', '--bind', '127.0.0.1', '::1');
    expect(config.get('hz')).toBe('30');
    expect(config.get('port')).toBe('7000');
    // The file's save line and the option's add up: both are `save` directives of one load.
    expect(config.get('save')).toBe('900 1 60 5');
    expect(config.get('bind')).toBe('127.0.0.1 ::1');
    expect(load('save 900 1\nsave ""\n').get('save')).toBe('');
    expect(load('maxmemory 2gb\nmaxmemory-policy ALLKEYS-LRU\nprotected-mode NO\n').match(['maxmemory', 'maxmemory-policy', 'protected-mode'])).toEqual([
      ['maxmemory', '2147483648'],
      ['maxmemory-policy', 'allkeys-lru'],
      ['protected-mode', 'no'],
    ]);
  });

  it('reads configuration from stdin after the file', () => {
    const config = loadConfig(parseCommandLine([file('hz 20\n'), '-']), () => 'hz 25\nport 7001\n');
    expect([config.get('hz'), config.get('port')]).toEqual(['25', '7001']);
  });
});

describe('a stock redis.conf', () => {
  const STOCK = '/etc/redis/redis.conf';

  it('loads as Redis loads it', (context) => {
    let text: string;
    try {
      text = readFileSync(STOCK, 'latin1');
    } catch {
      return context.skip();
    }
    // Its dir and logfile belong to the system's Redis; everything else is read as written.
    const config = load(text.replace(/^(dir|logfile) .*$/gm, ''));
    expect(config.get('bind')).toBe('127.0.0.1 -::1');
    expect(config.get('client-output-buffer-limit')).toBe('normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60');
    expect(config.get('auto-aof-rewrite-min-size')).toBe('67108864');
  });
});

describe('include', () => {
  it('reads another file in place, so later lines override it', () => {
    const included = file('hz 11\nport 7002\n');
    const config = load(`port 7001\ninclude ${included}\nhz 12\n`);
    expect([config.get('port'), config.get('hz')]).toEqual(['7002', '12']);
  });

  it('reads every file a glob matches, in name order, and nothing when none does', () => {
    const confd = join(dir, 'conf.d');
    mkdirSync(confd);
    writeFileSync(join(confd, 'b.conf'), 'hz 14\n');
    writeFileSync(join(confd, 'a.conf'), 'hz 13\ntimeout 5\n');
    writeFileSync(join(confd, 'skip.txt'), 'hz 99\n');
    const config = load(`include ${confd}/*.conf\ninclude ${confd}/*.none\n`);
    expect([config.get('hz'), config.get('timeout')]).toEqual(['14', '5']);
  });

  it('reports an included file that cannot be opened', () => {
    expect(fatal([file(`include ${dir}/missing.conf\n`)])).toBe(`Fatal error, can't open config file '${dir}/missing.conf': No such file or directory\n`);
  });
});

describe('rename-command', () => {
  it('records renames of sabre commands and accepts Redis commands sabre lacks', () => {
    const config = load('rename-command KEYS ""\nrename-command dbsize MYSIZE\nrename-command MYSIZE SIZE2\nrename-command EVAL ""\n');
    expect(config.renames).toEqual([
      ['keys', ''],
      ['dbsize', 'mysize'],
      ['mysize', 'size2'],
    ]);
    const table = new CommandTable();
    for (const [from, to] of config.renames) table.rename(from, to);
    expect(table.get('keys')).toBeUndefined();
    expect(table.get('dbsize')).toBeUndefined();
    expect(table.get('SIZE2')?.name).toBe('dbsize');
  });

  it('knows every command name of the real redis-server', async (context) => {
    const redis = await startRedis();
    if (redis === undefined) return context.skip();
    try {
      const { stdout } = await run('redis-cli', ['-p', String(redis.port), 'command', 'list']);
      const names = stdout.split('\n').filter((name) => name !== '' && !name.includes('|'));
      expect(new Set(names)).toEqual(REDIS_COMMAND_NAMES);
    } finally {
      await redis.stop();
    }
  });
});

/** Config files (and options) that redis-server refuses; sabre must print the same report. */
const BAD_CONFIGS: [string, string[]][] = [
  ['port 7200\nfoo bar\n', []],
  ['port abc\n', []],
  ['port 1 2\n', []],
  ['# c\n\nport 7201 \n  hz "5\n', []],
  ['hz "5"x\n', []],
  ["hz 'abc\n", []],
  ['\t"port"\t\t70x\n', []],
  ['rename-command NOSUCH foo\n', []],
  ['rename-command GET SET\n', []],
  ['rename-command KEYS ""\nrename-command KEYS k2\n', []],
  ['rename-command get\n', []],
  ['include\n', []],
  ['save 900\n', []],
  ['save 0 1\n', []],
  ['maxmemory-policy lru\n', []],
  ['appendonly maybe\n', []],
  ['maxmemory 1.5gb\n', []],
  ['maxmemory-clients 101%\n', []],
  ['proto-max-bulk-len 1000\n', []],
  ['list-max-ziplist-entries 5\nport x\n', []],
  ['client-output-buffer-limit master 1 2 3\n', []],
  ['client-output-buffer-limit normal 1 2\n', []],
  ['notify-keyspace-events Q\n', []],
  ['bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n', []],
  ['oom-score-adj-values 1 2\n', []],
  ['latency-tracking-info-percentiles 101\n', []],
  ['unixsocketperm 999\n', []],
  ['replicaof host\n', []],
  ['dbfilename a/b\n', []],
  ['dir /nonexistent/x\n', []],
  ['logfile /nonexistent/x.log\n', []],
  ['enable-protected-configs maybe\n', []],
  ['port 7000\n', ['--hz', 'abc']],
  ['port 7000', ['--nosuch', '1']],
  ['port 7000\n', ['--port']],
];

describe('fatal errors, as redis-server reports them', () => {
  const binary = findRedisServer();

  it.for(BAD_CONFIGS)('%j %j', async ([text, args], context) => {
    if (binary === undefined) {
      if (process.env.CI === 'true') throw new Error('redis-server is required under CI=true');
      return context.skip();
    }
    const path = file(text);
    const theirs = await run(binary, [path, ...args]).then(
      () => '(started)',
      (error: { stderr: string }) => error.stderr,
    );
    expect(fatal([path, ...args])).toBe(theirs);
  });
});
