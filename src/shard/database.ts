/**
 * One logical database (SELECT 0..15) of one shard: the key dictionary, key entries with their string
 * values or the roots of their collections (which the key owns: deleting, overwriting, expiring or
 * flushing it frees the whole collection), expiry, and the volatile array that active expiry samples from. All of it lives in the shard's
 * arena; this object only holds handles and per-database counters.
 *
 * Database header (in the arena, so any thread holding the shard can find everything from one handle):
 *   word 0  dictionary header handle
 *   word 1  volatile array handle (u32 entry handles of every key with an expiry)
 *   word 2  volatile count
 *   word 3  volatile capacity
 *
 * Invariants:
 *   volatile count == number of entries with HasExpire
 *   for i < count:  entry(volatile[i]).volatileIndex == i
 *   entry allocation size == entrySize(keyLength, inline value length, HasExpire)
 *   external string allocation == [u32 length][u32 capacity][capacity bytes]
 *
 * Expiry follows Redis: lazy (a key found expired on access is deleted then and reads as missing) plus
 * active cycles that sample the volatile array and delete what has expired, repeating while more than
 * a quarter of a sample was stale, within a time budget.
 */
import { AllocatorError, byteOffsetOf, segmentOf, type Arena } from 'native-free-alloc';
import { readWord, writeWord } from './arena-words.js';
import { Dict } from './dict.js';
import {
  E_ENCODING_BYTE,
  E_EXPIRE_HIGH,
  E_EXPIRE_LOW,
  E_FLAGS_BYTE,
  E_HASH,
  E_KEY_LENGTH,
  E_LRU,
  E_TYPE_BYTE,
  E_VALUE,
  HEADER_BYTES as ENTRY_HEADER_BYTES,
  E_VOLATILE_INDEX,
  EntryFlag,
  INLINE_VALUE_MAX,
  StringForm,
  ValueType,
  entrySize,
  keyOffset,
} from './entry.js';
import { accessedWord, defaultAccessTracking, initialAccessWord, type AccessTracking } from './access-clock.js';
import { hashKey } from './hash.js';
import { EXTERNAL_HEADER_BYTES, entryKeyBytes, entryShellUsage, entryStringBytes, freeEntryShell, newEntry, stringEntryUsage } from './entry-store.js';
import { collectionUsage } from '../collections/collection.js';
import { LazyFree } from './lazy-free.js';
import { KeyspaceSignals, NotifyType } from './keyspace-signals.js';

const DB_DICT = 0;
const DB_VOLATILE = 1;
const DB_VOLATILE_COUNT = 2;
const DB_VOLATILE_CAPACITY = 3;
const DB_HEADER_BYTES = 16;
const TWO_POW_32 = 4294967296;
/** High words below this keep high × 2^32 + low within 2^53. */
const SAFE_HIGH_WORDS = 1 << 21;

/** Active expiry: keys sampled per round, and the stale share that makes it go another round. */
const EXPIRE_SAMPLE = 20;
const EXPIRE_STALE_PERCENT = 25;

/**
 * An absolute expiry in ms since the epoch. Redis allows any int64, and past 2^53 a number would round,
 * so such times travel as bigint (the entry stores them exactly, in two words).
 */
export type ExpiryTime = number | bigint;

/** What setString does with an existing expiry when no new one is given. */
export const enum ExpiryChange {
  Clear = -1,
  Keep = -2,
}

export interface ExpireCycleResult {
  sampled: number;
  expired: number;
}

/** What a shard's databases share, and which one this is. */
export interface DatabaseShared {
  lazyFree?: LazyFree;
  signals?: KeyspaceSignals;
  index?: number;
  /** What lookups record in a key's access word (the shard's maxmemory-policy decides). */
  access?: AccessTracking;
}

export class Database {
  readonly header: number;
  private dictionary: Dict;
  /** Keys deleted because they had expired (lazily or actively): INFO's expired_keys. */
  expiredKeys = 0;
  /**
   * INFO's keyspace_hits and keyspace_misses: lookups made while `countingReads` is 1, which the shard
   * sets for the duration of read-only commands (Redis counts its lookupKeyRead calls).
   */
  hits = 0;
  misses = 0;
  countingReads: 0 | 1 = 0;
  /**
   * INFO keyspace's avg_ttl, kept as Redis keeps it: each expiry cycle averages the remaining TTL of the
   * live keys it sampled and moves this 2% of the way towards that average.
   */
  avgTtl = 0;
  readonly arena: Arena;
  private readonly now: () => number;

