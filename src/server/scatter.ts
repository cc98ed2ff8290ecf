/**
 * One-step multi-key commands whose keys live on several shards (MGET MSET DEL UNLINK EXISTS TOUCH),
 * atomic and isolated without holding any shard.
 *
 * Why no reservation is needed: the front is the only producer of every shard's request ring and sends
 * a command's parts to all its shards in one go, so any two commands appear in the same relative order
 * on every shard they share. Each part is one shard-local command that runs whole, so every other
 * command, single- or multi-shard, runs entirely before or entirely after this one on all shards alike:
 * the shards agree on one serial order, and no client can see half of an MSET. Parts for a shard that
 * a multi-step transaction holds (MSETNX) wait behind it in the held-back queue, in order, which keeps
 * that agreement. The only cost left is the split and the merge; the round trip is the same as any
 * command's, and scatters never wait for each other.
 */
import { split, sumIntegers, type TransactionBody } from './multi-shard.js';
import type { ReplySink } from './shard-pool.js';
import { OK_REPLY } from './internal-steps.js';
import type { KeyspaceEvent } from '../shard/keyspace-signals.js';

export interface ScatterPart {
  shard: number;
  argv: Buffer[];
}

/** A command's parts, and how their replies (in parts order) make its reply. */
export interface ScatterPlan {
  parts: ScatterPart[];
  combine(replies: readonly Buffer[]): Buffer;
  /** The command's keys in argument order: the order of its notifications, whichever shard answers first. */
  keys: readonly Buffer[];
}

const MSET = Buffer.from('MSET');
const LF = 0x0a;
const ASTERISK = 0x2a;
const DOLLAR = 0x24;

/**
 * Where an MGET element that starts at `at` ends: a bulk string (`$n\r\n` and n bytes and CRLF), or a
 * one-line null (`$-1`, RESP3's `_`).
 */
function elementEnd(reply: Buffer, at: number): number {
  const lineEnd = reply.indexOf(LF, at) + 1;
  if (reply[at] !== DOLLAR || reply[at + 1] === 0x2d) return lineEnd;
  const length = Number(reply.toString('latin1', at + 1, lineEnd - 2));
  return lineEnd + length + 2;
}

/** The scatter plan of a one-step multi-key command, or undefined when the command is not one. */
/**
 * The plan as a transaction body, its shards held while the parts run: how a write runs across shards
 * while its writes are propagated (AOF), so that they go out as one MULTI … EXEC, as Redis's one command.
 */
export function scatterBody(plan: ScatterPlan): TransactionBody {
  return {
    shards: new Set(plan.parts.map(({ shard }) => shard)),
    run: async (call) => plan.combine(await Promise.all(plan.parts.map((part) => call(part.shard, part.argv)))),
  };
}

export function scatterPlan(name: string, argv: readonly Buffer[], shardOf: (key: Buffer) => number): ScatterPlan | undefined {
  const command = argv[0];
  if (name === 'del' || name === 'unlink' || name === 'exists' || name === 'touch') {
    const keys = argv.slice(1);
    const parts = [...split(keys, shardOf)].map(([shard, indexes]) => ({ shard, argv: [command, ...indexes.map((i) => keys[i])] }));
    return { parts, combine: sumIntegers, keys };
  }
  if (name === 'mget') {
    // One MGET per shard; its elements go back into the merged array at their keys' positions.
    const keys = argv.slice(1);
    const groups = [...split(keys, shardOf)];
    const parts = groups.map(([shard, indexes]) => ({ shard, argv: [command, ...indexes.map((i) => keys[i])] }));
    return {
      parts,
      keys,
      combine: (replies) => {
        const elements = new Array<Buffer>(keys.length);
        for (let part = 0; part < groups.length; part++) {
          const reply = replies[part];
          if (reply[0] !== ASTERISK) return reply;
          let at = reply.indexOf(LF) + 1;
          for (const index of groups[part][1]) {
            const end = elementEnd(reply, at);
            elements[index] = reply.subarray(at, end);
            at = end;
          }
        }
        return Buffer.concat([Buffer.from(`*${keys.length}\r\n`), ...elements]);
      },
    };
  }
  if (name === 'mset') {
    const keys: Buffer[] = [];
    for (let i = 1; i < argv.length; i += 2) keys.push(argv[i]);
    const parts = [...split(keys, shardOf)].map(([shard, indexes]) => ({
      shard,
      argv: [MSET, ...indexes.flatMap((i) => [argv[1 + 2 * i], argv[2 + 2 * i]])],
    }));
    // MSET cannot fail once its arity holds, except for memory: the first error is the command's.
    return { parts, combine: (replies) => replies.find((reply) => reply[0] === 0x2d) ?? OK_REPLY, keys };
  }
  return undefined;
}

/**
 * Collects the replies of a scatter's parts (their positions are part indexes) and combines them. The
 * parts' notifications are held until all have answered and published in the order of the command's
 * keys, as one Redis would have made them.
 */
export class Gather implements ReplySink {
  private readonly replies: Buffer[];
  private left: number;
  private readonly events: KeyspaceEvent[] = [];

  constructor(
    private readonly plan: ScatterPlan,
    private readonly done: (reply: Buffer) => void,
    private readonly publish: (events: KeyspaceEvent[]) => void,
  ) {
    this.replies = new Array<Buffer>(plan.parts.length);
    this.left = plan.parts.length;
  }

  holdEvents(events: readonly KeyspaceEvent[]): void {
    this.events.push(...events);
  }

  fill(part: number, reply: Uint8Array): void {
    this.replies[part] = Buffer.from(reply);
    if (--this.left !== 0) return;
    if (this.events.length > 0) {
      const order = new Map<string, number>();
      this.plan.keys.forEach((key, index) => {
        const name = key.toString('latin1');
        if (!order.has(name)) order.set(name, index);
      });
      // Array.prototype.sort is stable: one key's events keep their order.
      this.publish(this.events.sort((a, b) => (order.get(a.key.toString('latin1')) ?? 0) - (order.get(b.key.toString('latin1')) ?? 0)));
    }
    this.done(this.plan.combine(this.replies));
  }
}
