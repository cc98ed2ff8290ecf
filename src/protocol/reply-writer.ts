/**
 * The reply encoder: replies are appended to one growable output buffer, and `take()` hands the batch to
 * the socket in a single write, so a pipeline of a thousand commands costs one syscall, not a thousand.
 *
 * The writer speaks the connection's protocol version (`protocol`, 2 or 3, set by HELLO). RESP3 types
 * fall back to RESP2 exactly as Redis 7.0 does: map → flat array of 2N, set and push → array, double →
 * bulk string, boolean → integer 1/0, big number and verbatim string → bulk string (verbatim without its
 * `txt:` prefix), null → `$-1` or `*-1`, whichever the command uses in RESP2 (hence `nullBulk` and
 * `nullArray`, both `_` in RESP3).
 *
 * Hot path: every write goes straight into the buffer with no intermediate string or Buffer. Integers
 * and lengths are written as ASCII digits from a two-digit table (no `String(n)`); the short replies most
 * commands end with (+OK, :0, :1, $-1, …) are precomputed bytes copied by a small loop, which for a few
 * bytes beats a native `set`; short ASCII strings are copied the same way, longer ones and non-ASCII
 * through Buffer's native UTF-8 writer.
 *
 * Invariant: buffer[0, length) holds whole replies only between calls; `take()` empties it.
 */

export type ProtocolVersion = 2 | 3;

const CR = 0x0d;
const LF = 0x0a;
const MINUS = 0x2d;

/** Output up to this size is copied out by `take()` so the big buffer is kept; larger output is handed over. */
const HAND_OVER_THRESHOLD = 64 * 1024;
const DEFAULT_INITIAL_CAPACITY = 16 * 1024;
/** Strings up to this many UTF-16 units are tried with the JS ASCII loop before the native encoder. */
const SHORT_STRING = 32;

/** "00" … "99": two digits per table read when writing a decimal number. */
const DIGIT_PAIRS = (() => {
  const table = new Uint8Array(200);
  for (let i = 0; i < 100; i++) {
    table[i * 2] = 0x30 + Math.floor(i / 10);
    table[i * 2 + 1] = 0x30 + (i % 10);
  }
  return table;
})();

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (ch) => ch.charCodeAt(0));

const OK = ascii('+OK\r\n');
const PONG = ascii('+PONG\r\n');
const QUEUED = ascii('+QUEUED\r\n');
const ZERO = ascii(':0\r\n');
const ONE = ascii(':1\r\n');
const NULL_BULK = ascii('$-1\r\n');
const NULL_ARRAY = ascii('*-1\r\n');
const NULL_RESP3 = ascii('_\r\n');
const EMPTY_BULK = ascii('$0\r\n\r\n');
const EMPTY_ARRAY = ascii('*0\r\n');
const TRUE_RESP3 = ascii('#t\r\n');
const FALSE_RESP3 = ascii('#f\r\n');

/** Decimal digits of a non-negative safe integer. */
function digitCount(n: number): number {
  if (n < 10) return 1;
  if (n < 100) return 2;
  if (n < 1000) return 3;
  if (n < 10000) return 4;
  if (n < 100000) return 5;
  if (n < 1000000) return 6;
  if (n < 10000000) return 7;
  if (n < 100000000) return 8;
  if (n < 1000000000) return 9;
  let count = 10;
  for (let limit = 1e10; n >= limit && count < 16; limit *= 10) count++;
  return count;
}

/** The most one reply may hold unless a writer is told otherwise; past it the command fails instead. */
export const DEFAULT_MAX_REPLY_BYTES = 1 << 30;

/**
 * A reply grew past its writer's limit: SRANDMEMBER with a count of -2^62 would otherwise build replies
 * until Node refuses the Buffer and the thread dies. Redis would try to send it all; sabre answers an error.
 */
export class ReplyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`ERR the reply would exceed sabre's reply size limit of ${limit} bytes`);
  }
}

export class ReplyWriter {
  /** RESP version of the connection: 2 until HELLO 3. */
  protocol: ProtocolVersion = 2;
  /** The largest reply this writer builds; a write past it throws ReplyTooLargeError. */
  maxBytes = DEFAULT_MAX_REPLY_BYTES;

  private buffer: Buffer;
  private length = 0;
  private readonly initialCapacity: number;

