/**
 * The keyspace commands (Redis's db.c and object.c): KEYS SCAN RANDOMKEY DBSIZE OBJECT FLUSHDB FLUSHALL
 * SWAPDB RENAME RENAMENX COPY MOVE, as they run on one shard, plus the two internal steps the front
 * uses to run RENAME, RENAMENX and COPY between keys of two shards.
 *
 * On a shard these are exactly Redis's commands over the shard's part of the keyspace. With several
 * shards the front runs the keyspace-wide ones on every shard and merges the replies, and turns a
 * RENAME or COPY across shards into a dump on one and a restore on the other inside one transaction
 * (server/keyspace-fanout.ts); a RENAME, COPY or MOVE whose keys share a shard runs here in one step.
 *
 * Redis details kept on purpose: KEYS skips expired keys without deleting them, SCAN deletes the expired
 * keys it meets (and, filtering by TYPE, a key that expires during the check counts as type "none"),
 * EXISTS-like inspection (OBJECT) does not count as an access for the LRU clock while RENAME and COPY
 * do, and OBJECT ENCODING / REFCOUNT report what Redis's object would be, from the entry's StringForm.
 *
 * The internal commands are not in the command table, so clients can never name them (the front
 * answers "unknown command"); they travel only from the front to a shard.
 */
import {
  ERR_DB_INDEX_OUT_OF_RANGE,
  ERR_INVALID_CURSOR,
  ERR_INVALID_FIRST_DB_INDEX,
  ERR_INVALID_SECOND_DB_INDEX,
  ERR_LFU_NOT_SELECTED,
  ERR_LFU_SELECTED,
  ERR_NO_SUCH_KEY,
  ERR_NOT_INT32,
  ERR_NOT_INTEGER,
  ERR_SAME_OBJECT,
  ERR_SYNTAX,
} from '../protocol/errors.js';
import { CollectionEncoding, collectionEncoding } from '../collections/collection.js';
import { ByteWriter } from '../persistence/byte-writer.js';
import { restoreCommand } from '../persistence/aof-base.js';
import { deletion } from '../shard/propagation.js';
import { writeValue } from '../persistence/rdb-writer.js';
import type { Database } from '../shard/database.js';
import { StringForm, ValueType } from '../shard/entry.js';
import { idleSeconds, lfuCounter } from '../shard/access-clock.js';
import { dumpKey, restoreKey } from '../shard/key-dump.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import { argText, isKeyword, parseInt64, type CommandHandler, type ExecutionContext } from './context.js';
import { GlobPattern } from './glob.js';
import { TYPE_NAMES } from './keys.js';
import { parseScanCursor, parseScanOptions, type ScanOptions } from './scan.js';

/** Internal command names: the front's steps of a cross-shard RENAME, RENAMENX or COPY. */
export const INTERNAL_KEY_DUMP = '_sabre.key-dump';
export const INTERNAL_KEY_RESTORE = '_sabre.key-restore';
export const INTERNAL_KEY_DELETE = '_sabre.key-delete';
export const INTERNAL_KEY_NOTIFY = '_sabre.key-notify';
export const INTERNAL_DEBUG_OBJECT = '_sabre.debug-object';

const STAR = 0x2a;
/** Redis keeps strings up to this many bytes in one allocation with their object ("embstr"). */
const EMBSTR_MAX = 44;
/** Redis shares one object for each integer value 0..9999 (OBJ_SHARED_INTEGERS). */
const SHARED_INTEGERS = 10000;
/** The reference count Redis reports for a shared object. */
const SHARED_REFCOUNT = 2147483647;

/**
 * An argument read as Redis's getIntFromObjectOrReply reads it (a 64-bit integer that must fit a C
 * int): the value, or the error Redis answers.
 */
function int32Argument(arg: Uint8Array): number | string {
  const value = parseInt64(arg);
  if (value === undefined) return ERR_NOT_INTEGER;
  if (value < -2147483648 || value > 2147483647) return ERR_NOT_INT32;
  return Number(value);
}

/** A string's value as Redis's tryObjectEncoding reads an integer (string2l, at most 20 bytes), or undefined. */
function integerValue(bytes: Uint8Array): number | bigint | undefined {
  return bytes.length <= 20 ? parseInt64(bytes) : undefined;
}

