/**
 * The front's side of the blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX
 * BZMPOP): which clients wait, their timeouts, CLIENT UNBLOCK, and wake-ups.
 *
 * Keys on one shard (the usual case, and always with {hash tags}): the command goes to its shard
 * flagged "may block" (ShardPool.sendBlocking). The shard answers at once, or keeps the command waiting
 * under the request's id (its token) and answers a marker instead (blocked-waiters.ts). From then on the
 * shard itself serves it, right after the command that made one of its keys ready and before it runs
 * anything else, so no other client ever sees the pushed element first; the reply comes back in an
 * unsolicited frame (`served`) and fills the reply position the command reserved.
 *
 * Timeouts and CLIENT UNBLOCK ask the shard to forget the waiter (ShardOp.Unblock) and answer the null
 * reply (or the UNBLOCKED error) only if it was still waiting: a shard answers in order, so a `served`
 * frame that raced the timeout arrives before the answer to Unblock, and exactly one of them wins.
 *
 * Keys on several shards: the front runs the non-blocking form as any cross-shard command (every shard
 * held, cross-shard.ts); if it finds nothing, it registers a notify-only waiter on each shard before
 * releasing them, so no push can slip between the attempt and the registration. A shard that sees a key
 * made ready only reports it (`ready`); the front forgets the waiter everywhere and tries again with the
 * shards held, and waits again if someone else took the element meanwhile. Weaker than Redis's: another
 * command may run between the push and the retry, and a waiter that loses the race queues again behind
 * the ones that blocked after it.
 *
 * While a blocking command is unanswered its client's later commands wait (Client.blocking): Redis reads
 * nothing from a blocked client.
 */
import { blockingTimeout, isNullReply } from '../commands/blocking.js';
import type { KeyPosition } from '../commands/key-specs.js';
import type { CommandSpec } from '../commands/table.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import { blockedTimeout } from '../shard/blocked-waiters.js';
import { ShardOp } from '../shard/frames.js';
import type { Client } from './client.js';
import type { CrossShardCommand } from './cross-shard.js';
import { internalErrorReply, type ShardScheduler, type TransactionBody, type TransactionHooks } from './multi-shard.js';
import type { BlockedListener, ShardPool } from './shard-pool.js';

