/**
 * The server's RDB file: SAVE, BGSAVE and save points, loading at startup and saving at shutdown, and
 * the figures LASTSAVE and INFO persistence report. Every shard writes or reads its own keys at once
 * (rdb-files.ts); the front joins the shards' parts into one file.
 *
 * SAVE runs with every shard held, each writing its part itself, as Redis's SAVE blocks its one thread.
 * BGSAVE holds every shard only for the instant it takes each to open a copy-on-write epoch
 * (shard/snapshots.ts), so the file is one instant of the whole keyspace (a multi-shard MSET or EXEC is
 * wholly in it or not at all); the shards' writer threads then write their parts while the shards serve,
 * the front polls them, and a thread of its own joins the parts.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { BACKGROUND_PART_TAG, joinRdbParts, rdbPartPath, removeRdbParts, type RdbJoinOptions } from '../persistence/rdb-files.js';
import type { RdbJoinJob } from '../persistence/rdb-join-worker.js';
import { ShardOp } from '../shard/frames.js';
import type { SnapshotStatus } from '../shard/snapshots.js';

/** Runs a shard operation on every shard; each gets its args plus `shard` and `shards`. */
export type EveryShard = (operation: number, args: object) => Promise<unknown[]>;

/** How the front reaches its shards for the server's own saves. */
export interface ShardAccess {
  /** Every shard held still at one instant, as EXEC holds them. */
  held: EveryShard;
  /** Every shard, each in its own turn. */
  each: EveryShard;
}

export type ShardOutcome = { keys: number; dirty: number; expiredSkipped?: number } | { error: string };

/** The shards' counts summed, or the first error one reported thrown. */
export function summed(outcomes: readonly ShardOutcome[]): { keys: number; dirty: number; expiredSkipped: number } {
  const failed = outcomes.find((outcome) => 'error' in outcome);
  if (failed !== undefined) throw new Error((failed as { error: string }).error);
  const sum = { keys: 0, dirty: 0, expiredSkipped: 0 };
  for (const outcome of outcomes as { keys: number; dirty: number; expiredSkipped?: number }[]) {
    sum.keys += outcome.keys;
    sum.dirty += outcome.dirty;
    sum.expiredSkipped += outcome.expiredSkipped ?? 0;
  }
  return sum;
}

/**
 * Writes the keyspace to the RDB file `target` with every shard held while each writes its part (SAVE's
 * path, and an AOF's first base, before any client); throws what a shard or the join reported.
 */
export async function saveWithShardsHeld(everyShard: EveryShard, target: string, options: RdbJoinOptions): Promise<{ keys: number; dirty: number }> {
  const outcomes = (await everyShard(ShardOp.SaveRdbPart, { target, compression: options.compression })) as ShardOutcome[];
  const parts = outcomes.map((_, shard) => rdbPartPath(target, shard));
  try {
    const counts = summed(outcomes);
    joinRdbParts(target, parts, options);
    return counts;
  } finally {
    removeRdbParts(parts);
  }
}

/** How often a running background save is polled, and how often save points are checked. */
const POLL_MS = 10;
const SAVE_POINT_CHECK_MS = 100;
/** A long background save says how far it has got this often. */
const PROGRESS_LOG_MS = 1000;
/** After a failed background save, save points try again only this much later (Redis's CONFIG_BGSAVE_RETRY_DELAY). */
const RETRY_DELAY_SECONDS = 5;

export const ERR_BGSAVE_IN_PROGRESS = 'ERR Background save already in progress';
export const ERR_CHILD_ACTIVE = "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";
export const MISCONF =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/** What a background snapshot is for: BGSAVE's RDB file, or an AOF rewrite's base. */
export type SnapshotPurpose = 'rdb' | 'aof';

interface RunningSnapshot {
  purpose: SnapshotPurpose;
  /** A foreground save of the same file superseded it (SAVE, SHUTDOWN, FLUSHALL): its parts are dropped, not joined. */
  superseded: boolean;
  /** performance.now() when it started. */
  started: number;
  /** Each shard's final status, once it has reported one. */
  finished: (SnapshotStatus | undefined)[];
  /** Keys written so far (INFO's current_save_keys_processed). */
  keys: number;
}

