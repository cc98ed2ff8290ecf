/**
 * The set commands (Redis's t_set.c): SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SRANDMEMBER SPOP
 * SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN.
 *
 * The value lives in shard memory (collections/set.ts: an intset while small and all integers, else a
 * table of member entries); these handlers parse, check types, and write replies from arena views.
 * Semantics, errors, reply types (RESP3 sets where Redis 7.0 sends them) and encoding changes follow
 * Redis 7.0. The algebra builds its result as Redis does, in a fresh set that starts as an intset and
 * converts as members arrive, so a stored result has Redis's encoding and a replied one Redis's order
 * wherever that order is defined (an intset's is ascending). A set whose last member goes is deleted.
 */
import { SetValue, memberCopy, memberReply, type SetMember } from '../collections/set.js';
import {
  ERR_NOT_INTEGER,
  ERR_NOT_LONG,
  ERR_NOT_POSITIVE,
  ERR_SYNTAX,
  WRONGTYPE,
} from '../protocol/errors.js';
import { ValueType } from '../shard/entry.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import { isKeyword, parseInt64, type CommandHandler, type ExecutionContext } from './context.js';
import { deletion } from '../shard/propagation.js';
import { collectionScan } from './collection-scan.js';

const LONG_MAX = 9223372036854775807n;
/** Redis's SPOP_MOVE_STRATEGY_MUL: when at most 1/5 of the count stays, build the rest anew instead. */
const SPOP_MOVE_STRATEGY_MUL = 5;
const ERR_NUMKEYS = 'ERR numkeys should be greater than 0';
const ERR_NUMKEYS_ARGS = "ERR Number of keys can't be greater than number of args";
const ERR_LIMIT_NEGATIVE = "ERR LIMIT can't be negative";

interface FoundSet {
  entry: number;
  set: SetValue;
}

/** The set at `key`, null when missing, or undefined after replying WRONGTYPE (`reading`: see setsAt). */
function setAt(ctx: ExecutionContext, key: Uint8Array, reading = false): FoundSet | null | undefined {
  const entry = reading ? ctx.db.lookupRead(key) : ctx.db.lookup(key);
  if (entry === 0) return null;
  if (ctx.db.type(entry) !== ValueType.Set) {
    ctx.reply.error(WRONGTYPE);
    return undefined;
  }
  return { entry, set: new SetValue(ctx.db.arena, ctx.db.collectionRoot(entry)) };
}

/**
 * The sets at `keys` (null for a missing key), or undefined after replying WRONGTYPE for the first wrong
 * one. `reading`: the sources of a *STORE command, which Redis reads with lookupKeyRead.
 */
function setsAt(ctx: ExecutionContext, keys: readonly Uint8Array[], reading = false): (FoundSet | null)[] | undefined {
  const sets: (FoundSet | null)[] = [];
  for (const key of keys) {
    const found = setAt(ctx, key, reading);
    if (found === undefined) return undefined;
    sets.push(found);
  }
  return sets;
}

/**
 * Records a set's (possibly moved) root in its key, or deletes the key when the set is empty; signals
 * `event` with `dirty` changes, and `del` for a deleted key.
 */
function commitOrDelete(ctx: ExecutionContext, key: Uint8Array, found: FoundSet, event: string, dirty = 1): void {
  // The root first: deleting the key frees whatever root its entry names.
  ctx.db.setCollectionRoot(found.entry, found.set.root);
  const emptied = found.set.size === 0;
  if (emptied) ctx.db.delete(key);
  ctx.db.changed(key, NotifyType.Set, event, dirty);
  if (emptied) ctx.db.notify(NotifyType.Generic, 'del', key);
}

/**
 * Stores a computed result at `key` (replacing whatever it held, TTL included) and signals `event`, or
 * deletes the key when empty; replies its size.
 */
