/**
 * The blocking list and sorted-set commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX
 * BZMPOP, as they run on the shard that owns their keys.
 *
 * Each is its non-blocking form (LPOP, LMOVE, LMPOP, ZPOPMIN, ZMPOP) plus a timeout: the handler checks
 * the arguments Redis checks first (the timeout, BLMOVE's sides), then runs the non-blocking form's own
 * handler (lists.ts, sorted-sets.ts) into a probe writer. Anything but "nothing there" is the answer,
 * reshaped where the blocking reply differs (BLPOP's [key, element], BZPOPMIN's [key, member, score]).
 * When every key is empty the command blocks through ctx.blocker (the shard's waiter table), or, with
 * no blocker (inside MULTI/EXEC, on the scratch shard), answers the null reply at once, as Redis does
 * for a client that may not block.
 *
 * A blocked command is served later by `serveBlocked`, once per key made ready, with the same code
 * restricted to that key: a waiter on several keys is served from the one that became ready, as in
 * Redis 7.0, and a key of the wrong type for the waiter (a list for BZPOPMIN) does not serve it.
 */
import { ERR_SYNTAX } from '../protocol/errors.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import { ValueType } from '../shard/entry.js';
import { argText, isKeyword, parseInt64, type CommandHandler, type ExecutionContext } from './context.js';
import { listCommands, lmpopArguments } from './lists.js';
import { parseLongDouble } from './long-double.js';
import { sortedSetCommands, zmpopArguments } from './sorted-sets.js';

const ERR_TIMEOUT_NOT_FLOAT = 'ERR timeout is not a float or out of range';
const ERR_TIMEOUT_NEGATIVE = 'ERR timeout is negative';
/** 2^63: C's (long long) cast of anything at or past it gives LLONG_MIN, which Redis calls negative. */
const LLONG_LIMIT = 2 ** 63;

/**
 * Redis's getTimeoutFromObjectOrReply in seconds: the timeout in milliseconds (0: wait forever), or the
 * error message. Redis truncates seconds × 1000 to an integer, so -0.0001 waits forever.
 */
export function parseTimeout(arg: Uint8Array): number | string {
  const parsed = parseLongDouble(argText(arg));
  if (parsed === undefined) return ERR_TIMEOUT_NOT_FLOAT;
  if (parsed === 'inf' || parsed === '-inf') return ERR_TIMEOUT_NEGATIVE;
  const seconds = Number(parsed.mantissa) * 2 ** parsed.exponent * (parsed.negative ? -1 : 1);
  const millis = seconds * 1000;
  if (!(Math.abs(millis) < LLONG_LIMIT)) return ERR_TIMEOUT_NEGATIVE;
  const truncated = Math.trunc(millis);
  return truncated < 0 ? ERR_TIMEOUT_NEGATIVE : truncated;
}

/** How a blocking command's timeout and keys are found, and how it serves from a key. */
interface BlockingForm {
  /** What a key must hold to serve the command. */
  type: ValueType;
  /**
   * The reply when it may not block (inside MULTI/EXEC): BLMOVE and BRPOPLPUSH answer a null bulk, the
   * others a null array. A timeout answers a null array for all of them, as in Redis.
   */
  nullBulk: boolean;
  timeoutAt(argv: readonly Buffer[]): number;
  /** Checks what Redis checks before the timeout; returns false after replying the error. */
  checkFirst?(ctx: ExecutionContext, argv: readonly Buffer[]): boolean;
  /** The keys it waits on (valid once the non-blocking form has accepted the arguments). */
  keys(argv: readonly Buffer[]): Buffer[];
  /**
   * Runs the non-blocking form over `keys` (all of them, or the one that became ready) and writes the
   * blocking reply; returns false, having written nothing, when the keys gave nothing. `later`: a
   * blocked client is being served (Redis then propagates some forms in words of its own).
   */
  serve(ctx: ExecutionContext, argv: readonly Buffer[], keys: readonly Buffer[], later?: boolean): boolean;
}

/** The probe the non-blocking forms reply into (shard code runs one command at a time). */
const probe = new ReplyWriter();

