/**
 * DUMP and RESTORE (Redis keeps them in cluster.c): a key's value as Redis 7.0's payload (RDB value +
 * RDB version + CRC-64, persistence/dump-payload.ts), and a key made from such a payload, from sabre or
 * from a real Redis. RESTORE checks in Redis's order (options, key present, TTL, payload footer, value),
 * so each bad input gets the error Redis gives it.
 */
import { BUSYKEY, ERR_NOT_INTEGER, ERR_SYNTAX } from '../protocol/errors.js';
import { createDumpPayload, readDumpPayload, verifyDumpPayload } from '../persistence/dump-payload.js';
import { isEmptyCollection, DuplicateElementError, storeValue } from '../persistence/rdb-store.js';
import { ExpiryChange, type ExpiryTime } from '../shard/database.js';
import { deletion } from '../shard/propagation.js';
import { lfuWord, lruWordIdleFor } from '../shard/access-clock.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import { isKeyword, parseInt64, type CommandHandler } from './context.js';
import { signalWritten } from './keyspace.js';

const ERR_BAD_PAYLOAD = 'ERR DUMP payload version or checksum are wrong';
const ERR_BAD_DATA = 'ERR Bad data format';
const ERR_BAD_TTL = 'ERR Invalid TTL value, must be >= 0';
const ERR_BAD_IDLETIME = 'ERR Invalid IDLETIME value, must be >= 0';
const ERR_BAD_FREQ = 'ERR Invalid FREQ value, must be >= 0 and <= 255';

/** DUMP compresses as Redis does by default (`rdbcompression yes`). */
const DUMP_OPTIONS = { compression: true };

const ABSTTL = Buffer.from('ABSTTL');
const dump: CommandHandler = (ctx, argv) => {
  const entry = ctx.db.lookupRead(argv[1]);
  if (entry === 0) return ctx.reply.nullBulk();
  ctx.reply.bulk(createDumpPayload(ctx.db, entry, DUMP_OPTIONS));
};

interface RestoreOptions {
  replace: boolean;
  absoluteTtl: boolean;
  idleSeconds: number | bigint | undefined;
  frequency: number | undefined;
}

function parseRestoreOptions(argv: readonly Buffer[]): RestoreOptions | string {
  const options: RestoreOptions = { replace: false, absoluteTtl: false, idleSeconds: undefined, frequency: undefined };
  for (let i = 4; i < argv.length; i++) {
    const hasValue = i + 1 < argv.length;
    if (isKeyword(argv[i], 'REPLACE')) {
      options.replace = true;
    } else if (isKeyword(argv[i], 'ABSTTL')) {
      options.absoluteTtl = true;
    } else if (isKeyword(argv[i], 'IDLETIME') && hasValue && options.frequency === undefined) {
      const idle = parseInt64(argv[++i]);
      if (idle === undefined) return ERR_NOT_INTEGER;
      if (idle < 0) return ERR_BAD_IDLETIME;
      options.idleSeconds = idle;
    } else if (isKeyword(argv[i], 'FREQ') && hasValue && options.idleSeconds === undefined) {
      const frequency = parseInt64(argv[++i]);
      if (frequency === undefined) return ERR_NOT_INTEGER;
      if (frequency < 0 || frequency > 255) return ERR_BAD_FREQ;
      options.frequency = Number(frequency);
    } else {
      return ERR_SYNTAX;
    }
  }
  return options;
}

const restore: CommandHandler = (ctx, argv) => {
  const options = parseRestoreOptions(argv);
  if (typeof options === 'string') return ctx.reply.error(options);
  const db = ctx.db;
  const key = argv[1];
  const existed = db.lookup(key) !== 0;
  if (existed && !options.replace) return ctx.reply.error(BUSYKEY);
  const ttl = parseInt64(argv[2]);
  if (ttl === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
  if (ttl < 0) return ctx.reply.error(ERR_BAD_TTL);
  const payload = argv[3];
  if (!verifyDumpPayload(payload)) return ctx.reply.error(ERR_BAD_PAYLOAD);
  const value = readDumpPayload(payload);
  if (value === undefined || isEmptyCollection(value)) return ctx.reply.error(ERR_BAD_DATA);
  let expireAt: ExpiryTime = ExpiryChange.Clear;
  if (ttl !== 0) {
    const absolute = options.absoluteTtl ? ttl : typeof ttl === 'bigint' ? ttl + BigInt(ctx.now) : ttl + ctx.now;
    // An absolute time already past: the key is not created (and the replaced one is deleted).
    if (absolute <= ctx.now) {
      if (existed && db.delete(key)) db.changed(key, NotifyType.Generic, 'del');
      ctx.propagate?.rewrite(deletion(key, false));
      return ctx.reply.ok();
    }
    expireAt = typeof absolute === 'bigint' && absolute <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(absolute) : absolute;
    // A relative TTL propagates as the absolute time it gave, with ABSTTL appended, as Redis rewrites it.
    if (!options.absoluteTtl) ctx.propagate?.rewrite([...argv.slice(0, 2), Buffer.from(String(absolute)), ...argv.slice(3), ABSTTL]);
  }
  let entry: number;
  try {
    entry = storeValue(db, key, value, expireAt, ctx.limits);
  } catch (error) {
    if (error instanceof DuplicateElementError) return ctx.reply.error(ERR_BAD_DATA);
    throw error;
  }
  // Redis's objectSetLRUOrLFU: each option counts only under the policy that tracks it.
  if (db.access.lfu === 1 && options.frequency !== undefined) db.setAccessWord(entry, lfuWord(options.frequency, ctx.now));
  else if (db.access.lfu === 0 && options.idleSeconds !== undefined) db.setAccessWord(entry, lruWordIdleFor(Number(options.idleSeconds), ctx.now));
  signalWritten(db, key, existed, 'restore');
  ctx.reply.ok();
};

export const dumpRestoreCommands: Readonly<Record<string, CommandHandler>> = { dump, restore };
