/**
 * Background freeing, as Redis's lazyfree: UNLINK, FLUSHALL/FLUSHDB ASYNC and the lazyfree-lazy-*
 * settings take a value out of the keyspace at once and leave the freeing of its elements for later, so
 * that deleting a million-element collection does not stall the commands queued behind it.
 *
 * Redis gives such values to a background thread. A shard's arena has exactly one writer, the shard's
 * thread, so here the shard frees them itself, a slice at a time between batches of requests and
 * continuously while it has no requests (worker.ts). Each job is resumable where its last slice stopped;
 * what it still holds is memory nothing can reach, and it stays counted in the arena's figures (and in
 * INFO's lazyfree_pending_objects) until the job finishes.
 */
import type { Arena } from 'native-free-alloc';
import { collectionFreeEffort, freeCollectionSlice } from '../collections/collection.js';
import { readWord } from './arena-words.js';
import type { Dict } from './dict.js';
import { E_VALUE, ValueType } from './entry.js';
import { entryType, freeEntryShell, freeStringEntry } from './entry-store.js';

/** Values whose freeing costs no more than this are freed at once (Redis's LAZYFREE_THRESHOLD). */
const LAZYFREE_THRESHOLD = 64;
/**
 * Allocations one slice frees: a few hundred microseconds (a sorted set's node and member entry cost
 * about 0.3 µs together), short next to any request's latency budget.
 */
export const LAZYFREE_SLICE = 1024;

/** When Redis 7.0 frees lazily without being asked to, by its lazyfree-lazy-* parameters. */
export interface LazyFreeSettings {
  /** lazyfree-lazy-user-del: DEL behaves as UNLINK. */
  'lazyfree-lazy-user-del': number;
  /** lazyfree-lazy-server-del: values a command overwrites or deletes as a side effect (SET, RENAME). */
  'lazyfree-lazy-server-del': number;
  /** lazyfree-lazy-expire: keys deleted because they expired. */
  'lazyfree-lazy-expire': number;
  /** lazyfree-lazy-user-flush: FLUSHALL and FLUSHDB without SYNC or ASYNC behave as ASYNC. */
  'lazyfree-lazy-user-flush': number;
}

export const LAZYFREE_SETTING_NAMES = ['lazyfree-lazy-user-del', 'lazyfree-lazy-server-del', 'lazyfree-lazy-expire', 'lazyfree-lazy-user-flush'] as const;

/** Redis 7.0's defaults: everything synchronous unless asked. */
export function defaultLazyFreeSettings(): LazyFreeSettings {
  return { 'lazyfree-lazy-user-del': 0, 'lazyfree-lazy-server-del': 0, 'lazyfree-lazy-expire': 0, 'lazyfree-lazy-user-flush': 0 };
}

interface FreeJob {
  /** Frees about `budget` allocations; returns whether the job is finished. */
  run(budget: number): boolean;
  /** What the job counts in lazyfree_pending_objects: 1 for a value, the key count for a database. */
  readonly objects: number;
}

/** A key entry holding a large collection: the collection a slice at a time, then the entry. */
class EntryJob implements FreeJob {
  readonly objects = 1;
  private cursor = 0;

  constructor(
    private readonly arena: Arena,
    private readonly entry: number,
  ) {}

  run(budget: number): boolean {
    this.cursor = freeCollectionSlice(this.arena, readWord(this.arena, this.entry, E_VALUE), this.cursor, budget);
    if (this.cursor >= 0) return false;
    freeEntryShell(this.arena, this.entry);
    return true;
  }
}

/** A whole database's old dictionary (FLUSHDB ASYNC): its entries bucket by bucket, then its tables. */
class DictionaryJob implements FreeJob {
  readonly objects: number;
  private position = 0;
  /** Large values met in the buckets already walked, freed before walking further. */
  private readonly large: EntryJob[] = [];
  private readonly freeOne = (entry: number): void => {
    if (!freeUnlessLarge(this.arena, entry)) this.large.push(new EntryJob(this.arena, entry));
  };

  constructor(
    private readonly arena: Arena,
    private readonly dict: Dict,
    /** Frees what the database kept beside the dictionary (its volatile array), once the keys are gone. */
    private readonly finish: () => void,
  ) {
    this.objects = dict.size;
  }

  run(budget: number): boolean {
    while (this.large.length > 0) {
      if (!this.large[this.large.length - 1].run(budget)) return false;
      this.large.pop();
    }
    if (this.position >= 0) {
      this.position = this.dict.visitBuckets(this.position, budget, this.freeOne);
      return false;
    }
    this.dict.destroy();
    this.finish();
    return true;
  }
}

/** Frees an unlinked key entry and its value now. */
function freeNow(arena: Arena, entry: number): void {
  if (entryType(arena, entry) === ValueType.String) return freeStringEntry(arena, entry);
  freeCollectionSlice(arena, readWord(arena, entry, E_VALUE), 0, Infinity);
  freeEntryShell(arena, entry);
}

/** Frees an unlinked key entry now if that is cheap (its effort at most LAZYFREE_THRESHOLD); says whether it did. */
function freeUnlessLarge(arena: Arena, entry: number): boolean {
  if (entryType(arena, entry) !== ValueType.String && collectionFreeEffort(arena, readWord(arena, entry, E_VALUE)) > LAZYFREE_THRESHOLD) return false;
  freeNow(arena, entry);
  return true;
}

/** A shard's queue of background frees, shared by its databases. */
export class LazyFree {
  /** Changed in place by ShardOp.Configure. */
  readonly settings: LazyFreeSettings = defaultLazyFreeSettings();
  /** INFO's lazyfree_pending_objects: what the queued jobs count. */
  pendingObjects = 0;
  /** INFO's lazyfreed_objects: what finished jobs counted. */
  freedObjects = 0;
  private readonly jobs: FreeJob[] = [];

  constructor(private readonly arena: Arena) {}

  get pending(): boolean {
    return this.jobs.length > 0;
  }

  /** Frees an unlinked key entry, now or (`lazy` and large) in the background. */
  freeEntry(entry: number, lazy: boolean | number): void {
    if (!lazy) freeNow(this.arena, entry);
    else if (!freeUnlessLarge(this.arena, entry)) this.queue(new EntryJob(this.arena, entry));
  }

  /** Frees a dictionary no database uses any more, with its entries, in the background. */
  freeDictionary(dict: Dict, finish: () => void): void {
    this.queue(new DictionaryJob(this.arena, dict, finish));
  }

  /** Frees about `budget` allocations of queued jobs, oldest first. */
  run(budget = LAZYFREE_SLICE): void {
    const jobs = this.jobs;
    while (jobs.length > 0) {
      const job = jobs[0];
      if (!job.run(budget)) return;
      jobs.shift();
      this.pendingObjects -= job.objects;
      this.freedObjects += job.objects;
    }
  }

  /** Finishes every queued job now (a scratch shard has no spare time to wait for). */
  drain(): void {
    while (this.pending) this.run(Infinity);
  }

  private queue(job: FreeJob): void {
    this.jobs.push(job);
    this.pendingObjects += job.objects;
  }
}