  /** Where deleted values go to be freed, now or in the background; shared by the shard's databases. */
  readonly lazyFree: LazyFree;
  /** Where changes are signalled (WATCH, notifications, dirty); shared by the shard's databases. */
  readonly signals: KeyspaceSignals;
  /** This database's number (SELECT's), which notifications, watches and blocked clients name; SWAPDB exchanges two. */
  index: number;
  /** LRU clock or LFU counter: what lookups record; shared by the shard's databases. */
  readonly access: AccessTracking;

  /** A new, empty database in `arena`, or with `existing`, the database whose header that is. */
  constructor(arena: Arena, now: () => number = Date.now, shared: DatabaseShared = {}, existing?: number) {
    this.arena = arena;
    this.now = now;
    this.lazyFree = shared.lazyFree ?? new LazyFree(arena);
    this.signals = shared.signals ?? new KeyspaceSignals();
    this.index = shared.index ?? 0;
    this.access = shared.access ?? defaultAccessTracking();
    if (existing !== undefined) {
      this.header = existing;
      arena.beforeRead(existing, 0, DB_HEADER_BYTES);
      this.dictionary = new Dict(arena, this.headerWord(DB_DICT));
      return;
    }
    this.dictionary = new Dict(arena);
    this.header = arena.alloc(DB_HEADER_BYTES);
    arena.beforeWrite(this.header, 0, DB_HEADER_BYTES);
    arena.bytes(this.header, DB_HEADER_BYTES).fill(0);
    this.setHeader(DB_DICT, this.dictionary.header);
  }

  get dict(): Dict {
    return this.dictionary;
  }

  private headerWord(field: number): number {
    return readWord(this.arena, this.header, field);
  }

  private setHeader(field: number, value: number): void {
    writeWord(this.arena, this.header, field, value);
  }

  get size(): number {
    return this.dict.size;
  }

  /** Read by a snapshot too, so it announces the header (beforeRead). */
  get volatileCount(): number {
    this.arena.beforeRead(this.header, 0, DB_HEADER_BYTES);
    return this.headerWord(DB_VOLATILE_COUNT);
  }

  // ---------------------------------------------------------------- entry fields

  private word(entry: number, field: number): number {
    return readWord(this.arena, entry, field);
  }

  private setWord(entry: number, field: number, value: number): void {
    writeWord(this.arena, entry, field, value);
  }

  private flags(entry: number): number {
    return this.arena.u8[segmentOf(entry)][byteOffsetOf(entry) + E_FLAGS_BYTE];
  }

  type(entry: number): ValueType {
    return this.arena.u8[segmentOf(entry)][byteOffsetOf(entry) + E_TYPE_BYTE] as ValueType;
  }

  /** The key's bytes, as a view into the arena (valid until the entry changes). */
  keyBytes(entry: number): Uint8Array {
    return entryKeyBytes(this.arena, entry);
  }

  /** A string value's bytes, as a view into the arena (valid until the entry changes). */
  stringBytes(entry: number): Uint8Array {
    return entryStringBytes(this.arena, entry);
  }

  /** Expiry in ms since the epoch (a bigint past 2^53), or -1 when the key has none. */
  expireAt(entry: number): ExpiryTime {
    if ((this.flags(entry) & EntryFlag.HasExpire) === 0) return -1;
    const high = this.word(entry, E_EXPIRE_HIGH);
    const low = this.word(entry, E_EXPIRE_LOW);
    return high < SAFE_HIGH_WORDS ? high * TWO_POW_32 + low : (BigInt(high) << 32n) | BigInt(low);
  }

  private writeExpiry(entry: number, expireAt: ExpiryTime): void {
    const at = BigInt(expireAt);
    this.setWord(entry, E_EXPIRE_HIGH, Number(BigInt.asUintN(32, at >> 32n)));
    this.setWord(entry, E_EXPIRE_LOW, Number(BigInt.asUintN(32, at)));
  }

  /** The key's LRU clock or LFU counter (access-clock.ts). */
  accessWord(entry: number): number {
    return this.word(entry, E_LRU);
  }

  setAccessWord(entry: number, value: number): void {
    this.setWord(entry, E_LRU, value);
  }

  stringForm(entry: number): StringForm {
    return this.arena.u8[segmentOf(entry)][byteOffsetOf(entry) + E_ENCODING_BYTE] as StringForm;
  }

  /** Records how Redis would now hold this string (setString resets it to StringForm.AsSet). */
  setStringForm(entry: number, form: StringForm): void {
    this.arena.beforeWrite(entry, E_ENCODING_BYTE, 1);
    this.arena.u8[segmentOf(entry)][byteOffsetOf(entry) + E_ENCODING_BYTE] = form;
  }

