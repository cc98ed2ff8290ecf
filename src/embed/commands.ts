/**
 * The typed command API, written once for both ways of using it: called one at a time (each method
 * returns a promise of its reply) and queued in a batch (each method returns the batch, and exec()
 * sends the lot in one turn). `Out` picks the return type by mode.
 *
 * Replies keep Redis's shapes as a Redis client shows them: bulk strings as strings (Buffers from
 * getBuffer and command()), integers as numbers, nil as null, arrays as arrays; HGETALL becomes an
 * object. An error reply rejects with ReplyError (in a batch it takes its command's place in exec()'s
 * array instead, so one failure hides no other result).
 */
import type { Reply } from './reply-decoder.js';
import { refuseEmbedded } from './refused.js';
import { PoolError } from './reply-error.js';
import { decodeValue, encodeValue } from './values.js';

/** A command argument: strings go as utf8, numbers in decimal (±Infinity as Redis's ±inf). */
export type Arg = string | Buffer | number;

export type { Reply };

/** SET's options, by Redis's names. */
export interface SetOptions {
  EX?: number;
  PX?: number;
  EXAT?: number;
  PXAT?: number;
  NX?: boolean;
  XX?: boolean;
  KEEPTTL?: boolean;
  /** Answer the old value (or null) instead of OK. */
  GET?: boolean;
}

export type Mode = 'call' | 'batch';
/** A method's return: its reply's promise when called, the batch itself when queued. */
export type Out<M extends Mode, T, Self> = M extends 'batch' ? Self : Promise<T>;

/** Turns a reply into a method's result (errors never reach it). */
export type Convert<T> = (reply: Reply) => T;

export function toArg(arg: Arg): Buffer {
  if (typeof arg === 'string') return Buffer.from(arg);
  if (typeof arg === 'number') return Buffer.from(arg === Infinity ? '+inf' : arg === -Infinity ? '-inf' : String(arg));
  if (Buffer.isBuffer(arg)) return arg;
  throw new PoolError(`command arguments must be strings, Buffers or numbers, not ${arg === null ? 'null' : typeof arg}`);
}

const asRecord: Convert<Record<string, string>> = (reply) => {
  const items = reply as string[];
  const record: Record<string, string> = {};
  for (let i = 0; i < items.length; i += 2) record[items[i]] = items[i + 1];
  return record;
};

const asValue: Convert<unknown> = (reply) => decodeValue(reply as Buffer | null);

function setArgs(key: Arg, value: Arg, options: SetOptions | undefined): Arg[] {
  const argv: Arg[] = ['SET', key, value];
  if (options === undefined) return argv;
  for (const name of ['EX', 'PX', 'EXAT', 'PXAT'] as const) if (options[name] !== undefined) argv.push(name, options[name]!);
  for (const flag of ['NX', 'XX', 'KEEPTTL', 'GET'] as const) if (options[flag] === true) argv.push(flag);
  return argv;
}

function pairs(entries: Record<string, Arg> | readonly Arg[]): Arg[] {
  return Array.isArray(entries) ? [...(entries as readonly Arg[])] : Object.entries(entries).flat();
}

export abstract class CommandMethods<M extends Mode> {
  /** Whether this connection is the caller's alone (blocking commands may run on it). */
  protected abstract readonly dedicated: boolean;

  /** Runs or queues argv; bulk strings decoded as text when `text`, then shaped by `convert`. */
  protected abstract run<T>(argv: Arg[], text: boolean, convert?: Convert<T>): Out<M, T, this>;

  /** Misuse found before sending: a rejected promise when called, thrown at once when queued in a batch. */
  protected abstract fail(error: PoolError): Out<M, never, this>;

  /** Any command the server has, by name; bulk strings come back as Buffers. */
  command(name: string, ...args: Arg[]): Out<M, Reply, this> {
    return this.runAllowed(name, args, false);
  }

  /** command() with bulk strings as utf8 text. */
  commandText(name: string, ...args: Arg[]): Out<M, Reply, this> {
    return this.runAllowed(name, args, true);
  }

  private runAllowed(name: string, args: Arg[], text: boolean): Out<M, Reply, this> {
    try {
      refuseEmbedded(name, args[0] === undefined ? undefined : String(args[0]), this.dedicated);
    } catch (error) {
      return this.fail(error as PoolError);
    }
    return this.run<Reply>([name, ...args], text);
  }

  // Strings and keys
  get(key: Arg): Out<M, string | null, this> {
    return this.run<string | null>(['GET', key], true);
  }
  getBuffer(key: Arg): Out<M, Buffer | null, this> {
    return this.run<Buffer | null>(['GET', key], false);
  }
  /** 'OK', or null when NX/XX stopped it; with GET, the old value. */
  set(key: Arg, value: Arg, options?: SetOptions): Out<M, string | null, this> {
    return this.run<string | null>(setArgs(key, value, options), true);
  }
  del(...keys: Arg[]): Out<M, number, this> {
    return this.run<number>(['DEL', ...keys], true);
  }
  exists(...keys: Arg[]): Out<M, number, this> {
    return this.run<number>(['EXISTS', ...keys], true);
  }
  expire(key: Arg, seconds: number, condition?: 'NX' | 'XX' | 'GT' | 'LT'): Out<M, number, this> {
    return this.run<number>(condition === undefined ? ['EXPIRE', key, seconds] : ['EXPIRE', key, seconds, condition], true);
  }
  ttl(key: Arg): Out<M, number, this> {
    return this.run<number>(['TTL', key], true);
  }
  incr(key: Arg): Out<M, number, this> {
    return this.run<number>(['INCR', key], true);
  }
  incrby(key: Arg, increment: number): Out<M, number, this> {
    return this.run<number>(['INCRBY', key, increment], true);
  }
  mget(...keys: Arg[]): Out<M, (string | null)[], this> {
    return this.run<(string | null)[]>(['MGET', ...keys], true);
  }
  mset(entries: Record<string, Arg> | readonly Arg[]): Out<M, string, this> {
    return this.run<string>(['MSET', ...pairs(entries)], true);
  }

