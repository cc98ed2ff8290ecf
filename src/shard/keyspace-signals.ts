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

export interface KeyspaceEvent {
  db: number;
  event: string;
  key: Buffer;
}

interface Watch {
  /** The signal clock when the key last changed while watched (0: not since it was first watched). */
  version: number;
  /** Clients watching it (their WATCH calls not yet undone). */
  watchers: number;
}

export class KeyspaceSignals {
  /** Redis's server.dirty: changes since the shard started (the front subtracts the last save's). */
  dirty = 0;
  /** notify-keyspace-events as NotifyType flags; 0 publishes nothing. */
  notify = 0;
  /** Notifications of the command running now, in the order it made them; the worker takes them. */
  readonly events: KeyspaceEvent[] = [];
  /**
   * Redis's signalKeyAsReady: told whenever a list or sorted set is stored under a key, for the shard's
   * blocked clients (blocked-waiters.ts); undefined where nobody can block (the scratch shard).
   */
  keyReady: ((db: number, key: Uint8Array) => void) | undefined = undefined;
  /** Redis's scanDatabaseForReadyKeys: database `db` now holds other keys (SWAPDB); any awaited one may be ready. */
  databaseReady: ((db: number) => void) | undefined = undefined;
  private readonly watched = new Map<string, Watch>();
  private clock = 0;

  /** Whether any key is watched. */
  get watching(): boolean {
    return this.watched.size !== 0;
  }

  /** Redis's signalModifiedKey: moves the version of `key` if anyone watches it. */
  modified(db: number, key: Uint8Array): void {
    if (this.watched.size === 0) return;
    const watch = this.watched.get(watchName(db, key));
    if (watch !== undefined) watch.version = ++this.clock;
  }

  /** Redis's notifyKeyspaceEvent: keeps the event if its class is enabled. */
  event(type: NotifyType, event: string, key: Uint8Array, db: number): void {
    const flags = this.notify;
    if ((flags & type) === 0 || (flags & (NotifyType.Keyspace | NotifyType.Keyevent)) === 0) return;
    this.events.push({ db, event, key: Buffer.from(key) });
  }

  /** Starts watching `key` for one more client; returns its version now, for versionOf to compare. */
  watch(db: number, key: Uint8Array): number {
    const name = watchName(db, key);
    const watch = this.watched.get(name);
    if (watch !== undefined) {
      watch.watchers++;
      return watch.version;
    }
    this.watched.set(name, { version: 0, watchers: 1 });
    return 0;
  }

  /** Undoes one watch() of `key`. */
  unwatch(db: number, key: Uint8Array): void {
    const name = watchName(db, key);
    const watch = this.watched.get(name);
    if (watch === undefined) return;
    if (--watch.watchers === 0) this.watched.delete(name);
  }

  /** The version of a watched key (as watch() returned it until the key changes). */
  versionOf(db: number, key: Uint8Array): number {
    return this.watched.get(watchName(db, key))?.version ?? -1;
  }

  /** Moves the version of every watched key of `db` that `exists` says is there (FLUSHDB, SWAPDB). */
  modifiedWhere(db: number, exists: (key: Buffer) => boolean): void {
    for (const [name, watch] of this.watched) {
      const separator = name.indexOf(':');
      if (Number(name.slice(0, separator)) !== db) continue;
      if (exists(Buffer.from(name.slice(separator + 1), 'latin1'))) watch.version = ++this.clock;
    }
  }
}

/** A key's identity within the shard: its database and bytes. */
export function watchName(db: number, key: Uint8Array): string {
  return `${db}:${Buffer.from(key.buffer, key.byteOffset, key.length).toString('latin1')}`;
}