function storeResult(ctx: ExecutionContext, key: Uint8Array, result: SetValue, event: string): void {
  const size = result.size;
  if (size === 0) {
    result.free();
    ctx.db.deleteChanged(key);
  } else {
    try {
      ctx.db.setCollection(key, ValueType.Set, result.root);
    } catch (error) {
      result.free();
      throw error;
    }
    ctx.db.changed(key, NotifyType.Set, event);
  }
  ctx.reply.integer(size);
}

/** Replies the members of a computed result as a set, then frees it. */
function replyResult(ctx: ExecutionContext, result: SetValue): void {
  try {
    ctx.reply.setHeader(result.size);
    result.forEach((member) => ctx.reply.bulk(memberReply(member)));
  } finally {
    result.free();
  }
}

// ------------------------------------------------------------------ SADD SREM

const sadd: CommandHandler = (ctx, argv) => {
  const found = setAt(ctx, argv[1]);
  if (found === undefined) return;
  const target = found ?? { entry: 0, set: SetValue.create(ctx.db.arena, argv[2]) };
  let added = 0;
  for (let i = 2; i < argv.length; i++) if (target.set.add(argv[i], ctx.limits)) added++;
  if (target.entry === 0) ctx.db.setCollection(argv[1], ValueType.Set, target.set.root);
  else ctx.db.setCollectionRoot(target.entry, target.set.root);
  if (added !== 0) ctx.db.changed(argv[1], NotifyType.Set, 'sadd', added);
  ctx.reply.integer(added);
};

const srem: CommandHandler = (ctx, argv) => {
  const found = setAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null) return ctx.reply.integer(0);
  let removed = 0;
  for (let i = 2; i < argv.length; i++) {
    if (found.set.remove(argv[i])) removed++;
    if (found.set.size === 0) break;
  }
  if (removed !== 0) commitOrDelete(ctx, argv[1], found, 'srem', removed);
  ctx.reply.integer(removed);
};

// ------------------------------------------------------------------ reads

const scard: CommandHandler = (ctx, argv) => {
  const found = setAt(ctx, argv[1]);
  if (found !== undefined) ctx.reply.integer(found?.set.size ?? 0);
};

const sismember: CommandHandler = (ctx, argv) => {
  const found = setAt(ctx, argv[1]);
  if (found !== undefined) ctx.reply.integer(found?.set.has(argv[2]) ? 1 : 0);
};

const smismember: CommandHandler = (ctx, argv) => {
  const found = setAt(ctx, argv[1]);
  if (found === undefined) return;
  ctx.reply.arrayHeader(argv.length - 2);
  for (let i = 2; i < argv.length; i++) ctx.reply.integer(found?.set.has(argv[i]) ? 1 : 0);
};

// ------------------------------------------------------------------ SINTER SINTERCARD SINTERSTORE SMEMBERS

interface IntersectionOutput {
  /** Where to store the result (SINTERSTORE), or undefined to reply it. */
  store?: Uint8Array;
  /** Reply only the cardinality (SINTERCARD), counting at most `limit` members (0: no limit). */
  cardinalityOnly?: boolean;
  limit?: number;
}

/** Redis's sinterGenericCommand: walk the smallest set and keep what every other set has. */
function intersect(ctx: ExecutionContext, keys: readonly Uint8Array[], output: IntersectionOutput): void {
  const found = setsAt(ctx, keys, output.store !== undefined);
  if (found === undefined) return;
  if (found.includes(null)) {
    if (output.store !== undefined) {
      ctx.db.deleteChanged(output.store);
      ctx.reply.integer(0);
    } else if (output.cardinalityOnly) ctx.reply.integer(0);
    else ctx.reply.setHeader(0);
    return;
  }
  const sets = (found as FoundSet[]).map((item) => item.set).sort((a, b) => a.size - b.size);
  const [smallest, ...others] = sets;
  const limit = output.limit ?? 0;
  const kept: SetMember[] = [];
  smallest.forEachWhile((member) => {
    for (const other of others) if (other.root !== smallest.root && !other.has(member)) return true;
    kept.push(output.cardinalityOnly ? 0 : memberCopy(member));
    return limit === 0 || kept.length < limit;
  });
  if (output.cardinalityOnly) return ctx.reply.integer(kept.length);
  if (output.store === undefined) {
    ctx.reply.setHeader(kept.length);
    for (const member of kept) ctx.reply.bulk(memberReply(member));
    return;
  }
  const result = SetValue.createIntset(ctx.db.arena);
  try {
    for (const member of kept) result.add(member, ctx.limits);
  } catch (error) {
    result.free();
    throw error;
  }
  storeResult(ctx, output.store, result, 'sinterstore');
}

