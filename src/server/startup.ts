/**
 * What sabre-server checks and says before it serves: settings it cannot honour (it refuses to start
 * rather than run differently from what was asked), the address to listen on, and the startup warnings
 * Redis gives where they apply to sabre, plus one of its own for settings it accepts but does not act
 * on yet.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { PARAMETERS, type Parameter } from '../config/parameters.js';
import { SHARD_SETTING_NAMES } from '../shard/settings.js';

/** Parameters sabre acts on today; any other one set away from its default draws a warning. */
const ACTED_ON: ReadonlySet<string> = new Set<string>([
  'port',
  'bind',
  'protected-mode',
  'maxclients',
  'tcp-keepalive',
  'loglevel',
  'logfile',
  'dir',
  'daemonize',
  'requirepass',
  'enable-protected-configs',
  'enable-debug-command',
  'databases',
  'proto-max-bulk-len',
  'client-query-buffer-limit',
  'client-output-buffer-limit',
  'slowlog-log-slower-than',
  'slowlog-max-len',
  // Everything the shards follow: encodings, lazyfree, notifications, maxmemory and eviction, defrag.
  ...SHARD_SETTING_NAMES,
  'dbfilename',
  'save',
  'rdbcompression',
  'rdbchecksum',
  'appendonly',
  'appendfsync',
  'appenddirname',
  'appendfilename',
  'aof-load-truncated',
  'aof-use-rdb-preamble',
  'auto-aof-rewrite-percentage',
  'auto-aof-rewrite-min-size',
  // Eviction frees large values in the background whatever this says (database.ts evict()).
  'lazyfree-lazy-eviction',
  'shards',
]);

/** Why the server cannot run with this configuration, or undefined. */
export function unsupportedSetting(config: Config): string | undefined {
  if (config.bool('daemonize')) return 'sabre runs in the foreground: use "daemonize no" and a supervisor (systemd, a container) to keep it running';
  if (config.get('requirepass') !== '') return 'sabre does not implement AUTH yet, so it cannot honour requirepass: remove it (protected mode still refuses non-local clients)';
  if (config.get('bind') === '') return 'sabre needs at least one bind address';
  if (config.number('tls-port') !== 0 || config.bool('tls-cluster') || config.bool('tls-replication')) return 'sabre does not speak TLS yet';
  return undefined;
}

/** Refusals for run-time changes sabre cannot make yet (CONFIG SET answers them as Redis answers a failed apply). */
export function refuseRuntimeChanges(config: Config): void {
  config.onChange('requirepass', (value) => (value === '' ? undefined : 'sabre does not implement AUTH yet'));
  const restart = () => 'sabre cannot move its listening socket at run time yet: set it in the config file and restart';
  config.onChange('port', restart);
  config.onChange('bind', restart);
  // Redis's words when TLS cannot be set up, which for sabre is always.
  const noTls = (value: string) => (value === 'no' || value === '0' ? undefined : 'Unable to update TLS configuration. Check server logs.');
  for (const name of ['tls-port', 'tls-cluster', 'tls-replication'] as const) config.onChange(name, noTls);
  config.onChange('maxclients', (value) => {
    const files = openFilesLimit();
    if (files === undefined || Number(value) + RESERVED_FDS <= files) return undefined;
    return `The operating system is not able to handle the specified number of clients, try with ${files - RESERVED_FDS}`;
  });
}

/** One address of `bind` to listen on; an optional one (a leading '-') is skipped when unavailable. */
export interface ListenAddress {
  host: string;
  optional: boolean;
}

/**
 * The addresses the front listens on, as Redis reads `bind`: `*` is every IPv4 interface, `::*` every
 * IPv6 one, and a leading '-' marks an address that may be missing. `* -::*` together become one
 * dual-stack socket on `::` (Node cannot bind both `::` and `0.0.0.0` on one port), or `0.0.0.0` on a
 * machine without IPv6, as containers often are.
 */
export async function listenAddresses(bind: string): Promise<ListenAddress[]> {
  const words = bind.split(' ').filter((word) => word !== '');
  const addresses = words.map((word) => ({ host: word.replace(/^-/, ''), optional: word.startsWith('-') }));
  const hosts = addresses.map((address) => address.host);
  if (hosts.includes('*') && hosts.includes('::*')) return [{ host: (await hasIpv6()) ? '::' : '0.0.0.0', optional: false }];
  return addresses.map(({ host, optional }) => ({ host: host === '*' ? '0.0.0.0' : host === '::*' ? '::' : host, optional }));
}

function hasIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::', () => probe.close(() => resolve(true)));
  });
}

function readNumber(path: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    return undefined;
  }
}

/** The soft limit on open files (Node raises it to the hard limit at startup), from /proc when there is one. */
function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** Redis keeps 32 descriptors for itself beyond maxclients (CONFIG_MIN_RESERVED_FDS). */
const RESERVED_FDS = 32;

export function startupWarnings(config: Config, logger: Logger): void {
  if (config.file === undefined) {
    logger.warn('Warning: no config file specified, using the default config. In order to specify a config file use sabre-server /path/to/redis.conf');
  }
  const somaxconn = readNumber('/proc/sys/net/core/somaxconn');
  const backlog = config.number('tcp-backlog');
  if (somaxconn !== undefined && somaxconn < backlog) {
    logger.warn(`WARNING: The TCP backlog setting of ${backlog} cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of ${somaxconn}.`);
  }
  const maxclients = config.number('maxclients');
  const files = openFilesLimit();
  if (files !== undefined && files < maxclients + RESERVED_FDS) {
    const reduced = Math.max(1, files - RESERVED_FDS);
    logger.warn(`You requested maxclients of ${maxclients} requiring at least ${maxclients + RESERVED_FDS} max file descriptors.`);
    logger.warn(
      `Current maximum open files is ${files}. maxclients has been reduced to ${reduced} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.`,
    );
    config.set([['maxclients', String(reduced)]], { local: true });
  }
  const inert = (PARAMETERS as readonly Parameter[]).filter((parameter) => !ACTED_ON.has(parameter.name) && !config.isDefault(parameter)).map((p) => p.name);
  if (inert.length > 0) logger.warn({ parameters: inert }, `sabre accepts but does not act on these settings yet: ${inert.join(', ')}`);
}