  /** Whether the entry's expiry has passed (it stays in the dictionary until looked up or sampled). */
  isExpired(entry: number): boolean {
    return (this.flags(entry) & EntryFlag.HasExpire) !== 0 && this.expireAt(entry) <= this.now();
  }

  // ---------------------------------------------------------------- lookup

  /**
   * The live entry for key bytes[start, start+length), or 0. A key found expired is deleted here
   * (lazy expiry) and reads as missing. The access is recorded in the LRU word, as Redis's lookupKey
   * does; commands that only inspect a key (TYPE, EXISTS, TTL, OBJECT) use lookupNoTouch.
   */
  lookup(bytes: Uint8Array, start = 0, length = bytes.length): number {
    const entry = this.lookupNoTouch(bytes, start, length);
    if (entry !== 0) this.touch(entry);
    return entry;
  }

  /** lookup() without recording the access (Redis's LOOKUP_NOTOUCH). */
  lookupNoTouch(bytes: Uint8Array, start = 0, length = bytes.length): number {
    return this.find(bytes, start, length, this.countingReads, true);
  }

  /**
   * lookup() as Redis's lookupKeyRead inside a write command (GETDEL's key, a *STORE command's sources,
   * COPY's source): the hit or miss is counted and a miss notified whatever the command's flags.
   */
  lookupRead(key: Uint8Array): number {
    const entry = this.find(key, 0, key.length, 1, true);
    if (entry !== 0) this.touch(entry);
    return entry;
  }

  /** lookupNoTouch() without the key-miss notification (Redis's LOOKUP_NONOTIFY: OBJECT). */
  lookupQuiet(key: Uint8Array): number {
    return this.find(key, 0, key.length, this.countingReads, false);
  }

  /** Records an access. Hot path: under LRU the word changes at most 256 times a second, so mostly no store. */
  private touch(entry: number): void {
    const word = this.word(entry, E_LRU);
    const next = accessedWord(word, this.now(), this.access);
    if (word !== next) this.setWord(entry, E_LRU, next);
  }

  /** The entry of `key` as the dictionary holds it, expired or not, without counting or recording anything. */
  peek(key: Uint8Array): number {
    return this.dict.find(key, 0, key.length, hashKey(key, 0, key.length));
  }

  /** The live entry, or 0; `reading` counts the hit or miss and `notifyMiss` makes a miss a keymiss event. */
  private find(bytes: Uint8Array, start: number, length: number, reading: 0 | 1, notifyMiss: boolean): number {
    let entry = this.dict.find(bytes, start, length, hashKey(bytes, start, length));
    if (entry !== 0 && this.isExpired(entry)) {
      this.deleteExpired(entry);
      entry = 0;
    }
    if (entry !== 0) this.hits += reading;
    else if (reading === 1) {
      this.misses++;
      if (notifyMiss && this.signals.notify !== 0) this.notify(NotifyType.KeyMiss, 'keymiss', bytes.subarray(start, start + length));
    }
    return entry;
  }

  /** Whether the key is present but logically expired (Redis's keyIsExpired), without deleting it. */
  isExpiredKey(key: Uint8Array): boolean {
    const entry = this.dict.find(key, 0, key.length, hashKey(key, 0, key.length));
    return entry !== 0 && this.isExpired(entry);
  }

  /** Whether the key is in the dictionary, expired or not (Redis's dictFind: FLUSHDB and SWAPDB touch such keys). */
  holds(key: Uint8Array): boolean {
    return this.dict.find(key, 0, key.length, hashKey(key, 0, key.length)) !== 0;
  }

  /**
   * Bytes the arena handed out for `key` (MEMORY USAGE): its entry, and its external string value or
   * every allocation of its collection; undefined when the key is absent. As Redis's MEMORY USAGE, it
   * neither expires the key nor records the access.
   */
  usage(key: Uint8Array): number | undefined {
    const entry = this.dict.find(key, 0, key.length, hashKey(key, 0, key.length));
    return entry === 0 ? undefined : this.entryUsage(entry);
  }

  /**
   * Bytes the arena handed out for the key at `entry`, its value included. Its walk announces every
   * allocation it visits (beforeRead), so over a snapshot it also fetches the whole key.
   */
  entryUsage(entry: number): number {
    this.arena.beforeRead(entry, 0, ENTRY_HEADER_BYTES);
    if (this.type(entry) === ValueType.String) return stringEntryUsage(this.arena, entry);
    return entryShellUsage(this.arena, entry) + collectionUsage(this.arena, this.word(entry, E_VALUE));
  }