const sinter: CommandHandler = (ctx, argv) => intersect(ctx, argv.slice(1), {});

const sinterstore: CommandHandler = (ctx, argv) => intersect(ctx, argv.slice(2), { store: argv[1] });

const sintercard: CommandHandler = (ctx, argv) => {
  const numkeys = parseInt64(argv[1]);
  if (numkeys === undefined || numkeys < 1) return ctx.reply.error(ERR_NUMKEYS);
  if (numkeys > argv.length - 2) return ctx.reply.error(ERR_NUMKEYS_ARGS);
  const keysEnd = 2 + Number(numkeys);
  let limit = 0;
  for (let i = keysEnd; i < argv.length; i++) {
    if (isKeyword(argv[i], 'LIMIT') && i + 1 < argv.length) {
      const value = parseInt64(argv[++i]);
      if (value === undefined || value < 0) return ctx.reply.error(ERR_LIMIT_NEGATIVE);
      limit = Number(value);
    } else return ctx.reply.error(ERR_SYNTAX);
  }
  intersect(ctx, argv.slice(2, keysEnd), { cardinalityOnly: true, limit });
};

// ------------------------------------------------------------------ SUNION SDIFF (and STORE)

const UNION = 0;
const DIFFERENCE = 1;

/**
 * Redis's sunionDiffGenericCommand: the union or difference of the sets at `keys`, as a new set (not
 * any key's), or undefined after replying WRONGTYPE. The difference takes Redis's cheaper algorithm:
 * keep each member of the first set that no other has (1), or copy the first set and remove the others'
 * members (2); the choice shows in the result's encoding, as it does in Redis.
 */
function combine(ctx: ExecutionContext, keys: readonly Uint8Array[], op: number, reading = false): SetValue | undefined {
  const found = setsAt(ctx, keys, reading);
  if (found === undefined) return undefined;
  const sets = found.map((item) => item?.set);
  const first = sets[0];
  const sameSet = sets.some((set, i) => i > 0 && set?.root === first?.root);
  const result = SetValue.createIntset(ctx.db.arena);
  try {
    if (op === UNION) {
      for (const set of sets) set?.forEach((member) => result.add(member, ctx.limits));
    } else if (first !== undefined && !sameSet) {
      let algorithmOneWork = 0;
      let algorithmTwoWork = 0;
      for (const set of sets) {
        if (set === undefined) continue;
        algorithmOneWork += first.size;
        algorithmTwoWork += set.size;
      }
      const others = sets.slice(1).filter((set): set is SetValue => set !== undefined);
      if (Math.floor(algorithmOneWork / 2) <= algorithmTwoWork) {
        first.forEach((member) => {
          if (!others.some((other) => other.has(member))) result.add(member, ctx.limits);
        });
      } else {
        first.forEach((member) => result.add(member, ctx.limits));
        for (const other of others) {
          if (result.size === 0) break;
          other.forEach((member) => result.remove(member));
        }
      }
    }
  } catch (error) {
    result.free();
    throw error;
  }
  return result;
}

function combineCommand(op: number, store: boolean): CommandHandler {
  return (ctx, argv) => {
    const result = combine(ctx, argv.slice(store ? 2 : 1), op, store);
    if (result === undefined) return;
    if (store) storeResult(ctx, argv[1], result, op === UNION ? 'sunionstore' : 'sdiffstore');
    else replyResult(ctx, result);
  };
}

