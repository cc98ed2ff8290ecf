/**
 * SCAN's arguments, read exactly as Redis 7.0 reads them, for the shard that walks its dictionary and
 * for the front that splits a cursor between shards (and, later, for HSCAN, SSCAN and ZSCAN).
 *
 * The cursor is C's strtoul with Redis's checks: an unsigned 64-bit decimal, where a leading `-`
 * negates modulo 2^64, the empty string is cursor 0, a leading space or any trailing byte is refused,
 * and the argument ends at its first NUL byte (C sees no further).
 */
import { ERR_NOT_INTEGER, ERR_SYNTAX } from '../protocol/errors.js';
import { argText, isKeyword, parseInt64 } from './context.js';
import { GlobPattern } from './glob.js';

const UNSIGNED_LONG_MAX = (1n << 64n) - 1n;
const PLUS = 0x2b;
const MINUS = 0x2d;
const STAR = 0x2a;

function isCSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/** The cursor argument as an unsigned 64-bit value, or undefined where Redis answers "invalid cursor". */
export function parseScanCursor(arg: Uint8Array): bigint | undefined {
  const nul = arg.indexOf(0);
  const end = nul < 0 ? arg.length : nul;
  if (end === 0) return 0n;
  if (isCSpace(arg[0])) return undefined;
  let at = 0;
  const negative = arg[0] === MINUS;
  if (arg[0] === PLUS || negative) at++;
  const digitsStart = at;
  let value = 0n;
  let overflow = false;
  for (; at < end && arg[at] >= 0x30 && arg[at] <= 0x39; at++) {
    if (overflow) continue;
    value = value * 10n + BigInt(arg[at] - 0x30);
    overflow = value > UNSIGNED_LONG_MAX;
  }
  if (at === digitsStart || at !== end || overflow) return undefined;
  return negative ? (UNSIGNED_LONG_MAX + 1n - value) & UNSIGNED_LONG_MAX : value;
}

export interface ScanOptions {
  /** How many elements to aim for (Redis's COUNT, default 10). */
  count: number;
  /** MATCH's pattern; undefined when there is none or it is `*`, which Redis does not even run. */
  pattern: GlobPattern | undefined;
  /** TYPE's name, lower-cased (Redis compares it case-insensitively); undefined when absent. */
  type: string | undefined;
}

/**
 * The options after the cursor, from argv[from] on, or the error Redis answers for the first bad one.
 * TYPE is SCAN's alone (`allowType`); the collection scans refuse it as a syntax error.
 */
export function parseScanOptions(argv: readonly Uint8Array[], from: number, allowType: boolean): ScanOptions | string {
  const options: ScanOptions = { count: 10, pattern: undefined, type: undefined };
  for (let i = from; i < argv.length; i += 2) {
    const hasValue = i + 1 < argv.length;
    if (hasValue && isKeyword(argv[i], 'COUNT')) {
      const count = parseInt64(argv[i + 1]);
      if (count === undefined) return ERR_NOT_INTEGER;
      if (count < 1) return ERR_SYNTAX;
      options.count = Number(count);
    } else if (hasValue && isKeyword(argv[i], 'MATCH')) {
      const pattern = argv[i + 1];
      options.pattern = pattern.length === 1 && pattern[0] === STAR ? undefined : new GlobPattern(pattern);
    } else if (hasValue && allowType && isKeyword(argv[i], 'TYPE')) {
      options.type = argText(argv[i + 1]).toLowerCase();
    } else return ERR_SYNTAX;
  }
  return options;
}
