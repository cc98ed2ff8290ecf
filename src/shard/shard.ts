/**
 * A shard: one arena and the sixteen databases that live in it, executing commands one at a time, in
 * order, as single-threaded Redis does for the keys it owns. It knows nothing of threads or sockets:
 * worker.ts runs it behind a channel, tests run it directly, and the embedding API will too.
 *
 * Idle work, as Redis's serverCron does it: active expiry on every database and a slice of incremental
 * rehashing, within a time budget, whenever the worker has had no request for a while or at least every
 * IDLE_PERIOD_MS under load. Values deleted lazily (UNLINK, FLUSHALL ASYNC) are freed in slices
 * between batches of requests, and without pause while there are none (lazy-free.ts); active
 * defragmentation runs in slices between batches too, within its CPU share (defrag.ts).
 */
import { AllocatorError, Arena, type ArenaOptions, type ArenaStats } from 'native-free-alloc';
import { serveBlocked } from '../commands/blocking.js';
import type { Blocker } from '../commands/context.js';
import { execute } from '../commands/dispatch.js';
import { CommandFlag, CommandTable } from '../commands/table.js';
import { ReplyTooLargeError, ReplyWriter } from '../protocol/reply-writer.js';
import { ERR_DB_INDEX_OUT_OF_RANGE, OOM } from '../protocol/errors.js';
import { Database } from './database.js';
import { defaultCollectionLimits, type CollectionLimits } from '../collections/limits.js';
import { LazyFree } from './lazy-free.js';
import { KeyspaceSignals } from './keyspace-signals.js';
import { BlockedWaiters, blockedReply } from './blocked-waiters.js';
import { applyShardSettings, type ShardSettings } from './settings.js';
import { defaultAccessTracking } from './access-clock.js';
import { EvictionOutcome, Evictor } from './eviction.js';
import { MemoryBoard, type BoardSeat } from './memory-board.js';
import { ShardSnapshots } from './snapshots.js';
import { ActiveDefrag } from './defrag.js';

export const DATABASES = 16;

export interface ShardStats {
  /** Per database; overheads are the bytes of its bookkeeping (Database.overhead) for MEMORY STATS. */
  databases: { keys: number; expires: number; avgTtl: number; overheadMain: number; overheadExpires: number }[];
  /** The arena's allocated bytes once the shard had made its empty databases (MEMORY STATS startup.allocated). */
  startupAllocated: number;
  /** The part of startupAllocated that is the databases' overhead, so that overheads are not counted twice. */
  startupOverhead: number;
  expiredKeys: number;
  hits: number;
  misses: number;
  /** Redis's server.dirty: changes since the shard started. */
  dirty: number;
  lazyfreePendingObjects: number;
  lazyfreedObjects: number;
  evictedKeys: number;
  /** ms over maxmemory: finished stretches, and the current one (0 while under). */
  evictionExceededMs: number;
  evictionCurrentExceededMs: number;
  /** Active defragmentation: Redis's INFO figures (running is the cycle's CPU percent, 0 when none). */
  defrag: { running: number; hits: number; misses: number; keyHits: number; keyMisses: number; totalMs: number; currentMs: number };
  arena: ArenaStats;
}
/** Redis runs its cron at hz 10. */
export const IDLE_PERIOD_MS = 100;
/** Redis's slow expire cycle may take 25% of a cron period; it stops early once few sampled keys are stale. */
const EXPIRE_BUDGET_MS = IDLE_PERIOD_MS / 4;
/** How often a shard with a memory budget looks at the board while it has no requests: others' writes may fill it. */
const BUDGET_POLL_MS = 5;
/** Redis's incrementallyRehash gives each rehashing database 1 ms per cron. */
const REHASH_BUDGET_MS = 1;

export interface ShardOptions {
  arena?: ArenaOptions;
  databases?: number;
  /** The largest reply a command may build (DEFAULT_MAX_REPLY_BYTES unless set). */
  maxReplyBytes?: number;
  /** The configured encoding thresholds, lazyfree switches and so on; Redis's defaults for any left out. */
  settings?: Partial<ShardSettings>;
  /**
   * This shard's seat on the pool's memory board, where maxmemory is enforced across shards. Without
   * one the shard never evicts (the front's scratch shard for cross-shard commands).
   */
  board?: BoardSeat;
}

