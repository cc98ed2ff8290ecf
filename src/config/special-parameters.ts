/**
 * Parameters with a grammar of their own, as Redis 7.0 reads, prints and rewrites them. Each keeps its
 * value as the text CONFIG GET prints (`save` → "3600 1 300 100"), so comparing, restoring and
 * reporting need nothing more. Several take more than one argument (`save 900 1`); when such a
 * directive gets a single argument it is split at spaces, which is how `--save "900 1"` and
 * `CONFIG SET save "900 1"` reach them.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigValueError, formatMemory, parseMemory, quoteRepr, type RewriteLine } from './values.js';

export interface SpecialCodec {
  /** Takes several arguments, and a single argument is split at spaces. */
  readonly multiArg: boolean;
  defaultValue(): string;
  /**
   * The value `args` give, as CONFIG GET prints it. `appending` is set for a directive met again in
   * the same file, for those whose lines add up (save). Throws ConfigValueError with Redis's message.
   */
  parse(args: readonly string[], current: string, appending: boolean): string;
  /** The value's effect outside the configuration (dir changes the working directory); may throw ConfigValueError. */
  apply?(value: string): void;
  /** CONFIG GET's text when it is not the stored value itself. */
  format?(value: string): string;
  rewrite(name: string, value: string): RewriteLine[];
}

/** strtoll as Redis checks it: optional leading spaces and sign, digits to the end; an empty string reads as 0. */
function strtollWhole(text: string): number | undefined {
  if (text === '') return 0;
  const match = /^[ \t\n\v\f\r]*([+-]?[0-9]+)$/.exec(text);
  return match === null ? undefined : Number(match[1]);
}

const save: SpecialCodec = {
  multiArg: true,
  defaultValue: () => '3600 1 300 100 60 10000',
  parse(args, current, appending) {
    // A single "" stands for no save points at all.
    const points = args.length === 1 && args[0] === '' ? [] : args;
    if (points.length % 2 !== 0) throw new ConfigValueError('Invalid save parameters');
    const numbers = points.map((text, i) => {
      const value = strtollWhole(text);
      if (value === undefined || value < (i % 2 === 0 ? 1 : 0)) throw new ConfigValueError('Invalid save parameters');
      return value;
    });
    const added = numbers.join(' ');
    if (!appending || points.length === 0 || current === '') return added;
    return `${current} ${added}`;
  },
  rewrite(name, value) {
    // Always written: a file without save lines would mean the defaults.
    if (value === '') return [{ text: `${name} ""`, force: true }];
    const numbers = value.split(' ');
    const lines: RewriteLine[] = [];
    for (let i = 0; i < numbers.length; i += 2) lines.push({ text: `${name} ${numbers[i]} ${numbers[i + 1]}`, force: true });
    return lines;
  },
};

// Redis's compiled-in default is `* -::*` (every interface); sabre's is the loopback pair of the
// redis.conf Redis ships, so a fresh `npm start` serves this machine only.
const DEFAULT_BIND = '127.0.0.1 -::1';

const bind: SpecialCodec = {
  multiArg: true,
  defaultValue: () => DEFAULT_BIND,
  parse(args) {
    const addresses = args.length === 1 && args[0] === '' ? [] : args;
    if (addresses.length > 16) throw new ConfigValueError('Too many bind addresses specified.');
    return addresses.join(' ');
  },
  rewrite(name, value) {
    return value === DEFAULT_BIND ? [] : [{ text: `${name} ${value}`, force: true }];
  },
};

const CLIENT_CLASSES = ['normal', 'slave', 'pubsub'] as const;
const CLASS_ALIASES: Record<string, (typeof CLIENT_CLASSES)[number]> = { normal: 'normal', slave: 'slave', replica: 'slave', pubsub: 'pubsub' };
const DEFAULT_OUTPUT_LIMITS = 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60';

function outputLimits(value: string): Map<string, [bigint, bigint, bigint]> {
  const words = value.split(' ');
  const limits = new Map<string, [bigint, bigint, bigint]>();
  for (let i = 0; i < words.length; i += 4) limits.set(words[i], [BigInt(words[i + 1]), BigInt(words[i + 2]), BigInt(words[i + 3])]);
  return limits;
}