// ------------------------------------------------------------------ SMOVE

const smove: CommandHandler = (ctx, argv) => {
  const source = setAt(ctx, argv[1]);
  if (source === undefined) return;
  const destinationEntry = ctx.db.lookup(argv[2]);
  if (source === null) return ctx.reply.integer(0);
  if (destinationEntry !== 0 && ctx.db.type(destinationEntry) !== ValueType.Set) return ctx.reply.error(WRONGTYPE);
  const member = argv[3];
  if (destinationEntry === source.entry) return ctx.reply.integer(source.set.has(member) ? 1 : 0);
  if (!source.set.remove(member)) return ctx.reply.integer(0);
  commitOrDelete(ctx, argv[1], source, 'srem');
  if (destinationEntry === 0) {
    const created = SetValue.create(ctx.db.arena, member);
    created.add(member, ctx.limits);
    ctx.db.setCollection(argv[2], ValueType.Set, created.root);
    ctx.db.changed(argv[2], NotifyType.Set, 'sadd');
  } else {
    const destination = new SetValue(ctx.db.arena, ctx.db.collectionRoot(destinationEntry));
    const added = destination.add(member, ctx.limits);
    ctx.db.setCollectionRoot(destinationEntry, destination.root);
    if (added) ctx.db.changed(argv[2], NotifyType.Set, 'sadd');
  }
  ctx.reply.integer(1);
};

// ------------------------------------------------------------------ SRANDMEMBER SPOP

const srandmember: CommandHandler = (ctx, argv) => {
  if (argv.length > 3) return ctx.reply.error(ERR_SYNTAX);
  if (argv.length === 2) {
    const found = setAt(ctx, argv[1]);
    if (found === undefined) return;
    if (found === null) return ctx.reply.nullBulk();
    return ctx.reply.bulk(memberReply(found.set.randomMember(Math.random)));
  }
  const count = parseInt64(argv[2]);
  if (count === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  if (count < -LONG_MAX) return ctx.reply.error(ERR_NOT_LONG);
  const found = setAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null || count === 0) return ctx.reply.arrayHeader(0);
  const set = found.set;
  const size = set.size;
  const wanted = count < 0 ? -Number(count) : Number(count);
  if (count < 0 || wanted === 1) {
    // Repetitions allowed: each pick is independent.
    ctx.reply.arrayHeader(wanted);
    for (let i = 0; i < wanted; i++) ctx.reply.bulk(memberReply(set.randomMember(Math.random)));
    return;
  }
  if (wanted >= size) {
    ctx.reply.arrayHeader(size);
    set.forEach((member) => ctx.reply.bulk(memberReply(member)));
    return;
  }
  let picked: SetMember[];
  if (wanted * 3 > size) {
    // A large share of the set: a partial shuffle of all of it (Redis's "CASE 3").
    picked = [];
    set.forEach((member) => picked.push(memberCopy(member)));
    for (let i = 0; i < wanted; i++) {
      const j = i + Math.floor(Math.random() * (picked.length - i));
      [picked[i], picked[j]] = [picked[j], picked[i]];
    }
    picked.length = wanted;
  } else picked = set.randomDistinct(wanted, Math.random);
  ctx.reply.arrayHeader(picked.length);
  for (const member of picked) ctx.reply.bulk(memberReply(member));
};

const SREM = Buffer.from('SREM');

/** A member's bytes for the propagation stream (copied: the set may drop it next). */
function memberBytes(member: SetMember): Buffer {
  return typeof member === 'object' ? Buffer.from(member) : Buffer.from(String(member));
}