  /**
   * Bytes the arena handed out for this database's bookkeeping rather than its keys (MEMORY STATS):
   * `main` its header and key dictionary's tables, `expires` its volatile array.
   */
  overhead(): { main: number; expires: number } {
    const array = this.headerWord(DB_VOLATILE);
    const expires = array === 0 ? 0 : this.arena.usableSize(this.headerWord(DB_VOLATILE_CAPACITY) * 4);
    return { main: this.arena.usableSize(DB_HEADER_BYTES) + this.dictionary.allocatedBytes(), expires };
  }

  /** Deletes the key if it is present and expired, and says whether it did (Redis's expireIfNeeded). */
  expireIfNeeded(key: Uint8Array): boolean {
    const entry = this.dict.find(key, 0, key.length, hashKey(key, 0, key.length));
    if (entry === 0 || !this.isExpired(entry)) return false;
    this.deleteExpired(entry);
    return true;
  }

  // ---------------------------------------------------------------- signals

  /**
   * A command changed `key`: Redis's signalModifiedKey, notifyKeyspaceEvent(type, event) and
   * `server.dirty += dirty` together, as nearly every write makes them.
   */
  changed(key: Uint8Array, type: NotifyType, event: string, dirty = 1): void {
    const signals = this.signals;
    if (!signals.muted) signals.dirty += dirty;
    signals.modified(this.index, key);
    if (signals.notify !== 0) signals.event(type, event, key, this.index);
  }

  /**
   * Deletes the key if present and signals it as a deletion (`del`): DEL, and the destination of a
   * *STORE command whose result is empty. Returns whether it was present.
   */
  deleteChanged(key: Uint8Array, lazy: boolean | number = this.lazyFree.settings['lazyfree-lazy-server-del']): boolean {
    if (!this.delete(key, lazy)) return false;
    this.changed(key, NotifyType.Generic, 'del');
    return true;
  }

  /** A notification beyond the one changed() made (LMOVE's push after its pop, a `del` of an emptied key). */
  notify(type: NotifyType, event: string, key: Uint8Array): void {
    if (this.signals.notify !== 0) this.signals.event(type, event, key, this.index);
  }

  // ---------------------------------------------------------------- writes

  /**
   * Sets key → string value. `expireAt` is an absolute time in ms, or ExpiryChange.Clear (plain SET) or
   * ExpiryChange.Keep (SET KEEPTTL, SETRANGE-style rewrites). Returns the new entry.
   */
  setString(key: Uint8Array, value: Uint8Array, expireAt: ExpiryTime = ExpiryChange.Clear): number {
    return this.setValue(key, ValueType.String, value, expireAt);
  }

  /**
   * Sets key → the collection whose root is `root` (of type `type`), replacing whatever the key held,
   * as Redis's setKey does for a new object. The key now owns the collection: deleting, overwriting or
   * expiring the key frees it. Returns the new entry.
   */
  setCollection(key: Uint8Array, type: ValueType, root: number, expireAt: ExpiryTime = ExpiryChange.Clear): number {
    return this.setValue(key, type, root, expireAt);
  }

  /** The root handle of a collection key's value. */
  collectionRoot(entry: number): number {
    return this.word(entry, E_VALUE);
  }

  /** Records that a collection's root has moved (a packed sequence reallocated, or a conversion). */
  setCollectionRoot(entry: number, root: number): void {
    if (this.word(entry, E_VALUE) !== root) this.setWord(entry, E_VALUE, root);
  }

  /**
   * A string overwritten by one of the same length, with an expiry exactly when it had one, takes the
   * new bytes where the old ones are (Redis would make a new object: the access word and encoding are
   * a new object's). Replacing the entry instead costs an allocation, a free and a relink, and during a
   * snapshot touches three pages where this touches one (measured by npm run bench:snapshot).
   */
  private overwriteInPlace(entry: number, value: Uint8Array, hasExpire: boolean, access: number): boolean {
    const flags = this.flags(entry);
    if (this.type(entry) !== ValueType.String || (flags & EntryFlag.External) !== 0 || ((flags & EntryFlag.HasExpire) !== 0) !== hasExpire) return false;
    if (this.word(entry, E_VALUE) !== value.length) return false;
    const start = keyOffset(flags) + this.word(entry, E_KEY_LENGTH);
    this.arena.beforeWrite(entry, start, value.length);
    this.arena.u8[segmentOf(entry)].set(value, byteOffsetOf(entry) + start);
    this.setStringForm(entry, StringForm.AsSet);
    this.setAccessWord(entry, access);
    return true;
  }

