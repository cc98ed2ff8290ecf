/**
 * A key's value and metadata as one byte string, and back: how a key travels from one shard to another
 * (a RENAME or COPY whose two keys live on different shards) and how COPY duplicates a value. It is
 * sabre's own format between its threads, never stored or sent to a client, so it carries what Redis
 * keeps in the object besides the bytes (the encoding form) and no checksum.
 *
 *   u8  format        DUMP_FORMAT
 *   u8  type          ValueType
 *   u8  encoding      the entry's encoding byte (StringForm for strings)
 *   u8  0
 *   i64 expiry        absolute ms since the epoch, little-endian; -1 for none
 *   ... value         by type: a string is its bytes
 *
 * The type byte comes first so that a value can never be restored as another type: a type without a
 * codec here is refused on both sides (dumpKey returns undefined, restoreKey 0), and each collection
 * type adds its codec when it arrives.
 */
import { ExpiryChange, type Database, type ExpiryTime } from './database.js';
import { ValueType, type StringForm } from './entry.js';

const DUMP_FORMAT = 1;
const HEADER_BYTES = 12;

/** The dump of a live entry of `db`, or undefined when its type has no codec yet. */
export function dumpKey(db: Database, entry: number): Buffer | undefined {
  const type = db.type(entry);
  if (type !== ValueType.String) return undefined;
  const value = db.stringBytes(entry);
  const dump = Buffer.allocUnsafe(HEADER_BYTES + value.length);
  dump[0] = DUMP_FORMAT;
  dump[1] = type;
  dump[2] = db.stringForm(entry);
  dump[3] = 0;
  dump.writeBigInt64LE(BigInt(db.expireAt(entry)), 4);
  dump.set(value, HEADER_BYTES);
  return dump;
}

/** The type a dump holds, or undefined when it is not a dump of this format. */
export function dumpType(dump: Uint8Array): ValueType | undefined {
  return dump.length >= HEADER_BYTES && dump[0] === DUMP_FORMAT ? (dump[1] as ValueType) : undefined;
}

/**
 * Writes the dumped value, expiry and encoding as `key` in `db`, replacing whatever the key held, and
 * returns the new entry, or 0 when the dump is not one this build can restore. Memory is taken before
 * the key changes, so an -OOM leaves the key as it was.
 */
export function restoreKey(db: Database, key: Uint8Array, dump: Uint8Array): number {
  if (dumpType(dump) !== ValueType.String) return 0;
  const bytes = Buffer.from(dump.buffer, dump.byteOffset, dump.length);
  const at = bytes.readBigInt64LE(4);
  const expiry: ExpiryTime = at === -1n ? ExpiryChange.Clear : Number.isSafeInteger(Number(at)) ? Number(at) : at;
  const entry = db.setString(key, bytes.subarray(HEADER_BYTES), expiry);
  db.setStringForm(entry, bytes[2] as StringForm);
  return entry;
}
