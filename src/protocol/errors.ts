/**
 * Error replies, exact and shared: every error sabre sends is a constant or a formatter from this file, so
 * one wording is checked against Redis once (test/protocol/replies-vs-redis.test.ts asks a real
 * redis-server 7.0 for each of them) and never retyped by a command.
 *
 * Convention: a message includes its code (`ERR …`, `WRONGTYPE …`) and no leading '-' or trailing CRLF;
 * `ReplyWriter.error()` adds the framing. Constants are plain ASCII strings. Formatters that quote client
 * bytes return a Buffer, because Redis quotes those bytes raw (a 0xff byte in a command name comes back as
 * the byte 0xff, not as UTF-8), and they reproduce the C formatting Redis applies on the way: `%.128s`
 * stops at a NUL byte and at 128 bytes, and CR or LF become spaces so the reply stays one line.
 */

export const ERR_SYNTAX = 'ERR syntax error';
export const OOM = "OOM command not allowed when used memory > 'maxmemory'.";
export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const ERR_NOT_INTEGER = 'ERR value is not an integer or out of range';
export const ERR_NOT_FLOAT = 'ERR value is not a valid float';
export const ERR_NOT_POSITIVE = 'ERR value is out of range, must be positive';
export const ERR_INCR_OVERFLOW = 'ERR increment or decrement would overflow';
/** DECRBY's own wording, when negating the decrement itself overflows (DECRBY k -9223372036854775808). */
export const ERR_DECR_OVERFLOW = 'ERR decrement would overflow';
export const ERR_INCR_NAN = 'ERR increment would produce NaN or Infinity';
/** HINCRBYFLOAT's increment itself is infinite. */
export const ERR_VALUE_NAN = 'ERR value is NaN or Infinity';
/** A count in -LONG_MAX..LONG_MAX (getRangeLongFromObjectOrReply), as HRANDFIELD's. */
export const ERR_NOT_LONG = 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807';
/** HRANDFIELD WITHVALUES's count beyond ±LONG_MAX/2. */
export const ERR_OUT_OF_RANGE = 'ERR value is out of range';
export const ERR_HASH_NOT_INTEGER = 'ERR hash value is not an integer';
export const ERR_HASH_NOT_FLOAT = 'ERR hash value is not a float';
export const ERR_MIN_MAX_NOT_FLOAT = 'ERR min or max is not a float';
export const ERR_TIMEOUT_NOT_FLOAT = 'ERR timeout is not a float or out of range';
export const ERR_TIMEOUT_NEGATIVE = 'ERR timeout is negative';
export const ERR_BIT_OFFSET = 'ERR bit offset is not an integer or out of range';
export const ERR_BIT_VALUE = 'ERR bit is not an integer or out of range';
export const ERR_OFFSET_OUT_OF_RANGE = 'ERR offset is out of range';
export const ERR_NO_SUCH_KEY = 'ERR no such key';
export const ERR_INDEX_OUT_OF_RANGE = 'ERR index out of range';
export const ERR_DB_INDEX_OUT_OF_RANGE = 'ERR DB index is out of range';
export const ERR_INVALID_CURSOR = 'ERR invalid cursor';
/** An integer argument that must fit a C int (getIntFromObjectOrReply), as MOVE's and COPY's DB index. */
export const ERR_NOT_INT32 = 'ERR value is out of range, value must between -2147483648 and 2147483647';
export const ERR_INVALID_FIRST_DB_INDEX = 'ERR invalid first DB index';
export const ERR_INVALID_SECOND_DB_INDEX = 'ERR invalid second DB index';
export const ERR_SAME_OBJECT = 'ERR source and destination objects are the same';
export const ERR_LFU_NOT_SELECTED =
  'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
export const ERR_LFU_SELECTED =
  'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
export const ERR_MULTI_NESTED = 'ERR MULTI calls can not be nested';
export const ERR_EXEC_WITHOUT_MULTI = 'ERR EXEC without MULTI';
export const ERR_DISCARD_WITHOUT_MULTI = 'ERR DISCARD without MULTI';
export const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';
export const BUSYKEY = 'BUSYKEY Target key name already exists.';
export const NOAUTH = 'NOAUTH Authentication required.';
export const NOPROTO = 'NOPROTO unsupported protocol version';
export const ERR_PROTOCOL_VERSION_NOT_INTEGER = 'ERR Protocol version is not an integer or out of range';

/** `ERR wrong number of arguments for 'get' command`; `name` is the table's full name (`config|get`), lower case. */
export function wrongArity(name: string): string {
  return `ERR wrong number of arguments for '${name}' command`;
}

/** `ERR invalid expire time in 'set' command` (SET, GETEX, SETEX, … name themselves). */
export function invalidExpireTime(name: string): string {
  return `ERR invalid expire time in '${name}' command`;
}

/**
 * `ERR unknown command 'foo', with args beginning with: 'a' 'b' ` (note the trailing space), exactly as
 * Redis 7.0's processCommand builds it: the name as `%.128s`, then `'%.*s' ` per argument while fewer
 * than 128 bytes of arguments have been quoted, each cut to the room left (128 minus what is quoted).
 */
export function unknownCommand(argv: readonly Uint8Array[]): Buffer {
  const parts: number[] = [];
  pushAscii(parts, "ERR unknown command '");
  pushCString(parts, argv[0], 128);
  pushAscii(parts, "', with args beginning with: ");
  const argsStart = parts.length;
  for (let i = 1; i < argv.length && parts.length - argsStart < 128; i++) {
    parts.push(QUOTE);
    pushCString(parts, argv[i], 128 - (parts.length - 1 - argsStart));
    parts.push(QUOTE, SPACE);
  }
  return oneLine(parts);
}

/** `ERR unknown subcommand 'foo'. Try CONFIG HELP.` (`container` is the parent command, upper-cased by Redis). */
export function unknownSubcommand(subcommand: Uint8Array, container: string): Buffer {
  const parts: number[] = [];
  pushAscii(parts, "ERR unknown subcommand '");
  pushCString(parts, subcommand, 128);
  pushAscii(parts, `'. Try ${container.toUpperCase()} HELP.`);
  return oneLine(parts);
}

/**
 * Redis's addReplySubcommandSyntaxError: `ERR unknown subcommand or wrong number of arguments for 'foo'.
 * Try DEBUG HELP.` (the subcommand as typed, the command upper-cased).
 */
export function subcommandSyntaxError(subcommand: Uint8Array, container: string): Buffer {
  const parts: number[] = [];
  pushAscii(parts, "ERR unknown subcommand or wrong number of arguments for '");
  pushCString(parts, subcommand, 128);
  pushAscii(parts, `'. Try ${container.toUpperCase()} HELP.`);
  return oneLine(parts);
}

const QUOTE = 0x27;
const SPACE = 0x20;
const CR = 0x0d;
const LF = 0x0a;

function pushAscii(out: number[], text: string): void {
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i));
}

/** C's `%.<precision>s` of a client argument: up to `precision` bytes, stopping at the first NUL. */
function pushCString(out: number[], bytes: Uint8Array, precision: number): void {
  const end = Math.min(bytes.length, precision);
  for (let i = 0; i < end && bytes[i] !== 0; i++) out.push(bytes[i]);
}

/** Redis's `sdsmapchars(s, "\r\n", "  ", 2)`: quoted client bytes must not break the one-line reply. */
function oneLine(bytes: number[]): Buffer {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === CR || bytes[i] === LF) bytes[i] = SPACE;
  return Buffer.from(bytes);
}
