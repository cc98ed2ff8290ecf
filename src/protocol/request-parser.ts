/**
 * The streaming parser of client requests: bytes in (`feed`), complete commands out (`next`, one argv at a
 * time), for both request forms Redis accepts: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and
 * inline (telnet-style `GET k\r\n`, split with Redis's quoting rules).
 *
 * Compatibility: it reproduces Redis 7.0's networking.c (processMultibulkBuffer, processInlineBuffer,
 * sdssplitargs, string2ll) byte for byte, quirks included, each checked against a real redis-server 7.0.15
 * over raw sockets (test/protocol/differential.test.ts):
 *  - the request form is chosen by the first byte alone: '*' is multibulk, anything else is inline;
 *  - header lines end at the first CR, and the byte after it is skipped whatever it is (`*1\rX` is fine);
 *  - the two bytes after bulk data are skipped unchecked (`$4\r\nPINGxy` reads PING);
 *  - a count ≤ 0 (`*0`, `*-1`) is an empty command, silently ignored, as is an empty inline line;
 *  - lines are searched with C's strchr, which stops at a NUL byte: a header or inline line holding a NUL
 *    before its terminator never completes, and the connection stalls until the 64 KiB rule fires;
 *  - numbers follow string2ll: no '+', no leading zeros, no "-0", at most 20 characters, 64-bit range;
 *  - after a protocol error nothing more is parsed: the server sends `-<errorReply>` and closes.
 *
 * One deliberate, documented difference: Redis applies its 64 KiB line limit after each 16 KiB read, so
 * whether a 70 KB inline line passes depends on how the bytes were read. This parser answers as Redis does
 * when bytes trickle in: a line is refused iff its first 65537 bytes hold no terminator, whatever the
 * chunking. Lines up to 64 KiB and past ~80 KiB get Redis's answer either way.
 *
 * Hot path (why it looks the way it does):
 *  - argv entries are zero-copy `subarray` views of the fed chunk whenever an argument lies within one
 *    chunk; only an element that spans chunks is copied, once, when it completes. The caller must not
 *    reuse or mutate a fed chunk while argv views of it are alive (Node's socket chunks are never reused).
 *  - `next()` first tries a specialised loop that parses a whole `*N $len data` command inside the current
 *    chunk with plain locals and a one-pass digit parse; anything unusual (a split, "$0", a limit near,
 *    an unauthenticated client) hands over, at an element boundary, to the general state machine, which
 *    carries partial elements across chunks. Both share one semantics; tests run both against every split.
 *  - nothing is allocated for a declared length: a bulk that spans chunks is held as views of the chunks
 *    (so `$536870912` costs nothing until the bytes arrive) and argv grows by push, not by its count.
 *
 * Invariants: `failure` once set never clears; `argv` holds exactly the arguments parsed of the command in
 * progress; a carried line lives in `lineBuffer[0, lineLength)` and never exceeds 65538 bytes (64 KiB of
 * line, its terminator and the byte after a CR); carried bulk bytes are `bulkParts`, summing to
 * `bulkPartsLength` < bulkLength + 2.
 */

/** Redis's PROTO_INLINE_MAX_SIZE: longest inline line, and longest `*` or `$` header line, in bytes. */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
/** Redis 7.0 accepts multibulk counts up to INT_MAX (6.x refused more than 1024 × 1024). */
export const PROTO_MAX_MULTIBULK_LENGTH = 2 ** 31 - 1;
/** Before AUTH succeeds (when a password is required), Redis 7.0.15 refuses counts above 10 … */
export const UNAUTHENTICATED_MAX_MULTIBULK_LENGTH = 10;
/** … and bulk lengths above 16 KiB. */
export const UNAUTHENTICATED_MAX_BULK_LENGTH = 16 * 1024;

