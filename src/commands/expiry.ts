/**
 * Expiry arguments, as Redis 7.0 reads them: relative seconds or milliseconds (EX, PX, EXPIRE, SETEX…)
 * and absolute ones (EXAT, PXAT, EXPIREAT…), turned into an absolute time in ms, with Redis's overflow
 * checks and error replies. Used by the string commands and the EXPIRE family alike.
 */
import { ERR_NOT_INTEGER, invalidExpireTime } from '../protocol/errors.js';
import type { ExpiryTime } from '../shard/database.js';
import { parseInt64, type ExecutionContext } from './context.js';

const INT64_MAX = 9223372036854775807n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export interface ExpiryRule {
  seconds: boolean;
  relative: boolean;
  /** SET, GETEX, SETEX refuse 0 and negatives; EXPIRE accepts them (the key then expires at once). */
  positiveOnly: boolean;
  /** The command named in "invalid expire time in '…' command". */
  command: string;
}

/** The absolute expiry in ms (a bigint past 2^53), or undefined after an error reply. */
export function readExpiry(ctx: ExecutionContext, arg: Uint8Array, rule: ExpiryRule): ExpiryTime | undefined {
  const value = parseInt64(arg);
  if (value === undefined) {
    ctx.reply.error(ERR_NOT_INTEGER);
    return undefined;
  }
  let when = BigInt(value);
  if (rule.positiveOnly && when <= 0n) {
    ctx.reply.error(invalidExpireTime(rule.command));
    return undefined;
  }
  if (rule.seconds) {
    if (when > INT64_MAX / 1000n || when < -INT64_MAX / 1000n) {
      ctx.reply.error(invalidExpireTime(rule.command));
      return undefined;
    }
    when *= 1000n;
  }
  if (rule.relative) {
    if (when > INT64_MAX - BigInt(ctx.now)) {
      ctx.reply.error(invalidExpireTime(rule.command));
      return undefined;
    }
    when += BigInt(ctx.now);
  }
  return when <= MAX_SAFE && when >= -MAX_SAFE ? Number(when) : when;
}
