/**
 * Redis's ziplist, which RDB files before version 10 used for small hashes, sorted sets and list
 * nodes; read only (Redis 7.0 converts them to listpacks when loading, and so do we).
 *
 *   u32 total bytes, u32 offset of the last element, u16 count, the elements, 0xff
 *   element = previous element's size (1 byte, or 0xfe + u32) + encoding [+ payload]
 *   00xxxxxx / 01xxxxxx yyyyyyyy / 10000000 + u32 (big-endian)   strings of 6 / 14 / 32-bit length
 *   0xc0 / 0xd0 / 0xe0 / 0xf0 / 0xfe    int16 / int32 / int64 / int24 / int8, little-endian
 *   0xf1..0xfd                          the integers 0..12 held in the encoding byte
 */
import { integerText } from './rdb-integer.js';

const HEADER = 10;
const EOF = 0xff;

function corrupt(what: string): Error {
  return new Error(`corrupt ziplist: ${what}`);
}

/** The elements of a ziplist, integers as their decimal text; throws on a malformed blob. */
export function decodeZiplist(blob: Uint8Array): Buffer[] {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.length);
  if (bytes.length < HEADER + 1 || bytes.readUInt32LE(0) !== bytes.length) throw corrupt('bad total length');
  const elements: Buffer[] = [];
  let at = HEADER;
  for (;;) {
    if (at >= bytes.length) throw corrupt('missing end marker');
    if (bytes[at] === EOF) break;
    at += bytes[at] === 0xfe ? 5 : 1;
    const code = bytes[at];
    let end: number;
    if (code < 0x40) {
      end = at + 1 + (code & 0x3f);
      elements.push(bytes.subarray(at + 1, end));
    } else if (code < 0x80) {
      end = at + 2 + (((code & 0x3f) << 8) | bytes[at + 1]);
      elements.push(bytes.subarray(at + 2, end));
    } else if (code === 0x80) {
      end = at + 5 + bytes.readUInt32BE(at + 1);
      elements.push(bytes.subarray(at + 5, end));
    } else if (code === 0xc0) {
      elements.push(integerText(bytes.readInt16LE(at + 1)));
      end = at + 3;
    } else if (code === 0xd0) {
      elements.push(integerText(bytes.readInt32LE(at + 1)));
      end = at + 5;
    } else if (code === 0xe0) {
      elements.push(integerText(bytes.readBigInt64LE(at + 1)));
      end = at + 9;
    } else if (code === 0xf0) {
      elements.push(integerText(bytes.readIntLE(at + 1, 3)));
      end = at + 4;
    } else if (code === 0xfe) {
      elements.push(integerText(bytes.readInt8(at + 1)));
      end = at + 2;
    } else if (code >= 0xf1 && code <= 0xfd) {
      elements.push(integerText(code - 0xf1));
      end = at + 1;
    } else {
      throw corrupt(`unknown encoding 0x${code.toString(16)}`);
    }
    if (end > bytes.length - 1) throw corrupt('element past the end');
    at = end;
  }
  if (at !== bytes.length - 1) throw corrupt('bytes after the end marker');
  return elements;
}