export interface RequestParserLimits {
  /** `proto-max-bulk-len`: longest bulk argument (Redis's default 512mb, minimum 1mb). */
  protoMaxBulkLen: number;
  /**
   * `client-query-buffer-limit` (default 1gb, minimum 1mb). Redis closes the connection, with no reply,
   * when its query buffer outgrows this; for a bulk argument that buffer holds the argument's own bytes
   * (data and CRLF) as they arrive, so a bulk longer than the limit fails once more than the limit of it
   * has been fed. Input piling up because the server stops pulling commands (a blocked client) is the
   * server's to police, with `bufferedBytes`.
   */
  clientQueryBufferLimit: number;
}

export const DEFAULT_REQUEST_PARSER_LIMITS: Readonly<RequestParserLimits> = Object.freeze({
  protoMaxBulkLen: 512 * 1024 * 1024,
  clientQueryBufferLimit: 1024 * 1024 * 1024,
});

export type ProtocolErrorKind =
  | 'invalid-multibulk-length'
  | 'unauthenticated-multibulk-length'
  | 'too-big-mbulk-count-string'
  | 'expected-dollar'
  | 'invalid-bulk-length'
  | 'unauthenticated-bulk-length'
  | 'too-big-bulk-count-string'
  | 'too-big-inline-request'
  | 'unbalanced-quotes'
  | 'query-buffer-limit';

export interface ProtocolError {
  readonly kind: ProtocolErrorKind;
  /**
   * The error reply's message, code included (`ERR Protocol error: invalid bulk length`), as the exact
   * bytes Redis sends (one error quotes a raw client byte); the server writes it with `ReplyWriter.error`,
   * flushes, and closes. Null when Redis closes without replying (the query buffer limit).
   */
  readonly errorReply: Buffer | null;
  /** For logs and tests: the reply as text (latin1, one char per byte), or what Redis logs when silent. */
  readonly message: string;
}

function protocolError(kind: ProtocolErrorKind, text: string): ProtocolError {
  const errorReply = Buffer.from(`ERR Protocol error: ${text}`, 'latin1');
  return Object.freeze({ kind, errorReply, message: errorReply.toString('latin1') });
}

const INVALID_MULTIBULK_LENGTH = protocolError('invalid-multibulk-length', 'invalid multibulk length');
const UNAUTHENTICATED_MULTIBULK_LENGTH = protocolError('unauthenticated-multibulk-length', 'unauthenticated multibulk length');
const TOO_BIG_MBULK_COUNT_STRING = protocolError('too-big-mbulk-count-string', 'too big mbulk count string');
const INVALID_BULK_LENGTH = protocolError('invalid-bulk-length', 'invalid bulk length');
const UNAUTHENTICATED_BULK_LENGTH = protocolError('unauthenticated-bulk-length', 'unauthenticated bulk length');
const TOO_BIG_BULK_COUNT_STRING = protocolError('too-big-bulk-count-string', 'too big bulk count string');
const TOO_BIG_INLINE_REQUEST = protocolError('too-big-inline-request', 'too big inline request');
const UNBALANCED_QUOTES = protocolError('unbalanced-quotes', 'unbalanced quotes in request');
const QUERY_BUFFER_LIMIT: ProtocolError = Object.freeze({
  kind: 'query-buffer-limit',
  errorReply: null,
  message: 'Closing client that reached max query buffer length',
});

/** `Protocol error: expected '$', got 'x'`: Redis quotes the byte raw, except CR and LF, which become spaces. */
function expectedDollar(byte: number): ProtocolError {
  const shown = byte === CR || byte === LF ? ' ' : String.fromCharCode(byte);
  return protocolError('expected-dollar', `expected '$', got '${shown}'`);
}

const ASTERISK = 0x2a;
const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const MINUS = 0x2d;

/** Digits the one-pass fast parse accumulates: 15 always fit a double exactly. */
const FAST_MAX_DIGITS = 15;