  private setValue(key: Uint8Array, type: ValueType, value: Uint8Array | number, expireAt: ExpiryTime): number {
    const hash = hashKey(key, 0, key.length);
    let old = this.dict.find(key, 0, key.length, hash);
    if (old !== 0 && this.flags(old) & EntryFlag.HasExpire && this.expireAt(old) <= this.now()) {
      // An expired key is gone before the write, as Redis's lookupKeyWrite makes it: KEEPTTL keeps nothing.
      this.deleteExpired(old);
      old = 0;
    }
    let expiry = expireAt;
    if (old !== 0 && expireAt === ExpiryChange.Keep) expiry = this.expireAt(old);
    const hasExpire = expiry >= 0;
    // Everything that can fail for lack of memory is allocated before the key changes, so an -OOM
    // leaves the old value in place and nothing half-linked.
    if (hasExpire) this.reserveVolatile();
    // A new value is a new object in Redis, accessed now; under LFU it inherits the old one's counter.
    const access = old !== 0 && this.access.lfu === 1 ? this.word(old, E_LRU) : initialAccessWord(this.now(), this.access);
    if (old !== 0 && type === ValueType.String && this.overwriteInPlace(old, value as Uint8Array, hasExpire, access)) {
      if (hasExpire) this.writeExpiry(old, expiry);
      this.signalIfAwaitable(key, type);
      return old;
    }
    const entry = newEntry(this.arena, key, hash, type, value, hasExpire, access);
    if (hasExpire) this.writeExpiry(entry, expiry);
    this.signalIfAwaitable(key, type);
    if (old === 0) {
      this.dict.insertNew(entry);
      if (hasExpire) this.addVolatile(entry);
      this.notify(NotifyType.New, 'new', key);
    } else {
      this.dict.replaceFound(old, entry);
      const oldHadExpire = (this.flags(old) & EntryFlag.HasExpire) !== 0;
      if (oldHadExpire && hasExpire) this.replaceVolatile(old, entry);
      else if (oldHadExpire) this.removeVolatile(old);
      else if (hasExpire) this.addVolatile(entry);
      this.lazyFree.freeEntry(old, this.lazyFree.settings['lazyfree-lazy-server-del']);
    }
    return entry;
  }


  /**
   * Makes the string value of `entry` (a live string key found by lookup()) `length` bytes long, keeping
   * the bytes it had up to that length and zero-filling any growth, and returns the entry that now holds
   * the key (the same one or a replacement). Callers then write through stringBytes().
   *
   * External values grow greedily as Redis's sds does (double up to 1 MiB, then 1 MiB more each time), so
   * a run of APPENDs costs amortised O(1) per byte; inline values are re-created at the exact size.
   */
  resizeString(entry: number, length: number): number {
    const flags = this.flags(entry);
    const old = this.stringBytes(entry);
    if (flags & EntryFlag.External) {
      const value = this.word(entry, E_VALUE);
      if (length <= this.word(value, 1)) {
        if (length > old.length) {
          this.arena.beforeWrite(value, EXTERNAL_HEADER_BYTES + old.length, length - old.length);
          this.arena.bytes(value, length - old.length, EXTERNAL_HEADER_BYTES + old.length).fill(0);
        }
        this.setWord(value, 0, length);
      } else this.growExternal(entry, old.length, length);
      return entry;
    }
    // Inline: the entry's size depends on the value, so the key is set anew, keeping its LRU word (the
    // old entry's key bytes stay readable until setString has copied them).
    const value = new Uint8Array(length);
    value.set(old.subarray(0, Math.min(old.length, length)));
    const access = this.accessWord(entry);
    const replacement = this.setString(this.keyBytes(entry), value, ExpiryChange.Keep);
    this.setAccessWord(replacement, access);
    // Past the inline limit it is external now: give it room, since a string that grows tends to go on.
    // The room is an optimisation; without memory for it the value is complete at its exact size.
    if (length > INLINE_VALUE_MAX) {
      try {
        this.growExternal(replacement, length, length);
      } catch (error) {
        if (!(error instanceof AllocatorError)) throw error;
      }
    }
    return replacement;
  }

