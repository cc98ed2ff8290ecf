/**
 * Reading, printing and rewriting one parameter's value, by type, with Redis 7.0's grammar and error
 * wording (the text after "CONFIG SET failed (possibly related to argument 'x') - " or after a config
 * file's offending line). A stored value is a boolean (bool), a bigint (int, memory; a percentage is
 * stored negative, as Redis stores it) or a string (enum, string, and special parameters, which keep
 * the text CONFIG GET prints).
 */
import type { Parameter } from './parameters.js';

export type Value = boolean | bigint | string;

/** A value Redis would refuse; the message is Redis's. */
export class ConfigValueError extends Error {}

/** One line CONFIG REWRITE writes for a parameter, and whether it is written even when the file lacks it. */
export interface RewriteLine {
  text: string;
  force: boolean;
}

const INTEGER = /^(0|-?[1-9][0-9]*)$/;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

/** Redis's string2ll: the exact decimal form of an int64, or undefined. */
export function parseStrictInteger(text: string): bigint | undefined {
  if (!INTEGER.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

const MEMORY = /^([0-9]{0,127})(b|k|kb|m|mb|g|gb)?$/i;
const UNIT: Record<string, bigint> = { b: 1n, k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n, gb: 1024n ** 3n };
const ULLONG_MAX = 18446744073709551615n;

/**
 * Redis's memtoull: "1gb", "10k", "512"; undefined when malformed. Missing digits read as 0 ("" and
 * "kb" are 0, as strtoull leaves them), digits beyond 2^64 - 1 saturate, and a unit multiplies modulo
 * 2^64, all as Redis computes it.
 */
export function parseMemory(text: string): bigint | undefined {
  const match = MEMORY.exec(text);
  if (match === null) return undefined;
  let digits = match[1] === '' ? 0n : BigInt(match[1]);
  if (digits > ULLONG_MAX) digits = ULLONG_MAX;
  return (digits * UNIT[(match[2] ?? 'b').toLowerCase()]) & ULLONG_MAX;
}

const GB = 1024n ** 3n;
const MB = 1024n ** 2n;
const KB = 1024n;

/** CONFIG REWRITE's form of a byte count: the largest binary unit that divides it exactly. */
export function formatMemory(bytes: bigint): string {
  if (bytes < 0n) return `${-bytes}%`;
  if (bytes === 0n) return '0';
  if (bytes % GB === 0n) return `${bytes / GB}gb`;
  if (bytes % MB === 0n) return `${bytes / MB}mb`;
  if (bytes % KB === 0n) return `${bytes / KB}kb`;
  return String(bytes);
}

function inRange(value: bigint, min: bigint, max: bigint): bigint {
  if (value < min || value > max) throw new ConfigValueError(`argument must be between ${min} and ${max} inclusive`);
  return value;
}

/**
 * A memory value or `N%`, kept as Redis keeps it: a percentage as -N. A byte count is read as Redis
 * reads it, into a signed 64-bit integer, so a count of 2^63 or more turns negative and is then
 * judged as a percentage too.
 */
function parseMemoryOrPercent(text: string, min: bigint, max: bigint): bigint {
  let value: bigint;
  if (text.length > 1 && text.endsWith('%')) {
    const percent = parseStrictInteger(text.slice(0, -1));
    if (percent === undefined || percent < 0n) throw new ConfigValueError('argument must be a memory or percent value');
    value = -percent;
  } else {
    const bytes = parseMemory(text);
    if (bytes === undefined) throw new ConfigValueError('argument must be a memory or percent value');
    value = BigInt.asIntN(64, bytes);
  }
  if (value >= 0n) return inRange(value, min, max);
  if (value < -100n) throw new ConfigValueError('percentage argument must be less or equal to 100');
  return value;
}

/**
 * The value `args` set `parameter` to. `current` and `appending` serve directives that add up over
 * several lines of a file (save, client-output-buffer-limit). Throws ConfigValueError.
 */
export function parseValue(parameter: Parameter, args: readonly string[], current: Value, appending: boolean): Value {
  if (parameter.type === 'special') return parameter.codec.parse(args, current as string, appending);
  const [text] = args;
  switch (parameter.type) {
    case 'bool': {
      const lower = text.toLowerCase();
      if (lower === 'yes') return true;
      if (lower === 'no') return false;
      throw new ConfigValueError("argument must be 'yes' or 'no'");
    }
    case 'int': {
      if (parameter.octal === true) {
        if (!/^[0-7]+$/.test(text)) throw new ConfigValueError("argument couldn't be parsed as an octal number");
        return inRange(BigInt(`0o${text}`), parameter.min, parameter.max);
      }
      const value = parseStrictInteger(text);
      if (value === undefined) throw new ConfigValueError("argument couldn't be parsed into an integer");
      inRange(value, parameter.min, parameter.max);
      if (parameter.clampTo === undefined) return value;
      const [low, high] = parameter.clampTo;
      return value < low ? low : value > high ? high : value;
    }
    case 'memory': {
      if (parameter.percent === true) return parseMemoryOrPercent(text, parameter.min, parameter.max);
      const bytes = parseMemory(text);
      if (bytes === undefined) throw new ConfigValueError('argument must be a memory value');
      return inRange(bytes, parameter.min, parameter.max);
    }
    case 'enum': {
      const lower = text.toLowerCase();
      if (parameter.values.includes(lower)) return lower;
      throw new ConfigValueError(`argument(s) must be one of the following: ${parameter.values.join(', ')}`);
    }
    case 'string': {
      const problem = parameter.validate?.(text);
      if (problem !== undefined) throw new ConfigValueError(problem);
      return text;
    }
  }
}

export function defaultValue(parameter: Parameter): Value {
  return parameter.type === 'special' ? parameter.codec.defaultValue() : parameter.default;
}

/** The value as CONFIG GET prints it. */
export function formatValue(parameter: Parameter, value: Value): string {
  switch (parameter.type) {
    case 'bool':
      return value ? 'yes' : 'no';
    case 'int':
      return parameter.octal === true ? (value as bigint).toString(8) : String(value);
    case 'memory':
      return (value as bigint) < 0n ? `${-(value as bigint)}%` : String(value);
    case 'special':
      return parameter.codec.format?.(value as string) ?? (value as string);
    default:
      return value as string;
  }
}

/** Redis's sdscatrepr: a double-quoted string with C escapes, as CONFIG REWRITE writes strings. */
export function quoteRepr(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ch = text[i];
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += `\\x${(c & 0xff).toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/** The lines CONFIG REWRITE writes for the parameter; none means its old lines are dropped. */
export function rewriteLines(parameter: Parameter, value: Value): RewriteLine[] {
  const name = parameter.name;
  const force = value !== defaultValue(parameter);
  switch (parameter.type) {
    case 'special':
      return parameter.codec.rewrite(name, value as string);
    case 'memory':
      return [{ text: `${name} ${formatMemory(value as bigint)}`, force }];
    case 'string':
      if (parameter.emptyIsUnset === true && value === '') return [];
      return [{ text: `${name} ${quoteRepr(value as string)}`, force }];
    default:
      return [{ text: `${name} ${formatValue(parameter, value)}`, force }];
  }
}