const enum State {
  /** Between commands: the next byte picks multibulk or inline. */
  CommandStart,
  /** In the `*<count>` line. */
  MultibulkCount,
  /** Expecting a `$<length>` line (argsLeft > 0). */
  BulkLength,
  /** Expecting bulkLength bytes of data plus the two bytes after them. */
  BulkData,
  /** In an inline line. */
  Inline,
}

/** What a line search found (see `takeLine`). */
const enum LineSearch {
  Complete,
  NeedMore,
  Failed,
}

const EMPTY = Buffer.alloc(0);

/**
 * Argument views are made the way Node makes Buffers internally (lib/internal/buffer.js, FastBuffer): a
 * Uint8Array subclass whose prototype chain runs through Buffer.prototype, so every view is a genuine
 * Buffer (Buffer.isBuffer, instanceof, every method) and prints as one. Constructing it costs what a
 * plain Uint8Array view costs, about 16 ns in Node 20, where `Buffer#subarray` costs about 40 ns
 * resolving its species constructor; at three arguments per SET that is most of a command's parse time.
 */
const ArgumentViewClass = class Buffer extends Uint8Array {};
Object.setPrototypeOf(ArgumentViewClass.prototype, Buffer.prototype);
const ArgumentView = ArgumentViewClass as unknown as new (memory: ArrayBufferLike, byteOffset: number, length: number) => Buffer;

/** source[start, end) as a Buffer sharing source's memory. */
function view(source: Buffer, start: number, end: number): Buffer {
  return new ArgumentView(source.buffer, source.byteOffset + start, end - start);
}

export class RequestParser {
  /**
   * False while the client must still AUTH (requirepass or ACL): Redis then refuses longer counts and
   * bulks. The server flips it between commands; parsing is lazy (one command per `next()`), so a flip
   * applies to exactly the commands after the one that caused it, as in Redis.
   */
  authenticated = true;

  /** Read at every use, so that a server can change them for every connection at once (CONFIG SET). */
  private readonly limits: RequestParserLimits;

  // Input: the chunk being parsed, and chunks fed before the caller drained the earlier ones.
  private chunk: Buffer = EMPTY;
  private position = 0;
  private readonly queue: Buffer[] = [];
  private queueHead = 0;
  private queuedBytes = 0;

  // The command in progress.
  private state = State.CommandStart;
  private argv: Buffer[] = [];
  private argsLeft = 0;
  private bulkLength = 0;

  // A header or inline line spanning chunks. lineTotal counts every byte since the line began, including
  // bytes past a NUL that are counted but not kept (the line can no longer complete).
  private lineBuffer: Buffer = EMPTY;
  private lineLength = 0;
  private lineTotal = 0;
  private lineCarried = false;
  private lineStalled = false;
  /** For a CR line: the CR was carried and only the byte after it is missing. */
  private lineAwaitsByteAfterCr = false;
  // Where takeLine left the completed line: source[lineStart, lineEnd).
  private lineSource: Buffer = EMPTY;
  private lineStart = 0;
  private lineEnd = 0;

  // A bulk spanning chunks, as views of those chunks.
  private bulkParts: Buffer[] = [];
  private bulkPartsLength = 0;

  private failure: ProtocolError | undefined;

  /** `limits` is kept by reference when complete (a server's live limits), else completed with the defaults. */
  constructor(limits: Partial<RequestParserLimits> = {}) {
    this.limits =
      limits.protoMaxBulkLen !== undefined && limits.clientQueryBufferLimit !== undefined
        ? (limits as RequestParserLimits)
        : { ...DEFAULT_REQUEST_PARSER_LIMITS, ...limits };
  }

  /** Set once the input broke the protocol; terminal: `next()` returns nothing more after it. */
  get error(): ProtocolError | undefined {
    return this.failure;
  }

  /** Bytes fed and not yet returned as commands (Redis's `qbuf`), for the query buffer limit and CLIENT LIST. */
  get bufferedBytes(): number {
    return (
      this.chunk.length - this.position +
      this.queuedBytes +
      (this.lineCarried ? this.lineTotal : 0) +
      this.bulkPartsLength
    );
  }