/** Runs `handler` with its reply going to the probe; returns the reply, or undefined for "nothing there". */
function probeReply(ctx: ExecutionContext, handler: CommandHandler, argv: readonly Buffer[]): Buffer | undefined {
  probe.clear();
  probe.protocol = ctx.reply.protocol;
  handler({ ...ctx, reply: probe }, argv);
  const reply = probe.written();
  return isNothing(reply) ? undefined : reply;
}

/** A null (RESP2 bulk or array, RESP3 `_`) or an empty array: what the non-blocking forms answer for no key. */
function isNothing(reply: Buffer): boolean {
  const first = reply[0];
  if (first === 0x5f) return true; // '_'
  if (first !== 0x24 && first !== 0x2a) return false; // '$' '*'
  return reply[1] === 0x2d || (first === 0x2a && reply[1] === 0x30); // "-1", "*0"
}

/**
 * BLPOP BRPOP BZPOPMIN BZPOPMAX: `pop` on each key in turn until one gives an element, answered with
 * the key in front. `flat` is the header the non-blocking reply starts with, replaced by a longer one.
 */
function eachKeyForm(type: ValueType, pop: CommandHandler, name: string, flat: number): BlockingForm {
  const command = Buffer.from(name);
  return {
    type,
    nullBulk: false,
    timeoutAt: (argv) => argv.length - 1,
    keys: (argv) => argv.slice(1, -1),
    serve: (ctx, _argv, keys) => {
      for (const key of keys) {
        // Served, it propagates as the non-blocking pop of the key it took from.
        ctx.propagate?.rewrite([command, key]);
        const reply = probeReply(ctx, pop, [command, key]);
        if (reply === undefined) continue;
        if (reply[0] === 0x2d) ctx.reply.raw(reply); // '-': WRONGTYPE
        else {
          ctx.reply.arrayHeader(flat + 1);
          ctx.reply.bulk(key);
          // Past the non-blocking reply's own header: `*<flat>\r\n` for ZPOPMIN, nothing for LPOP's bulk.
          ctx.reply.raw(flat === 1 ? reply : reply.subarray(reply.indexOf(0x0a) + 1));
        }
        return true;
      }
      return false;
    },
  };
}

/**
 * BLMPOP BZMPOP timeout numkeys key … side [COUNT n]: LMPOP/ZMPOP with the arguments after the timeout,
 * which Redis checks before the timeout (`check`, their parser, takes them LMPOP-shaped).
 */
function multiPopForm(type: ValueType, pop: CommandHandler, name: string, check: (ctx: ExecutionContext, argv: readonly Buffer[]) => unknown): BlockingForm {
  const command = Buffer.from(name);
  const keys = (argv: readonly Buffer[]) => argv.slice(3, 3 + Number(parseInt64(argv[2])));
  return {
    type,
    nullBulk: false,
    timeoutAt: () => 1,
    checkFirst: (ctx, argv) => check(ctx, [command, ...argv.slice(2)]) !== undefined,
    keys,
    serve: (ctx, argv, only) => {
      const rest = argv.slice(3 + keys(argv).length);
      const args = only.length === 1 ? [command, Buffer.from('1'), only[0], ...rest] : [command, ...argv.slice(2)];
      const reply = probeReply(ctx, pop, args);
      if (reply === undefined) return false;
      ctx.reply.raw(reply);
      return true;
    },
  };
}

/** BLMOVE's LEFT|RIGHT arguments, which Redis checks before the timeout. */
function checkSides(ctx: ExecutionContext, argv: readonly Buffer[]): boolean {
  const isSide = (arg: Buffer) => isKeyword(arg, 'LEFT') || isKeyword(arg, 'RIGHT');
  if (isSide(argv[3]) && isSide(argv[4])) return true;
  ctx.reply.error(ERR_SYNTAX);
  return false;
}

