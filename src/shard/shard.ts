/**
 * A shard: one arena and the sixteen databases that live in it, executing commands one at a time, in
 * order, as single-threaded Redis does for the keys it owns. It knows nothing of threads or sockets:
 * worker.ts runs it behind a channel, tests run it directly, and the embedding API will too.
 *
 * Idle work, as Redis's serverCron does it: active expiry on every database and a slice of incremental
 * rehashing, within a time budget, whenever the worker has had no request for a while or at least every
 * IDLE_PERIOD_MS under load.
 */
import { AllocatorError, Arena, type ArenaOptions } from 'native-free-alloc';
import { execute } from '../commands/dispatch.js';
import { CommandTable } from '../commands/table.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import { ERR_DB_INDEX_OUT_OF_RANGE, OOM } from '../protocol/errors.js';
import { Database } from './database.js';

export const DATABASES = 16;
/** Redis runs its cron at hz 10. */
export const IDLE_PERIOD_MS = 100;
/** Redis's slow expire cycle may take 25% of a cron period; it stops early once few sampled keys are stale. */
const EXPIRE_BUDGET_MS = IDLE_PERIOD_MS / 4;
/** Redis's incrementallyRehash gives each rehashing database 1 ms per cron. */
const REHASH_BUDGET_MS = 1;

export interface ShardOptions {
  arena?: ArenaOptions;
  databases?: number;
  /** rename-command from the configuration: [old name, new name or "" to remove]. */
  renames?: readonly (readonly [string, string])[];
}

export class Shard {
  readonly arena: Arena;
  readonly databases: Database[];
  private readonly table = new CommandTable();
  private readonly writer = new ReplyWriter();
  private lastIdle = 0;

  constructor(options: ShardOptions = {}) {
    this.arena = new Arena(options.arena);
    for (const [from, to] of options.renames ?? []) this.table.rename(from, to);
    this.databases = Array.from({ length: options.databases ?? DATABASES }, () => new Database(this.arena));
  }

  /** Runs one command against database `db` and returns its RESP reply. */
  execute(db: number, protocol: 2 | 3, argv: readonly Buffer[]): Buffer {
    const writer = this.writer;
    writer.protocol = protocol;
    const database = this.databases[db];
    if (database === undefined) writer.error(ERR_DB_INDEX_OUT_OF_RANGE);
    else {
      try {
        execute(this.table, { db: database, reply: writer, now: Date.now() }, argv);
      } catch (error) {
        // The arena refused memory: the write paths allocate before they change anything, so the data
        // is as it was; the client gets Redis's out-of-memory error instead of any partial reply.
        if (!(error instanceof AllocatorError)) throw error;
        writer.take();
        writer.error(OOM);
      }
    }
    return writer.take();
  }

  /** Periodic work; returns quickly when it ran less than IDLE_PERIOD_MS ago. */
  idle(now = performance.now()): void {
    if (now - this.lastIdle < IDLE_PERIOD_MS) return;
    this.lastIdle = now;
    const deadline = now + EXPIRE_BUDGET_MS;
    for (const database of this.databases) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      if (database.volatileCount > 0) database.activeExpireCycle(left);
    }
    // Also where sparse tables start shrinking; a no-op for a table that needs nothing.
    for (const database of this.databases) database.dict.rehashForMilliseconds(REHASH_BUDGET_MS);
    this.arena.publishStats();
  }
}