  /** True between commands with nothing buffered and no error: every byte fed was returned or ignored. */
  get idle(): boolean {
    return this.failure === undefined && this.state === State.CommandStart && this.bufferedBytes === 0;
  }

  /** Hands the parser more input. Chunks are kept by reference (see the module comment). */
  feed(chunk: Buffer): void {
    if (this.failure !== undefined || chunk.length === 0) return;
    if (this.position === this.chunk.length && this.queueHead === this.queue.length) {
      this.chunk = chunk;
      this.position = 0;
    } else {
      this.queue.push(chunk);
      this.queuedBytes += chunk.length;
    }
  }

  /**
   * The next complete command, or undefined when the input so far holds none (feed more) or the protocol
   * was broken (see `error`). Empty commands are skipped, never returned.
   */
  next(): Buffer[] | undefined {
    if (this.state === State.CommandStart && this.authenticated && this.failure === undefined) {
      const argv = this.nextInChunk();
      if (argv !== undefined) return argv;
    }
    return this.nextGeneral();
  }

  /**
   * The fast path: one whole multibulk command inside the current chunk, parsed with locals. It accepts
   * only what the general path would accept identically (header digits `[1-9][0-9]{0,14}` or a lone 0
   * for a length, within every limit, data and its two trailing bytes present), and otherwise stops at
   * the last element boundary it reached, leaving the state there for the general path.
   */
  private nextInChunk(): Buffer[] | undefined {
    const chunk = this.chunk;
    const end = chunk.length;
    let p = this.position;
    // The shortest command, `*1\r\n$0\r\n\r\n`, is 10 bytes; the bounds checks below keep every read in range.
    if (p + 10 > end || chunk[p] !== ASTERISK) return undefined;

    // `*<count>\r?`: digits parsed as they are scanned, so the line is read once.
    let c = chunk[++p];
    if (c < DIGIT_1 || c > DIGIT_9) return undefined;
    let count = c - DIGIT_0;
    const countDigitsEnd = p + FAST_MAX_DIGITS;
    while (++p < end && (c = chunk[p]) >= DIGIT_0 && c <= DIGIT_9 && p < countDigitsEnd) count = count * 10 + c - DIGIT_0;
    if (p + 1 >= end || chunk[p] !== CR || count > PROTO_MAX_MULTIBULK_LENGTH) return undefined;
    p += 2;

    const protoMaxBulkLen = this.limits.protoMaxBulkLen;
    // A bulk this long must go through the general path, which applies the query buffer rule.
    const maxFastBulk = Math.min(protoMaxBulkLen, this.limits.clientQueryBufferLimit - 2);
    const argv: Buffer[] = [];
    let argsLeft = count;
    while (argsLeft > 0) {
      const headerStart = p;
      // `$0\r\n` and the two bytes after the data: no bulk is shorter than 6 bytes.
      if (p + 6 > end || chunk[p] !== DOLLAR) break;
      c = chunk[++p];
      let length: number;
      if (c === DIGIT_0) {
        length = 0;
        ++p;
      } else if (c >= DIGIT_1 && c <= DIGIT_9) {
        length = c - DIGIT_0;
        const digitsEnd = p + FAST_MAX_DIGITS;
        while (++p < end && (c = chunk[p]) >= DIGIT_0 && c <= DIGIT_9 && p < digitsEnd) length = length * 10 + c - DIGIT_0;
      } else {
        p = headerStart;
        break;
      }
      const dataStart = p + 2;
      if (dataStart > end || chunk[p] !== CR || length > maxFastBulk || dataStart + length + 2 > end) {
        p = headerStart;
        break;
      }
      argv.push(view(chunk, dataStart, dataStart + length));
      p = dataStart + length + 2;
      argsLeft--;
    }

    this.position = p;
    if (argsLeft === 0) return argv;
    this.argv = argv;
    this.argsLeft = argsLeft;
    this.state = State.BulkLength;
    return undefined;
  }