// ------------------------------------------------------------------ KEYS SCAN RANDOMKEY DBSIZE

const keys: CommandHandler = (ctx, argv) => {
  const pattern = argv[1];
  const glob = pattern.length === 1 && pattern[0] === STAR ? undefined : new GlobPattern(pattern);
  const db = ctx.db;
  const found: number[] = [];
  db.dict.forEach((entry) => {
    if ((glob === undefined || glob.matches(db.keyBytes(entry))) && !db.isExpired(entry)) found.push(entry);
  });
  ctx.reply.arrayHeader(found.length);
  for (const entry of found) ctx.reply.bulk(db.keyBytes(entry));
};

/** Whether SCAN returns `key`, in Redis's order of filters; an expired key met here is deleted. */
function scanKeeps(db: Database, key: Buffer, options: ScanOptions): boolean {
  if (options.pattern !== undefined && !options.pattern.matches(key)) return false;
  if (options.type !== undefined) {
    const entry = db.lookupNoTouch(key);
    if ((entry === 0 ? 'none' : TYPE_NAMES[db.type(entry)]) !== options.type) return false;
  }
  return !db.expireIfNeeded(key);
}

const scan: CommandHandler = (ctx, argv) => {
  const cursor = parseScanCursor(argv[1]);
  if (cursor === undefined) return ctx.reply.error(ERR_INVALID_CURSOR);
  const options = parseScanOptions(argv, 2, true);
  if (typeof options === 'string') return ctx.reply.error(options);
  const db = ctx.db;
  const found: Buffer[] = [];
  // The dictionary's cursor is 32 bits: no table has more buckets, and the reversed-bit walk ignores
  // every bit above the table's mask anyway, so a client's larger cursor lands where Redis's would.
  let next = Number(cursor & 0xffffffffn);
  // Redis bounds the buckets visited by ten times COUNT, so a sparse table cannot stall the server.
  let iterations = options.count * 10;
  do {
    next = db.dict.scan(next, (entry) => found.push(Buffer.from(db.keyBytes(entry))));
  } while (next !== 0 && iterations-- !== 0 && found.length < options.count);
  // Filtering may delete keys, so it waits until the walk is over.
  const kept = found.filter((key) => scanKeeps(db, key, options));
  ctx.reply.arrayHeader(2);
  ctx.reply.bulk(String(next));
  ctx.reply.arrayHeader(kept.length);
  for (const key of kept) ctx.reply.bulk(key);
};

const randomkey: CommandHandler = (ctx) => {
  const db = ctx.db;
  for (;;) {
    const entry = db.dict.randomEntry(Math.random);
    if (entry === 0) return ctx.reply.nullBulk();
    const key = Buffer.from(db.keyBytes(entry));
    // An expired key is deleted and another one drawn, as Redis's dbRandomKey does.
    if (!db.expireIfNeeded(key)) return ctx.reply.bulk(key);
  }
};

const dbsize: CommandHandler = (ctx) => ctx.reply.integer(ctx.db.size);

// ------------------------------------------------------------------ OBJECT

/** The entry for OBJECT's key (not counted as an access), or 0 after replying null. */
function objectEntry(ctx: ExecutionContext, key: Uint8Array): number {
  const entry = ctx.db.lookupQuiet(key);
  if (entry === 0) ctx.reply.nullBulk();
  return entry;
}

function stringEncoding(db: Database, entry: number): string {
  const form = db.stringForm(entry);
  if (form === StringForm.UnsharedInt) return 'int';
  if (form === StringForm.Raw) return 'raw';
  const bytes = db.stringBytes(entry);
  if (form === StringForm.AsSet && integerValue(bytes) !== undefined) return 'int';
  return bytes.length <= EMBSTR_MAX ? 'embstr' : 'raw';
}

