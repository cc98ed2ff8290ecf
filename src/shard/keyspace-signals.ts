/**
 * What a write tells the rest of the server, collected per shard: Redis's three calls at every change,
 * made here through one Database method (Database.changed):
 *
 *   signalModifiedKey      WATCH: a watched key's version moves, so a transaction watching it aborts
 *   notifyKeyspaceEvent    keyspace notifications, kept when notify-keyspace-events asks for the class
 *   server.dirty           changes since the last save (INFO's rdb_changes_since_last_save, save rules)
 *
 * With nothing watched and notifications off (the defaults) a change costs a counter increment and two
 * comparisons.
 */
import type { Propagation } from './propagation.js';

/** Notification classes, as the letters of notify-keyspace-events name them. */
export const enum NotifyType {
  /** K: publish on __keyspace@<db>__:<key> */
  Keyspace = 1 << 0,
  /** E: publish on __keyevent@<db>__:<event> */
  Keyevent = 1 << 1,
  /** g: generic commands (DEL, EXPIRE, RENAME, …) */
  Generic = 1 << 2,
  /** $ */
  String = 1 << 3,
  /** l */
  List = 1 << 4,
  /** s */
  Set = 1 << 5,
  /** h */
  Hash = 1 << 6,
  /** z */
  Zset = 1 << 7,
  /** x: a key deleted because it expired */
  Expired = 1 << 8,
  /** e: a key evicted under maxmemory */
  Evicted = 1 << 9,
  /** t */
  Stream = 1 << 10,
  /** m: a read found no key */
  KeyMiss = 1 << 11,
  /** d */
  Module = 1 << 12,
  /** n: a key created */
  New = 1 << 13,
}

const LETTERS: Record<string, number> = {
  K: NotifyType.Keyspace,
  E: NotifyType.Keyevent,
  g: NotifyType.Generic,
  $: NotifyType.String,
  l: NotifyType.List,
  s: NotifyType.Set,
  h: NotifyType.Hash,
  z: NotifyType.Zset,
  x: NotifyType.Expired,
  e: NotifyType.Evicted,
  t: NotifyType.Stream,
  m: NotifyType.KeyMiss,
  d: NotifyType.Module,
  n: NotifyType.New,
};

/** notify-keyspace-events (as the configuration stores it, validated) as NotifyType flags. */
export function notifyFlags(text: string): number {
  let flags = 0;
  for (const letter of text) flags |= letter === 'A' ? ALL_CLASSES : LETTERS[letter] ?? 0;
  return flags;
}

/** 'A': every class but key-miss and new-key events. */
const ALL_CLASSES =
  NotifyType.Generic | NotifyType.String | NotifyType.List | NotifyType.Set | NotifyType.Hash | NotifyType.Zset | NotifyType.Expired | NotifyType.Evicted | NotifyType.Stream | NotifyType.Module;

/**
 * The event name no notification has: "this key changed", recorded while some client tracks keys
 * (CLIENT TRACKING) so that the front can invalidate it; never published.
 */
export const KEY_CHANGED = '';

export interface KeyspaceEvent {
  db: number;
  event: string;
  key: Buffer;
}

/** One client's WATCH of one key, as Redis's watchedKey. */
interface Watch {
  /** The key was already logically expired when WATCHed: its deletion by expiry is then no change. */
  expired: boolean;
  /** Changed since WATCH: EXEC aborts. */
  touched: boolean;
}

/** Where a key is: in the dictionary at all (expired or not), and logically expired. */
export interface KeyPresence {
  holds(db: number, key: Uint8Array): boolean;
  expired(db: number, key: Uint8Array): boolean;
}

export class KeyspaceSignals {
  /** Redis's server.dirty: changes since the shard started (INFO's rdb_changes_since_last_save sums them). */
  dirty = 0;
  /** notify-keyspace-events as NotifyType flags; 0 publishes nothing. */
  notify = 0;
  /** 1 while some client tracks keys (ShardOp.Track): every change is then reported as KEY_CHANGED. */
  tracking = 0;
  /** Notifications of the command running now, in the order it made them; the worker takes them. */
  readonly events: KeyspaceEvent[] = [];
  /**
   * Redis's signalKeyAsReady: told whenever a list or sorted set is stored under a key, for the shard's
   * blocked clients (blocked-waiters.ts); undefined where nobody can block (the scratch shard).
   */
  keyReady: ((db: number, key: Uint8Array) => void) | undefined = undefined;
  /** Redis's scanDatabaseForReadyKeys: database `db` now holds other keys (SWAPDB); any awaited one may be ready. */
  databaseReady: ((db: number) => void) | undefined = undefined;
  /** The propagation stream (propagation.ts), while someone consumes it (ShardOp.Propagate). */
  propagation: Propagation | undefined = undefined;
  /** Watched keys by watchName: each watcher's (client id's) state. */
  private readonly watched = new Map<string, Map<number, Watch>>();
  /** Answers where keys are, for the rules of watched keys that had expired; set by the shard. */
  presence: KeyPresence = { holds: () => false, expired: () => false };