  /** The general state machine: any state, any split, every limit and error. */
  private nextGeneral(): Buffer[] | undefined {
    for (;;) {
      if (this.failure !== undefined) return undefined;
      if (this.position === this.chunk.length && !this.shiftChunk()) return undefined;
      switch (this.state) {
        case State.CommandStart:
          this.state = this.chunk[this.position] === ASTERISK ? State.MultibulkCount : State.Inline;
          break;

        case State.MultibulkCount: {
          const found = this.takeLine(CR, TOO_BIG_MBULK_COUNT_STRING);
          if (found !== LineSearch.Complete) break;
          // string2ll of what follows '*' up to the CR.
          const count = parseRedisInteger(this.lineSource, this.lineStart + 1, this.lineEnd);
          if (Number.isNaN(count) || count > PROTO_MAX_MULTIBULK_LENGTH) {
            this.failure = INVALID_MULTIBULK_LENGTH;
          } else if (count > UNAUTHENTICATED_MAX_MULTIBULK_LENGTH && !this.authenticated) {
            this.failure = UNAUTHENTICATED_MULTIBULK_LENGTH;
          } else if (count <= 0) {
            this.state = State.CommandStart;
          } else {
            this.argsLeft = count;
            this.state = State.BulkLength;
          }
          break;
        }

        case State.BulkLength: {
          const found = this.takeLine(CR, TOO_BIG_BULK_COUNT_STRING);
          if (found !== LineSearch.Complete) break;
          // Redis looks at the '$' only once the whole line is there.
          const first = this.lineSource[this.lineStart];
          if (first !== DOLLAR) {
            this.failure = expectedDollar(first);
            break;
          }
          const length = parseRedisInteger(this.lineSource, this.lineStart + 1, this.lineEnd);
          if (Number.isNaN(length) || length < 0 || length > this.limits.protoMaxBulkLen) {
            this.failure = INVALID_BULK_LENGTH;
          } else if (length > UNAUTHENTICATED_MAX_BULK_LENGTH && !this.authenticated) {
            this.failure = UNAUTHENTICATED_BULK_LENGTH;
          } else {
            this.bulkLength = length;
            this.state = State.BulkData;
          }
          break;
        }

        case State.BulkData: {
          if (!this.takeBulk()) break;
          if (--this.argsLeft === 0) {
            const argv = this.argv;
            this.argv = [];
            this.state = State.CommandStart;
            return argv;
          }
          this.state = State.BulkLength;
          break;
        }

        case State.Inline: {
          const found = this.takeLine(LF, TOO_BIG_INLINE_REQUEST);
          if (found !== LineSearch.Complete) break;
          this.state = State.CommandStart;
          let source = this.lineSource;
          let start = this.lineStart;
          let lineEnd = this.lineEnd;
          // Redis drops one CR before the LF, if the line has anything before it.
          if (lineEnd > start && source[lineEnd - 1] === CR) lineEnd--;
          if (source === this.lineBuffer) {
            // The carry buffer is reused, so a line that spanned chunks is copied before argv can view it.
            source = Buffer.from(source.subarray(start, lineEnd));
            lineEnd -= start;
            start = 0;
          }
          const argv = splitInlineArguments(source, start, lineEnd);
          if (argv === undefined) {
            this.failure = UNBALANCED_QUOTES;
            break;
          }
          if (argv.length > 0) return argv;
          break;
        }
      }
    }
  }

  /** Moves to the next queued chunk, if any. */
  private shiftChunk(): boolean {
    if (this.queueHead === this.queue.length) return false;
    const chunk = this.queue[this.queueHead];
    this.queue[this.queueHead++] = EMPTY;
    this.queuedBytes -= chunk.length;
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
    this.chunk = chunk;
    this.position = 0;
    return true;
  }