export interface SnapshotOutcome {
  /** Why the file could not be written; undefined when it was. */
  error?: string;
  /** A foreground save of the same file came first: this one was dropped (see RunningSnapshot). */
  superseded: boolean;
  keys: number;
  /** Bytes the shards copied aside because they were written meanwhile. */
  cowBytes: number;
  seconds: number;
  /** The shards' change counts when the epochs opened: what the file holds. */
  dirty: number;
}

/** The `save` parameter's points: save after `seconds` when at least `changes` were made. */
function savePoints(value: string): { seconds: number; changes: number }[] {
  const words = value.trim().split(/\s+/).filter((word) => word !== '');
  const points = [];
  for (let i = 0; i + 1 < words.length; i += 2) points.push({ seconds: Number(words[i]), changes: Number(words[i + 1]) });
  return points;
}

export class Persistence {
  /** LASTSAVE: seconds since the epoch of the last successful save, or of startup. */
  lastSave = Math.floor(Date.now() / 1000);
  /** INFO's rdb_last_bgsave_status, as Redis's foreground save also sets it. */
  lastStatus: 'ok' | 'err' = 'ok';
  /** The shards' change counts (Redis's server.dirty) when the file last matched the keyspace. */
  private dirtyAtSave = 0;
  /** INFO's rdb_saves: saves started since startup (a failed one counts, as in Redis). */
  saves = 0;
  /**
   * INFO's latest_fork_usec, sabre's counterpart of Redis's fork time: from asking for every shard to
   * each having opened its epoch (the only stretch a background save holds the shards).
   */
  lastEpochMicros = 0;
  /** INFO's total_forks: background snapshots started (BGSAVE's and AOF rewrites'), as Redis counts its forks. */
  snapshotsStarted = 0;
  /** INFO's rdb_last_load_keys_loaded and _expired: what the last load read. */
  lastLoad = { keys: 0, expired: 0 };
  /** INFO's rdb_last_bgsave_time_sec: -1 until a background save has finished. */
  lastBackgroundSeconds = -1;
  private running: RunningSnapshot | undefined;
  /** BGSAVE SCHEDULE asked while an AOF rewrite's snapshot ran. */
  private backgroundSaveScheduled = false;
  /** Unix seconds of the last background save started, for the retry delay after a failure. */
  private lastBackgroundTry = 0;
  private access: ShardAccess | undefined;
  private savePointTimer: NodeJS.Timeout | undefined;
  private checkingSavePoints = false;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  /** Gives the front's ways to its shards, and starts checking save points. */
  attach(access: ShardAccess): void {
    this.access = access;
    this.savePointTimer = setInterval(() => void this.checkSavePoints(), SAVE_POINT_CHECK_MS);
    this.savePointTimer.unref();
  }

  /** Stops checking save points (the server is stopping). */
  detach(): void {
    clearInterval(this.savePointTimer);
  }

  /** INFO's rdb_bgsave_in_progress. */
  get backgroundInProgress(): boolean {
    return this.running?.purpose === 'rdb';
  }

  /** INFO's rdb_current_bgsave_time_sec: -1 when none runs. */
  get currentBackgroundSeconds(): number {
    return this.running?.purpose === 'rdb' ? Math.floor((performance.now() - this.running.started) / 1000) : -1;
  }

  /** INFO's current_save_keys_processed: the keys the running snapshot has written. */
  get keysProcessed(): number {
    return this.running?.keys ?? 0;
  }

  /** Whether writes get -MISCONF: a background save failed while save points and stop-writes-on-bgsave-error are set. */
  get refusesWrites(): boolean {
    return this.lastStatus === 'err' && this.savesOnShutdown && this.config.bool('stop-writes-on-bgsave-error');
  }

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