export class Shard {
  readonly arena: Arena;
  readonly databases: Database[];
  /** Changed in place by configure(); every command reads it through its context. */
  readonly limits: CollectionLimits = defaultCollectionLimits();
  /** Values deleted lazily wait here; idle() frees them a slice at a time. */
  readonly lazyFree: LazyFree;
  /** What writes signal: watched keys' versions, notifications, the dirty count, keys made ready. */
  readonly signals = new KeyspaceSignals();
  /** Clients blocked on this shard's keys. */
  readonly waiters = new BlockedWaiters();
  /** maxmemory: evicts this shard's keys while every shard together is over the budget. */
  readonly evictor: Evictor;
  /** Moves live allocations out of sparse pages while the shard serves (activedefrag). */
  readonly defrag: ActiveDefrag;
  /** Background snapshots (BGSAVE): the copy-on-write epoch and the thread that writes it. */
  readonly snapshots: ShardSnapshots;
  private readonly startupAllocated: number;
  private readonly startupOverhead: number;
  private readonly table = new CommandTable();
  private readonly writer = new ReplyWriter();
  private lastIdle = 0;
  /**
   * The time for expiry checks and LRU clocks, taken once per command (as Redis caches it per command)
   * and per idle round, so that no key lookup has to read the system clock.
   */
  private now = Date.now();

  constructor(options: ShardOptions = {}) {
    this.arena = new Arena(options.arena);
    this.lazyFree = new LazyFree(this.arena);
    this.defrag = new ActiveDefrag(this.arena, () => this.databases);
    this.signals.keyReady = this.waiters.keyReady;
    this.signals.databaseReady = this.waiters.databaseReady;
    if (options.maxReplyBytes !== undefined) this.writer.maxBytes = options.maxReplyBytes;
    const access = defaultAccessTracking();
    this.databases = Array.from(
      { length: options.databases ?? DATABASES },
      (_, index) => new Database(this.arena, () => this.now, { lazyFree: this.lazyFree, signals: this.signals, index, access }),
    );
    const board = options.board === undefined ? undefined : new MemoryBoard(options.board.buffer);
    this.snapshots = new ShardSnapshots(this.arena, this.databases);
    this.evictor = new Evictor(this.databases, this.arena, this.lazyFree, access, board, options.board?.index ?? 0, () => this.now);
    this.configure(options.settings ?? {});
    this.signals.presence = {
      holds: (db, key) => this.databases[db].holds(key),
      expired: (db, key) => this.databases[db].isExpiredKey(key),
    };
    this.startupAllocated = this.arena.stats().allocatedBytes;
    this.startupOverhead = this.databases.reduce((sum, db) => sum + db.overhead().main + db.overhead().expires, 0);
  }

  /**
   * Runs one command against database `db` and returns its RESP reply, a view valid until the next
   * call. `command` is the CommandSpec.index the front found, or −1 to look argv[0] up here. A non-zero
   * `token` lets a blocking command block, waiting under that token (blocked-waiters.ts).
   */
  execute(db: number, protocol: 2 | 3, argv: readonly Buffer[], command = -1, token = 0, step = false): Buffer {
    const writer = this.writer;
    writer.clear();
    writer.protocol = protocol;
    const database = this.databases[db];
    if (database === undefined) writer.error(ERR_DB_INDEX_OUT_OF_RANGE);
    else {
      const spec = command >= 0 ? this.table.at(command) : this.table.lookup(argv[0]);
      database.countingReads = spec !== undefined && (spec.flags & CommandFlag.readonly) !== 0 ? 1 : 0;
      // The events of one command at a time: whoever runs the shard takes them after the command.
      this.signals.events.length = 0;
      try {
        const now = (this.now = Date.now());
        // As Redis's processCommand, eviction runs before any command while memory is over the budget,
        // and a command that may add data is refused if it failed (not a step of one admitted whole:
        // frames.ts REQUEST_STEP); its events go out with the command's.
        if (this.evictor.active && this.evictor.run() === EvictionOutcome.Fail && !step && spec !== undefined && (spec.flags & CommandFlag.denyoom) !== 0) writer.error(OOM);
        else {
          const blocker = token === 0 ? undefined : this.blocker(token, db, protocol, argv);
          const propagate = this.signals.propagation;
          propagate?.begin(this.signals.dirty);
          execute(spec, { db: database, reply: writer, now, databases: this.databases, dbIndex: db, limits: this.limits, blocker, propagate }, argv);
        }
      } catch (error) {
        this.replaceReply(error);
      }
      this.signals.propagation?.end(db, argv, this.signals.dirty);
      this.evictor.post();
    }
    return writer.written();
  }

  /** Reads the clock anew for work that is not a command: the WATCH operations judge expiry by it. */
  tick(): void {
    this.now = Date.now();
  }