  /**
   * Finds the line starting at the current position (or carried from earlier chunks) and ending at the
   * first `terminator`, as strchr would: a NUL before it means it is never found. A CR line also needs
   * the byte after the CR. Complete: the line is lineSource[lineStart, lineEnd) without its terminator and
   * the position is past it. NeedMore: the chunk's bytes are carried. Failed: the line broke the 64 KiB
   * rule (no terminator in its first 65537 bytes) and `failure` is set to `tooBig`.
   */
  private takeLine(terminator: number, tooBig: ProtocolError): LineSearch {
    const chunk = this.chunk;
    const end = chunk.length;
    const start = this.position;

    if (!this.lineCarried) {
      const scanEnd = Math.min(end, start + PROTO_INLINE_MAX_SIZE + 1);
      let i = start;
      while (i < scanEnd && chunk[i] !== terminator && chunk[i] !== 0) i++;
      if (i < scanEnd && chunk[i] === terminator && (terminator === LF || i + 1 < end)) {
        this.lineSource = chunk;
        this.lineStart = start;
        this.lineEnd = i;
        this.position = i + (terminator === LF ? 1 : 2);
        return LineSearch.Complete;
      }
      this.lineCarried = true;
      this.lineLength = 0;
      this.lineTotal = 0;
      this.lineStalled = i < scanEnd && chunk[i] === 0;
      this.lineAwaitsByteAfterCr = i < scanEnd && chunk[i] === terminator;
      return this.carryLine(chunk, start, end, tooBig);
    }

    if (this.lineAwaitsByteAfterCr) {
      this.appendToLine(chunk, start, start + 1);
      this.position = start + 1;
      return this.completeCarriedLine(this.lineLength - 2);
    }

    if (!this.lineStalled) {
      const scanEnd = Math.min(end, start + PROTO_INLINE_MAX_SIZE + 1 - this.lineTotal);
      let i = start;
      while (i < scanEnd && chunk[i] !== terminator && chunk[i] !== 0) i++;
      if (i < scanEnd && chunk[i] === terminator) {
        if (terminator === LF) {
          this.appendToLine(chunk, start, i + 1);
          this.position = i + 1;
          return this.completeCarriedLine(this.lineLength - 1);
        }
        if (i + 1 < end) {
          this.appendToLine(chunk, start, i + 2);
          this.position = i + 2;
          return this.completeCarriedLine(this.lineLength - 2);
        }
        this.lineAwaitsByteAfterCr = true;
      } else if (i < scanEnd) {
        this.lineStalled = true;
      }
    }
    return this.carryLine(chunk, start, end, tooBig);
  }

  /** Takes the rest of the chunk into the carried line (or just counts it, once stalled). */
  private carryLine(chunk: Buffer, start: number, end: number, tooBig: ProtocolError): LineSearch {
    this.lineTotal += end - start;
    this.position = end;
    if (this.lineTotal > PROTO_INLINE_MAX_SIZE && !this.lineAwaitsByteAfterCr) {
      this.failure = tooBig;
      return LineSearch.Failed;
    }
    if (!this.lineStalled) this.appendToLine(chunk, start, end);
    return LineSearch.NeedMore;
  }

  private appendToLine(chunk: Buffer, start: number, end: number): void {
    const needed = this.lineLength + (end - start);
    if (needed > this.lineBuffer.length) {
      // Lines stay under 64 KiB + 2, so doubling from 256 bytes settles within a few steps.
      const grown = Buffer.allocUnsafe(Math.max(256, needed, this.lineBuffer.length * 2));
      this.lineBuffer.copy(grown, 0, 0, this.lineLength);
      this.lineBuffer = grown;
    }
    chunk.copy(this.lineBuffer, this.lineLength, start, end);
    this.lineLength = needed;
  }

  private completeCarriedLine(lineEnd: number): LineSearch {
    this.lineSource = this.lineBuffer;
    this.lineStart = 0;
    this.lineEnd = lineEnd;
    this.lineCarried = false;
    this.lineAwaitsByteAfterCr = false;
    this.lineTotal = 0;
    return LineSearch.Complete;
  }

