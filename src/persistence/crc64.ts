/**
 * Redis's CRC-64 (the Jones polynomial 0xad93d23594c935a9, reflected input and output, initial value and
 * final xor 0), which closes every RDB file and DUMP payload. Check value: "123456789" → 0xe9c6d914c4b8d9ca.
 *
 * JavaScript has no fast 64-bit integer, so the register is two 32-bit halves and the table is
 * byte-at-a-time over the reflected polynomial, kept as two Uint32Arrays.
 */

// The polynomial with its bits reversed, for the reflected (least significant bit first) form.
const REFLECTED_HIGH = 0x95ac9329;
const REFLECTED_LOW = 0xac4bc9b5;

const tableHigh = new Uint32Array(256);
const tableLow = new Uint32Array(256);
for (let byte = 0; byte < 256; byte++) {
  let high = 0;
  let low = byte;
  for (let bit = 0; bit < 8; bit++) {
    const carry = low & 1;
    low = ((low >>> 1) | ((high & 1) << 31)) >>> 0;
    high >>>= 1;
    if (carry) {
      high = (high ^ REFLECTED_HIGH) >>> 0;
      low = (low ^ REFLECTED_LOW) >>> 0;
    }
  }
  tableHigh[byte] = high;
  tableLow[byte] = low;
}

/** A running CRC-64, fed in pieces (an RDB file is checksummed as it is written). */
export class Crc64 {
  private high = 0;
  private low = 0;

  update(bytes: Uint8Array): this {
    let high = this.high;
    let low = this.low;
    // Hot loop: every byte of a save passes here.
    for (let i = 0; i < bytes.length; i++) {
      const index = (low ^ bytes[i]) & 0xff;
      low = (((low >>> 8) | (high << 24)) ^ tableLow[index]) >>> 0;
      high = ((high >>> 8) ^ tableHigh[index]) >>> 0;
    }
    this.high = high;
    this.low = low;
    return this;
  }

  get value(): bigint {
    return (BigInt(this.high) << 32n) | BigInt(this.low);
  }

  /** The checksum as the 8 little-endian bytes that end an RDB file or DUMP payload. */
  littleEndian(): Uint8Array {
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, this.low, true);
    view.setUint32(4, this.high, true);
    return bytes;
  }
}

export function crc64(bytes: Uint8Array): bigint {
  return new Crc64().update(bytes).value;
}
