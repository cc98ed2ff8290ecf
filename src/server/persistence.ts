/**
 * The server's RDB file (issue 7's first part): SAVE, loading at startup and saving at shutdown, and the
 * figures LASTSAVE and INFO persistence report. Every shard writes or reads its own keys at once
 * (rdb-files.ts); SAVE runs with every shard held, so the file is one instant of the whole keyspace.
 * BGSAVE and save points need the copy-on-write snapshot worker, which is still to come.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { joinRdbParts, rdbPartPath, removeRdbParts } from '../persistence/rdb-files.js';
import { ShardOp } from '../shard/frames.js';

/** Runs a shard operation on every shard at one instant; each gets its args plus `shard` and `shards`. */
export type EveryShard = (operation: number, args: object) => Promise<unknown[]>;

type ShardOutcome = { keys: number; dirty: number; expiredSkipped?: number } | { error: string };

export class Persistence {
  /** LASTSAVE: seconds since the epoch of the last successful save, or of startup. */
  lastSave = Math.floor(Date.now() / 1000);
  /** INFO's rdb_last_bgsave_status, as Redis's foreground save also sets it. */
  lastStatus: 'ok' | 'err' = 'ok';
  /** The shards' change counts (Redis's server.dirty) when the file last matched the keyspace. */
  private dirtyAtSave = 0;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  /** dbfilename in dir (the working directory, which `dir` changes). */
  get file(): string {
    return resolve(this.config.get('dbfilename'));
  }

  /** Whether save points are configured: Redis then saves at shutdown unless told NOSAVE. */
  get savesOnShutdown(): boolean {
    return this.config.get('save') !== '';
  }

  /** INFO's rdb_changes_since_last_save, from the shards' current total. */
  changesSince(totalDirty: number): number {
    return totalDirty - this.dirtyAtSave;
  }

  /** SAVE: writes the file; false (logged) when it could not, the old file then left as it was. */
  async save(everyShard: EveryShard): Promise<boolean> {
    const target = this.file;
    const started = performance.now();
    const outcomes = (await everyShard(ShardOp.SaveRdbPart, { target, compression: this.config.bool('rdbcompression') })) as ShardOutcome[];
    const parts = outcomes.map((_, shard) => rdbPartPath(target, shard));
    try {
      const failed = outcomes.find((outcome) => 'error' in outcome);
      if (failed !== undefined) throw new Error((failed as { error: string }).error);
      joinRdbParts(target, parts, { compression: this.config.bool('rdbcompression'), checksum: this.config.bool('rdbchecksum') });
    } catch (error) {
      this.lastStatus = 'err';
      this.logger.warn({ error: (error as Error).message, file: target }, 'Failed saving the DB');
      return false;
    } finally {
      removeRdbParts(parts);
    }
    const counted = outcomes as { keys: number; dirty: number }[];
    this.dirtyAtSave = counted.reduce((sum, outcome) => sum + outcome.dirty, 0);
    this.lastSave = Math.floor(Date.now() / 1000);
    this.lastStatus = 'ok';
    const keys = counted.reduce((sum, outcome) => sum + outcome.keys, 0);
    this.logger.info({ keys, file: target, ms: Math.round(performance.now() - started) }, 'DB saved on disk');
    return true;
  }

  /**
   * Loads the file at startup, if there is one. A file that cannot be read is fatal, as in Redis: the
   * error names the offset, and serving an empty keyspace over a file that holds data would lose it
   * at the next save.
   */
  async load(everyShard: EveryShard): Promise<void> {
    if (!existsSync(this.file)) return;
    this.logger.info({ file: this.file }, 'Loading RDB');
    await this.loadFile(everyShard, { flush: false, merge: false });
  }

  /** DEBUG RELOAD's load: every shard empties its databases first unless `flush` is false. */
  async reload(everyShard: EveryShard, options: { flush: boolean; merge: boolean }): Promise<boolean> {
    try {
      await this.loadFile(everyShard, options);
    } catch (error) {
      this.logger.warn({ error: (error as Error).message }, 'DEBUG RELOAD could not load the DB');
      return false;
    }
    this.logger.warn('DB reloaded by DEBUG RELOAD');
    return true;
  }

  private async loadFile(everyShard: EveryShard, options: { flush: boolean; merge: boolean }): Promise<void> {
    const target = this.file;
    const started = performance.now();
    const outcomes = (await everyShard(ShardOp.LoadRdb, { target, ...options })) as ShardOutcome[];
    const failed = outcomes.find((outcome) => 'error' in outcome);
    if (failed !== undefined) throw new Error(`Unrecoverable error loading the RDB file ${target}: ${(failed as { error: string }).error}`);
    const counted = outcomes as { keys: number; dirty: number; expiredSkipped: number }[];
    this.dirtyAtSave = counted.reduce((sum, outcome) => sum + outcome.dirty, 0);
    const keys = counted.reduce((sum, outcome) => sum + outcome.keys, 0);
    const expired = counted.reduce((sum, outcome) => sum + outcome.expiredSkipped, 0);
    this.logger.info({ keys, expired, seconds: ((performance.now() - started) / 1000).toFixed(3) }, 'DB loaded from disk');
  }
}