  /**
   * Takes bulkLength bytes plus the two after them. Returns true once the argument is on argv: a view of
   * the chunk when it lay in one, otherwise the pieces joined in one copy.
   */
  private takeBulk(): boolean {
    const chunk = this.chunk;
    const end = chunk.length;
    const start = this.position;
    const needed = this.bulkLength + 2;
    const overQueryLimit = needed > this.limits.clientQueryBufferLimit;

    if (this.bulkPartsLength === 0) {
      if (start + needed <= end && !overQueryLimit) {
        this.argv.push(view(chunk, start, start + this.bulkLength));
        this.position = start + needed;
        return true;
      }
    }
    const take = Math.min(end - start, needed - this.bulkPartsLength);
    this.bulkParts.push(chunk.subarray(start, start + take));
    this.bulkPartsLength += take;
    this.position = start + take;
    // Redis's query buffer holds a long bulk's own bytes, CRLF included, and it closes the connection
    // when that passes the limit, before looking at what it holds.
    if (overQueryLimit && this.bulkPartsLength > this.limits.clientQueryBufferLimit) {
      this.failure = QUERY_BUFFER_LIMIT;
      return false;
    }
    if (this.bulkPartsLength < needed) return false;

    const parts = this.bulkParts;
    const argument =
      parts[0].length >= this.bulkLength
        ? view(parts[0], 0, this.bulkLength)
        : view(Buffer.concat(parts, this.bulkPartsLength), 0, this.bulkLength);
    this.argv.push(argument);
    this.bulkParts = [];
    this.bulkPartsLength = 0;
    return true;
  }
}

/**
 * Redis's string2ll over bytes[start, end): an optional '-', then "0" alone or a digit 1-9 followed by
 * digits, at most 20 characters, within the signed 64-bit range. Returns NaN where string2ll fails.
 * Values past 2^53 come back as the nearest double (callers compare them with limits far below that);
 * the 64-bit bounds themselves are checked digit by digit, so validity is exact.
 */
export function parseRedisInteger(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length === 0 || length >= 21) return NaN;
  if (length === 1 && bytes[start] === DIGIT_0) return 0;
  let p = start;
  const negative = bytes[p] === MINUS;
  if (negative && ++p === end) return NaN;
  if (bytes[p] < DIGIT_1 || bytes[p] > DIGIT_9) return NaN;
  const digitsStart = p;
  let value = 0;
  for (; p < end; p++) {
    const c = bytes[p];
    if (c < DIGIT_0 || c > DIGIT_9) return NaN;
    value = value * 10 + (c - DIGIT_0);
  }
  const digits = end - digitsStart;
  if (digits > 19) return NaN;
  if (digits === 19 && !fitsInt64(bytes, digitsStart, negative)) return NaN;
  // Accumulating past 15 digits rounds at every step; the decimal text rounds once, correctly.
  if (digits > FAST_MAX_DIGITS) value = Number(Buffer.from(bytes.buffer, bytes.byteOffset + digitsStart, digits).toString('latin1'));
  return negative ? -value : value;
}

const INT64_MAX_DIGITS = '9223372036854775807';

/** A 19-digit magnitude against LLONG_MAX (or |LLONG_MIN| when negative), compared as digit strings. */
function fitsInt64(bytes: Uint8Array, start: number, negative: boolean): boolean {
  for (let i = 0; i < 19; i++) {
    const limit = INT64_MAX_DIGITS.charCodeAt(i) + (negative && i === 18 ? 1 : 0);
    if (bytes[start + i] !== limit) return bytes[start + i] < limit;
  }
  return true;
}

// sdssplitargs's character classes, from glibc's C-locale isspace.
const SPACE = 0x20;
const TAB = 0x09;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const BACKSLASH = 0x5c;
const LOWER_X = 0x78;