/** OBJECT ENCODING's name for a value; each collection type reports its encodings when it arrives. */
function valueEncoding(db: Database, entry: number): string {
  const type = db.type(entry);
  if (type === ValueType.String) return stringEncoding(db, entry);
  if (type === ValueType.Hash) return collectionEncoding(db.arena, db.collectionRoot(entry)) === CollectionEncoding.Packed ? 'listpack' : 'hashtable';
  if (type === ValueType.List) return 'quicklist';
  if (type === ValueType.ZSet) return collectionEncoding(db.arena, db.collectionRoot(entry)) === CollectionEncoding.Packed ? 'listpack' : 'skiplist';
  if (type === ValueType.Set) return collectionEncoding(db.arena, db.collectionRoot(entry)) === CollectionEncoding.Intset ? 'intset' : 'hashtable';
  // Redis says "unknown" for an encoding it cannot name.
  return 'unknown';
}

const objectEncoding: CommandHandler = (ctx, argv) => {
  const entry = objectEntry(ctx, argv[2]);
  if (entry === 0) return;
  ctx.reply.bulk(valueEncoding(ctx.db, entry));
};

/** A value's reference count as Redis reports it: small integers written by SET share one object. */
function refcount(db: Database, entry: number): number {
  const value = db.type(entry) === ValueType.String && db.stringForm(entry) === StringForm.AsSet ? integerValue(db.stringBytes(entry)) : undefined;
  return value !== undefined && value >= 0 && value < SHARED_INTEGERS ? SHARED_REFCOUNT : 1;
}

const objectRefcount: CommandHandler = (ctx, argv) => {
  const entry = objectEntry(ctx, argv[2]);
  if (entry === 0) return;
  ctx.reply.integer(refcount(ctx.db, entry));
};

/** Under an LFU policy the access word holds a counter, not a time (and the other way round for FREQ). */
const objectIdletime: CommandHandler = (ctx, argv) => {
  const entry = objectEntry(ctx, argv[2]);
  if (entry === 0) return;
  if (ctx.db.access.lfu === 1) return ctx.reply.error(ERR_LFU_SELECTED);
  ctx.reply.integer(idleSeconds(ctx.db.accessWord(entry), ctx.now));
};

const objectFreq: CommandHandler = (ctx, argv) => {
  const entry = objectEntry(ctx, argv[2]);
  if (entry === 0) return;
  if (ctx.db.access.lfu === 0) return ctx.reply.error(ERR_LFU_NOT_SELECTED);
  ctx.reply.integer(lfuCounter(ctx.db.accessWord(entry), ctx.now, ctx.db.access));
};

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

const objectHelp: CommandHandler = (ctx) => {
  ctx.reply.arrayHeader(OBJECT_HELP.length);
  for (const line of OBJECT_HELP) ctx.reply.simple(line);
};

// ------------------------------------------------------------------ FLUSHDB FLUSHALL SWAPDB

/**
 * FLUSHDB and FLUSHALL take SYNC or ASYNC; without either, lazyfree-lazy-user-flush decides. Returns
 * whether to free in the background, or undefined after answering a syntax error.
 */
function flushIsLazy(ctx: ExecutionContext, argv: readonly Buffer[]): boolean | number | undefined {
  if (argv.length === 1) return ctx.db.lazyFree.settings['lazyfree-lazy-user-flush'];
  if (argv.length === 2 && isKeyword(argv[1], 'ASYNC')) return true;
  if (argv.length === 2 && isKeyword(argv[1], 'SYNC')) return false;
  ctx.reply.error(ERR_SYNTAX);
  return undefined;
}

/**
 * Empties `db` as Redis's emptyData does for it: the watched keys it holds are touched (no notification
 * names a flush) and every key removed counts as a change.
 */
function flushSignalled(db: Database, lazy: boolean | number): void {
  const removed = db.size;
  db.signals.touchAll(db.index, (key) => db.holds(key));
  db.flush(lazy);
  db.signals.dirty += removed;
}

const flushdb: CommandHandler = (ctx, argv) => {
  const lazy = flushIsLazy(ctx, argv);
  if (lazy === undefined) return;
  flushSignalled(ctx.db, lazy);
  // Every shard propagates its part, emptied or not: the front lets the flush out once all have (propagation-stream.ts).
  ctx.propagate?.force();
  ctx.reply.ok();
};