const UNBLOCKED_ERROR = Buffer.from('-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
/** The longest delay setTimeout takes; a later deadline re-arms the timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the blocked clients need of the front. */
export interface BlockingHost {
  pool: ShardPool;
  scheduler: ShardScheduler;
  shardOfKey: (key: Buffer) => number;
  /** The body that runs a command over keys on several shards (cross-shard.ts). */
  crossShard: (command: CrossShardCommand) => TransactionBody;
}

interface Blocked {
  client: Client;
  name: string;
  argv: Buffer[];
  keys: readonly KeyPosition[];
  position: number;
  db: number;
  protocol: 2 | 3;
  /** The shards its keys live on; several: it waits notify-only. */
  shards: number[];
  /** What it waits under on its shards; 0 until known. */
  token: number;
  /**
   * sent: its shard has not answered yet; waiting: its shards keep it waiting; retrying: (several
   * shards) a key became ready and the command runs again; done: answered, or its client is gone.
   */
  state: 'sent' | 'waiting' | 'retrying' | 'done';
  deadline: number;
  timer: NodeJS.Timeout | undefined;
  /** The reply to give once the current retry or Unblock is over, when it has been given up on. */
  givenUp: Buffer | undefined;
}

export class BlockedClients implements BlockedListener, TransactionHooks {
  private readonly byToken = new Map<number, Blocked>();
  private readonly byClient = new Map<Client, Blocked>();
  private readonly writer = new ReplyWriter();
  /** Clients in state waiting or retrying: INFO's blocked_clients. */
  count = 0;
  /** Those of them with a timeout: INFO's clients_in_timeout_table. */
  withTimeout = 0;

  constructor(private readonly host: BlockingHost) {}

  /** Runs a blocking command; `shard` is the one its keys live on, or −1 when they are spread. */
  run(client: Client, spec: CommandSpec, argv: Buffer[], keys: readonly KeyPosition[], position: number, shard: number): void {
    const shards = shard >= 0 ? [shard] : [...new Set(keys.map(({ index }) => this.host.shardOfKey(argv[index])))];
    const blocked: Blocked = {
      client,
      name: spec.name,
      argv,
      keys,
      position,
      db: client.db,
      protocol: client.protocol,
      shards,
      token: 0,
      state: 'sent',
      deadline: 0,
      timer: undefined,
      givenUp: undefined,
    };
    client.blocking = 'pending';
    this.byClient.set(client, blocked);
    if (shard < 0) return this.attempt(blocked);
    const { pool, scheduler } = this.host;
    const sink = { fill: (_: number, reply: Uint8Array) => this.answered(blocked, reply) };
    const send = () => {
      blocked.token = pool.sendBlocking(shard, blocked.db, blocked.protocol, spec.index, argv, sink, position);
      this.byToken.set(blocked.token, blocked);
    };
    if (scheduler.isHeld(shard)) scheduler.sendOrHold(shard, send);
    else send();
  }

  served(token: number, reply: Uint8Array): void {
    const blocked = this.byToken.get(token);
    if (blocked !== undefined) this.finish(blocked, reply);
  }

  ready(token: number): void {
    const blocked = this.byToken.get(token);
    if (blocked === undefined || blocked.state !== 'waiting') return;
    this.forgetOnShards(blocked);
    blocked.state = 'retrying';
    this.attempt(blocked);
  }

  /** CLIENT UNBLOCK: whether the client was blocked; it is then answered as timed out, or with an error. */
  unblock(client: Client, error: boolean): boolean {
    const blocked = this.byClient.get(client);
    if (blocked === undefined || (blocked.state !== 'waiting' && blocked.state !== 'retrying')) return false;
    this.giveUp(blocked, error ? UNBLOCKED_ERROR : this.timedOut(blocked));
    return true;
  }

  /** The client disconnected: its waiters go, and nothing more is answered. */
  disconnected(client: Client): void {
    const blocked = this.byClient.get(client);
    if (blocked === undefined) return;
    const waited = blocked.state === 'waiting';
    this.settle(blocked);
    // A command still being sent or retried is forgotten when its answer comes (answered, attempt).
    if (waited) this.forgetOnShards(blocked);
  }

  /**
   * A transaction (EXEC, a multi-shard command) takes its shards: while anyone may be blocked, they
   * hold their waiters until it is over, as Redis serves blocked clients only after a whole EXEC. With
   * no blocking command under way none can block on a held shard before the transaction ends (its
   * commands are held back), so the usual case costs nothing.
   */
  started(shards: ReadonlySet<number>): boolean {
    if (this.byClient.size === 0) return false;
    for (const shard of shards) void this.host.pool.operation(shard, ShardOp.HoldWaiters, { held: true });
    return true;
  }

  finished(shards: ReadonlySet<number>): void {
    for (const shard of shards) void this.host.pool.operation(shard, ShardOp.HoldWaiters, { held: false });
  }

  /** Stops every timer (the server is closing). */
  close(): void {
    for (const blocked of this.byClient.values()) clearTimeout(blocked.timer);
  }

  /** The first answer of a one-shard command: its reply, or the marker that it waits. */
  private answered(blocked: Blocked, reply: Uint8Array): void {
    const timeout = blockedTimeout(reply);
    if (timeout === undefined) return this.finish(blocked, reply);
    if (blocked.state === 'done') return this.forgetOnShards(blocked);
    this.wait(blocked, timeout);
  }

  private wait(blocked: Blocked, timeoutMs: number): void {
    blocked.state = 'waiting';
    blocked.client.blocking = 'blocked';
    this.count++;
    if (timeoutMs === 0) return;
    blocked.deadline = Date.now() + timeoutMs;
    this.withTimeout++;
    this.armTimer(blocked);
  }

  private armTimer(blocked: Blocked): void {
    const left = blocked.deadline - Date.now();
    if (left <= 0) return this.giveUp(blocked, this.timedOut(blocked));
    blocked.timer = setTimeout(() => this.armTimer(blocked), Math.min(left, MAX_TIMER_MS));
  }

  /**
   * Timeout or CLIENT UNBLOCK: answers `reply` unless the command is served first. One shard: once the
   * shard confirms it forgot the waiter. Several: at once (their waiters only notify), or after the
   * retry under way if it finds nothing.
   */
  private giveUp(blocked: Blocked, reply: Buffer): void {
    clearTimeout(blocked.timer);
    if (blocked.givenUp !== undefined) return;
    blocked.givenUp = reply;
    if (blocked.state === 'retrying') return;
    if (blocked.shards.length > 1) {
      this.forgetOnShards(blocked);
      return this.finish(blocked, reply);
    }
    void this.host.pool.operation(blocked.shards[0], ShardOp.Unblock, { token: blocked.token }).then((removed) => {
      if (removed === true) this.finish(blocked, reply);
    });
  }

  /**
   * Keys on several shards: runs the non-blocking form with every shard held; when it finds nothing,
   * registers notify-only waiters before the shards are released.
   */
  private attempt(blocked: Blocked): void {
    const { pool, scheduler } = this.host;
    const { client, argv, keys, db, protocol } = blocked;
    const body = this.host.crossShard({ argv, keys, db, protocol });
    scheduler.submitOperation(client, body.shards, async () => {
      let reply: Buffer;
      try {
        reply = await body.run((shard, stepArgv) => pool.call(shard, db, protocol, stepArgv));
      } catch (error) {
        reply = internalErrorReply(error);
      }
      if (blocked.state === 'done') return;
      if (!isNullReply(reply)) return this.finish(blocked, reply);
      if (blocked.givenUp !== undefined) return this.finish(blocked, blocked.givenUp);
      blocked.token = pool.reserveToken();
      this.byToken.set(blocked.token, blocked);
      await Promise.all(
        this.keysByShard(blocked).map(([shard, onShard]) =>
          pool.operation(shard, ShardOp.BlockNotify, { token: blocked.token, db, keys: onShard.map((key) => key.toString('base64')) }),
        ),
      );
      // Its client may have gone while the shards registered it.
      if (settled(blocked)) this.forgetOnShards(blocked);
      else if (blocked.state === 'sent') this.wait(blocked, blockingTimeout(blocked.name, argv));
      else blocked.state = 'waiting';
    });
  }

  private keysByShard(blocked: Blocked): [number, Buffer[]][] {
    const byShard = new Map<number, Buffer[]>();
    for (const { index } of blocked.keys) {
      const key = blocked.argv[index];
      const shard = this.host.shardOfKey(key);
      byShard.set(shard, [...(byShard.get(shard) ?? []), key]);
    }
    return [...byShard];
  }

  /** Forgets the waiter on every shard it waits on (answers unneeded: whoever is first wins, see giveUp). */
  private forgetOnShards(blocked: Blocked): void {
    this.byToken.delete(blocked.token);
    for (const shard of blocked.shards) void this.host.pool.operation(shard, ShardOp.Unblock, { token: blocked.token });
  }

  private finish(blocked: Blocked, reply: Uint8Array): void {
    if (blocked.state === 'done') return;
    this.settle(blocked);
    const client = blocked.client;
    client.fill(blocked.position, reply);
    client.releaseDeferred();
  }

  /** Marks it answered (or abandoned) and drops it from the registries. */
  private settle(blocked: Blocked): void {
    clearTimeout(blocked.timer);
    if (blocked.state === 'waiting' || blocked.state === 'retrying') {
      this.count--;
      if (blocked.deadline !== 0) this.withTimeout--;
    }
    blocked.state = 'done';
    this.byToken.delete(blocked.token);
    this.byClient.delete(blocked.client);
    blocked.client.blocking = 'no';
  }

  /** The reply of the command timing out: a null array (BLMOVE's too, as in Redis), in its protocol. */
  private timedOut(blocked: Blocked): Buffer {
    const writer = this.writer;
    writer.protocol = blocked.protocol;
    writer.nullArray();
    return writer.take();
  }
}

/** Whether it was answered or its client has gone (a function: the state changes across awaits). */
function settled(blocked: Blocked): boolean {
  return blocked.state === 'done';
}