  /** Whether any key is watched. */
  get watching(): boolean {
    return this.watched.size !== 0;
  }

  /**
   * Redis's signalModifiedKey (touchWatchedKey): every watcher of `key` sees it changed, except one that
   * watched it already expired and now finds it gone (its expiry deletion is no logical change); and
   * tracking hears of it.
   */
  modified(db: number, key: Uint8Array): void {
    if (this.tracking !== 0) this.events.push({ db, event: KEY_CHANGED, key: Buffer.from(key) });
    if (this.watched.size === 0) return;
    const watchers = this.watched.get(watchName(db, key));
    if (watchers === undefined) return;
    for (const watch of watchers.values()) {
      if (watch.expired && !this.presence.holds(db, key)) watch.expired = false;
      else watch.touched = true;
    }
  }

  /**
   * While set, writes publish no notification and count nothing dirty (changes are still signalled to
   * watchers and tracking): a cross-shard command's write-back, whose events the scratch shard made.
   */
  muted = false;

  /** Redis's notifyKeyspaceEvent: keeps the event if its class is enabled. */
  event(type: NotifyType, event: string, key: Uint8Array, db: number): void {
    if (this.muted) return;
    const flags = this.notify;
    if ((flags & type) === 0 || (flags & (NotifyType.Keyspace | NotifyType.Keyevent)) === 0) return;
    this.events.push({ db, event, key: Buffer.from(key) });
  }

  /** WATCH: `watcher` (a client id) starts watching `key`, noting whether it is expired already. */
  watch(db: number, key: Uint8Array, watcher: number): void {
    const name = watchName(db, key);
    const watchers = this.watched.get(name) ?? new Map<number, Watch>();
    watchers.set(watcher, { expired: this.presence.expired(db, key), touched: false });
    this.watched.set(name, watchers);
  }

  unwatch(db: number, key: Uint8Array, watcher: number): void {
    const name = watchName(db, key);
    const watchers = this.watched.get(name);
    if (watchers === undefined) return;
    watchers.delete(watcher);
    if (watchers.size === 0) this.watched.delete(name);
  }

  /** EXEC's question: did `key` change since `watcher` watched it, or expire since (Redis's isWatchedKeyExpired)? */
  touched(db: number, key: Uint8Array, watcher: number): boolean {
    const watch = this.watched.get(watchName(db, key))?.get(watcher);
    if (watch === undefined) return false;
    return watch.touched || (!watch.expired && this.presence.expired(db, key));
  }

  /**
   * Redis's touchAllWatchedKeysInDb: the content of `db` is being emptied (FLUSHDB) or replaced by
   * another database's (SWAPDB; `after` says where keys are in the content coming in). A watched key in
   * either touches its watchers, but for the expiry rules: an expired key that goes away, or stays
   * expired, is no change, and a missing key replaced by an expired one counts as expired.
   */
  touchAll(db: number, before: (key: Buffer) => boolean, after?: { holds: (key: Buffer) => boolean; expired: (key: Buffer) => boolean }): void {
    for (const [name, watchers] of this.watched) {
      const separator = name.indexOf(':');
      if (Number(name.slice(0, separator)) !== db) continue;
      const key = Buffer.from(name.slice(separator + 1), 'latin1');
      const existed = before(key);
      const arrives = after?.holds(key) ?? false;
      if (!existed && !arrives) continue;
      for (const watch of watchers.values()) {
        if (watch.expired) {
          if (!arrives) {
            watch.expired = false;
            continue;
          }
          if (after!.expired(key)) continue;
        } else if (!existed && after!.expired(key)) {
          watch.expired = true;
          continue;
        }
        watch.touched = true;
      }
    }
  }
}

/** A key's identity within the shard: its database and bytes. */
export function watchName(db: number, key: Uint8Array): string {
  return `${db}:${Buffer.from(key.buffer, key.byteOffset, key.length).toString('latin1')}`;
}
