/**
 * Generic key commands (Redis's db.c and expire.c): DEL UNLINK EXISTS TOUCH TYPE, and the expiry family
 * EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT) TTL PTTL EXPIRETIME PEXPIRETIME PERSIST, with Redis
 * 7.0's semantics and error wording: an expiry in the past deletes the key at once, and "no expiry"
 * counts as an infinite one for GT and LT.
 */
import { ExpiryChange } from '../shard/database.js';
import { ValueType } from '../shard/entry.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import { argText, isKeyword, type CommandHandler, type ExecutionContext } from './context.js';
import { deletion } from '../shard/propagation.js';
import { readExpiry } from './expiry.js';

export const TYPE_NAMES: Readonly<Record<ValueType, string>> = {
  [ValueType.String]: 'string',
  [ValueType.List]: 'list',
  [ValueType.Set]: 'set',
  [ValueType.ZSet]: 'zset',
  [ValueType.Hash]: 'hash',
};

/** DEL frees large values in the background only under lazyfree-lazy-user-del; UNLINK always does. */
function deleteKeys(ctx: ExecutionContext, argv: readonly Buffer[], lazy: boolean | number): void {
  let deleted = 0;
  for (let i = 1; i < argv.length; i++) if (ctx.db.deleteChanged(argv[i], lazy)) deleted++;
  ctx.reply.integer(deleted);
}

const del: CommandHandler = (ctx, argv) => deleteKeys(ctx, argv, ctx.db.lazyFree.settings['lazyfree-lazy-user-del']);

const unlink: CommandHandler = (ctx, argv) => deleteKeys(ctx, argv, true);

/** EXISTS only inspects the keys; TOUCH records an access to each, as Redis's LRU sees it. */
const exists: CommandHandler = (ctx, argv) => {
  let found = 0;
  for (let i = 1; i < argv.length; i++) if (ctx.db.lookupNoTouch(argv[i]) !== 0) found++;
  ctx.reply.integer(found);
};

const touch: CommandHandler = (ctx, argv) => {
  let found = 0;
  for (let i = 1; i < argv.length; i++) if (ctx.db.lookup(argv[i]) !== 0) found++;
  ctx.reply.integer(found);
};

const type: CommandHandler = (ctx, argv) => {
  const entry = ctx.db.lookupNoTouch(argv[1]);
  ctx.reply.simple(entry === 0 ? 'none' : TYPE_NAMES[ctx.db.type(entry)]);
};

// ------------------------------------------------------------------ expiry

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

/** Redis's parseExtendedExpireArgumentsOrReply; undefined after an error reply. */
function readExpireFlags(ctx: ExecutionContext, argv: readonly Buffer[]): number | undefined {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j];
    if (isKeyword(opt, 'NX')) flags |= EXPIRE_NX;
    else if (isKeyword(opt, 'XX')) flags |= EXPIRE_XX;
    else if (isKeyword(opt, 'GT')) flags |= EXPIRE_GT;
    else if (isKeyword(opt, 'LT')) flags |= EXPIRE_LT;
    else {
      ctx.reply.error(`ERR Unsupported option ${argText(opt)}`);
      return undefined;
    }
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    ctx.reply.error('ERR NX and XX, GT or LT options at the same time are not compatible');
    return undefined;
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) {
    ctx.reply.error('ERR GT and LT options at the same time are not compatible');
    return undefined;
  }
  return flags;
}

const PEXPIREAT = Buffer.from('PEXPIREAT');

function expireGeneric(command: string, seconds: boolean, relative: boolean): CommandHandler {
  return (ctx, argv) => {
    const flags = readExpireFlags(ctx, argv);
    if (flags === undefined) return;
    const when = readExpiry(ctx, argv[2], { seconds, relative, positiveOnly: false, command });
    if (when === undefined) return;
    const entry = ctx.db.lookup(argv[1]);
    if (entry === 0) return ctx.reply.integer(0);
    if (flags !== 0) {
      const current = ctx.db.expireAt(entry);
      const refused =
        (flags & EXPIRE_NX && current !== -1) ||
        (flags & EXPIRE_XX && current === -1) ||
        (flags & EXPIRE_GT && (current === -1 || when <= current)) ||
        (flags & EXPIRE_LT && current !== -1 && when >= current);
      if (refused) return ctx.reply.integer(0);
    }
    if (when <= ctx.now) {
      const lazily = ctx.db.lazyFree.settings['lazyfree-lazy-expire'];
      ctx.db.deleteChanged(argv[1], lazily);
      ctx.propagate?.rewrite(deletion(argv[1], lazily));
    } else {
      ctx.db.setExpire(argv[1], when);
      ctx.db.changed(argv[1], NotifyType.Generic, 'expire');
      // As PEXPIREAT <ms>, its NX/XX/GT/LT kept (Redis rewrites the name and the time only).
      if (command !== 'pexpireat') ctx.propagate?.rewrite([PEXPIREAT, argv[1], Buffer.from(String(when)), ...argv.slice(3)]);
    }
    ctx.reply.integer(1);
  };
}

/** TTL family: -2 missing, -1 no expiry; seconds are rounded to the nearest (half up), as Redis does. */
function ttlGeneric(milliseconds: boolean, absolute: boolean): CommandHandler {
  return (ctx, argv) => {
    const entry = ctx.db.lookupNoTouch(argv[1]);
    if (entry === 0) return ctx.reply.integer(-2);
    const at = ctx.db.expireAt(entry);
    if (at === -1) return ctx.reply.integer(-1);
    // Exact in bigint: an expiry may lie beyond 2^53 ms (Redis allows any int64).
    const from = absolute ? 0n : BigInt(ctx.now);
    let ms = BigInt(at) - from;
    if (ms < 0n) ms = 0n;
    const value = milliseconds ? ms : (ms + 500n) / 1000n;
    ctx.reply.integer(value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value);
  };
}

const persist: CommandHandler = (ctx, argv) => {
  const entry = ctx.db.lookup(argv[1]);
  if (entry === 0 || ctx.db.expireAt(entry) === -1) return ctx.reply.integer(0);
  ctx.db.setExpire(argv[1], ExpiryChange.Clear);
  ctx.db.changed(argv[1], NotifyType.Generic, 'persist');
  ctx.reply.integer(1);
};

export const keyCommands: Readonly<Record<string, CommandHandler>> = {
  del,
  unlink,
  exists,
  touch,
  type,
  expire: expireGeneric('expire', true, true),
  pexpire: expireGeneric('pexpire', false, true),
  expireat: expireGeneric('expireat', true, false),
  pexpireat: expireGeneric('pexpireat', false, false),
  ttl: ttlGeneric(false, false),
  pttl: ttlGeneric(true, false),
  expiretime: ttlGeneric(false, true),
  pexpiretime: ttlGeneric(true, true),
  persist,
};