  /** Reallocates an external value to a greedy capacity for `length` bytes, zero-filling past `keep`. */
  private growExternal(entry: number, keep: number, length: number): void {
    const value = this.word(entry, E_VALUE);
    const capacity = this.word(value, 1);
    const greedy = length < 1 << 20 ? length * 2 : length + (1 << 20);
    // The room never passes the arena's largest allocation: a string near 512 MB grows to its exact size.
    const grown = Math.max(length, Math.min(greedy, this.arena.maxAllocationSize - EXTERNAL_HEADER_BYTES));
    const moved = this.arena.realloc(value, EXTERNAL_HEADER_BYTES + capacity, EXTERNAL_HEADER_BYTES + grown);
    this.arena.beforeWrite(moved, 0, EXTERNAL_HEADER_BYTES + length);
    this.arena.bytes(moved, length - keep, EXTERNAL_HEADER_BYTES + keep).fill(0);
    this.setWord(moved, 0, length);
    this.setWord(moved, 1, grown);
    if (moved !== value) this.setWord(entry, E_VALUE, moved);
  }

  /**
   * Deletes the key if present. Returns whether it was (an expired key counts as absent). A large value
   * is freed in the background when `lazy` (UNLINK, lazyfree-lazy-user-del); by default as Redis's
   * dbDelete frees it, lazily only under lazyfree-lazy-server-del.
   */
  delete(key: Uint8Array, lazy: boolean | number = this.lazyFree.settings['lazyfree-lazy-server-del']): boolean {
    const entry = this.lookup(key);
    if (entry === 0) return false;
    this.deleteFound(entry, lazy);
    return true;
  }

  /** Deletes the entry the dictionary found last. */
  private deleteFound(entry: number, lazy: boolean | number): void {
    this.dict.unlinkFound(entry);
    if (this.flags(entry) & EntryFlag.HasExpire) this.removeVolatile(entry);
    this.lazyFree.freeEntry(entry, lazy);
  }

  /**
   * Deletes a key maxmemory eviction chose, expired or not, and signals it as Redis's performEvictions
   * does: watchers and tracking see a change, subscribers an `evicted` event; no dirty count. A costly
   * value is freed in the background whatever lazyfree-lazy-eviction says, so that eviction never stalls
   * the shard (eviction.ts frees the queue before it takes another key). Returns whether the key was there.
   */
  evict(key: Uint8Array): boolean {
    const entry = this.peek(key);
    if (entry === 0) return false;
    // Propagated as Redis does with lazyfree-lazy-eviction off (its default; shards do not follow it).
    this.signals.propagation?.deleted(this.index, key, false);
    this.deleteFound(entry, true);
    this.signals.modified(this.index, key);
    this.notify(NotifyType.Evicted, 'evicted', key);
    return true;
  }

  /**
   * Deletes an expired key the dictionary found last, lazily under lazyfree-lazy-expire, and tells
   * watchers and subscribers, as Redis's deleteExpiredKeyAndPropagate does.
   */
  private deleteExpired(entry: number): void {
    const signals = this.signals;
    const key = signals.notify !== 0 || signals.watching ? Buffer.from(this.keyBytes(entry)) : undefined;
    const lazily = this.lazyFree.settings['lazyfree-lazy-expire'];
    signals.propagation?.deleted(this.index, this.keyBytes(entry), lazily);
    this.deleteFound(entry, lazily);
    this.expiredKeys++;
    if (key === undefined) return;
    signals.modified(this.index, key);
    this.notify(NotifyType.Expired, 'expired', key);
  }

  /**
   * Sets (ms ≥ 0) or removes (ExpiryChange.Clear) the expiry of an existing key, which moves it to an
   * entry with or without the expiry words. Returns false if the key does not exist.
   */
  setExpire(key: Uint8Array, expireAt: ExpiryTime): boolean {
    const entry = this.lookup(key);
    if (entry === 0) return false;
    const hasExpire = (this.flags(entry) & EntryFlag.HasExpire) !== 0;
    if (expireAt >= 0 && hasExpire) {
      this.writeExpiry(entry, expireAt);
      return true;
    }
    if (expireAt < 0 && !hasExpire) return true;
    this.rewriteEntry(entry, expireAt);
    return true;
  }

  /** Re-creates an entry with or without the expiry block, keeping key, value, type and LRU word. */
  private rewriteEntry(entry: number, expireAt: ExpiryTime): void {
    const hasExpire = expireAt >= 0;
    if (hasExpire) this.reserveVolatile();
    const fresh = this.cloneEntry(entry, this.keyBytes(entry), this.word(entry, E_HASH), hasExpire);
    if (hasExpire) this.writeExpiry(fresh, expireAt);
    this.dict.replaceFound(entry, fresh);
    if (hasExpire) this.addVolatile(fresh);
    else this.removeVolatile(entry);
    freeEntryShell(this.arena, entry);
  }

