/**
 * An AOF base file made of commands (aof-use-rdb-preamble no): every key as one RESTORE … REPLACE ABSTTL
 * carrying Redis's DUMP payload, after a SELECT for its database. Each shard writes its own keys into a
 * part file at the same instant (the front holds every shard, as for SAVE's parts), and the front
 * concatenates the parts: each part selects its own databases, so no part depends on another.
 *
 * The same RESTORE form is how a write made by a cross-shard step propagates (keyspace.ts), since sabre's
 * own key dump between shards means nothing to an AOF or a replica.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Database } from '../shard/database.js';
import { encodeCommand } from '../shard/propagation.js';
import { ByteWriter } from './byte-writer.js';
import { createDumpPayload } from './dump-payload.js';

const RESTORE = Buffer.from('RESTORE');
const REPLACE = Buffer.from('REPLACE');
const ABSTTL = Buffer.from('ABSTTL');
const SELECT = Buffer.from('SELECT');
const CHUNK_BYTES = 1 << 20;

/** The key of `entry` as a RESTORE command: its value as a DUMP payload, its expiry as an absolute time. */
export function restoreCommand(db: Database, entry: number): Uint8Array[] {
  const expireAt = db.expireAt(entry);
  return [RESTORE, db.keyBytes(entry), Buffer.from(String(expireAt === -1 ? 0 : expireAt)), createDumpPayload(db, entry, { compression: true }), REPLACE, ABSTTL];
}

/** A shard's part of a command base: its databases' keys as commands, into `path`. Returns its key count. */
export function writeAofPart(databases: readonly Database[], path: string): number {
  const fd = openSync(path, 'w');
  let keys = 0;
  try {
    const out = new ByteWriter(CHUNK_BYTES);
    const flush = (): void => {
      const bytes = out.view();
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      out.clear();
    };
    databases.forEach((db, index) => {
      if (db.size === 0) return;
      encodeCommand(out, [SELECT, Buffer.from(String(index))]);
      db.dict.forEach((entry) => {
        encodeCommand(out, restoreCommand(db, entry));
        keys++;
        if (out.length >= CHUNK_BYTES) flush();
      });
    });
    flush();
  } finally {
    closeSync(fd);
  }
  return keys;
}