const flushall: CommandHandler = (ctx, argv) => {
  const lazy = flushIsLazy(ctx, argv);
  if (lazy === undefined) return;
  for (const db of ctx.databases) flushSignalled(db, lazy);
  ctx.propagate?.force();
  ctx.reply.ok();
};

const swapdb: CommandHandler = (ctx, argv) => {
  const first = int32Argument(argv[1]);
  if (typeof first === 'string') return ctx.reply.error(ERR_INVALID_FIRST_DB_INDEX);
  const second = int32Argument(argv[2]);
  if (typeof second === 'string') return ctx.reply.error(ERR_INVALID_SECOND_DB_INDEX);
  const count = ctx.databases.length;
  if (first < 0 || first >= count || second < 0 || second >= count) return ctx.reply.error(ERR_DB_INDEX_OUT_OF_RANGE);
  const databases = ctx.databases;
  const [a, b] = [databases[first], databases[second]];
  // A watched key is touched when it exists on either side: its value may change, or it may appear or vanish.
  const signals = ctx.db.signals;
  const contentOf = (db: Database) => ({ holds: (key: Buffer) => db.holds(key), expired: (key: Buffer) => db.isExpiredKey(key) });
  signals.touchAll(first, (key) => a.holds(key), contentOf(b));
  if (second !== first) signals.touchAll(second, (key) => b.holds(key), contentOf(a));
  [databases[first], databases[second]] = [b, a];
  [a.index, b.index] = [second, first];
  signals.dirty++;
  // Clients blocked in either database may find their keys there now.
  ctx.db.signals.databaseReady?.(first);
  ctx.db.signals.databaseReady?.(second);
  ctx.reply.ok();
};

// ------------------------------------------------------------------ RENAME RENAMENX MOVE COPY

function renameGeneric(nx: boolean): CommandHandler {
  return (ctx, argv) => {
    const [, from, to] = argv;
    if (ctx.db.lookup(from) === 0) return ctx.reply.error(ERR_NO_SUCH_KEY);
    if (from.equals(to)) return nx ? ctx.reply.integer(0) : ctx.reply.ok();
    // Looked up even when it will be replaced: an expired destination is deleted (and counted) first.
    if (ctx.db.lookup(to) !== 0 && nx) return ctx.reply.integer(0);
    ctx.db.moveEntry(from, ctx.db, to);
    ctx.db.changed(from, NotifyType.Generic, 'rename_from');
    ctx.db.changed(to, NotifyType.Generic, 'rename_to', 0);
    if (nx) ctx.reply.integer(1);
    else ctx.reply.ok();
  };
}

/** The database `arg` names for MOVE or COPY DB, or the error Redis answers. */
function targetDatabase(ctx: ExecutionContext, arg: Uint8Array): number | string {
  const index = int32Argument(arg);
  if (typeof index === 'string') return index;
  return index >= 0 && index < ctx.databases.length ? index : ERR_DB_INDEX_OUT_OF_RANGE;
}

const move: CommandHandler = (ctx, argv) => {
  const index = targetDatabase(ctx, argv[2]);
  if (typeof index === 'string') return ctx.reply.error(index);
  if (index === ctx.dbIndex) return ctx.reply.error(ERR_SAME_OBJECT);
  const target = ctx.databases[index];
  if (ctx.db.lookup(argv[1]) === 0 || target.lookup(argv[1]) !== 0) return ctx.reply.integer(0);
  ctx.db.moveEntry(argv[1], target, argv[1]);
  ctx.db.changed(argv[1], NotifyType.Generic, 'move_from');
  target.changed(argv[1], NotifyType.Generic, 'move_to', 0);
  ctx.reply.integer(1);
};

export interface CopyOptions {
  /** DB's index; undefined for the source's own database. */
  targetDb: number | undefined;
  replace: boolean;
}

/**
 * COPY's options (argv[3] on), or the error Redis answers for the first bad one. Shared with the front,
 * which runs a COPY between shards and must refuse exactly what a shard would.
 */