  /**
   * A new, unlinked entry with `entry`'s type, flags, encoding, LRU word and value under `key` (whose
   * hash is `hash`), with or without the expiry block (the caller writes its time). An external value
   * now belongs to the new entry: release the old one with freeEntryShell.
   */
  private cloneEntry(entry: number, key: Uint8Array, hash: number, hasExpire: boolean): number {
    const flags = this.flags(entry);
    const inlineLength = flags & EntryFlag.External ? 0 : this.word(entry, E_VALUE);
    const newFlags = (flags & ~EntryFlag.HasExpire) | (hasExpire ? EntryFlag.HasExpire : 0);
    const size = entrySize(key.length, inlineLength, hasExpire);
    const fresh = this.arena.alloc(size);
    this.arena.beforeWrite(fresh, 0, size);
    const from = this.arena.u8[segmentOf(entry)];
    const to = this.arena.u8[segmentOf(fresh)];
    const src = byteOffsetOf(entry);
    const dst = byteOffsetOf(fresh);
    to.set(from.subarray(src, src + E_VOLATILE_INDEX * 4), dst);
    to[dst + E_FLAGS_BYTE] = newFlags;
    const keyAt = dst + keyOffset(newFlags);
    // `key` may be a view of the old entry: a different allocation, so the copies cannot overlap.
    to.set(key, keyAt);
    const valueAt = src + keyOffset(flags) + this.word(entry, E_KEY_LENGTH);
    to.set(from.subarray(valueAt, valueAt + inlineLength), keyAt + key.length);
    const words = this.arena.u32[segmentOf(fresh)];
    words[(dst >>> 2) + E_HASH] = hash;
    words[(dst >>> 2) + E_KEY_LENGTH] = key.length;
    return fresh;
  }

  /**
   * Moves the live key `key` to `newKey` in `target` (this database or another one of the same shard,
   * hence the same arena) with its value, type, expiry, encoding and LRU word, replacing whatever
   * `newKey` held there: RENAME and MOVE. An external value moves by handle, so a large value is never
   * copied.
   */
  moveEntry(key: Uint8Array, target: Database, newKey: Uint8Array): void {
    const keyHash = hashKey(key, 0, key.length);
    const entry = this.dict.find(key, 0, key.length, keyHash);
    if (entry === 0) throw new Error('moveEntry: the key is not in this database');
    const hasExpire = (this.flags(entry) & EntryFlag.HasExpire) !== 0;
    // What may fail for lack of memory comes before anything changes.
    if (hasExpire) target.reserveVolatile();
    const newHash = hashKey(newKey, 0, newKey.length);
    const moved = this.cloneEntry(entry, newKey, newHash, hasExpire);
    if (hasExpire) this.writeExpiry(moved, this.expireAt(entry));
    const replaced = target.dict.find(newKey, 0, newKey.length, newHash);
    if (replaced !== 0) target.deleteFound(replaced, this.lazyFree.settings['lazyfree-lazy-server-del']);
    // Found again: the deletion may have used this very dictionary and moved the remembered link.
    this.dict.find(key, 0, key.length, keyHash);
    this.dict.unlinkFound(entry);
    if (hasExpire) this.removeVolatile(entry);
    freeEntryShell(this.arena, entry);
    target.dict.insertNew(moved);
    if (hasExpire) target.addVolatile(moved);
    target.notify(NotifyType.New, 'new', newKey);
    target.signalIfAwaitable(newKey, this.type(moved));
  }

  /** A list or sorted set stored under `key` may serve clients blocked on it (KeyspaceSignals.keyReady). */
  private signalIfAwaitable(key: Uint8Array, type: ValueType): void {
    const keyReady = this.signals.keyReady;
    if (keyReady !== undefined && (type === ValueType.List || type === ValueType.ZSet)) keyReady(this.index, key);
  }

  // ---------------------------------------------------------------- the volatile array

  /** Makes room for one more volatile key; called before anything changes, since it may fail (-OOM). */
  private reserveVolatile(): void {
    const capacity = this.headerWord(DB_VOLATILE_CAPACITY);
    if (this.headerWord(DB_VOLATILE_COUNT) < capacity) return;
    const array = this.headerWord(DB_VOLATILE);
    const grown = Math.max(16, capacity * 2);
    this.setHeader(DB_VOLATILE, array === 0 ? this.arena.alloc(grown * 4) : this.arena.realloc(array, capacity * 4, grown * 4));
    this.setHeader(DB_VOLATILE_CAPACITY, grown);
  }