const spop: CommandHandler = (ctx, argv) => {
  if (argv.length > 3) return ctx.reply.error(ERR_SYNTAX);
  if (argv.length === 2) {
    const found = setAt(ctx, argv[1]);
    if (found === undefined) return;
    if (found === null) return ctx.reply.nullBulk();
    const member = found.set.randomMember(Math.random);
    ctx.propagate?.rewrite([SREM, argv[1], memberBytes(member)]);
    found.set.remove(member);
    commitOrDelete(ctx, argv[1], found, 'spop');
    return ctx.reply.bulk(memberReply(member));
  }
  const count = parseInt64(argv[2]);
  if (count === undefined || count < 0) return ctx.reply.error(ERR_NOT_POSITIVE);
  const found = setAt(ctx, argv[1]);
  if (found === undefined) return;
  if (found === null || count === 0) return ctx.reply.setHeader(0);
  const set = found.set;
  const size = set.size;
  ctx.db.changed(argv[1], NotifyType.Set, 'spop', Math.min(Number(count), size));
  if (count >= size) {
    ctx.propagate?.rewrite(deletion(argv[1], ctx.db.lazyFree.settings['lazyfree-lazy-server-del']));
    const all = combine(ctx, [argv[1]], UNION, true);
    ctx.db.delete(argv[1]);
    ctx.db.notify(NotifyType.Generic, 'del', argv[1]);
    if (all !== undefined) replyResult(ctx, all);
    return;
  }
  const popCount = Number(count);
  const remaining = size - popCount;
  ctx.reply.setHeader(popCount);
  // Each popped member propagates as an SREM of its own, as Redis 7.0 propagates them.
  ctx.propagate?.prevent();
  if (remaining * SPOP_MOVE_STRATEGY_MUL > popCount) {
    for (let i = 0; i < popCount; i++) {
      const member = set.randomMember(Math.random);
      ctx.propagate?.also(ctx.dbIndex, [SREM, argv[1], memberBytes(member)]);
      set.remove(member);
      ctx.reply.bulk(memberReply(member));
    }
    ctx.db.setCollectionRoot(found.entry, set.root);
    return;
  }
  // Most of the set goes: keep `remaining` random members in a new set (which may be an intset again,
  // as Redis's setTypeCreate makes it) and reply everything else.
  const keep = set.randomDistinct(remaining, Math.random);
  const kept = SetValue.create(ctx.db.arena, keep[0]);
  try {
    for (const member of keep) kept.add(member, ctx.limits);
  } catch (error) {
    kept.free();
    throw error;
  }
  set.forEach((member) => {
    if (kept.has(member)) return;
    ctx.reply.bulk(memberReply(member));
    ctx.propagate?.also(ctx.dbIndex, [SREM, argv[1], memberBytes(member)]);
  });
  ctx.db.setCollectionRoot(found.entry, kept.root);
  set.free();
};

// ------------------------------------------------------------------ SSCAN

const sscan = collectionScan<Uint8Array | string>({
  open: (ctx, key) => {
    const found = setAt(ctx, key);
    if (found === null || found === undefined) return found;
    const set = found.set;
    return {
      whole: () => {
        if (!set.isIntset) return undefined;
        const members: (Uint8Array | string)[] = [];
        set.forEach((member) => members.push(memberReply(member)));
        return members;
      },
      step: (cursor, into) => set.scanStep(cursor, into as Buffer[]),
    };
  },
  name: (member) => (typeof member === 'string' ? Buffer.from(member, 'latin1') : member),
  width: 1,
  write: (reply, member) => reply.bulk(member),
});

export const setCommands: Readonly<Record<string, CommandHandler>> = {
  sadd,
  srem,
  scard,
  sismember,
  smismember,
  smembers: sinter,
  srandmember,
  spop,
  smove,
  sinter,
  sintercard,
  sinterstore,
  sunion: combineCommand(UNION, false),
  sunionstore: combineCommand(UNION, true),
  sdiff: combineCommand(DIFFERENCE, false),
  sdiffstore: combineCommand(DIFFERENCE, true),
  sscan,
};
