/**
 * RDB files on disk for a sharded server. SAVE: every shard writes its own databases' sections to a part
 * file at the same instant (the front holds every shard meanwhile), then the front joins header, parts,
 * EOF and CRC-64 into a temporary file, syncs it and renames it over the old one, so a crash at any
 * moment leaves either the old file or the new one. Loading: every shard reads the file and keeps the
 * keys whose hash slot is its own, all shards at once.
 */
import { closeSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Database } from '../shard/database.js';
import type { Shard } from '../shard/shard.js';
import { keySlot, shardOfSlot } from '../cluster/slot.js';
import { ByteWriter } from './byte-writer.js';
import { Crc64 } from './crc64.js';
import { loadRdb } from './rdb-load.js';
import { writeRdbDatabases, writeRdbEof, writeRdbHeader, type RdbDatabasesOptions, type RdbWriteOptions } from './rdb-writer.js';

const COPY_BYTES = 1 << 20;

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** rdbPartPath's tag for a background save's files. */
export const BACKGROUND_PART_TAG = 'bg-';

/**
 * Where shard `shard`'s part of a save to `target` goes, beside it. `tag` keeps a background save's
 * files apart from a foreground save's, which may run while the background one finishes.
 */
export function rdbPartPath(target: string, shard: number, tag = ''): string {
  return join(dirname(target), `temp-${tag}${process.pid}-${shard}.part`);
}

/** A shard's side of SAVE: its databases' sections of the file (no header, no end) into `path`. Returns its key count. */
export function writeRdbPart(databases: readonly Database[], path: string, options: RdbDatabasesOptions): number {
  const fd = openSync(path, 'w');
  try {
    const out = new ByteWriter(COPY_BYTES);
    const flush = (): void => {
      writeAll(fd, out.view());
      out.clear();
    };
    const keys = writeRdbDatabases(out, databases, options, flush);
    flush();
    return keys;
  } finally {
    closeSync(fd);
  }
}

export interface RdbJoinOptions extends RdbWriteOptions {
  checksum: boolean;
}

/**
 * The front's side of a save: header, the shards' parts in order, EOF and checksum, then an atomic
 * rename onto `target` (`tag` as for rdbPartPath).
 */
export function joinRdbParts(target: string, parts: readonly string[], options: RdbJoinOptions, tag = ''): void {
  const temp = join(dirname(target), `temp-${tag}${process.pid}.rdb`);
  const fd = openSync(temp, 'w');
  try {
    const crc = new Crc64();
    const put = (bytes: Uint8Array): void => {
      if (options.checksum) crc.update(bytes);
      writeAll(fd, bytes);
    };
    const out = new ByteWriter(256);
    writeRdbHeader(out, options);
    put(out.view());
    const buffer = Buffer.allocUnsafe(COPY_BYTES);
    for (const part of parts) {
      const partFd = openSync(part, 'r');
      try {
        for (let read = readSync(partFd, buffer); read > 0; read = readSync(partFd, buffer)) put(buffer.subarray(0, read));
      } finally {
        closeSync(partFd);
      }
    }
    out.clear();
    writeRdbEof(out);
    put(out.view());
    writeAll(fd, options.checksum ? crc.littleEndian() : new Uint8Array(8));
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, target);
}

/** Removes what a SAVE left behind, whether it succeeded or not. */
export function removeRdbParts(parts: readonly string[]): void {
  for (const part of parts) rmSync(part, { force: true });
}

/**
 * A shard's side of loading: the keys of the file at `path` whose slot belongs to shard `index` of
 * `shards`, after emptying every database first when `flush` (DEBUG RELOAD), replacing keys it holds
 * when `merge`. The file is read before anything is emptied, so a missing or unreadable file leaves
 * the keyspace as it was; a malformed one, found while loading, leaves what was loaded before the fault.
 */
export function loadRdbShare(shard: Shard, path: string, index: number, shards: number, reload: { flush: boolean; merge: boolean } = { flush: false, merge: false }): { keys: number; expiredSkipped: number } {
  const bytes = readFileSync(path);
  if (reload.flush) for (const db of shard.databases) db.flush();
  const summary = loadRdb(bytes, shard, { keeps: (key) => shardOfSlot(keySlot(key), shards) === index, merge: reload.merge });
  return { keys: summary.loaded, expiredSkipped: summary.expiredSkipped };
}
