/**
 * maxmemory eviction on one shard, as Redis's performEvictions: before a command runs, and in the shard's
 * spare time, while the memory every shard has allocated (the memory board) is over maxmemory, delete
 * keys the maxmemory-policy picks from this shard's databases.
 *
 * The budget is global and each shard evicts its own keys: keys are spread over the shards by hash slot,
 * so a writing shard holds its share of the cold keys too; a shard that has nothing to evict says so on
 * the board, where the front reads whether anyone can still evict before it refuses a write with -OOM.
 *
 * Choosing victims follows Redis's approximated LRU/LFU: every round samples maxmemory-samples keys per
 * database into a pool of the 16 best candidates seen so far, and evicts the best one still present. Two
 * refinements: samples are independent random keys (Redis takes a run of neighbouring buckets), and a
 * candidate touched since it was sampled is scored again instead of evicted. Values that are costly to
 * free go to the background freer (lazy-free.ts), and eviction frees what is queued there before it
 * takes another key, so a shard never stalls on one large eviction.
 *
 * Each call stops after maxmemory-eviction-tenacity's time limit (Redis's: 500 µs at the default 10);
 * the shard goes on in its idle loop.
 */
import type { Arena } from 'native-free-alloc';
import type { Database } from './database.js';
import { evictionScore, type AccessTracking } from './access-clock.js';
import type { LazyFree } from './lazy-free.js';
import type { MemoryBoard } from './memory-board.js';

/** maxmemory-policy's values; a setting carries the index. */
export const EVICTION_POLICIES = ['noeviction', 'allkeys-lru', 'volatile-lru', 'allkeys-lfu', 'volatile-lfu', 'allkeys-random', 'volatile-random', 'volatile-ttl'] as const;
export type EvictionPolicyName = (typeof EVICTION_POLICIES)[number];

const NOEVICTION = 0;

export const EVICTION_SETTING_NAMES = ['maxmemory', 'maxmemory-policy', 'maxmemory-samples', 'maxmemory-eviction-tenacity', 'lfu-log-factor', 'lfu-decay-time'] as const;
export type EvictionSettingName = (typeof EVICTION_SETTING_NAMES)[number];
export type EvictionSettings = Record<EvictionSettingName, number>;

export const enum EvictionOutcome {
  /** Under the budget (or no budget). */
  Ok,
  /** Still over: out of time for now (the idle loop goes on), or other shards have the keys to evict. */
  Running,
  /** Over, and nothing any shard holds may be evicted. */
  Fail,
}

/** Redis's EVPOOL_SIZE. */
const POOL_SIZE = 16;
/** Keys evicted between looks at the clock (Redis: 16). */
const KEYS_PER_CLOCK_CHECK = 16;

interface Candidate {
  score: number;
  db: number;
  key: Buffer;
  /** The access word when sampled: a different one now means the key was used since. */
  word: number;
}

/** Redis's evictionTimeLimitUs: linear up to 500 µs at tenacity 10, then 15% more per step, none at 100. */
export function evictionTimeLimitUs(tenacity: number): number {
  if (tenacity <= 10) return 50 * tenacity;
  if (tenacity < 100) return 500 * Math.pow(1.15, tenacity - 10);
  return Infinity;
}

export class Evictor {
  readonly settings: EvictionSettings = {
    maxmemory: 0,
    'maxmemory-policy': NOEVICTION,
    'maxmemory-samples': 5,
    'maxmemory-eviction-tenacity': 10,
    'lfu-log-factor': 10,
    'lfu-decay-time': 1,
  };
  /** INFO stats' evicted_keys. */
  evictedKeys = 0;
  /** INFO stats' total_eviction_exceeded_time: ms spent over the budget, besides the current stretch. */
  exceededMs = 0;
  /** When the current stretch over the budget began (performance.now()), or -1 while under it. */
  private overSince = -1;
  private readonly pool: Candidate[] = [];
  /** What the policy is, decided once per change rather than per command. */
  private volatileOnly = false;
  private evicting = false;
  private randomPick = false;
  private byTtl = false;
  private nextRandomDb = 0;
  /** Set while a call ran out of time with memory still over: the idle loop should call again soon. */
  running = false;

  constructor(
    private readonly databases: readonly Database[],
    private readonly arena: Arena,
    private readonly lazyFree: LazyFree,
    readonly access: AccessTracking,
    private readonly board: MemoryBoard | undefined,
    private readonly seat: number,
    private readonly now: () => number,
  ) {}

  /** Takes one setting; the access tracking follows the policy and the LFU parameters. */
  configure(name: EvictionSettingName, value: number): void {
    this.settings[name] = value;
    if (name === 'maxmemory-policy') {
      const policy = EVICTION_POLICIES[value];
      this.access.lfu = policy.endsWith('-lfu') ? 1 : 0;
      this.volatileOnly = policy.startsWith('volatile-');
      this.evicting = value !== NOEVICTION;
      this.randomPick = policy.endsWith('-random');
      this.byTtl = policy === 'volatile-ttl';
      this.pool.length = 0;
    } else if (name === 'lfu-log-factor') this.access.logFactor = value;
    else if (name === 'lfu-decay-time') this.access.decayMinutes = value;
  }

  /** Whether this shard enforces a budget at all: one is set and the shard sits on the pool's board. */
  get active(): boolean {
    return this.settings.maxmemory !== 0 && this.board !== undefined;
  }

  /**
   * Posts this shard's allocated bytes on the board, and whether it holds keys its policy may evict
   * (after every command, configuration change and piece of idle work, so the front's refusals and the
   * other shards' see the state as of this shard's latest step).
   */
  post(): void {
    const board = this.board;
    if (board === undefined) return;
    board.postAllocated(this.seat, this.arena.allocatedBytes);
    // Posted with or without a budget: the front applies a new maxmemory before the shards hear of it.
    board.postEvictable(this.seat, this.evicting && this.anyCandidates());
  }