/** isspace in the C locale: space, \t, \n, \v, \f, \r. */
function isCSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

function hexValue(c: number): number {
  if (c >= DIGIT_0 && c <= DIGIT_9) return c - DIGIT_0;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Redis's sdssplitargs over line[start, end) (which holds no NUL and no LF, by construction). Returns
 * undefined for unbalanced quotes, including a closing quote followed by anything but a blank. Tokens
 * made only of plain bytes are views of the line; a token with quotes is built.
 *  - blanks between tokens are isspace (space, \t, \n, \v, \f, \r), but an unquoted token ends only at
 *    space, \t, \n or \r: `a\vb` is one token;
 *  - "double quotes" take \xHH (two hex digits) and \n \r \t \b \a, and a backslash before anything
 *    else yields that character; 'single quotes' take only \';
 *  - a quote may open mid-token (`foo"bar baz"` is `foobar baz`) and its closing quote ends the token;
 *    `""` is an empty argument.
 */
export function splitInlineArguments(line: Buffer, start: number, end: number): Buffer[] | undefined {
  const argv: Buffer[] = [];
  let p = start;
  for (;;) {
    while (p < end && isCSpace(line[p])) p++;
    if (p >= end) return argv;

    const tokenStart = p;
    let c = line[p];
    while (c !== SPACE && c !== TAB && c !== LF && c !== CR && c !== DOUBLE_QUOTE && c !== SINGLE_QUOTE) {
      if (++p === end) break;
      c = line[p];
    }
    if (p === end || (c !== DOUBLE_QUOTE && c !== SINGLE_QUOTE)) {
      // The byte that ended the token is a blank, which the next skip steps over.
      argv.push(view(line, tokenStart, p));
      continue;
    }

    const bytes: number[] = [];
    for (let i = tokenStart; i < p; i++) bytes.push(line[i]);
    p = c === DOUBLE_QUOTE ? readDoubleQuoted(line, p + 1, end, bytes) : readSingleQuoted(line, p + 1, end, bytes);
    // After the closing quote: the end of the line or a blank, else Redis calls the quotes unbalanced.
    if (p < 0 || (p < end && !isCSpace(line[p]))) return undefined;
    argv.push(Buffer.from(bytes));
  }
}

/** From just after an opening ", appends the unescaped content; returns the index after the closing quote, or -1. */
function readDoubleQuoted(line: Buffer, p: number, end: number, bytes: number[]): number {
  while (p < end) {
    const c = line[p];
    if (c === BACKSLASH && p + 3 < end && line[p + 1] === LOWER_X && hexValue(line[p + 2]) >= 0 && hexValue(line[p + 3]) >= 0) {
      bytes.push(hexValue(line[p + 2]) * 16 + hexValue(line[p + 3]));
      p += 4;
    } else if (c === BACKSLASH && p + 1 < end) {
      bytes.push(unescape(line[p + 1]));
      p += 2;
    } else if (c === DOUBLE_QUOTE) {
      return p + 1;
    } else {
      bytes.push(c);
      p++;
    }
  }
  return -1;
}

/** From just after an opening ', appends the content (only \' is an escape); returns the index after the closing quote, or -1. */
function readSingleQuoted(line: Buffer, p: number, end: number, bytes: number[]): number {
  while (p < end) {
    const c = line[p];
    if (c === BACKSLASH && p + 1 < end && line[p + 1] === SINGLE_QUOTE) {
      bytes.push(SINGLE_QUOTE);
      p += 2;
    } else if (c === SINGLE_QUOTE) {
      return p + 1;
    } else {
      bytes.push(c);
      p++;
    }
  }
  return -1;
}

function unescape(c: number): number {
  switch (c) {
    case 0x6e: return LF; // n
    case 0x72: return CR; // r
    case 0x74: return TAB; // t
    case 0x62: return 0x08; // b
    case 0x61: return 0x07; // a
    default: return c;
  }
}
