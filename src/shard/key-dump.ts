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
 *   ... value         by type: a string is its bytes; a hash is its fields and values, each as
 *                     u32 length + bytes, with the encoding byte saying 1 for a table (0: packed);
 *                     a list is its elements head to tail, each as u32 length + bytes
 *                     a sorted set is its members in order, each as u32 length + bytes + f64 score,
 *                     with the encoding byte saying 1 for a skiplist (0: packed)
 *                     a set is its members the same way (encoding byte 1 for a table, 0: intset)
 *
 * The type byte comes first so that a value can never be restored as another type: a type without a
 * codec here is refused on both sides (dumpKey returns undefined, restoreKey 0), and each collection
 * type adds its codec when it arrives.
 */
import { HashValue, type HashBytes } from '../collections/hash.js';
import { SortedSetValue, memberBytes } from '../collections/zset.js';
import { SetValue, memberReply } from '../collections/set.js';
import { freeCollection } from '../collections/collection.js';
import { defaultCollectionLimits, type CollectionLimits } from '../collections/limits.js';
import { ListValue } from '../collections/list.js';
import { ExpiryChange, type Database, type ExpiryTime } from './database.js';
import { ValueType, type StringForm } from './entry.js';

const DUMP_FORMAT = 1;
const HEADER_BYTES = 12;

/** A restored collection keeps the encoding it was dumped with, as Redis's COPY keeps its object's. */
const NEVER_CONVERT: CollectionLimits = {
  ...defaultCollectionLimits(),
  'hash-max-listpack-entries': Infinity,
  'hash-max-listpack-value': Infinity,
  'hll-sparse-max-bytes': Infinity,
  'zset-max-listpack-entries': Infinity,
  'zset-max-listpack-value': Infinity,
  'set-max-intset-entries': Infinity,
};
const TABLE_ENCODING = 1;

function dumpHeader(db: Database, entry: number, encoding: number, valueLength: number): Buffer {
  return newDump(db.type(entry), encoding, db.expireAt(entry), valueLength);
}

function newDump(type: ValueType, encoding: number, expireAt: ExpiryTime, valueLength: number): Buffer {
  const dump = Buffer.allocUnsafe(HEADER_BYTES + valueLength);
  dump[0] = DUMP_FORMAT;
  dump[1] = type;
  dump[2] = encoding;
  dump[3] = 0;
  dump.writeBigInt64LE(BigInt(expireAt), 4);
  return dump;
}

function writeItem(dump: Buffer, at: number, item: HashBytes): number {
  if (typeof item === 'string') {
    const length = dump.write(item, at + 4, 'latin1');
    dump.writeUInt32LE(length, at);
    return at + 4 + length;
  }
  dump.writeUInt32LE(item.length, at);
  dump.set(item, at + 4);
  return at + 4 + item.length;
}

/** The dump of a live entry of `db`, or undefined when its type has no codec yet. */
export function dumpKey(db: Database, entry: number): Buffer | undefined {
  const type = db.type(entry);
  if (type === ValueType.String) {
    const value = db.stringBytes(entry);
    const dump = dumpHeader(db, entry, db.stringForm(entry), value.length);
    dump.set(value, HEADER_BYTES);
    return dump;
  }
  if (type === ValueType.List) return dumpList(db, entry);
  if (type === ValueType.ZSet) return dumpSortedSet(db, entry);
  if (type === ValueType.Set) return dumpSet(db, entry);
  if (type !== ValueType.Hash) return undefined;
  const hash = new HashValue(db.arena, db.collectionRoot(entry));
  let length = 0;
  hash.forEach((field, value) => (length += 8 + field.length + value.length));
  const dump = dumpHeader(db, entry, hash.isPacked ? 0 : TABLE_ENCODING, length);
  let at = HEADER_BYTES;
  hash.forEach((field, value) => (at = writeItem(dump, writeItem(dump, at, field), value)));
  return dump;
}

function dumpList(db: Database, entry: number): Buffer {
  const list = new ListValue(db.arena, db.collectionRoot(entry));
  let length = 0;
  list.forEach((item) => (length += 4 + item.length));
  const dump = dumpHeader(db, entry, 0, length);
  let at = HEADER_BYTES;
  list.forEach((item) => (at = writeItem(dump, at, item)));
  return dump;
}

/** The dump of a new list of `items` without expiry, made without a key (SORT's STORE into another shard). */
export function listDump(items: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const item of items) length += 4 + item.length;
  const dump = newDump(ValueType.List, 0, -1, length);
  let at = HEADER_BYTES;
  for (const item of items) at = writeItem(dump, at, item);
  return dump;
}