  /** The global used memory: the others' posted figures and this arena's own, live. */
  private used(): number {
    return this.board!.usedByOthers(this.seat) + this.arena.allocatedBytes;
  }

  /** Redis's performEvictions: evicts until the global used memory is within maxmemory or time is up. */
  run(): EvictionOutcome {
    if (!this.active) return EvictionOutcome.Ok;
    const maxmemory = this.settings.maxmemory;
    if (this.used() <= maxmemory) return this.within();
    const started = performance.now();
    if (this.overSince < 0) this.overSince = started;
    if (!this.evicting) return EvictionOutcome.Fail;
    const limitMs = evictionTimeLimitUs(this.settings['maxmemory-eviction-tenacity']) / 1000;
    let evicted = 0;
    while (this.used() > maxmemory) {
      if (this.lazyFree.pending) this.lazyFree.run();
      else if (this.evictOne()) evicted++;
      else return this.cannotEvict();
      if ((evicted % KEYS_PER_CLOCK_CHECK === 0 || this.lazyFree.pending) && performance.now() - started > limitMs) {
        this.running = true;
        return EvictionOutcome.Running;
      }
    }
    return this.within();
  }

  /** INFO stats' current_eviction_exceeded_time, in ms. */
  currentExceededMs(): number {
    return this.overSince < 0 ? 0 : performance.now() - this.overSince;
  }

  private within(): EvictionOutcome {
    if (this.overSince >= 0) {
      this.exceededMs += performance.now() - this.overSince;
      this.overSince = -1;
    }
    this.running = false;
    return EvictionOutcome.Ok;
  }

  /**
   * Nothing here to evict. While another shard still says it has keys to evict, it will (before its next
   * command, or within BUDGET_POLL_MS when idle), so the command goes on as in a server that evicted
   * elsewhere; otherwise it is Redis's EVICT_FAIL.
   */
  private cannotEvict(): EvictionOutcome {
    this.running = false;
    this.post();
    return this.board!.anyEvictable() ? EvictionOutcome.Running : EvictionOutcome.Fail;
  }

  /** Evicts one key by the policy; false when there is none to evict. */
  private evictOne(): boolean {
    if (this.randomPick) return this.evictRandom();
    for (;;) {
      if (!this.anyCandidates()) return false;
      if (this.pool.length === 0) this.populate();
      const candidate = this.pool.pop();
      if (candidate === undefined) continue;
      const db = this.databases[candidate.db];
      const entry = db.peek(candidate.key);
      // Gone since it was sampled, or no longer volatile: a ghost, as Redis calls it.
      if (entry === 0 || (this.volatileOnly && db.expireAt(entry) === -1)) continue;
      const word = db.accessWord(entry);
      if (word !== candidate.word) {
        this.offer(this.score(db, entry), candidate.db, entry);
        continue;
      }
      db.evict(candidate.key);
      this.evictedKeys++;
      // The pool's other candidates are as good as they were; refill it for the next key.
      this.populate();
      return true;
    }
  }

  /** The keys of `db` the policy may evict: all of them, or those with an expiry. */
  private population(db: Database): number {
    return this.volatileOnly ? db.volatileCount : db.size;
  }

  /** A random key of `db` the policy may evict (it has some). */
  private sample(db: Database): number {
    return this.volatileOnly ? db.randomVolatileEntry() : db.dict.randomEntry(Math.random);
  }

  /** Run after every command (post()): a plain loop over header words, no closure. */
  private anyCandidates(): boolean {
    const databases = this.databases;
    for (let i = 0; i < databases.length; i++) if (this.population(databases[i]) > 0) return true;
    return false;
  }

  /** Samples maxmemory-samples keys of every database that has any into the pool. */
  private populate(): void {
    const samples = this.settings['maxmemory-samples'];
    this.databases.forEach((db, index) => {
      for (let i = Math.min(samples, this.population(db)); i > 0; i--) {
        const entry = this.sample(db);
        this.offer(this.score(db, entry), index, entry);
      }
    });
  }

  private score(db: Database, entry: number): number {
    if (this.byTtl) return -Number(db.expireAt(entry));
    return evictionScore(db.accessWord(entry), this.now(), this.access);
  }

  /** Puts a sampled key in the pool (ascending by score, best last) unless it is worse than all of a full pool. */
  private offer(score: number, db: number, entry: number): void {
    const pool = this.pool;
    if (pool.length === POOL_SIZE && score <= pool[0].score) return;
    const database = this.databases[db];
    const keyBytes = database.keyBytes(entry);
    let at = pool.length;
    while (at > 0 && pool[at - 1].score > score) at--;
    for (let i = at - 1; i >= 0 && pool[i].score === score; i--) if (pool[i].db === db && pool[i].key.equals(keyBytes)) return;
    pool.splice(at, 0, { score, db, key: Buffer.from(keyBytes), word: database.accessWord(entry) });
    if (pool.length > POOL_SIZE) pool.shift();
  }

  /** Redis's random policies: a random key of the next database (round robin) that has any. */
  private evictRandom(): boolean {
    const databases = this.databases;
    for (let tried = 0; tried < databases.length; tried++) {
      const index = (this.nextRandomDb = (this.nextRandomDb + 1) % databases.length);
      const db = databases[index];
      if (this.population(db) === 0) continue;
      db.evict(Buffer.from(db.keyBytes(this.sample(db))));
      this.evictedKeys++;
      return true;
    }
    return false;
  }
}
