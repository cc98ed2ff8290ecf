/**
 * How many bytes Redis's RDB format gives a string value (rdbSavedObjectLen for strings), which DEBUG
 * OBJECT reports as `serializedlength`. From the RDB format: a string of at most 11 bytes that is the
 * canonical decimal of an integer in the int32 range is stored as that integer (a type byte and 1, 2 or 4
 * bytes); anything else as a length (1, 2, 5 or 9 bytes by size) and the bytes. Redis LZF-compresses
 * strings longer than 20 bytes when that saves space; this is the uncompressed length all the same,
 * because sabre's LZF (rdb-writer.ts) need not compress to Redis's exact size and DEBUG OBJECT should
 * not report a length Redis would not.
 */
import { parseRedisInteger } from '../protocol/request-parser.js';

const INT8 = 1 << 7;
const INT16 = 1 << 15;
const INT32 = 2 ** 31;

/** The bytes of an RDB length prefix. */
export function rdbLengthBytes(length: number): number {
  if (length < 1 << 6) return 1;
  if (length < 1 << 14) return 2;
  if (length <= 0xffffffff) return 5;
  return 9;
}

/** The bytes of an integer in the RDB's integer encodings, or 0 when it needs more than 32 bits. */
function integerBytes(value: number): number {
  if (value >= -INT8 && value < INT8) return 2;
  if (value >= -INT16 && value < INT16) return 3;
  if (value >= -INT32 && value < INT32) return 5;
  return 0;
}

export function rdbStringLength(bytes: Uint8Array): number {
  if (bytes.length <= 11) {
    const value = parseRedisInteger(bytes, 0, bytes.length);
    // parseRedisInteger accepts only the canonical decimal form, as Redis's round-trip check does.
    if (!Number.isNaN(value)) {
      const encoded = integerBytes(value);
      if (encoded > 0) return encoded;
    }
  }
  return rdbLengthBytes(bytes.length) + bytes.length;
}