  // Hashes
  /** HSET key field value, or every field of an object. */
  hset(key: Arg, fields: Record<string, Arg> | Arg, value?: Arg): Out<M, number, this> {
    const entries = typeof fields === 'object' && !Buffer.isBuffer(fields) ? pairs(fields) : [fields, value ?? ''];
    return this.run<number>(['HSET', key, ...entries], true);
  }
  hget(key: Arg, field: Arg): Out<M, string | null, this> {
    return this.run<string | null>(['HGET', key, field], true);
  }
  hgetall(key: Arg): Out<M, Record<string, string>, this> {
    return this.run(['HGETALL', key], true, asRecord);
  }
  hdel(key: Arg, ...fields: Arg[]): Out<M, number, this> {
    return this.run<number>(['HDEL', key, ...fields], true);
  }
  hincrby(key: Arg, field: Arg, increment: number): Out<M, number, this> {
    return this.run<number>(['HINCRBY', key, field, increment], true);
  }

  // Lists
  lpush(key: Arg, ...values: Arg[]): Out<M, number, this> {
    return this.run<number>(['LPUSH', key, ...values], true);
  }
  rpush(key: Arg, ...values: Arg[]): Out<M, number, this> {
    return this.run<number>(['RPUSH', key, ...values], true);
  }
  lpop(key: Arg): Out<M, string | null, this> {
    return this.run<string | null>(['LPOP', key], true);
  }
  rpop(key: Arg): Out<M, string | null, this> {
    return this.run<string | null>(['RPOP', key], true);
  }
  lrange(key: Arg, start: number, stop: number): Out<M, string[], this> {
    return this.run<string[]>(['LRANGE', key, start, stop], true);
  }
  llen(key: Arg): Out<M, number, this> {
    return this.run<number>(['LLEN', key], true);
  }

  // Sets
  sadd(key: Arg, ...members: Arg[]): Out<M, number, this> {
    return this.run<number>(['SADD', key, ...members], true);
  }
  srem(key: Arg, ...members: Arg[]): Out<M, number, this> {
    return this.run<number>(['SREM', key, ...members], true);
  }
  smembers(key: Arg): Out<M, string[], this> {
    return this.run<string[]>(['SMEMBERS', key], true);
  }
  /** 1 when member is in the set, else 0 (Redis's reply). */
  sismember(key: Arg, member: Arg): Out<M, number, this> {
    return this.run<number>(['SISMEMBER', key, member], true);
  }
  scard(key: Arg): Out<M, number, this> {
    return this.run<number>(['SCARD', key], true);
  }

  // Sorted sets
  /** ZADD key score member [score member …]. */
  zadd(key: Arg, ...scoreMembers: Arg[]): Out<M, number, this> {
    return this.run<number>(['ZADD', key, ...scoreMembers], true);
  }
  /** Members by rank; with scores, member and score alternate as Redis sends them. */
  zrange(key: Arg, start: number, stop: number, withScores = false): Out<M, string[], this> {
    return this.run<string[]>(withScores ? ['ZRANGE', key, start, stop, 'WITHSCORES'] : ['ZRANGE', key, start, stop], true);
  }
  /** The score as Redis prints it, or null. */
  zscore(key: Arg, member: Arg): Out<M, string | null, this> {
    return this.run<string | null>(['ZSCORE', key, member], true);
  }
  zincrby(key: Arg, increment: number, member: Arg): Out<M, string, this> {
    return this.run<string>(['ZINCRBY', key, increment, member], true);
  }
  zrem(key: Arg, ...members: Arg[]): Out<M, number, this> {
    return this.run<number>(['ZREM', key, ...members], true);
  }

  // JS values (values.ts)
  /** Stores any structured-clonable value, msgpackr-encoded, as a string key. */
  setValue(key: Arg, value: unknown, options?: SetOptions): Out<M, string | null, this> {
    let encoded: Buffer;
    try {
      encoded = encodeValue(value);
    } catch (error) {
      return this.fail(error as PoolError);
    }
    return this.run<string | null>(setArgs(key, encoded, options), true);
  }
  /** The value setValue stored, or undefined when the key does not exist. */
  getValue<T = unknown>(key: Arg): Out<M, T | undefined, this> {
    return this.run(['GET', key], false, asValue as Convert<T | undefined>);
  }
}

/** A reply with every Buffer in it turned to utf8 text (a text command's reply read inside EXEC's array). */
export function asText(reply: Reply): Reply {
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (Array.isArray(reply)) return reply.map(asText);
  return reply;
}