  constructor(initialCapacity = DEFAULT_INITIAL_CAPACITY) {
    this.initialCapacity = initialCapacity;
    // Outside Buffer's shared pool: this buffer lives as long as the connection and is rewritten in place.
    this.buffer = Buffer.allocUnsafeSlow(initialCapacity);
  }

  /** Bytes written since the last `take()`. */
  get byteLength(): number {
    return this.length;
  }

  /**
   * The batch written so far, for one socket write; the writer starts empty again. Small batches are
   * copied into a fresh Buffer (cheap, from Node's pool) so the writer keeps its grown buffer; large ones
   * are handed over without a copy and the writer starts a new buffer.
   */
  take(): Buffer {
    const length = this.length;
    this.length = 0;
    if (length <= HAND_OVER_THRESHOLD) {
      const out = Buffer.allocUnsafe(length);
      this.buffer.copy(out, 0, 0, length);
      return out;
    }
    const out = this.buffer.subarray(0, length);
    this.buffer = Buffer.allocUnsafeSlow(this.initialCapacity);
    return out;
  }

  /**
   * The bytes written since the last `take()` or `clear()`, as a view of the writer's own buffer, valid
   * until the next write: for a caller that copies them out at once (a shard, into its reply ring), which
   * saves take()'s copy.
   */
  written(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** Drops what was written. */
  clear(): void {
    this.length = 0;
  }

  // ---- RESP2 and RESP3 -------------------------------------------------------------------------------

  ok(): void {
    this.constant(OK);
  }

  pong(): void {
    this.constant(PONG);
  }

  queued(): void {
    this.constant(QUEUED);
  }

  /** `+text`: the caller guarantees no CR or LF (status replies are sabre's own words). */
  simple(text: string): void {
    this.ensure(3 + text.length * 3);
    this.buffer[this.length++] = 0x2b; // '+'
    this.length += this.buffer.write(text, this.length, 'utf8');
    this.crlf();
  }

  /**
   * `-message`, the message including its code (`ERR …`, `WRONGTYPE …`; see errors.ts). A string is
   * UTF-8 encoded, a Buffer written as is. CR and LF become spaces, as Redis does for every formatted
   * error, so a quoted client byte can never end the reply early.
   */
  error(message: string | Uint8Array): void {
    const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
    this.ensure(bytes.length + 3);
    const buffer = this.buffer;
    buffer[this.length++] = MINUS;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
      buffer[this.length++] = c === CR || c === LF ? 0x20 : c;
    }
    this.crlf();
  }

  /** `:n`; a bigint for values outside ±2^53 (INCR reaches 2^63 − 1). */
  integer(value: number | bigint): void {
    if (value === 0) return this.constant(ZERO);
    if (value === 1) return this.constant(ONE);
    this.header(0x3a, value); // ':'
  }

  /** `$len\r\nbytes\r\n`: a string is UTF-8 encoded. */
  bulk(value: Uint8Array | string): void {
    if (typeof value === 'string') return this.bulkString(value);
    const length = value.length;
    if (length === 0) return this.constant(EMPTY_BULK);
    this.header(0x24, length); // '$'
    this.ensure(length + 2);
    this.buffer.set(value, this.length);
    this.length += length;
    this.crlf();
  }

  /** A missing bulk string (GET of a missing key): `$-1` in RESP2, `_` in RESP3. */
  nullBulk(): void {
    this.constant(this.protocol === 3 ? NULL_RESP3 : NULL_BULK);
  }

  /** A missing array (BLPOP timing out, EXEC aborted by WATCH): `*-1` in RESP2, `_` in RESP3. */
  nullArray(): void {
    this.constant(this.protocol === 3 ? NULL_RESP3 : NULL_ARRAY);
  }

  /** `*n`, followed by the caller writing n replies. */
  arrayHeader(count: number): void {
    if (count === 0) return this.constant(EMPTY_ARRAY);
    this.header(0x2a, count); // '*'
  }

  /** An array of bulk strings (null entries as `nullBulk`), the shape of MGET, LRANGE, KEYS, … */
  bulkArray(items: readonly (Uint8Array | string | null)[]): void {
    this.arrayHeader(items.length);
    for (const item of items) {
      if (item === null) this.nullBulk();
      else this.bulk(item);
    }
  }

  /** Raw, already encoded RESP (a shard's reply, copied from shared memory). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  // ---- RESP3 types, with Redis's RESP2 fallbacks ----------------------------------------------------

  /** `%n` then n key/value pairs (2n replies); RESP2: `*2n`. */
  mapHeader(pairs: number): void {
    if (this.protocol === 3) this.header(0x25, pairs); // '%'
    else this.arrayHeader(pairs * 2);
  }