  /**
   * Redis's handleClientsBlockedOnKeys, run after every request: serves the waiters of the keys the
   * request made ready, oldest first, each with its own database and protocol, before the shard runs
   * anything else. `served` gets each reply (a view valid during the call; signals.events hold its
   * keyspace events); `ready` gets the token of each notify-only waiter whose key became ready.
   */
  serveBlocked(served: (token: number, reply: Buffer) => void, ready: (token: number) => void): void {
    const waiters = this.waiters;
    for (let next = waiters.takeReady(); next !== undefined; next = waiters.takeReady()) {
      for (const waiter of waiters.waitersOn(next.db, next.key)) {
        if (waiter.argv === undefined) {
          waiters.remove(waiter.token);
          ready(waiter.token);
          continue;
        }
        const database = this.databases[waiter.db];
        if (database.lookupNoTouch(next.key) === 0) break;
        const writer = this.writer;
        writer.clear();
        writer.protocol = waiter.protocol;
        database.countingReads = 0;
        this.signals.events.length = 0;
        let answered: boolean;
        const propagate = this.signals.propagation;
        propagate?.begin(this.signals.dirty);
        try {
          const now = (this.now = Date.now());
          answered = serveBlocked({ db: database, reply: writer, now, databases: this.databases, dbIndex: waiter.db, limits: this.limits, propagate }, waiter.argv, next.key);
        } catch (error) {
          this.replaceReply(error);
          answered = true;
        }
        propagate?.end(waiter.db, waiter.argv, this.signals.dirty);
        if (!answered) continue;
        waiters.remove(waiter.token);
        served(waiter.token, writer.written());
      }
    }
  }

  /** What a blocking command registers itself with when its keys are empty. */
  private blocker(token: number, db: number, protocol: 2 | 3, argv: readonly Buffer[]): Blocker {
    return {
      block: (keys, timeoutMs) => {
        this.waiters.add(token, db, protocol, argv.map((arg) => Buffer.from(arg)), keys);
        this.writer.raw(blockedReply(timeoutMs));
      },
    };
  }

  /**
   * A command threw. The arena refused memory: the write paths allocate before they change anything, so
   * the data is as it was; the client gets Redis's out-of-memory error instead of any partial reply. A
   * reply past the writer's limit is refused likewise: reads change nothing, but a pop (LPOP, SPOP,
   * ZPOPMIN with a count over a gigabyte of elements) has removed what it had written.
   */
  private replaceReply(error: unknown): void {
    const writer = this.writer;
    if (error instanceof AllocatorError) {
      writer.clear();
      writer.error(OOM);
    } else if (error instanceof ReplyTooLargeError) {
      writer.clear();
      writer.error(error.message);
    } else throw error;
  }

  /** Takes new values of configuration parameters (ShardOp.Configure). */
  configure(settings: Partial<ShardSettings>): void {
    applyShardSettings(settings, { limits: this.limits, lazyFree: this.lazyFree.settings, signals: this.signals, evictor: this.evictor, defrag: this.defrag.settings });
    this.evictor.post();
  }

  /** What INFO and DBSIZE-like figures need from this shard, read now. */
  stats(): ShardStats {
    const databases = this.databases.map((db) => {
      const overhead = db.overhead();
      return { keys: db.size, expires: db.volatileCount, avgTtl: Math.round(db.avgTtl), overheadMain: overhead.main, overheadExpires: overhead.expires };
    });
    const sum = (pick: (db: Database) => number) => this.databases.reduce((total, db) => total + pick(db), 0);
    return {
      databases,
      startupAllocated: this.startupAllocated,
      startupOverhead: this.startupOverhead,
      expiredKeys: sum((db) => db.expiredKeys),
      hits: sum((db) => db.hits),
      misses: sum((db) => db.misses),
      dirty: this.signals.dirty,
      lazyfreePendingObjects: this.lazyFree.pendingObjects,
      lazyfreedObjects: this.lazyFree.freedObjects,
      evictedKeys: this.evictor.evictedKeys,
      evictionExceededMs: this.evictor.exceededMs,
      evictionCurrentExceededMs: this.evictor.currentExceededMs(),
      defrag: {
        running: this.defrag.running,
        hits: this.defrag.hits,
        misses: this.defrag.misses,
        keyHits: this.defrag.keyHits,
        keyMisses: this.defrag.keyMisses,
        totalMs: this.defrag.totalMs(),
        currentMs: this.defrag.currentMs(),
      },
      arena: this.arena.stats(),
    };
  }

  /** How long the worker may wait for a request before idle() has work: 0 while background work is due. */
  idleWaitMs(): number {
    if (this.lazyFree.pending || this.evictor.running) return 0;
    return Math.min(this.evictor.active ? BUDGET_POLL_MS : IDLE_PERIOD_MS, this.defrag.waitMs());
  }

  /**
   * Spare-time work: a slice of background freeing whenever some is queued, eviction while memory is
   * over the budget (Redis's evictionTimeProc), and the periodic work at most every IDLE_PERIOD_MS.
   */
  idle(now = performance.now()): void {
    if (this.lazyFree.pending) this.lazyFree.run();
    if (this.evictor.active) {
      this.now = Date.now();
      this.evictor.run();
    }
    this.evictor.post();
    this.defrag.run(now);
    if (now - this.lastIdle < IDLE_PERIOD_MS) return;
    this.lastIdle = now;
    this.now = Date.now();
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
