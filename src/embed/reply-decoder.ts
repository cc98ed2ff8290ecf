/**
 * Turns the RESP2 bytes the front writes to an embedded client into JS values: bulk strings become
 * strings (utf8) or Buffers (copies: the front's output chunk is not ours to keep), integers numbers,
 * nil null, arrays arrays, simple strings strings, and error replies `ReplyError` values (the caller
 * decides whether to throw them).
 *
 * The front writes whole frames only (client.ts ClientSocket), so a write is decoded to its end with no
 * state kept between writes. Embedded clients stay on RESP2 (HELLO is refused), so RESP3 types never come.
 *
 * Hot path for every embedded reply: integers and lengths are read digit by digit, with no line string made.
 */
import { ReplyError } from './reply-error.js';

/** A decoded reply. Integers beyond 2^53 lose precision, as any JS number does. */
export type Reply = string | Buffer | number | null | ReplyError | Reply[];

const CR = 0x0d;

export class ReplyDecoder {
  private bytes: Buffer = Buffer.alloc(0);
  private at = 0;

  /** Starts on a new write's bytes. */
  start(bytes: Uint8Array): void {
    this.bytes = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    this.at = 0;
  }

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  /** The next whole reply; bulk strings as utf8 text when `text`, else as Buffers. */
  next(text: boolean): Reply {
    const bytes = this.bytes;
    const type = bytes[this.at++];
    switch (type) {
      case 0x24 /* $ */: {
        const length = this.integer();
        if (length < 0) return null;
        const start = this.at;
        this.at = start + length + 2;
        return text ? bytes.toString('utf8', start, start + length) : Buffer.from(bytes.subarray(start, start + length));
      }
      case 0x3a /* : */:
        return this.integer();
      case 0x2b /* + */:
        return this.line();
      case 0x2a /* * */: {
        const count = this.integer();
        if (count < 0) return null;
        const items = new Array<Reply>(count);
        for (let i = 0; i < count; i++) items[i] = this.next(text);
        return items;
      }
      case 0x2d /* - */:
        return new ReplyError(this.line());
      default:
        throw new Error(`embedded client: unexpected RESP type byte ${type} (only RESP2 is spoken in-process)`);
    }
  }

  /** The integer up to CRLF, stepping past it. */
  private integer(): number {
    const bytes = this.bytes;
    let at = this.at;
    let negative = false;
    if (bytes[at] === 0x2d) {
      negative = true;
      at++;
    }
    let value = 0;
    for (let byte = bytes[at]; byte !== CR; byte = bytes[++at]) value = value * 10 + (byte - 0x30);
    this.at = at + 2;
    return negative ? -value : value;
  }

  private line(): string {
    const end = this.bytes.indexOf(CR, this.at);
    const text = this.bytes.toString('utf8', this.at, end);
    this.at = end + 2;
    return text;
  }
}