  /** `~n`; RESP2: `*n`. */
  setHeader(count: number): void {
    if (this.protocol === 3) this.header(0x7e, count); // '~'
    else this.arrayHeader(count);
  }

  /** `>n` (pub/sub messages, invalidations); RESP2: `*n`. */
  pushHeader(count: number): void {
    if (this.protocol === 3) this.header(0x3e, count); // '>'
    else this.arrayHeader(count);
  }

  /** `,d` in RESP3, a bulk string in RESP2; formatted like Redis 7.0's `%.17g` (see formatDouble). */
  double(value: number): void {
    const text = formatDouble(value);
    if (this.protocol === 2) return this.bulkString(text);
    this.ensure(text.length + 3);
    this.buffer[this.length++] = 0x2c; // ','
    this.asciiUnchecked(text);
    this.crlf();
  }

  /** `#t` / `#f` in RESP3, `:1` / `:0` in RESP2. */
  boolean(value: boolean): void {
    if (this.protocol === 3) this.constant(value ? TRUE_RESP3 : FALSE_RESP3);
    else this.constant(value ? ONE : ZERO);
  }

  /** `(digits` in RESP3, a bulk string in RESP2. */
  bigNumber(value: bigint | string): void {
    const text = typeof value === 'bigint' ? value.toString() : value;
    if (this.protocol === 2) return this.bulkString(text);
    this.ensure(text.length + 3);
    this.buffer[this.length++] = 0x28; // '('
    this.asciiUnchecked(text);
    this.crlf();
  }

  /** `=len\r\nfmt:text` in RESP3 (`format` is 3 characters: txt or mkd), the bare text as a bulk in RESP2. */
  verbatim(text: Uint8Array | string, format: 'txt' | 'mkd' = 'txt'): void {
    if (this.protocol === 2) return this.bulk(text);
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    this.header(0x3d, bytes.length + 4); // '='
    this.ensure(bytes.length + 6);
    this.asciiUnchecked(format);
    this.buffer[this.length++] = 0x3a; // ':'
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    this.crlf();
  }

  // ---- encoding primitives ---------------------------------------------------------------------------

  private bulkString(text: string): void {
    const n = text.length;
    if (n === 0) return this.constant(EMPTY_BULK);
    if (n <= SHORT_STRING) {
      // Assume ASCII: write the header for n bytes and copy; roll back on the first non-ASCII unit.
      const mark = this.length;
      this.header(0x24, n);
      this.ensure(n + 2);
      const buffer = this.buffer;
      let at = this.length;
      let i = 0;
      for (; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        buffer[at++] = c;
      }
      if (i === n) {
        this.length = at;
        this.crlf();
        return;
      }
      this.length = mark;
    }
    const byteLength = Buffer.byteLength(text, 'utf8');
    this.header(0x24, byteLength);
    this.ensure(byteLength + 2);
    this.length += this.buffer.write(text, this.length, byteLength, 'utf8');
    this.crlf();
  }

  /** `<prefix><decimal>\r\n` */
  private header(prefix: number, value: number | bigint): void {
    if (typeof value === 'bigint' || !Number.isSafeInteger(value)) {
      const text = typeof value === 'bigint' ? value.toString() : safeIntegerText(value);
      this.ensure(text.length + 3);
      this.buffer[this.length++] = prefix;
      this.asciiUnchecked(text);
      this.crlf();
      return;
    }
    this.ensure(20);
    const buffer = this.buffer;
    buffer[this.length++] = prefix;
    let n = value;
    if (n < 0) {
      buffer[this.length++] = MINUS;
      n = -n;
    }
    // Digits from the right, two at a time.
    let at = this.length + digitCount(n);
    this.length = at;
    while (n >= 100) {
      const rest = n % 100;
      // Exact: n - rest is a multiple of 100 below 2^53.
      n = (n - rest) / 100;
      const pair = rest * 2;
      buffer[--at] = DIGIT_PAIRS[pair + 1];
      buffer[--at] = DIGIT_PAIRS[pair];
    }
    if (n >= 10) {
      buffer[--at] = DIGIT_PAIRS[n * 2 + 1];
      buffer[--at] = DIGIT_PAIRS[n * 2];
    } else {
      buffer[--at] = 0x30 + n;
    }
    buffer[this.length++] = CR;
    buffer[this.length++] = LF;
  }

