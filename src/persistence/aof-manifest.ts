/**
 * Redis 7's multi-part AOF layout: a directory (appenddirname) holding one base file (an RDB, or
 * commands), incremental command files, and a manifest naming them, one line each, in Redis's syntax:
 *
 *   file appendonly.aof.1.base.rdb seq 1 type b
 *   file appendonly.aof.1.incr.aof seq 1 type i
 *
 * `type` is b (base), i (incremental) or h (history: replaced by a rewrite, to be deleted). Loading reads
 * the base, then the incremental files in manifest order. The manifest is replaced atomically (written
 * beside, synced, renamed), so a crash leaves the old set or the new one.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export type AofFileType = 'b' | 'i' | 'h';

export interface AofFileEntry {
  name: string;
  seq: number;
  type: AofFileType;
}

export interface AofManifest {
  base: AofFileEntry | undefined;
  incrementals: AofFileEntry[];
}

export class AofManifestError extends Error {}

/** The manifest's file name for `appendfilename`. */
export function manifestName(prefix: string): string {
  return `${prefix}.manifest`;
}

export function baseFileName(prefix: string, seq: number, rdb: boolean): string {
  return `${prefix}.${seq}.base.${rdb ? 'rdb' : 'aof'}`;
}

export function incrementalFileName(prefix: string, seq: number): string {
  return `${prefix}.${seq}.incr.aof`;
}

/** Reads a manifest's text as Redis's aofLoadManifestFromFile does (history lines are ignored). */
export function parseManifest(text: string): AofManifest {
  const manifest: AofManifest = { base: undefined, incrementals: [] };
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const words = trimmed.split(/\s+/);
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < words.length; i += 2) fields.set(words[i], words[i + 1]);
    const name = fields.get('file');
    const seq = Number(fields.get('seq'));
    const type = fields.get('type');
    if (words.length % 2 !== 0 || name === undefined || !Number.isSafeInteger(seq) || seq < 1 || (type !== 'b' && type !== 'i' && type !== 'h')) {
      throw new AofManifestError(`Invalid AOF manifest file format at line ${index + 1}`);
    }
    if (type === 'b') {
      if (manifest.base !== undefined) throw new AofManifestError('Found duplicate base file information in the AOF manifest');
      manifest.base = { name, seq, type };
    } else if (type === 'i') manifest.incrementals.push({ name, seq, type });
  });
  if (manifest.base === undefined && manifest.incrementals.length === 0) throw new AofManifestError('Found an empty AOF manifest');
  return manifest;
}

export function formatManifest(manifest: AofManifest): string {
  const line = (entry: AofFileEntry) => `file ${entry.name} seq ${entry.seq} type ${entry.type}\n`;
  return (manifest.base === undefined ? '' : line(manifest.base)) + manifest.incrementals.map(line).join('');
}

/** Replaces the manifest in `directory` atomically and durably. */
export function writeManifest(directory: string, prefix: string, manifest: AofManifest): void {
  const temp = join(directory, `temp-${manifestName(prefix)}`);
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, formatManifest(manifest));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, join(directory, manifestName(prefix)));
  syncDirectory(directory);
}

/** Makes a rename or a new file in `directory` durable. */
export function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
