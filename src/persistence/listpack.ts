/**
 * Redis's listpack, as RDB stores small hashes, sorted sets, sets (RDB 11) and list nodes: a blob that
 * is written as one RDB string.
 *
 *   u32 total bytes, u16 element count (65535 when larger), the elements, 0xff
 *   element = encoding [+ payload] + backlen, where backlen is the size of encoding + payload in
 *   7-bit groups (most significant group first, every byte but the first with its top bit set), so the
 *   list can be walked backwards.
 *   0xxxxxxx                       integer 0..127
 *   10xxxxxx + bytes               string of 0..63 bytes
 *   110xxxxx yyyyyyyy              13-bit signed integer
 *   1110xxxx yyyyyyyy + bytes      string of up to 4095 bytes
 *   11110000 + u32 length + bytes  longer string
 *   0xf1 / 0xf2 / 0xf3 / 0xf4      signed integer of 16 / 24 / 32 / 64 bits, little-endian
 * An element is written as an integer when its bytes are a canonical int64 (as Redis's lpAppend does),
 * in the narrowest encoding, so small listpacks come out byte for byte as Redis writes them.
 */
import { ByteWriter } from './byte-writer.js';
import { parseInt64 } from '../commands/context.js';
import { integerText } from './rdb-integer.js';

const HEADER = 6;
const EOF = 0xff;
const COUNT_UNKNOWN = 65535;

function backlenBytes(entryLength: number): number {
  if (entryLength < 128) return 1;
  if (entryLength < 16384) return 2;
  if (entryLength < 2097152) return 3;
  if (entryLength < 268435456) return 4;
  return 5;
}

function writeBacklen(out: ByteWriter, entryLength: number): void {
  const groups = backlenBytes(entryLength);
  for (let group = groups - 1; group >= 0; group--) {
    const bits = Math.floor(entryLength / 2 ** (7 * group)) & 0x7f;
    out.byte(group === groups - 1 ? bits : bits | 0x80);
  }
}

function writeInteger(out: ByteWriter, value: number | bigint): void {
  const start = out.length;
  if (typeof value === 'bigint' || value < -(2 ** 31) || value >= 2 ** 31) {
    out.byte(0xf4);
    out.int64LE(BigInt(value));
  } else if (value >= 0 && value <= 127) {
    out.byte(value);
  } else if (value >= -4096 && value < 4096) {
    const bits = value & 0x1fff;
    out.byte(0xc0 | (bits >> 8));
    out.byte(bits & 0xff);
  } else if (value >= -32768 && value < 32768) {
    out.byte(0xf1);
    out.byte(value & 0xff);
    out.byte((value >> 8) & 0xff);
  } else if (value >= -8388608 && value < 8388608) {
    out.byte(0xf2);
    out.byte(value & 0xff);
    out.byte((value >> 8) & 0xff);
    out.byte((value >> 16) & 0xff);
  } else {
    out.byte(0xf3);
    out.uint32LE(value >>> 0);
  }
  writeBacklen(out, out.length - start);
}

function writeString(out: ByteWriter, bytes: Uint8Array): void {
  const start = out.length;
  const length = bytes.length;
  if (length < 64) {
    out.byte(0x80 | length);
  } else if (length < 4096) {
    out.byte(0xe0 | (length >> 8));
    out.byte(length & 0xff);
  } else {
    out.byte(0xf0);
    out.uint32LE(length);
  }
  out.bytes(bytes);
  writeBacklen(out, out.length - start);
}

/** The listpack of `elements`, in order, appended to `out` (cleared first). */
export function encodeListpack(out: ByteWriter, elements: Iterable<Uint8Array>): void {
  out.clear();
  out.uint32LE(0);
  out.uint16LE(0);
  let count = 0;
  for (const element of elements) {
    const integer = element.length <= 20 ? parseInt64(element) : undefined;
    if (integer === undefined) writeString(out, element);
    else writeInteger(out, integer);
    count++;
  }
  out.byte(EOF);
  out.patchUint32LE(0, out.length);
  out.patchUint16LE(4, Math.min(count, COUNT_UNKNOWN));
}

function corrupt(what: string): Error {
  return new Error(`corrupt listpack: ${what}`);
}

/** The elements of a listpack, integers as their decimal text; throws on a malformed blob. */
export function decodeListpack(blob: Uint8Array): Buffer[] {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.length);
  if (bytes.length < HEADER + 1 || bytes.readUInt32LE(0) !== bytes.length) throw corrupt('bad total length');
  const declared = bytes.readUInt16LE(4);
  const elements: Buffer[] = [];
  let at = HEADER;
  // Hot loop: one element per step; strings are views of the blob, not copies.
  for (;;) {
    if (at >= bytes.length) throw corrupt('missing end marker');
    const code = bytes[at];
    if (code === EOF) break;
    let payloadEnd: number;
    if (code < 0x80) {
      elements.push(integerText(code));
      payloadEnd = at + 1;
    } else if (code < 0xc0) {
      payloadEnd = at + 1 + (code & 0x3f);
      elements.push(bytes.subarray(at + 1, payloadEnd));
    } else if (code < 0xe0) {
      const bits = ((code & 0x1f) << 8) | bytes[at + 1];
      elements.push(integerText(bits >= 4096 ? bits - 8192 : bits));
      payloadEnd = at + 2;
    } else if (code < 0xf0) {
      payloadEnd = at + 2 + (((code & 0x0f) << 8) | bytes[at + 1]);
      elements.push(bytes.subarray(at + 2, payloadEnd));
    } else if (code === 0xf0) {
      payloadEnd = at + 5 + bytes.readUInt32LE(at + 1);
      elements.push(bytes.subarray(at + 5, payloadEnd));
    } else if (code === 0xf1) {
      elements.push(integerText(bytes.readInt16LE(at + 1)));
      payloadEnd = at + 3;
    } else if (code === 0xf2) {
      elements.push(integerText(bytes.readIntLE(at + 1, 3)));
      payloadEnd = at + 4;
    } else if (code === 0xf3) {
      elements.push(integerText(bytes.readInt32LE(at + 1)));
      payloadEnd = at + 5;
    } else if (code === 0xf4) {
      elements.push(integerText(bytes.readBigInt64LE(at + 1)));
      payloadEnd = at + 9;
    } else {
      throw corrupt(`unknown encoding 0x${code.toString(16)}`);
    }
    if (payloadEnd > bytes.length - 1) throw corrupt('element past the end');
    at = payloadEnd + backlenBytes(payloadEnd - at);
  }
  if (at !== bytes.length - 1) throw corrupt('bytes after the end marker');
  if (declared !== COUNT_UNKNOWN && declared !== elements.length) throw corrupt('element count mismatch');
  return elements;
}
