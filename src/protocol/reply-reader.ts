/**
 * A reader of server replies, RESP2 and RESP3, for tests and tools (the differential suites read both
 * sabre's and a real redis-server's bytes with it). Clarity over speed: it is never on a serving path.
 *
 * `feed()` bytes, then `next()` returns one whole reply at a time, or undefined until one is complete (an
 * incomplete reply is parsed again from its start once more bytes come; replies in tests are small).
 * Malformed input throws: a reply stream from a server is either right or a bug worth a stack trace.
 * Attributes (`|`) are not supported: Redis 7.0 sends none to a client that did not ask for them.
 */

export type RespValue =
  | { readonly type: 'simple'; readonly value: string }
  | { readonly type: 'error'; readonly value: string }
  | { readonly type: 'integer'; readonly value: bigint }
  /** `$-1` reads as value null. */
  | { readonly type: 'bulk'; readonly value: Buffer | null }
  /** `*-1` reads as value null. */
  | { readonly type: 'array'; readonly value: RespValue[] | null }
  /** RESP3 `_`. */
  | { readonly type: 'null' }
  | { readonly type: 'map'; readonly value: [RespValue, RespValue][] }
  | { readonly type: 'set'; readonly value: RespValue[] }
  | { readonly type: 'push'; readonly value: RespValue[] }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'bignumber'; readonly value: bigint }
  | { readonly type: 'verbatim'; readonly format: string; readonly value: Buffer }
  /** RESP3 `!len`: an error carrying binary-safe text. */
  | { readonly type: 'bulkerror'; readonly value: Buffer };

/** Thrown internally when the buffer ends inside a reply. */
const INCOMPLETE = Symbol('incomplete');

export class ReplyReader {
  private buffer: Buffer = Buffer.alloc(0);
  private position = 0;

  feed(chunk: Buffer): void {
    this.buffer = this.position === this.buffer.length ? chunk : Buffer.concat([this.buffer.subarray(this.position), chunk]);
    this.position = 0;
  }

  /** The next whole reply, or undefined if the bytes so far end inside one. */
  next(): RespValue | undefined {
    if (this.position === this.buffer.length) return undefined;
    const start = this.position;
    try {
      return this.read();
    } catch (error) {
      if (error !== INCOMPLETE) throw error;
      this.position = start;
      return undefined;
    }
  }

  /** Like `next()`, with the exact bytes the reply took on the wire (for byte-for-byte comparisons). */
  nextWithBytes(): { reply: RespValue; bytes: Buffer } | undefined {
    const start = this.position;
    const reply = this.next();
    return reply === undefined ? undefined : { reply, bytes: this.buffer.subarray(start, this.position) };
  }

  /** Every whole reply in the bytes fed so far. */
  all(): RespValue[] {
    const replies: RespValue[] = [];
    for (let reply = this.next(); reply !== undefined; reply = this.next()) replies.push(reply);
    return replies;
  }

  /** Bytes fed that are not part of a whole reply yet. */
  get pendingBytes(): number {
    return this.buffer.length - this.position;
  }

  private read(): RespValue {
    const prefix = String.fromCharCode(this.byte());
    const line = this.line();
    switch (prefix) {
      case '+':
        return { type: 'simple', value: line };
      case '-':
        return { type: 'error', value: line };
      case ':':
        return { type: 'integer', value: BigInt(line) };
      case '$': {
        const length = this.length(line);
        return { type: 'bulk', value: length < 0 ? null : this.bytes(length) };
      }
      case '*': {
        const count = this.length(line);
        return { type: 'array', value: count < 0 ? null : this.many(count) };
      }
      case '_':
        return { type: 'null' };
      case '%': {
        const count = this.length(line);
        const entries: [RespValue, RespValue][] = [];
        for (let i = 0; i < count; i++) entries.push([this.read(), this.read()]);
        return { type: 'map', value: entries };
      }
      case '~':
        return { type: 'set', value: this.many(this.length(line)) };
      case '>':
        return { type: 'push', value: this.many(this.length(line)) };
      case ',':
        return { type: 'double', value: parseDouble(line) };
      case '#':
        if (line !== 't' && line !== 'f') throw new Error(`RESP boolean must be t or f, got ${JSON.stringify(line)}`);
        return { type: 'boolean', value: line === 't' };
      case '(':
        return { type: 'bignumber', value: BigInt(line) };
      case '=': {
        const body = this.bytes(this.length(line));
        if (body.length < 4 || body[3] !== 0x3a) throw new Error('RESP verbatim string without its "fmt:" prefix');
        return { type: 'verbatim', format: body.subarray(0, 3).toString('latin1'), value: body.subarray(4) };
      }
      case '!':
        return { type: 'bulkerror', value: this.bytes(this.length(line)) };
      default:
        throw new Error(`unknown RESP type byte ${JSON.stringify(prefix)}`);
    }
  }

  private many(count: number): RespValue[] {
    const items: RespValue[] = [];
    for (let i = 0; i < count; i++) items.push(this.read());
    return items;
  }

  private byte(): number {
    if (this.position >= this.buffer.length) throw INCOMPLETE;
    return this.buffer[this.position++];
  }

  /** The rest of the current line, without its CRLF (latin1, so any byte survives the round trip). */
  private line(): string {
    const cr = this.buffer.indexOf('\r\n', this.position, 'latin1');
    if (cr < 0) throw INCOMPLETE;
    const text = this.buffer.toString('latin1', this.position, cr);
    this.position = cr + 2;
    return text;
  }

  private length(text: string): number {
    if (!/^-?\d+$/.test(text)) throw new Error(`RESP length is not a number: ${JSON.stringify(text)}`);
    return Number(text);
  }

  private bytes(length: number): Buffer {
    if (this.position + length + 2 > this.buffer.length) throw INCOMPLETE;
    const value = this.buffer.subarray(this.position, this.position + length);
    if (this.buffer[this.position + length] !== 0x0d || this.buffer[this.position + length + 1] !== 0x0a) {
      throw new Error('RESP bulk data not followed by CRLF');
    }
    this.position += length + 2;
    return value;
  }
}

function parseDouble(text: string): number {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan' || text === '-nan') return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`RESP double is not a number: ${JSON.stringify(text)}`);
  return value;
}