/** The list a dump's value holds, built in `db`'s arena (its nodes as the default list-max-listpack-size makes them). */
function restoreList(db: Database, bytes: Buffer): number {
  return buildList(db, NEVER_CONVERT['list-max-listpack-size'], (push) => {
    for (let at = HEADER_BYTES; at < bytes.length; ) {
      const length = bytes.readUInt32LE(at);
      push(bytes.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
  });
}

/**
 * The building blocks of a restored collection, shared with the RDB loader: each builds a new value in
 * `db`'s arena (not yet any key's) from the elements `fill` hands to its callback, and frees what it
 * built if that throws. A callback's result says whether the element was new (RDB refuses duplicates).
 */
export function buildList(db: Database, fill: number, items: (push: (item: Uint8Array) => void) => void): number {
  const list = ListValue.create(db.arena);
  try {
    items((item) => list.push(item, false, fill));
  } catch (error) {
    freeCollection(db.arena, list.root);
    throw error;
  }
  return list.root;
}

export function buildSet(db: Database, table: boolean, limits: CollectionLimits, members: (add: (member: Uint8Array) => boolean) => void): number {
  const set = SetValue.createIntset(db.arena);
  try {
    if (table) set.convertToTable();
    members((member) => set.add(member, limits));
  } catch (error) {
    set.free();
    throw error;
  }
  return set.root;
}

export function buildHash(db: Database, table: boolean, limits: CollectionLimits, pairs: (set: (field: Uint8Array, value: Uint8Array) => boolean) => void): number {
  const hash = HashValue.create(db.arena);
  try {
    if (table) hash.convertToTable();
    pairs((field, value) => hash.set(field, value, limits));
  } catch (error) {
    freeCollection(db.arena, hash.root);
    throw error;
  }
  return hash.root;
}

/** A sorted set; `large` makes it a skiplist from the start. Members may come in any order. */
export function buildSortedSet(db: Database, large: boolean, members: (insert: (member: Uint8Array, score: number) => boolean) => void): number {
  const zset = SortedSetValue.create(db.arena, large);
  try {
    members((member, score) => {
      if (zset.score(member) !== undefined) return false;
      zset.insert(member, score);
      return true;
    });
  } catch (error) {
    freeCollection(db.arena, zset.root);
    throw error;
  }
  return zset.root;
}

function dumpSet(db: Database, entry: number): Buffer {
  const set = new SetValue(db.arena, db.collectionRoot(entry));
  const members: (Uint8Array | string)[] = [];
  let length = 0;
  set.forEach((member) => {
    const item = memberReply(member);
    members.push(item);
    length += 4 + item.length;
  });
  const dump = dumpHeader(db, entry, set.isIntset ? 0 : TABLE_ENCODING, length);
  let at = HEADER_BYTES;
  for (const member of members) at = writeItem(dump, at, member);
  return dump;
}

/** The set a dump's value holds, built in `db`'s arena (not yet any key's). */
function restoreSet(db: Database, bytes: Buffer): number {
  return buildSet(db, bytes[2] === TABLE_ENCODING, NEVER_CONVERT, (add) => {
    for (let at = HEADER_BYTES; at < bytes.length; ) {
      const length = bytes.readUInt32LE(at);
      add(bytes.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
  });
}

/** The hash a dump's value holds, built in `db`'s arena (not yet any key's). */
function restoreHash(db: Database, bytes: Buffer): number {
  return buildHash(db, bytes[2] === TABLE_ENCODING, NEVER_CONVERT, (set) => {
    for (let at = HEADER_BYTES; at < bytes.length; ) {
      const fieldLength = bytes.readUInt32LE(at);
      const field = bytes.subarray(at + 4, at + 4 + fieldLength);
      at += 4 + fieldLength;
      const valueLength = bytes.readUInt32LE(at);
      set(field, bytes.subarray(at + 4, at + 4 + valueLength));
      at += 4 + valueLength;
    }
  });
}

function dumpSortedSet(db: Database, entry: number): Buffer {
  const zset = new SortedSetValue(db.arena, db.collectionRoot(entry));
  let length = 0;
  zset.forRange(0, zset.length, false, (member) => (length += 12 + member.length));
  const dump = dumpHeader(db, entry, zset.isPacked ? 0 : TABLE_ENCODING, length);
  let at = HEADER_BYTES;
  zset.forRange(0, zset.length, false, (member, score) => {
    at = writeItem(dump, at, member);
    at = dump.writeDoubleLE(score, at);
  });
  return dump;
}

/** The sorted set a dump's value holds, built in `db`'s arena (not yet any key's). */
function restoreSortedSet(db: Database, bytes: Buffer): number {
  return buildSortedSet(db, bytes[2] === TABLE_ENCODING, (insert) => {
    for (let at = HEADER_BYTES; at < bytes.length; ) {
      const length = bytes.readUInt32LE(at);
      insert(memberBytes(bytes.subarray(at + 4, at + 4 + length)), bytes.readDoubleLE(at + 4 + length));
      at += 12 + length;
    }
  });
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
  const type = dumpType(dump);
  if (type !== ValueType.String && type !== ValueType.Hash && type !== ValueType.List && type !== ValueType.ZSet && type !== ValueType.Set) return 0;
  const bytes = Buffer.from(dump.buffer, dump.byteOffset, dump.length);
  const at = bytes.readBigInt64LE(4);
  const expiry: ExpiryTime = at === -1n ? ExpiryChange.Clear : Number.isSafeInteger(Number(at)) ? Number(at) : at;
  if (type === ValueType.Hash || type === ValueType.List || type === ValueType.ZSet || type === ValueType.Set) {
    const root = type === ValueType.Hash ? restoreHash(db, bytes) : type === ValueType.List ? restoreList(db, bytes) : type === ValueType.ZSet ? restoreSortedSet(db, bytes) : restoreSet(db, bytes);
    try {
      return db.setCollection(key, type, root, expiry);
    } catch (error) {
      freeCollection(db.arena, root);
      throw error;
    }
  }
  const entry = db.setString(key, bytes.subarray(HEADER_BYTES), expiry);
  db.setStringForm(entry, bytes[2] as StringForm);
  return entry;
}
