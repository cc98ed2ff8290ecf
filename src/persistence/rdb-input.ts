/**
 * Reading RDB's primitives from a byte buffer: lengths, strings in their integer and LZF encodings,
 * doubles. Every read checks its bounds and fails with an RdbFormatError naming the offset, so a
 * truncated or corrupt file is refused where it goes wrong, never read past.
 */
import { lzfDecompress } from './lzf.js';
import { RdbStringEncoding } from './rdb-format.js';
import { integerText } from './rdb-integer.js';

export class RdbFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}

/** A length as read: either a plain length or one of the special string encodings. */
interface LengthRead {
  value: number;
  encoded: boolean;
}

export class RdbInput {
  readonly bytes: Buffer;
  at = 0;

  constructor(bytes: Uint8Array, at = 0) {
    this.bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    this.at = at;
  }

  fail(message: string, offset = this.at): never {
    throw new RdbFormatError(message, offset);
  }

  private need(count: number): void {
    if (this.at + count > this.bytes.length) this.fail('unexpected end of data');
  }

  get remaining(): number {
    return this.bytes.length - this.at;
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.at++];
  }

  take(count: number): Buffer {
    this.need(count);
    const slice = this.bytes.subarray(this.at, this.at + count);
    this.at += count;
    return slice;
  }

  uint32LE(): number {
    this.need(4);
    const value = this.bytes.readUInt32LE(this.at);
    this.at += 4;
    return value;
  }

  int64LE(): bigint {
    this.need(8);
    const value = this.bytes.readBigInt64LE(this.at);
    this.at += 8;
    return value;
  }

  doubleLE(): number {
    this.need(8);
    const value = this.bytes.readDoubleLE(this.at);
    this.at += 8;
    return value;
  }

  private lengthOrEncoding(): LengthRead {
    const first = this.byte();
    const kind = first >> 6;
    if (kind === 0) return { value: first & 0x3f, encoded: false };
    if (kind === 1) return { value: ((first & 0x3f) << 8) | this.byte(), encoded: false };
    if (kind === 3) return { value: first & 0x3f, encoded: true };
    this.need(first === 0x80 ? 4 : 8);
    if (first === 0x80) {
      const value = this.bytes.readUInt32BE(this.at);
      this.at += 4;
      return { value, encoded: false };
    }
    if (first !== 0x81) this.fail(`unknown length encoding 0x${first.toString(16)}`, this.at - 1);
    const value = this.bytes.readBigUInt64BE(this.at);
    this.at += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('length out of range', this.at - 9);
    return { value: Number(value), encoded: false };
  }

  length(): number {
    const start = this.at;
    const read = this.lengthOrEncoding();
    if (read.encoded) this.fail('string encoding where a length was expected', start);
    return read.value;
  }

  /** A length that counts things that follow, checked against the bytes left so a bad one fails early. */
  count(bytesEach = 1): number {
    const start = this.at;
    const value = this.length();
    if (value * bytesEach > this.remaining) this.fail(`count ${value} larger than the data left`, start);
    return value;
  }

  string(): Buffer {
    const start = this.at;
    const read = this.lengthOrEncoding();
    if (!read.encoded) return this.take(read.value);
    switch (read.value) {
      case RdbStringEncoding.Int8:
        return integerText(this.take(1).readInt8(0));
      case RdbStringEncoding.Int16:
        return integerText(this.take(2).readInt16LE(0));
      case RdbStringEncoding.Int32:
        return integerText(this.take(4).readInt32LE(0));
      case RdbStringEncoding.Lzf: {
        const compressedLength = this.length();
        const length = this.length();
        const compressed = this.take(compressedLength);
        try {
          return Buffer.from(lzfDecompress(compressed, length).buffer);
        } catch (error) {
          return this.fail(`bad LZF string (${(error as Error).message})`, start);
        }
      }
    }
    return this.fail(`unknown string encoding ${read.value}`, start);
  }

  /** A double in the old text form (RDB_TYPE_ZSET): a length byte, 253–255 meaning nan, inf, -inf. */
  textDouble(): number {
    const length = this.byte();
    if (length === 253) return NaN;
    if (length === 254) return Infinity;
    if (length === 255) return -Infinity;
    const value = Number(this.take(length).toString('latin1'));
    if (Number.isNaN(value)) this.fail('bad double', this.at - length);
    return value;
  }
}
