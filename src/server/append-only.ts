/**
 * The append-only file (appendonly yes): Redis 7's multi-part AOF in `appenddirname`, fed by the shards'
 * propagation stream (propagation-stream.ts), with Redis's appendfsync policies:
 *
 *   always    the front writes and fsyncs what the stream brought before any client's reply goes out
 *             (the Front calls beforeReplies() ahead of flushing its clients, as Redis writes the AOF
 *             in beforeSleep), so no client sees a write acknowledged that the disk does not hold;
 *   everysec  written before the replies too (into the page cache: a killed process loses nothing), and
 *             fsynced in the background once a second, so a power loss costs about a second;
 *   no        written, and synced when the kernel pleases.
 *
 * A rewrite (BGREWRITEAOF, auto-aof-rewrite-*, turning appendonly on) writes a new base, an RDB of the
 * keyspace at one instant (the background snapshot BGSAVE takes; commands with aof-use-rdb-preamble no), starts a new
 * incremental file and swaps the manifest.
 * Every record the front had received when the snapshot answered belongs to writes the snapshot holds,
 * so it goes to the old incremental file (or nowhere, when turning on) and the new one starts empty.
 */
import { closeSync, existsSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { ByteWriter } from '../persistence/byte-writer.js';
import {
  baseFileName,
  incrementalFileName,
  manifestName,
  parseManifest,
  syncDirectory,
  writeManifest,
  type AofManifest,
} from '../persistence/aof-manifest.js';
import { rdbPartPath, removeRdbParts } from '../persistence/rdb-files.js';
import { ShardOp } from '../shard/frames.js';
import { NO_DB, encodeCommand } from '../shard/propagation.js';
import { shardSettings } from '../shard/settings.js';
import { Shard } from '../shard/shard.js';
import { loadAof } from './aof-load.js';
import { saveWithShardsHeld, summed, type EveryShard, type ShardOutcome, type SnapshotOutcome } from './persistence.js';
import type { PropagationConsumer, PropagationStream } from './propagation-stream.js';
import type { ShardPool } from './shard-pool.js';

const BUFFER_BYTES = 64 * 1024;
/** How often a rewrite waiting for a BGSAVE's snapshot to end looks again. */
const SNAPSHOT_WAIT_MS = 50;

/** What a rewrite needs of the background snapshots (persistence.ts Persistence.snapshot). */
export interface BackgroundSnapshots {
  running(): boolean;
  /** Undefined while another snapshot runs. */
  start(target: string, atInstant: () => void): Promise<{ done: Promise<SnapshotOutcome> } | undefined>;
}
const FSYNC_PERIOD_MS = 1000;

/** aof-use-rdb-preamble no: the keyspace at one instant as commands (aof-base.ts), every shard held. */
async function keyspaceCommands(everyShard: EveryShard, target: string): Promise<void> {
  const outcomes = (await everyShard(ShardOp.SaveAofPart, { target })) as ShardOutcome[];
  const parts = outcomes.map((_, shard) => rdbPartPath(target, shard));
  try {
    // Throws the first error a shard reported.
    summed(outcomes);
    const fd = openSync(target, 'w');
    try {
      for (const part of parts) {
        const bytes = readFileSync(part);
        for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } finally {
    removeRdbParts(parts);
  }
}

export class AppendOnly implements PropagationConsumer {
  /** Runs a shard operation on every shard with all of them held (set by the owner once the front runs). */
  everyShard: EveryShard;
  private fd: number | undefined = undefined;
  private readonly buffer = new ByteWriter(BUFFER_BYTES);
  /** The database the current incremental file last SELECTed (−1: none yet, as after a new file). */
  private selectedDb = -1;
  private manifest: AofManifest | undefined = undefined;
  private consuming = false;
  private flushScheduled = false;
  private fsyncRunning = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  // INFO persistence's aof_* figures.
  private rewriting = false;
  private rewriteScheduled = false;
  private snapshots: BackgroundSnapshots | undefined;
  /** A rewrite waits for a BGSAVE's snapshot to end (INFO's aof_rewrite_scheduled). */
  private waitingForSnapshot = false;
  /** INFO's aof_last_cow_size: pages the last background base made the shards copy. */
  private lastCowBytes = 0;
  private rewriteStartedAt = 0;
  private lastRewriteSeconds = -1;
  private lastRewriteStatus: 'ok' | 'err' = 'ok';
  private rewrites = 0;
  private consecutiveFailures = 0;
  /** Why the last write of the AOF failed (strerror's words), until one succeeds: writes are then refused. */
  writeError: string | undefined = undefined;
  /** Bytes of the current incremental file, where a failed write is cut back to. */
  private incrementalSize = 0;
  /** Bytes of the base and incremental files, and that total when the last rewrite ended (auto-aof-rewrite's base). */
  private currentSize = 0;
  private rewriteBaseSize = 0;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly stream: PropagationStream,
    everyShard: EveryShard,
  ) {
    this.everyShard = everyShard;
    config.onChange('appendonly', (value) => {
      if (value === 'yes' && !this.consuming) void this.rewrite();
      else if (value === 'no' && this.consuming) void this.stop();
      return undefined;
    });
  }

  private get directory(): string {
    return resolve(this.config.get('appenddirname'));
  }

  private get prefix(): string {
    return this.config.get('appendfilename');
  }

  /**
   * Startup with appendonly yes: loads the AOF the manifest names (the RDB file is then not read, as in
   * Redis), or, when there is none, writes a first base. Returns whether it ran (appendonly is yes).
   */
  async start(pool: ShardPool): Promise<boolean> {
    if (!this.config.bool('appendonly')) return false;
    const manifestPath = join(this.directory, manifestName(this.prefix));
    if (!existsSync(manifestPath)) this.upgradeOldFile();
    if (!existsSync(manifestPath)) {
      await this.rewrite(false);
      if (this.fd === undefined) throw new Error(`Can't create the append-only file in ${this.directory}`);
      return true;
    }
    const manifest = parseManifest(readFileSync(manifestPath, 'latin1'));
    let scratch: Shard | undefined;
    await loadAof({
      directory: this.directory,
      manifest,
      truncatedAllowed: this.config.bool('aof-load-truncated'),
      pool,
      everyShard: this.everyShard,
      logger: this.logger,
      databases: this.config.number('databases'),
      scratch: () => (scratch ??= new Shard({ databases: this.config.number('databases'), settings: shardSettings(this.config) })),
    });
    this.manifest = manifest;
    let incremental = manifest.incrementals.at(-1);
    if (incremental === undefined) {
      // A base alone (redis-check-aof's output, say): appends go to a first incremental file.
      incremental = { name: incrementalFileName(this.prefix, 1), seq: 1, type: 'i' };
      manifest.incrementals.push(incremental);
      this.fd = openSync(join(this.directory, incremental.name), 'a');
      writeManifest(this.directory, this.prefix, manifest);
    } else this.fd = openSync(join(this.directory, incremental.name), 'a');
    this.incrementalSize = fstatSync(this.fd).size;
    this.currentSize = this.filesSize(manifest);
    this.rewriteBaseSize = this.currentSize;
    await this.consume();
    return true;
  }

  /**
   * A single-file AOF from before Redis 7 (appendfilename in dir) becomes the base of a multi-part one,
   * moved into appenddirname under its own name, as Redis 7 upgrades it.
   */
  private upgradeOldFile(): void {
    const old = resolve(this.prefix);
    if (!existsSync(old)) return;
    mkdirSync(this.directory, { recursive: true });
    renameSync(old, join(this.directory, this.prefix));
    writeManifest(this.directory, this.prefix, { base: { name: this.prefix, seq: 1, type: 'b' }, incrementals: [] });
    this.logger.info({ file: this.prefix }, 'Successfully migrated an old-style AOF into the AOF directory');
  }

  /** The stream's records: SELECT first when the database changes, as Redis's feedAppendOnlyFile does. */
  feed(db: number, command: Uint8Array): void {
    if (db !== NO_DB && db !== this.selectedDb) {
      encodeCommand(this.buffer, [Buffer.from('SELECT'), Buffer.from(String(db))]);
      this.selectedDb = db;
    }
    this.buffer.bytes(command);
    if (!this.flushScheduled) {
      // Replies flush it first (beforeReplies); this catches records no reply follows (active expiry).
      this.flushScheduled = true;
      setImmediate(this.beforeReplies);
    }
  }

  /** Writes what the stream brought, and fsyncs it under appendfsync always: the Front calls this before it answers anyone. */
  readonly beforeReplies = (): void => {
    this.flushScheduled = false;
    if (this.buffer.length === 0) return;
    if (this.fd === undefined) return this.buffer.clear();
    const bytes = this.buffer.view();
    const always = this.config.get('appendfsync') === 'always';
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done);
      if (always) fdatasyncSync(this.fd);
    } catch (error) {
      this.writeFailed(error as NodeJS.ErrnoException, always);
      return;
    }
    this.currentSize += bytes.length;
    this.incrementalSize += bytes.length;
    if (this.writeError !== undefined) this.logger.warn('AOF write error looks solved, Redis can write again.');
    this.writeError = undefined;
    this.buffer.clear();
  };

  /**
   * A write failed (a full disk): as Redis, the server cannot go on under appendfsync always; otherwise the
   * part written is cut off again, the records stay buffered and are retried (each write and once a
   * second), and write commands are refused with -MISCONF meanwhile (writeError).
   */
  private writeFailed(error: NodeJS.ErrnoException, always: boolean): void {
    if (always) {
      this.logger.fatal({ error: error.message }, "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
      process.exit(1);
    }
    try {
      ftruncateSync(this.fd!, this.incrementalSize);
    } catch {
      // The retry appends after whatever is there; loading then stops at the torn part.
    }
    if (this.writeError === undefined) this.logger.warn({ error: error.message }, 'Error writing to the AOF file');
    // strerror's words, which Redis's -MISCONF reply carries: "ENOSPC: no space left on device, write".
    const words = /^[A-Z]+: ([^,]+)/.exec(error.message)?.[1] ?? error.message;
    this.writeError = words.charAt(0).toUpperCase() + words.slice(1);
  }

  /** BGREWRITEAOF: false when one is running already. */
  /**
   * BGREWRITEAOF: 'started', or 'scheduled' while a BGSAVE's snapshot runs (the rewrite then starts when
   * it ends, as Redis's waits for its child), or 'in progress'.
   */
  requestRewrite(): 'started' | 'scheduled' | 'in progress' {
    if (this.rewriting) return 'in progress';
    const waits = this.snapshots?.running() === true;
    void this.rewrite();
    return waits ? 'scheduled' : 'started';
  }

  /**
   * Background snapshots (persistence.ts), once the front exists: a rewrite's RDB base is then written
   * from copy-on-write epochs while the shards serve, as BGSAVE's file is.
   */
  useSnapshots(snapshots: BackgroundSnapshots): void {
    this.snapshots = snapshots;
  }

  /** Writes the base from a background snapshot, waiting first for a BGSAVE's to end (one epoch at a time). */
  private async backgroundBase(target: string, atInstant: () => void): Promise<void> {
    for (;;) {
      const started = await this.snapshots!.start(target, atInstant);
      if (started !== undefined) {
        this.waitingForSnapshot = false;
        const outcome = await started.done;
        this.lastCowBytes = outcome.cowBytes;
        if (outcome.error !== undefined) throw new Error(outcome.error);
        return;
      }
      this.waitingForSnapshot = true;
      await new Promise((wake) => setTimeout(wake, SNAPSHOT_WAIT_MS));
    }
  }

  get rewriteInProgress(): boolean {
    return this.rewriting;
  }

  /**
   * A new base of the keyspace now and a new, empty incremental file; turns the AOF on if it was off.
   * The first base, made at startup, is not counted in INFO's aof_rewrites (as in Redis).
   */
  async rewrite(counted = true): Promise<boolean> {
    if (this.rewriting) {
      this.rewriteScheduled = true;
      return false;
    }
    this.rewriting = true;
    this.rewriteScheduled = false;
    this.rewriteStartedAt = performance.now();
    const directory = this.directory;
    const turningOn = this.fd === undefined;
    let previous = this.manifest;
    const baseSeq = (previous?.base?.seq ?? 0) + 1;
    const incrSeq = (previous?.incrementals.at(-1)?.seq ?? 0) + 1;
    const rdbBase = this.config.bool('aof-use-rdb-preamble');
    const base = { name: baseFileName(this.prefix, baseSeq, rdbBase), seq: baseSeq, type: 'b' as const };
    const incremental = { name: incrementalFileName(this.prefix, incrSeq), seq: incrSeq, type: 'i' as const };
    this.logger.info('Background append only file rewriting started');
    try {
      mkdirSync(directory, { recursive: true });
      // The stream runs from before the snapshot, so that nothing between it and the new file is missed.
      await this.consume();
      const target = join(directory, base.name);
      /**
       * At the snapshot's instant: records so far belong to writes the base holds, so they go to the old
       * incremental file (or nowhere, when turning on), and the new one takes every later record. Until
       * the base is written, the old base and every incremental file, the new one included, are the AOF.
       */
      const switchFiles = () => {
        this.stream.drainGroups();
        this.beforeReplies();
        const fd = openSync(join(directory, incremental.name), 'a');
        if (!turningOn && previous !== undefined) {
          previous = { base: previous.base, incrementals: [...previous.incrementals, incremental] };
          writeManifest(directory, this.prefix, previous);
          this.manifest = previous;
        }
        this.closeFile();
        this.fd = fd;
        this.incrementalSize = 0;
        this.selectedDb = -1;
        this.buffer.clear();
      };
      if (rdbBase && this.snapshots !== undefined) await this.backgroundBase(target, switchFiles);
      else {
        // The first base at startup, before the front (and its background snapshots) exists.
        if (rdbBase) await saveWithShardsHeld(this.everyShard, target, { compression: this.config.bool('rdbcompression'), checksum: this.config.bool('rdbchecksum') });
        else await keyspaceCommands(this.everyShard, target);
        // Nothing awaits from the snapshot's answer to here: no record can arrive before the switch.
        switchFiles();
      }
      const manifest: AofManifest = { base, incrementals: [incremental] };
      writeManifest(directory, this.prefix, manifest);
      this.manifest = manifest;
      if (previous !== undefined) {
        for (const old of [...(previous.base === undefined ? [] : [previous.base]), ...previous.incrementals]) {
          // previous may list the new incremental file already (a background base switched to it).
          if (old.name !== base.name && old.name !== incremental.name) rmSync(join(directory, old.name), { force: true });
        }
      }
      syncDirectory(directory);
      this.currentSize = this.filesSize(manifest);
      this.rewriteBaseSize = this.currentSize;
      if (counted) this.rewrites++;
      this.consecutiveFailures = 0;
      this.lastRewriteStatus = 'ok';
      this.logger.info('Background AOF rewrite finished successfully');
      // BGREWRITEAOF with appendonly no writes the files and leaves the AOF off.
      if (!this.config.bool('appendonly')) await this.stop();
      return true;
    } catch (error) {
      this.lastRewriteStatus = 'err';
      this.consecutiveFailures++;
      this.logger.warn({ error: (error as Error).message }, 'Background AOF rewrite failed');
      rmSync(join(directory, base.name), { force: true });
      if (turningOn) {
        // Turning on failed: the stream goes off again, as the AOF stays off.
        this.closeFile();
        rmSync(join(directory, incremental.name), { force: true });
        this.consuming = false;
        await this.stream.remove(this);
      }
      return false;
    } finally {
      this.lastRewriteSeconds = Math.round((performance.now() - this.rewriteStartedAt) / 1000);
      this.rewriting = false;
      if (this.rewriteScheduled && this.fd !== undefined) void this.rewrite();
    }
  }

  private async consume(): Promise<void> {
    if (this.consuming) return;
    this.consuming = true;
    await this.stream.add(this);
    this.timer ??= setInterval(() => this.cron(), FSYNC_PERIOD_MS).unref();
  }

  /** Once a second: everysec's background fsync, and auto-aof-rewrite-percentage's check. */
  private cron(): void {
    if (this.writeError !== undefined) this.beforeReplies();
    if (this.fd !== undefined && this.config.get('appendfsync') === 'everysec' && !this.fsyncRunning) {
      this.beforeReplies();
      this.fsyncRunning = true;
      fdatasync(this.fd, () => (this.fsyncRunning = false));
    }
    const percentage = this.config.number('auto-aof-rewrite-percentage');
    if (this.fd === undefined || this.rewriting || percentage === 0 || this.currentSize <= this.config.number('auto-aof-rewrite-min-size')) return;
    const base = this.rewriteBaseSize === 0 ? 1 : this.rewriteBaseSize;
    const growth = Math.floor((this.currentSize * 100) / base) - 100;
    if (growth >= percentage) {
      this.logger.info({ growth }, `Starting automatic rewriting of AOF on ${growth}% growth`);
      void this.rewrite();
    }
  }

  /** CONFIG SET appendonly no: the stream stops and the file is synced and closed. */
  private async stop(): Promise<void> {
    this.consuming = false;
    await this.stream.remove(this);
    this.close();
  }

  /** Shutdown: what is buffered is written and synced. */
  close(): void {
    this.beforeReplies();
    this.closeFile();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    try {
      fdatasyncSync(this.fd);
    } catch (error) {
      this.logger.warn({ error: (error as Error).message }, 'Error syncing the AOF file before closing it');
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private filesSize(manifest: AofManifest): number {
    const files = [...(manifest.base === undefined ? [] : [manifest.base]), ...manifest.incrementals];
    return files.reduce((sum, file) => {
      const path = join(this.directory, file.name);
      return sum + (existsSync(path) ? statSync(path).size : 0);
    }, 0);
  }

  /** INFO persistence's aof_* fields, in Redis 7.0's order (the size ones only while the AOF is on). */
  infoFields(): [string, number | string][] {
    const on = this.consuming;
    const fields: [string, number | string][] = [
      ['aof_enabled', on ? 1 : 0],
      ['aof_rewrite_in_progress', this.rewriting ? 1 : 0],
      ['aof_rewrite_scheduled', this.rewriteScheduled || this.waitingForSnapshot ? 1 : 0],
      ['aof_last_rewrite_time_sec', this.lastRewriteSeconds],
      ['aof_current_rewrite_time_sec', this.rewriting ? Math.round((performance.now() - this.rewriteStartedAt) / 1000) : -1],
      ['aof_last_bgrewrite_status', this.lastRewriteStatus],
      ['aof_rewrites', this.rewrites],
      ['aof_rewrites_consecutive_failures', this.consecutiveFailures],
      ['aof_last_write_status', this.writeError === undefined ? 'ok' : 'err'],
      ['aof_last_cow_size', this.lastCowBytes],
      ['module_fork_in_progress', 0],
      ['module_fork_last_cow_size', 0],
    ];
    if (!on) return fields;
    return [
      ...fields,
      ['aof_current_size', this.currentSize + this.buffer.length],
      ['aof_base_size', this.rewriteBaseSize],
      ['aof_pending_rewrite', this.rewriteScheduled ? 1 : 0],
      ['aof_buffer_length', this.buffer.length],
      ['aof_pending_bio_fsync', this.fsyncRunning ? 1 : 0],
      ['aof_delayed_fsync', 0],
    ];
  }
}