export function parseCopyOptions(argv: readonly Uint8Array[], databases: number): CopyOptions | string {
  const options: CopyOptions = { targetDb: undefined, replace: false };
  for (let j = 3; j < argv.length; j++) {
    if (isKeyword(argv[j], 'REPLACE')) options.replace = true;
    else if (isKeyword(argv[j], 'DB') && j + 1 < argv.length) {
      const index = int32Argument(argv[++j]);
      if (typeof index === 'string') return index;
      if (index < 0 || index >= databases) return ERR_DB_INDEX_OUT_OF_RANGE;
      options.targetDb = index;
    } else return ERR_SYNTAX;
  }
  return options;
}

function noCodec(db: Database, entry: number): string {
  return `ERR sabre cannot copy a value of type ${TYPE_NAMES[db.type(entry)]} yet`;
}

/**
 * Writes a dumped key as `key` in `db` and signals `event` for it: 1, or 0 when the key exists and
 * `replace` is off. A copy gets what Redis's dupStringObject gives: the same encoding, but never a
 * shared integer.
 */
/**
 * Signals a key written whole (RESTORE, COPY, a RENAME's target): Redis deletes the key it replaces and
 * adds the new one, so it is a new key either way; then `event`, or only the watchers when there is none.
 */
export function signalWritten(db: Database, key: Uint8Array, existed: boolean, event: string | undefined): void {
  if (existed) db.notify(NotifyType.New, 'new', key);
  if (event !== undefined) db.changed(key, NotifyType.Generic, event);
  else db.signals.modified(db.index, key);
}

function restoreInto(db: Database, key: Uint8Array, dump: Uint8Array, replace: boolean, asCopy: boolean, event: string | undefined): 0 | 1 | undefined {
  const existed = db.lookup(key) !== 0;
  if (existed && !replace) return 0;
  const entry = restoreKey(db, key, dump);
  if (entry === 0) return undefined;
  signalWritten(db, key, existed, event);
  if (asCopy && db.type(entry) === ValueType.String && db.stringForm(entry) === StringForm.AsSet && integerValue(db.stringBytes(entry)) !== undefined) {
    db.setStringForm(entry, StringForm.UnsharedInt);
  }
  return 1;
}

const copy: CommandHandler = (ctx, argv) => {
  const options = parseCopyOptions(argv, ctx.databases.length);
  if (typeof options === 'string') return ctx.reply.error(options);
  const targetIndex = options.targetDb ?? ctx.dbIndex;
  if (targetIndex === ctx.dbIndex && argv[1].equals(argv[2])) return ctx.reply.error(ERR_SAME_OBJECT);
  const entry = ctx.db.lookupRead(argv[1]);
  if (entry === 0) return ctx.reply.integer(0);
  const dump = dumpKey(ctx.db, entry);
  if (dump === undefined) return ctx.reply.error(noCodec(ctx.db, entry));
  const written = restoreInto(ctx.databases[targetIndex], argv[2], dump, options.replace, true, 'copy_to');
  if (written === undefined) return ctx.reply.error(noCodec(ctx.db, entry));
  ctx.reply.integer(written);
};

// ------------------------------------------------------------------ internal steps

/** `_sabre.key-dump key`: the key's dump as a bulk string, empty when the key does not exist. */
const keyDump: CommandHandler = (ctx, argv) => {
  const entry = ctx.db.lookup(argv[1]);
  if (entry === 0) return ctx.reply.bulk(Buffer.alloc(0));
  const dump = dumpKey(ctx.db, entry);
  if (dump === undefined) return ctx.reply.error(noCodec(ctx.db, entry));
  ctx.reply.bulk(dump);
};

/**
 * `_sabre.debug-object key`: DEBUG OBJECT's line for the key, as Redis formats it (the front routes
 * DEBUG OBJECT here, to the key's shard). The address is the entry's handle in the arena.
 */
const debugObject: CommandHandler = (ctx, argv) => {
  const db = ctx.db;
  const entry = db.lookupNoTouch(argv[1]);
  if (entry === 0) return ctx.reply.error(ERR_NO_SUCH_KEY);
  const encoding = valueEncoding(db, entry);
  // Redis's rdbSavedObjectLen: the value as the RDB writer writes it (compressed, as rdbcompression's default).
  const written = new ByteWriter();
  writeValue(written, db, entry, { compression: true });
  const serialized = written.length;
  const lru = db.accessWord(entry);
  ctx.reply.simple(
    `Value at:0x${entry.toString(16)} refcount:${refcount(db, entry)} encoding:${encoding} serializedlength:${serialized} lru:${lru} lru_seconds_idle:${idleSeconds(lru, ctx.now)}`,
  );
};

