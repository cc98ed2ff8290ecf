/**
 * A growable byte buffer for building RDB output: values, listpacks and whole files. It doubles as it
 * fills, so appending is amortised O(1); `take` hands the bytes written so far to a sink and starts over,
 * which lets a file be written in bounded chunks.
 */
export class ByteWriter {
  private buffer: Buffer;
  length = 0;

  constructor(initialBytes = 256) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  bytes(value: Uint8Array | string): void {
    if (typeof value === 'string') {
      const length = Buffer.byteLength(value, 'latin1');
      this.reserve(length);
      this.length += this.buffer.write(value, this.length, 'latin1');
      return;
    }
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  /** Writes a non-negative integer in ASCII decimal without building a string (RESP lengths on a hot path). */
  decimal(value: number): void {
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    this.reserve(digits);
    let at = this.length + digits;
    let rest = value;
    do {
      this.buffer[--at] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
    this.length += digits;
  }

  uint16LE(value: number): void {
    this.reserve(2);
    this.length = this.buffer.writeUInt16LE(value, this.length);
  }

  uint32LE(value: number): void {
    this.reserve(4);
    this.length = this.buffer.writeUInt32LE(value, this.length);
  }

  uint32BE(value: number): void {
    this.reserve(4);
    this.length = this.buffer.writeUInt32BE(value, this.length);
  }

  int64LE(value: bigint): void {
    this.reserve(8);
    this.length = this.buffer.writeBigInt64LE(value, this.length);
  }

  uint64BE(value: bigint): void {
    this.reserve(8);
    this.length = this.buffer.writeBigUInt64BE(value, this.length);
  }

  doubleLE(value: number): void {
    this.reserve(8);
    this.length = this.buffer.writeDoubleLE(value, this.length);
  }

  /** Overwrites a little-endian u32 written earlier (a listpack's total size, known only at the end). */
  patchUint32LE(at: number, value: number): void {
    this.buffer.writeUInt32LE(value, at);
  }

  patchUint16LE(at: number, value: number): void {
    this.buffer.writeUInt16LE(value, at);
  }

  /** A view of the bytes written so far, valid until the next write. */
  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** A copy of the bytes written so far. */
  copy(): Buffer {
    return Buffer.from(this.view());
  }

  /** Empties the writer, keeping its memory. */
  clear(): void {
    this.length = 0;
  }
}