  /**
   * BGSAVE: starts a background save and resolves once every shard has opened its epoch, or with
   * Redis's error when one is running already. `queued` is called once the epochs' opening is queued
   * on the shards (or the save refused). With `schedule`, a save that cannot start now because an AOF
   * rewrite's snapshot runs starts when that ends.
   */
  async backgroundSave(held: EveryShard = this.access!.held, queued?: () => void, schedule = false): Promise<{ error?: string; scheduled?: boolean }> {
    const running = this.running?.purpose;
    if (running !== undefined) {
      queued?.();
      if (running === 'rdb') return { error: ERR_BGSAVE_IN_PROGRESS };
      if (!schedule) return { error: ERR_CHILD_ACTIVE };
      this.backgroundSaveScheduled = true;
      return { scheduled: true };
    }
    this.saves++;
    this.lastBackgroundTry = Math.floor(Date.now() / 1000);
    const target = this.file;
    const started = (await this.snapshot(target, 'rdb', held, { queued }))!;
    this.logger.info({ file: target }, 'Background saving started');
    void started.done.then((outcome) => {
      this.lastBackgroundSeconds = Math.round(outcome.seconds);
      // As Redis's child killed for a foreground save: no error, and the newer file stands.
      if (outcome.superseded) this.logger.warn({ file: target }, 'Background saving terminated: a foreground save superseded it');
      else if (outcome.error === undefined) {
        this.saved(outcome.dirty);
        this.logger.info({ keys: outcome.keys, file: target, seconds: outcome.seconds.toFixed(3) }, 'DB saved on disk');
        this.logger.info('Background saving terminated with success');
      } else {
        this.lastStatus = 'err';
        this.logger.warn({ error: outcome.error, file: target }, 'Background saving error');
      }
    });
    return {};
  }

  /** Whether a background snapshot (a BGSAVE's or an AOF rewrite's) is running: there is one epoch at a time. */
  get snapshotRunning(): boolean {
    return this.running !== undefined;
  }

  /**
   * Writes the keyspace as it is at one instant to the RDB file `target`, from copy-on-write snapshots
   * (see the top of this file). Resolves once every shard has opened its epoch, `atInstant` having run
   * at that instant (before any later write can reach the front); `done` resolves when the file is
   * written or the snapshot failed. Undefined when a snapshot is running already.
   */
  async snapshot(target: string, purpose: SnapshotPurpose, held: EveryShard, hooks: { queued?: () => void; atInstant?: () => void } = {}): Promise<{ done: Promise<SnapshotOutcome> } | undefined> {
    if (this.running !== undefined) return undefined;
    const { each } = this.access!;
    const running: RunningSnapshot = { purpose, superseded: false, started: performance.now(), finished: [], keys: 0 };
    this.running = running;
    this.snapshotsStarted++;
    await each(ShardOp.PrepareSnapshot, {});
    const asked = performance.now();
    const opening = held(ShardOp.BeginSnapshot, { target, compression: this.config.bool('rdbcompression') });
    hooks.queued?.();
    const outcomes = (await opening) as { started: boolean; dirty: number }[];
    hooks.atInstant?.();
    this.lastEpochMicros = Math.round((performance.now() - asked) * 1000);
    running.finished = outcomes.map(() => undefined);
    const dirty = outcomes.reduce((sum, outcome) => sum + outcome.dirty, 0);
    return { done: this.follow(running, each, target, dirty) };
  }

  /** Polls the shards until every part is written, then joins them on a thread of its own. */
  private async follow(running: RunningSnapshot, each: EveryShard, target: string, dirty: number): Promise<SnapshotOutcome> {
    let logged = running.started;
    while (running.finished.includes(undefined)) {
      if (performance.now() - logged >= PROGRESS_LOG_MS) {
        logged = performance.now();
        this.logger.info({ keys: running.keys, purpose: running.purpose }, 'Background snapshot in progress');
      }
      await new Promise((wake) => setTimeout(wake, POLL_MS));
      const statuses = (await each(ShardOp.SnapshotStatus, {})) as SnapshotStatus[];
      let keys = 0;
      statuses.forEach((status, shard) => {
        if (status.state === 'done' || status.state === 'failed') running.finished[shard] = status;
        const known = running.finished[shard] ?? status;
        if (known.state === 'running' || known.state === 'done') keys += known.keys;
      });
      running.keys = keys;
    }
    const parts = running.finished.map((_, shard) => rdbPartPath(target, shard, BACKGROUND_PART_TAG));
    let error: string | undefined;
    for (const status of running.finished) if (status?.state === 'failed') error = status.error;
    if (error === undefined && !running.superseded) error = await this.joinInBackground({ target, parts, options: this.joinOptions(), tag: BACKGROUND_PART_TAG });
    else removeRdbParts(parts);
    const cowBytes = running.finished.reduce((sum, status) => sum + (status?.state === 'done' ? status.cowBytes : 0), 0);
    // Pages copied aside only accumulate within an epoch, so at its end the current figure is the peak.
    const mb = Math.round(cowBytes / 2 ** 20);
    this.logger.info({ cowBytes }, `Copy-on-write for ${running.purpose === 'rdb' ? 'RDB' : 'AOF rewrite'}: current ${mb} MB, peak ${mb} MB`);
    this.running = undefined;
    if (this.backgroundSaveScheduled) {
      this.backgroundSaveScheduled = false;
      void this.backgroundSave();
    }
    return { error, superseded: running.superseded, keys: running.keys, cowBytes, seconds: (performance.now() - running.started) / 1000, dirty };
  }