/**
 * `_sabre.key-restore key dump REPLACE|NX how [db]`: writes the dump as `key` in database `db` (the
 * request's own by default); 1 when written, 0 when NX found the key present. `how` is the event the
 * write signals as a client's command would (`copy_to`, with COPY's value rules; `rename_to`,
 * `restore`, `sortstore`), or NEW (only the new-key event: the rest comes in later steps), or SILENT
 * (watchers and tracking hear of it, and it counts one change, nothing else: the write-back of a
 * command a scratch shard ran, which made the events itself).
 */
const keyRestore: CommandHandler = (ctx, argv) => {
  const index = argv.length > 5 ? targetDatabase(ctx, argv[5]) : ctx.dbIndex;
  if (argv.length < 5 || typeof index === 'string') return ctx.reply.error(ERR_SYNTAX);
  const how = argText(argv[4]);
  const db = ctx.databases[index];
  const replace = isKeyword(argv[3], 'REPLACE');
  const written = how === 'SILENT' ? quietly(db, () => restoreInto(db, argv[1], argv[2], replace, false, undefined)) : restoreInto(db, argv[1], argv[2], replace, how === 'copy_to', how === 'NEW' ? undefined : how);
  // A silent write-back still counts as a change for the save rules (the scratch shard's count is not kept).
  if (how === 'SILENT' && written === 1) db.signals.dirty++;
  if (written === undefined) return ctx.reply.error('ERR sabre cannot restore this key dump');
  if (written === 1 && ctx.propagate !== undefined) {
    ctx.propagate.prevent();
    ctx.propagate.also(index, restoreCommand(db, db.lookupNoTouch(argv[1])));
  }
  ctx.reply.integer(written);
};

/** `_sabre.key-delete key event|SILENT`: deletes the key, signalled as `event` (RENAME's `rename_from`) or only to watchers. */
const keyDelete: CommandHandler = (ctx, argv) => {
  const how = argText(argv[2]);
  const deleted = how === 'SILENT' ? quietly(ctx.db, () => ctx.db.deleteChanged(argv[1])) : ctx.db.delete(argv[1]);
  if (deleted && how !== 'SILENT') ctx.db.changed(argv[1], NotifyType.Generic, how);
  if (deleted && how === 'SILENT') ctx.db.signals.dirty++;
  ctx.propagate?.rewrite(deletion(argv[1], false));
  ctx.reply.integer(deleted ? 1 : 0);
};

/** `_sabre.key-notify key event`: the notification of a change a cross-shard command's earlier steps made. */
const keyNotify: CommandHandler = (ctx, argv) => {
  ctx.db.notify(NotifyType.Generic, argText(argv[2]), argv[1]);
  ctx.reply.ok();
};

/** Runs a write with the shard's notifications and dirty count muted (its watchers still hear of it). */
function quietly<T>(db: Database, write: () => T): T {
  db.signals.muted = true;
  try {
    return write();
  } finally {
    db.signals.muted = false;
  }
}

export const keyspaceCommands: Readonly<Record<string, CommandHandler>> = {
  keys,
  scan,
  randomkey,
  dbsize,
  'object|encoding': objectEncoding,
  'object|refcount': objectRefcount,
  'object|idletime': objectIdletime,
  'object|freq': objectFreq,
  'object|help': objectHelp,
  flushdb,
  flushall,
  swapdb,
  rename: renameGeneric(false),
  renamenx: renameGeneric(true),
  move,
  copy,
};

export const internalKeyspaceCommands: Readonly<Record<string, CommandHandler>> = {
  [INTERNAL_KEY_DUMP]: keyDump,
  [INTERNAL_KEY_RESTORE]: keyRestore,
  [INTERNAL_KEY_DELETE]: keyDelete,
  [INTERNAL_KEY_NOTIFY]: keyNotify,
  [INTERNAL_DEBUG_OBJECT]: debugObject,
};
