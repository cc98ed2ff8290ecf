/**
 * The DUMP / RESTORE payload, as Redis 7.0 makes it: the value's RDB type byte and its RDB encoding,
 * then the RDB version as a little-endian u16, then the CRC-64 of everything before it, little-endian.
 */
import type { Database } from '../shard/database.js';
import { ByteWriter } from './byte-writer.js';
import { Crc64 } from './crc64.js';
import { RDB_VERSION } from './rdb-format.js';
import { RdbInput } from './rdb-input.js';
import { isValueType, readValue, type RdbValue } from './rdb-reader.js';
import { writeValue, type RdbWriteOptions } from './rdb-writer.js';

const FOOTER_BYTES = 10;

/** DUMP's payload for `entry` of `db`. */
export function createDumpPayload(db: Database, entry: number, options: RdbWriteOptions): Buffer {
  const out = new ByteWriter();
  out.byte(0);
  const type = writeValue(out, db, entry, options);
  // Set after writing: the value may have grown the writer into a new buffer.
  out.view()[0] = type;
  out.uint16LE(RDB_VERSION);
  out.bytes(new Crc64().update(out.view()).littleEndian());
  return out.copy();
}

/** Whether the payload's footer holds a version this build reads and the right checksum (verifyDumpPayload). */
export function verifyDumpPayload(payload: Uint8Array): boolean {
  if (payload.length < FOOTER_BYTES) return false;
  const footer = Buffer.from(payload.buffer, payload.byteOffset + payload.length - FOOTER_BYTES, FOOTER_BYTES);
  if (footer.readUInt16LE(0) > RDB_VERSION) return false;
  const crc = new Crc64().update(payload.subarray(0, payload.length - 8)).value;
  return crc === footer.readBigUInt64LE(2);
}

/**
 * The value of a verified payload, or undefined when its body is not a well-formed value ("Bad data
 * format"). As in Redis, the value is read from the whole payload, footer included, and what follows
 * it is not looked at: a value may run into the footer's bytes, or stop short of them.
 */
export function readDumpPayload(payload: Uint8Array): RdbValue | undefined {
  const input = new RdbInput(payload);
  try {
    const type = input.byte();
    if (!isValueType(type)) return undefined;
    return readValue(input, type);
  } catch {
    return undefined;
  }
}