const clientOutputBufferLimit: SpecialCodec = {
  multiArg: true,
  defaultValue: () => DEFAULT_OUTPUT_LIMITS,
  parse(args, current) {
    if (args.length % 4 !== 0) throw new ConfigValueError('Wrong number of arguments in buffer limit configuration.');
    const limits = outputLimits(current);
    for (let i = 0; i < args.length; i += 4) {
      const kind = CLASS_ALIASES[args[i].toLowerCase()];
      if (kind === undefined) throw new ConfigValueError('Invalid client class specified in buffer limit configuration.');
      const hard = parseMemory(args[i + 1]);
      const soft = parseMemory(args[i + 2]);
      const seconds = strtollWhole(args[i + 3]);
      if (hard === undefined || soft === undefined || seconds === undefined || seconds < 0) {
        throw new ConfigValueError('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
      }
      limits.set(kind, [hard, soft, BigInt(seconds)]);
    }
    return CLIENT_CLASSES.map((kind) => `${kind} ${limits.get(kind)!.join(' ')}`).join(' ');
  },
  rewrite(name, value) {
    const limits = outputLimits(value);
    const defaults = outputLimits(DEFAULT_OUTPUT_LIMITS);
    return CLIENT_CLASSES.map((kind) => {
      const [hard, soft, seconds] = limits.get(kind)!;
      const force = defaults.get(kind)!.join(' ') !== limits.get(kind)!.join(' ');
      return { text: `${name} ${kind} ${formatMemory(hard)} ${formatMemory(soft)} ${seconds}`, force };
    });
  },
};

/** Keyspace event classes in the order Redis prints them; 'A' is the first ten together. */
const EVENT_CLASSES = 'g$lshzxetd';

const notifyKeyspaceEvents: SpecialCodec = {
  multiArg: false,
  defaultValue: () => '',
  parse([text]) {
    const seen = new Set<string>();
    for (const ch of text) {
      if (ch === 'A') for (const each of EVENT_CLASSES) seen.add(each);
      else if ('g$lshzxeKEtmdn'.includes(ch)) seen.add(ch);
      else throw new ConfigValueError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    }
    const all = [...EVENT_CLASSES].every((ch) => seen.has(ch));
    let out = all ? 'A' : [...`${EVENT_CLASSES}n`].filter((ch) => seen.has(ch)).join('');
    for (const ch of 'KEm') if (seen.has(ch)) out += ch;
    return out;
  },
  rewrite(name, value) {
    return [{ text: `${name} ${quoteRepr(value)}`, force: value !== '' }];
  },
};

const DEFAULT_OOM_VALUES = '0 200 800';

const oomScoreAdjValues: SpecialCodec = {
  multiArg: true,
  defaultValue: () => DEFAULT_OOM_VALUES,
  parse(args) {
    if (args.length !== 3) throw new ConfigValueError('wrong number of arguments');
    return args
      .map((text) => {
        const value = strtollWhole(text);
        if (value === undefined || text === '' || value < -2000 || value > 2000) {
          throw new ConfigValueError('Invalid oom-score-adj-values, elements must be between -2000 and 2000.');
        }
        return value;
      })
      .join(' ');
  },
  rewrite(name, value) {
    return [{ text: `${name} ${value}`, force: value !== DEFAULT_OOM_VALUES }];
  },
};

/** C's "%f" with the trailing zeros (and a bare point) taken off, as Redis prints percentiles. */
function formatPercentile(value: number): string {
  return value.toFixed(6).replace(/\.?0+$/, '');
}

const latencyTrackingInfoPercentiles: SpecialCodec = {
  multiArg: true,
  defaultValue: () => '50 99 99.9',
  parse(args) {
    const texts = args.length === 1 && args[0] === '' ? [] : args;
    return texts
      .map((text) => {
        const value = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : Number.NaN;
        if (Number.isNaN(value)) throw new ConfigValueError('Invalid latency-tracking-info-percentiles parameters');
        if (value < 0 || value > 100) throw new ConfigValueError('latency-tracking-info-percentiles parameters should sit between [0.0,100.0]');
        return formatPercentile(value);
      })
      .join(' ');
  },
  rewrite(name, value) {
    // Redis writes this one out every time, default or not.
    return [{ text: `${name} ${value === '' ? '""' : value}`, force: true }];
  },
};

const replicaof: SpecialCodec = {
  multiArg: true,
  defaultValue: () => '',
  parse(args) {
    if (args.length !== 2) throw new ConfigValueError('wrong number of arguments');
    if (args[0].toLowerCase() === 'no' && args[1].toLowerCase() === 'one') return '';
    const port = Number.parseInt(args[1], 10);
    if (!(port >= 0 && port <= 65535)) throw new ConfigValueError('Invalid master port');
    return `${args[0]} ${port}`;
  },
  rewrite(name, value) {
    return value === '' ? [] : [{ text: `${name} ${value}`, force: true }];
  },
};

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EACCES: 'Permission denied',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
};

/** The C library's wording for a failed system call, as Redis reports it. */
export function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return ERRNO_TEXT[code] ?? (error as Error).message;
}

/** `dir` is the working directory itself: set by changing it, read back from it. */
const dir: SpecialCodec = {
  multiArg: false,
  defaultValue: () => process.cwd(),
  parse([path]) {
    try {
      if (!statSync(path).isDirectory()) throw new ConfigValueError('Not a directory');
    } catch (error) {
      if (error instanceof ConfigValueError) throw error;
      throw new ConfigValueError(errnoText(error));
    }
    return resolve(path);
  },
  apply(path) {
    try {
      process.chdir(path);
    } catch (error) {
      throw new ConfigValueError(errnoText(error));
    }
  },
  format: () => process.cwd(),
  rewrite(name) {
    return [{ text: `${name} ${quoteRepr(process.cwd())}`, force: true }];
  },
};

export const SPECIAL_CODECS = {
  save,
  bind,
  'client-output-buffer-limit': clientOutputBufferLimit,
  'notify-keyspace-events': notifyKeyspaceEvents,
  'oom-score-adj-values': oomScoreAdjValues,
  'latency-tracking-info-percentiles': latencyTrackingInfoPercentiles,
  replicaof,
  dir,
} as const satisfies Record<string, SpecialCodec>;