  private constant(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < bytes.length; i++) buffer[at++] = bytes[i];
    this.length = at;
  }

  /** Copies a string known to be ASCII; the caller has ensured room. */
  private asciiUnchecked(text: string): void {
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** Ends a reply. */
  private crlf(): void {
    this.ensure(2);
    this.buffer[this.length++] = CR;
    this.buffer[this.length++] = LF;
  }

  private ensure(bytes: number): void {
    if (this.length + bytes > this.buffer.length) this.grow(bytes);
  }

  private grow(bytes: number): void {
    if (this.length + bytes > this.maxBytes) throw new ReplyTooLargeError(this.maxBytes);
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/** An integer reply must be an integer; anything else is a bug in the command, not a value to round. */
function safeIntegerText(value: number): string {
  if (!Number.isInteger(value)) throw new TypeError(`integer reply of a non-integer: ${value}`);
  return BigInt(value).toString();
}

/**
 * A double as Redis 7.0 prints it (addReplyDouble: `%.17g`, and inf / -inf spelled out): 17 significant
 * digits, trailing zeros dropped, exponent form below 1e-4 and from 1e17 (`1.1000000000000001`,
 * `1.0000000000000001e-05`, `1e+20`). JavaScript's toExponential(16) gives the same correctly rounded 17
 * digits but for an exact decimal tie at the 18th digit, which printf rounds to even and JavaScript up
 * (1000000000000000.25 is `1000000000000000.2` in Redis): seventeenDigits handles that case.
 */
export function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  // Hot path: an integral value below 2^53 has at most 16 digits, which %.17g prints exactly, as its
  // plain decimal; sorted-set scores mostly are such integers, and the general path cost ZRANGE 40%.
  if (Number.isSafeInteger(value)) return String(value);
  const exponential = seventeenDigits(value);
  const e = exponential.indexOf('e');
  const exponent = Number(exponential.slice(e + 1));
  const negative = value < 0;
  const digits = exponential.slice(negative ? 1 : 0, e).replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 17) {
    const fraction = digits.slice(1).replace(/0+$/, '');
    const magnitude = Math.abs(exponent);
    return `${sign}${digits[0]}${fraction === '' ? '' : `.${fraction}`}e${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits.replace(/0+$/, '')}`;
  const whole = digits.slice(0, exponent + 1);
  const fraction = digits.slice(exponent + 1).replace(/0+$/, '');
  return `${sign}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

const doubleBits = new Float64Array(1);
const doubleWords = new Uint32Array(doubleBits.buffer);

/** |value| (finite, non-zero) as mantissa × 2^exponent, both exact. */
function binaryParts(value: number): [bigint, number] {
  doubleBits[0] = value;
  const high = doubleWords[1];
  const biased = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(doubleWords[0]);
  return biased === 0 ? [fraction, -1074] : [fraction | (1n << 52n), biased - 1075];
}

/** Whether |value| is exactly digits × 10^power. */
function equalsDecimal(value: number, digits: bigint, power: number): boolean {
  const [mantissa, exponent] = binaryParts(value);
  let left = mantissa;
  let right = digits;
  if (exponent >= 0) left <<= BigInt(exponent);
  else right <<= BigInt(-exponent);
  if (power >= 0) right *= 10n ** BigInt(power);
  else left *= 10n ** BigInt(-power);
  return left === right;
}

/** value.toExponential(16), with an exact tie at the 18th significant digit rounded to even as printf does. */
function seventeenDigits(value: number): string {
  const rounded = value.toExponential(16);
  const longer = value.toExponential(17);
  const e = longer.indexOf('e');
  if (longer[e - 1] !== '5') return rounded;
  const exponent = Number(longer.slice(e + 1));
  const digits = BigInt(longer.slice(value < 0 ? 1 : 0, e).replace('.', ''));
  if (!equalsDecimal(value, digits, exponent - 17)) return rounded;
  let kept = digits / 10n;
  if (kept % 2n === 1n) kept += 1n;
  let text = kept.toString();
  let power = exponent;
  if (text.length > 17) {
    text = text.slice(0, 17);
    power++;
  }
  return `${value < 0 ? '-' : ''}${text[0]}.${text.slice(1)}e${power < 0 ? '-' : '+'}${Math.abs(power)}`;
}