  /** Appends to the volatile array, which reserveVolatile() has made room in. */
  private addVolatile(entry: number): void {
    const count = this.headerWord(DB_VOLATILE_COUNT);
    this.setWord(this.headerWord(DB_VOLATILE), count, entry);
    this.setWord(entry, E_VOLATILE_INDEX, count);
    this.setHeader(DB_VOLATILE_COUNT, count + 1);
  }

  private replaceVolatile(old: number, replacement: number): void {
    const index = this.word(old, E_VOLATILE_INDEX);
    this.setWord(this.headerWord(DB_VOLATILE), index, replacement);
    this.setWord(replacement, E_VOLATILE_INDEX, index);
  }

  /** Active defragmentation moved a volatile key's entry: its slot in the volatile array follows (defrag.ts). */
  volatileEntryMoved(entry: number): void {
    this.setWord(this.headerWord(DB_VOLATILE), this.word(entry, E_VOLATILE_INDEX), entry);
  }

  /** Swap-remove: the last entry of the array takes the removed one's place. */
  private removeVolatile(entry: number): void {
    const array = this.headerWord(DB_VOLATILE);
    const index = this.word(entry, E_VOLATILE_INDEX);
    const last = this.headerWord(DB_VOLATILE_COUNT) - 1;
    if (index !== last) {
      const moved = this.word(array, last);
      this.setWord(array, index, moved);
      this.setWord(moved, E_VOLATILE_INDEX, index);
    }
    this.setHeader(DB_VOLATILE_COUNT, last);
  }

  /** A random key with an expiry (the database has some). */
  randomVolatileEntry(random: () => number = Math.random): number {
    return this.word(this.headerWord(DB_VOLATILE), Math.floor(random() * this.headerWord(DB_VOLATILE_COUNT)));
  }

  /**
   * One active expiry cycle: samples keys with an expiry at random and deletes the expired ones,
   * repeating while more than a quarter of a sample had expired and `budgetMs` is not spent. This keeps
   * the share of expired-but-present keys low at bounded CPU, as Redis's activeExpireCycle does.
   */
  activeExpireCycle(budgetMs: number, random: () => number = Math.random): ExpireCycleResult {
    const deadline = performance.now() + budgetMs;
    let sampled = 0;
    let expired = 0;
    for (;;) {
      const count = this.headerWord(DB_VOLATILE_COUNT);
      if (count === 0) break;
      const now = this.now();
      const sample = Math.min(EXPIRE_SAMPLE, count);
      let stale = 0;
      let ttlSum = 0;
      let ttlSamples = 0;
      for (let i = 0; i < sample; i++) {
        if (this.headerWord(DB_VOLATILE_COUNT) === 0) break;
        const entry = this.randomVolatileEntry(random);
        sampled++;
        if (this.expireAt(entry) <= now) {
          // Find it again through the dictionary so that its link is known for unlinking.
          const key = this.keyBytes(entry);
          const found = this.dict.find(key, 0, key.length, this.word(entry, E_HASH));
          this.deleteExpired(found);
          expired++;
          stale++;
        } else {
          ttlSum += Number(this.expireAt(entry)) - now;
          ttlSamples++;
        }
      }
      if (ttlSamples > 0) {
        const average = ttlSum / ttlSamples;
        this.avgTtl = this.avgTtl === 0 ? average : (this.avgTtl / 50) * 49 + average / 50;
      }
      if (stale * 100 <= sample * EXPIRE_STALE_PERCENT || performance.now() >= deadline) break;
    }
    return { sampled, expired };
  }

  /**
   * Deletes every key (FLUSHDB) and leaves an empty database. With `lazy` the old dictionary and its
   * values are freed in the background (FLUSHDB ASYNC): the database is empty at once either way.
   */
  flush(lazy: boolean | number = false): void {
    const old = this.dictionary;
    const array = this.headerWord(DB_VOLATILE);
    const arrayBytes = this.headerWord(DB_VOLATILE_CAPACITY) * 4;
    const freeArray = () => {
      if (array !== 0) this.arena.free(array, arrayBytes);
    };
    if (lazy && old.size > 0) this.lazyFree.freeDictionary(old, freeArray);
    else {
      old.forEach((entry) => this.lazyFree.freeEntry(entry, false));
      old.destroy();
      freeArray();
    }
    this.dictionary = new Dict(this.arena);
    this.setHeader(DB_DICT, this.dictionary.header);
    this.setHeader(DB_VOLATILE, 0);
    this.setHeader(DB_VOLATILE_COUNT, 0);
    this.setHeader(DB_VOLATILE_CAPACITY, 0);
    this.avgTtl = 0;
  }
}