  private joinInBackground(job: RdbJoinJob): Promise<string | undefined> {
    return new Promise((done) => {
      const worker = new Worker(new URL('../persistence/rdb-join-worker.js', import.meta.url), { workerData: job });
      worker.once('message', (outcome: { ok: boolean; error?: string }) => done(outcome.ok ? undefined : outcome.error));
      worker.once('error', (error) => done(error.message));
    });
  }

  private joinOptions(): RdbJoinJob['options'] {
    return { compression: this.config.bool('rdbcompression'), checksum: this.config.bool('rdbchecksum') };
  }

  /** Records a successful save of the keyspace as it was at `dirty` changes. */
  private saved(dirty: number): void {
    this.dirtyAtSave = dirty;
    this.lastSave = Math.floor(Date.now() / 1000);
    this.lastStatus = 'ok';
  }

  /** Redis's serverCron check: the first save point whose time and change count have both passed starts a BGSAVE. */
  private async checkSavePoints(): Promise<void> {
    if (this.running !== undefined || this.checkingSavePoints || !this.savesOnShutdown) return;
    const now = Math.floor(Date.now() / 1000);
    if (this.lastStatus === 'err' && now - this.lastBackgroundTry <= RETRY_DELAY_SECONDS) return;
    this.checkingSavePoints = true;
    try {
      const stats = (await this.access!.each(ShardOp.Stats, {})) as { dirty: number }[];
      const changes = this.changesSince(stats.reduce((sum, shard) => sum + shard.dirty, 0));
      const due = savePoints(this.config.get('save')).find((point) => changes >= point.changes && now - this.lastSave > point.seconds);
      if (due === undefined || this.running !== undefined) return;
      this.logger.info({ changes, seconds: due.seconds }, `${changes} changes in ${due.seconds} seconds. Saving...`);
      await this.backgroundSave();
    } finally {
      this.checkingSavePoints = false;
    }
  }

  /** FLUSHALL's save when save points are set: the file becomes the empty keyspace at once (not counted in rdb_saves, as in Redis). */
  async saveFlushed(everyShard: EveryShard): Promise<void> {
    await this.save(everyShard, false);
  }

  /**
   * SAVE: writes the file; false (logged) when it could not, the old file then left as it was. A BGSAVE
   * running now is superseded, as Redis kills its child first: its older image must not land on the
   * file after this one (it keeps files of its own meanwhile). An AOF rewrite's snapshot goes on.
   */
  async save(everyShard: EveryShard, countedAsSave = true): Promise<boolean> {
    if (this.running?.purpose === 'rdb') this.running.superseded = true;
    if (countedAsSave) this.saves++;
    const target = this.file;
    const started = performance.now();
    let counts: { keys: number; dirty: number };
    try {
      counts = await saveWithShardsHeld(everyShard, target, this.joinOptions());
    } catch (error) {
      this.lastStatus = 'err';
      this.logger.warn({ error: (error as Error).message, file: target }, 'Failed saving the DB');
      return false;
    }
    this.saved(counts.dirty);
    this.logger.info({ keys: counts.keys, file: target, ms: Math.round(performance.now() - started) }, 'DB saved on disk');
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
    let counts: { keys: number; dirty: number; expiredSkipped: number };
    try {
      counts = summed(outcomes);
    } catch (error) {
      throw new Error(`Unrecoverable error loading the RDB file ${target}: ${(error as Error).message}`);
    }
    this.dirtyAtSave = counts.dirty;
    const { keys, expiredSkipped: expired } = counts;
    this.lastLoad = { keys, expired };
    this.logger.info({ keys, expired, seconds: ((performance.now() - started) / 1000).toFixed(3) }, 'DB loaded from disk');
  }
}
