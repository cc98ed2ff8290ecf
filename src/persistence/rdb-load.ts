/**
 * Reads a whole RDB file (versions 1–11): header, aux fields, database selection, expiries, LRU/LFU
 * hints, every key, and the closing checksum. readRdb hands each key to a visitor, so the caller
 * decides where it goes (one shard, or a shard per hash slot); loadRdb fills one Shard.
 *
 * A file is refused whole on the first problem (bad magic or version, a corrupt value, a wrong
 * checksum, a module or function payload sabre cannot hold) with an RdbFormatError naming the offset.
 */
import type { CollectionLimits } from '../collections/limits.js';
import { ExpiryChange } from '../shard/database.js';
import type { Shard } from '../shard/shard.js';
import { Crc64 } from './crc64.js';
import { RDB_VERSION_READABLE, RdbOpcode } from './rdb-format.js';
import { RdbFormatError, RdbInput } from './rdb-input.js';
import { isValueType, readValue, type RdbValue } from './rdb-reader.js';
import { isEmptyCollection, storeValue } from './rdb-store.js';

export interface RdbKey {
  db: number;
  key: Buffer;
  value: RdbValue;
  /** Absolute ms since the epoch, or -1 for none. */
  expireAt: number;
  /** RDB_OPCODE_IDLE's seconds, when the file carries one for this key. */
  idleSeconds?: number;
  /** RDB_OPCODE_FREQ's LFU counter, when the file carries one. */
  frequency?: number;
}

export interface RdbSummary {
  version: number;
  aux: Map<string, string>;
  keys: number;
}

const MAGIC = 'REDIS';

/** Reads `bytes` as an RDB file, handing every key to `visit` in file order. */
export function readRdb(bytes: Uint8Array, visit: (key: RdbKey) => void, verifyChecksum = true): RdbSummary {
  const input = new RdbInput(bytes);
  if (input.remaining < 9 || input.take(5).toString('latin1') !== MAGIC) input.fail('not an RDB file (wrong signature)', 0);
  const versionText = input.take(4).toString('latin1');
  const version = /^\d{4}$/.test(versionText) ? Number(versionText) : NaN;
  if (!(version >= 1 && version <= RDB_VERSION_READABLE)) input.fail(`can't handle RDB format version ${versionText}`, 5);
  const summary: RdbSummary = { version, aux: new Map(), keys: 0 };
  let db = 0;
  let expireAt = -1;
  let idleSeconds: number | undefined;
  let frequency: number | undefined;
  for (;;) {
    const opcodeAt = input.at;
    const type = input.byte();
    switch (type) {
      case RdbOpcode.Eof: {
        if (version >= 5) {
          const stored = input.take(8).readBigUInt64LE(0);
          if (verifyChecksum && stored !== 0n && new Crc64().update(input.bytes.subarray(0, input.at - 8)).value !== stored) {
            input.fail('wrong RDB checksum', input.at - 8);
          }
        }
        if (input.remaining !== 0) input.fail('bytes after the end of the RDB file');
        return summary;
      }
      case RdbOpcode.SelectDb:
        db = input.length();
        continue;
      case RdbOpcode.ResizeDb:
        input.length();
        input.length();
        continue;
      case RdbOpcode.ExpireTimeMs:
        expireAt = Number(input.int64LE());
        continue;
      case RdbOpcode.ExpireTime:
        expireAt = input.uint32LE() * 1000;
        continue;
      case RdbOpcode.Idle:
        idleSeconds = input.length();
        continue;
      case RdbOpcode.Freq:
        frequency = input.byte();
        continue;
      case RdbOpcode.Aux: {
        const name = input.string().toString('latin1');
        summary.aux.set(name, input.string().toString('latin1'));
        continue;
      }
      case RdbOpcode.ModuleAux:
        return input.fail('the RDB holds module data, and sabre does not support modules', opcodeAt);
      case RdbOpcode.Function:
      case RdbOpcode.Function2:
        return input.fail('the RDB holds function libraries, which sabre does not support yet', opcodeAt);
    }
    if (!isValueType(type)) input.fail(`unknown RDB opcode or type ${type}`, opcodeAt);
    try {
      const key = input.string();
      const value = readValue(input, type);
      if (isEmptyCollection(value)) input.fail('empty collection', opcodeAt);
      visit({ db, key, value, expireAt, idleSeconds, frequency });
    } catch (error) {
      // Whatever else goes wrong with this key (a decoder meeting bytes it cannot make sense of, the
      // visitor refusing a duplicate key or member) is the fault of the value at this offset.
      if (error instanceof RdbFormatError) throw error;
      input.fail((error as Error).message, opcodeAt);
    }
    summary.keys++;
    expireAt = -1;
    idleSeconds = undefined;
    frequency = undefined;
  }
}

export interface LoadOptions {
  /** The time keys are checked against: keys already expired are left out, as a Redis master does. */
  now?: number;
  limits?: CollectionLimits;
  /** Which keys this shard takes (a sharded server's shards each load their own); all by default. */
  keeps?: (key: Buffer) => boolean;
  /** A key the shard holds already is replaced (DEBUG RELOAD MERGE) instead of refused. */
  merge?: boolean;
}

/**
 * Fills `shard` with the keys of an RDB file; returns what was read and `loaded`, the keys it kept.
 * Throws RdbFormatError on a bad file.
 */
export function loadRdb(bytes: Uint8Array, shard: Shard, options: LoadOptions = {}): RdbSummary & { expiredSkipped: number; loaded: number } {
  const now = options.now ?? Date.now();
  const limits = options.limits ?? shard.limits;
  const keeps = options.keeps;
  let expiredSkipped = 0;
  let loaded = 0;
  const summary = readRdb(bytes, ({ db, key, value, expireAt }) => {
    if (keeps !== undefined && !keeps(key)) return;
    if (db >= shard.databases.length) throw new Error(`database ${db} out of range`);
    if (expireAt !== -1 && expireAt < now) {
      expiredSkipped++;
      return;
    }
    const database = shard.databases[db];
    if (database.lookupQuiet(key) !== 0) {
      if (!options.merge) throw new Error(`duplicate key '${key.toString('latin1')}'`);
      database.delete(key, false);
    }
    storeValue(database, key, value, expireAt === -1 ? ExpiryChange.Clear : expireAt, limits);
    loaded++;
  });
  return { ...summary, expiredSkipped, loaded };
}