/** BLMOVE source destination from to timeout, BRPOPLPUSH source destination timeout: LMOVE. */
function moveForm(sidesGiven: boolean): BlockingForm {
  const lmove = Buffer.from('LMOVE');
  const rpoplpush = Buffer.from('RPOPLPUSH');
  const leftWord = Buffer.from('left');
  const rightWord = Buffer.from('right');
  const left = Buffer.from('LEFT');
  const right = Buffer.from('RIGHT');
  return {
    type: ValueType.List,
    nullBulk: true,
    timeoutAt: (argv) => argv.length - 1,
    checkFirst: sidesGiven ? checkSides : undefined,
    keys: (argv) => [argv[1]],
    serve: (ctx, argv, _keys, later) => {
      const sides = sidesGiven ? [argv[3], argv[4]] : [right, left];
      const args = [lmove, argv[1], argv[2], ...sides];
      // Served later, Redis spells the sides its own way (lower case); at once, as the client sent them.
      const propagated = later === true ? [lmove, argv[1], argv[2], ...sides.map((side) => (isKeyword(side, 'LEFT') ? leftWord : rightWord))] : args;
      ctx.propagate?.rewrite(sidesGiven ? propagated : [rpoplpush, argv[1], argv[2]]);
      const reply = probeReply(ctx, listCommands.lmove, args);
      if (reply === undefined) return false;
      ctx.reply.raw(reply);
      return true;
    },
  };
}

const FORMS: ReadonlyMap<string, BlockingForm> = new Map([
  ['blpop', eachKeyForm(ValueType.List, listCommands.lpop, 'LPOP', 1)],
  ['brpop', eachKeyForm(ValueType.List, listCommands.rpop, 'RPOP', 1)],
  ['bzpopmin', eachKeyForm(ValueType.ZSet, sortedSetCommands.zpopmin, 'ZPOPMIN', 2)],
  ['bzpopmax', eachKeyForm(ValueType.ZSet, sortedSetCommands.zpopmax, 'ZPOPMAX', 2)],
  ['blmpop', multiPopForm(ValueType.List, listCommands.lmpop, 'LMPOP', lmpopArguments)],
  ['bzmpop', multiPopForm(ValueType.ZSet, sortedSetCommands.zmpop, 'ZMPOP', zmpopArguments)],
  ['blmove', moveForm(true)],
  ['brpoplpush', moveForm(false)],
]);

/** Whether `name` (lower case) is one of these commands. */
export function isBlockingCommand(name: string): boolean {
  return FORMS.has(name);
}

/** The timeout of a blocking command whose arguments its shard has accepted, in ms (0: forever). */
export function blockingTimeout(name: string, argv: readonly Buffer[]): number {
  const form = FORMS.get(name)!;
  const timeout = parseTimeout(argv[form.timeoutAt(argv)]);
  return typeof timeout === 'number' ? timeout : 0;
}

/**
 * Whether a reply is a blocking command's "nothing there" (null bulk or array, RESP3 null): how the
 * front sees that a command across shards found its keys empty.
 */
export function isNullReply(reply: Uint8Array): boolean {
  return reply[0] === 0x5f || ((reply[0] === 0x24 || reply[0] === 0x2a) && reply[1] === 0x2d);
}

function blockingHandler(form: BlockingForm): CommandHandler {
  return (ctx, argv) => {
    if (form.checkFirst !== undefined && !form.checkFirst(ctx, argv)) return;
    const timeout = parseTimeout(argv[form.timeoutAt(argv)]);
    if (typeof timeout === 'string') return ctx.reply.error(timeout);
    if (form.serve(ctx, argv, form.keys(argv))) return;
    if (ctx.blocker !== undefined) ctx.blocker.block(form.keys(argv), timeout);
    else if (form.nullBulk) ctx.reply.nullBulk();
    else ctx.reply.nullArray();
  };
}

/**
 * Serves a blocked command (its argv as it was sent) from `key`, which became ready: writes its reply
 * and returns true, or returns false, having written nothing, when the key holds nothing for it.
 */
export function serveBlocked(ctx: ExecutionContext, argv: readonly Buffer[], key: Buffer): boolean {
  const form = FORMS.get(argText(argv[0]).toLowerCase());
  if (form === undefined) return false;
  const entry = ctx.db.lookup(key);
  if (entry === 0 || ctx.db.type(entry) !== form.type) return false;
  return form.serve(ctx, argv, [key], true);
}

export const blockingCommands: Readonly<Record<string, CommandHandler>> = Object.fromEntries(
  [...FORMS].map(([name, form]) => [name, blockingHandler(form)]),
);
