/**
 * ShardPool.start's options: redis.conf's parameters in camelCase (`maxmemoryPolicy` for
 * maxmemory-policy), read by the server's own configuration loader, so defaults, validation and error
 * messages are the server's.
 *
 * Two differ from the server, because a library must not act on the process it is loaded into:
 * - `dir` is kept by the pool and never applied as the server applies it (by changing the working
 *   directory of the whole process); the RDB file is `dir`/`dbfilename`, `dir` defaulting to the
 *   working directory as the server's does.
 * - `save` defaults to no save points: an embedded pool writes no dump.rdb unless asked to, by save
 *   points, a SAVE command, or `save` at close. As the server does, it loads `dir`/`dbfilename` at start
 *   when that file exists.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { ConfigFileError, loadConfig } from '../config/config-file.js';
import { unsupportedSetting } from '../server/startup.js';
import { PoolError } from './reply-error.js';

export type PoolOptionValue = string | number | boolean;

/** The options most used embedded, typed; any other redis.conf parameter may be given in camelCase too. */
export interface PoolOptions {
  /** Shard worker threads (sabre's own parameter; default: the machine's parallelism). */
  shards?: number;
  /** Bytes, or Redis's units as text ('512mb'); 0: no limit. */
  maxmemory?: number | string;
  maxmemoryPolicy?: 'noeviction' | 'allkeys-lru' | 'allkeys-lfu' | 'allkeys-random' | 'volatile-lru' | 'volatile-lfu' | 'volatile-random' | 'volatile-ttl';
  /** Where the RDB file lives (default: the working directory; never changed, see the module comment). */
  dir?: string;
  dbfilename?: string;
  /** Save points as redis.conf writes them ('3600 1 300 100'); default '' (none) embedded. */
  save?: string;
  appendonly?: boolean;
  databases?: number;
  [parameter: string]: PoolOptionValue | undefined;
}

export interface EmbeddedConfig {
  config: Config;
  /** The RDB file's directory, absolute. */
  dir: string;
}

const kebab = (name: string): string => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** A value as one quoted config-file argument (the loader splits a multi-argument one such as save at spaces). */
function quoted(value: PoolOptionValue): string {
  const text = typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value);
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

/** The loader's report without its file framing: the reason, then the directive it was about. */
function configProblem(report: string): string {
  const lines = report.split('\n').filter((line) => line.trim() !== '');
  const directive = lines.find((line) => line.startsWith('>>> '));
  const reason = lines[lines.length - 1];
  return directive === undefined ? reason : `${reason} (${directive.slice(4)})`;
}

export function embeddedConfig(options: PoolOptions): EmbeddedConfig {
  const { dir, ...rest } = options;
  const directives = Object.entries({ save: '', ...rest })
    .filter((entry): entry is [string, PoolOptionValue] => entry[1] !== undefined)
    .map(([name, value]) => `${kebab(name)} ${quoted(value)}`);
  let config: Config;
  try {
    config = loadConfig({ stdin: false, options: directives.join('\n') });
  } catch (error) {
    if (error instanceof ConfigFileError) throw new PoolError(`bad pool option: ${configProblem(error.message)}`);
    throw error;
  }
  const unsupported = unsupportedSetting(config);
  if (unsupported !== undefined) throw new PoolError(`bad pool option: ${unsupported}`);
  const directory = resolve(dir ?? '.');
  let isDirectory = false;
  try {
    isDirectory = statSync(directory).isDirectory();
  } catch {
    // Reported below, as for a path that is not a directory.
  }
  if (!isDirectory) throw new PoolError(`bad pool option: dir ${JSON.stringify(directory)} is not a directory`);
  return { config, dir: directory };
}
