/**
 * The front's view of its shard workers: one worker thread and one channel per shard, request ids, and
 * reply reassembly. `send` hands a command to a shard; its RESP reply goes to the given sink, from the
 * event loop, in the order the shard executed it. Nothing here blocks: the channels queue when a ring is
 * full and park with Atomics.waitAsync when idle.
 *
 * Hot path. A shard answers its requests in the order it received them, so the reply sinks wait in a
 * FIFO per shard (parallel arrays used as a ring), not in a map by request id, and a request is
 * encoded straight into the ring's reserved space: no per-command closure, map entry or buffer.
 *
 * Sends are batched per event-loop turn: the first send of a turn opens a batch on that shard's channel
 * and an immediate (after the turn's socket reads) commits every open batch, so fifty clients' commands
 * read in one turn, or a pipeline of a thousand, cost one publication and at most one wake-up per shard.
 * Committing per socket read instead (a microtask) woke a parked worker per client: the futex wakes
 * took a fifth of the front's time at -P 1.
 */
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { FrontChannel } from '../transport/channel.js';
import {
  EVENTS_FRAME_ID,
  FrameAssembler,
  REPLY_PREFIX_BYTES,
  REQUEST_MAY_BLOCK,
  REQUEST_STEP,
  ShardOp,
  UnsolicitedKind,
  encodeRequest,
  encodeRequestInto,
  frameId,
  framesOf,
  readReplyEventsLength,
  readReplyMicros,
  requestLength,
} from '../shard/frames.js';
import type { ShardOptions, ShardStats } from '../shard/shard.js';
import { MemoryBoard } from '../shard/memory-board.js';
import type { ShardWorkerData } from '../shard/worker.js';

/** Receives replies; `position` is whatever the sender passed with the request. */
export interface ReplySink {
  fill(position: number, reply: Uint8Array): void;
}

/** A sink for one request that takes a copy of its reply (the reply's bytes are only lent). */
export function copyingSink(receive: (reply: Buffer) => void): ReplySink {
  return { fill: (_, reply) => receive(Buffer.from(reply)) };
}

/**
 * Sees every executed command with its shard-measured execution time, before its sink does (the front
 * keeps commandstats and the slowlog with it). `command` is the CommandSpec.index sent, or −1.
 */
export type ExecutionObserver = (command: number, argv: readonly Uint8Array[], micros: number, reply: Uint8Array, sink: ReplySink) => void;

/**
 * Receives the keyspace events a command made, encoded (event-codec.ts), with the sink of the command
 * that made them (undefined for the shard's own work, such as active expiry).
 */
export type EventsListener = (events: Uint8Array, by: ReplySink | undefined) => void;

/** Hears about blocked clients (blocked-clients.ts), by the token of the request that blocked. */
export interface BlockedListener {
  /** The shard served the blocked command: its reply, a view valid during the call. */
  served(token: number, reply: Uint8Array): void;
  /** A key a notify-only waiter waits on became ready; the shard has forgotten the waiter. */
  ready(token: number): void;
}

/** Hands a reply payload's keyspace events (if any) to `onEvents`, and returns its RESP bytes. */
function replyOf(payload: Uint8Array, onEvents: EventsListener | undefined, by: ReplySink | undefined): Uint8Array {
  const eventsLength = readReplyEventsLength(payload);
  if (eventsLength !== 0) onEvents?.(payload.subarray(REPLY_PREFIX_BYTES, REPLY_PREFIX_BYTES + eventsLength), by);
  return payload.subarray(REPLY_PREFIX_BYTES + eventsLength);
}

/** The requests of one shard in flight, in send order: sink, position, command and argv, as parallel rings. */
class InFlight {
  private sinks: (ReplySink | undefined)[] = new Array<ReplySink | undefined>(1024);
  private argvs: (readonly Uint8Array[] | undefined)[] = new Array<readonly Uint8Array[] | undefined>(1024);
  private positions = new Float64Array(1024);
  private commands = new Int32Array(1024);
  private head = 0;
  private tail = 0;

  push(sink: ReplySink, position: number, command: number, argv: readonly Uint8Array[]): void {
    if (this.tail - this.head === this.sinks.length) this.grow();
    const slot = this.tail++ & (this.sinks.length - 1);
    this.sinks[slot] = sink;
    this.argvs[slot] = argv;
    this.positions[slot] = position;
    this.commands[slot] = command;
  }

  /**
   * Hands a reply payload (execution time, keyspace events, then the reply) to the oldest request's
   * sink, after the events to their listener.
   */
  deliver(payload: Uint8Array, observer: ExecutionObserver | undefined, onEvents: EventsListener | undefined): void {
    const slot = this.head++ & (this.sinks.length - 1);
    const sink = this.sinks[slot]!;
    const argv = this.argvs[slot]!;
    this.sinks[slot] = undefined;
    this.argvs[slot] = undefined;
    const reply = replyOf(payload, onEvents, sink);
    if (observer !== undefined) observer(this.commands[slot], argv, readReplyMicros(payload), reply, sink);
    sink.fill(this.positions[slot], reply);
  }

  private grow(): void {
    const size = this.sinks.length;
    const mask = size * 2 - 1;
    const sinks = new Array<ReplySink | undefined>(size * 2);
    const argvs = new Array<readonly Uint8Array[] | undefined>(size * 2);
    const positions = new Float64Array(size * 2);
    const commands = new Int32Array(size * 2);
    for (let i = this.head; i < this.tail; i++) {
      const from = i & (size - 1);
      sinks[i & mask] = this.sinks[from];
      argvs[i & mask] = this.argvs[from];
      positions[i & mask] = this.positions[from];
      commands[i & mask] = this.commands[from];
    }
    this.sinks = sinks;
    this.argvs = argvs;
    this.positions = positions;
    this.commands = commands;
  }
}

interface ShardHandle {
  channel: FrontChannel;
  exited: Promise<unknown>;
  batchOpen: boolean;
  inFlight: InFlight;
}

export interface ShardPoolOptions {
  shards: number;
  shard?: ShardOptions;
  /** The worker module; defaults to the compiled shard worker beside this file. */
  workerUrl?: URL;
  /** Extra workerData (the test bootstrap passes the TypeScript file to load here). */
  workerData?: Record<string, unknown>;
}

export class ShardPool {
  private readonly shards: ShardHandle[] = [];
  private nextId = 1;
  private observer: ExecutionObserver | undefined;
  /** Where the shards post their allocated bytes and whether they can evict (maxmemory). */
  private readonly board: MemoryBoard;
  private eventsListener: EventsListener | undefined;
  private blockedListener: BlockedListener | undefined;
  private propagatedListener: ((shard: number, records: Uint8Array) => void) | undefined;
  private commitScheduled = false;
  private commitSoonScheduled = false;

  private constructor(options: ShardPoolOptions, onWorkerExit: (shard: number, code: number) => void) {
    const workerUrl = options.workerUrl ?? new URL('../shard/worker.js', import.meta.url);
    const { board, buffer } = MemoryBoard.create(options.shards);
    this.board = board;
    // Gives the workers' isolates (made after this) a `gc` function: a shard's thread never returns to
    // its event loop, so V8's idle-time collection never runs there, and the segments an arena releases
    // (SharedArrayBuffers) would keep their memory until some allocation forced a major collection.
    setFlagsFromString('--expose-gc');
    for (let index = 0; index < options.shards; index++) {
      const channel = FrontChannel.create();
      const data: ShardWorkerData = { channel: channel.describe(), shard: { ...options.shard, board: { buffer, index } } };
      const worker = new Worker(workerUrl, { workerData: { ...options.workerData, ...data } });
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.on('exit', (code) => onWorkerExit(index, code));
      const assembler = new FrameAssembler();
      const inFlight = new InFlight();
      channel.onReplies((frames) => {
        for (let i = 0; i < frames.length; i++) {
          const payload = assembler.add(frames[i]);
          if (payload === undefined) continue;
          if (frameId(frames[i]) === EVENTS_FRAME_ID) this.unsolicited(index, payload);
          else inFlight.deliver(payload, this.observer, this.eventsListener);
        }
      });
      this.shards.push({ channel, exited, batchOpen: false, inFlight });
    }
  }

  static start(options: ShardPoolOptions, onWorkerExit: (shard: number, code: number) => void): ShardPool {
    return new ShardPool(options, onWorkerExit);
  }

  get size(): number {
    return this.shards.length;
  }

  /**
   * The bytes every shard's arena has allocated, as the shards last posted them on the memory board
   * (after their latest command or piece of idle work): what the maxmemory check compares.
   */
  usedMemory(): number {
    return this.board.used();
  }

  /** Whether some shard last said it holds keys its maxmemory-policy may evict. */
  canEvict(): boolean {
    return this.board.anyEvictable();
  }

  /**
   * Sends argv to shard `shard` for database `db`; `sink.fill(position, reply)` receives the reply (a
   * view valid only during the call). Replies of one shard arrive in the order of its sends. `command`
   * is the CommandSpec.index of argv[0], or −1 for the shard to look it up.
   */
  send(shard: number, db: number, protocol: 2 | 3, command: number, argv: readonly Uint8Array[], sink: ReplySink, position: number): void {
    this.sendRequest(shard, db, protocol, command, argv, sink, position);
  }

  /**
   * Sends a blocking command that may block (frames.ts REQUEST_MAY_BLOCK); returns the request's id,
   * the token its shard keeps it waiting under and names it by to the BlockedListener.
   */
  sendBlocking(shard: number, db: number, protocol: 2 | 3, command: number, argv: readonly Uint8Array[], sink: ReplySink, position: number): number {
    return this.sendRequest(shard, db, protocol | REQUEST_MAY_BLOCK, command, argv, sink, position);
  }

  /** An id no request in flight has, for a waiter that is not a request's (a notify-only one). */
  reserveToken(): number {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0 || 1;
    return id;
  }

  private sendRequest(shard: number, db: number, protocol: number, command: number, argv: readonly Uint8Array[], sink: ReplySink, position: number): number {
    const handle = this.shards[shard];
    const channel = handle.channel;
    if (!handle.batchOpen) {
      channel.beginBatch();
      handle.batchOpen = true;
      this.scheduleCommit();
    }
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0 || 1;
    handle.inFlight.push(sink, position, command, argv);
    const length = requestLength(argv);
    const reserved = channel.reserveRequest(length);
    if (reserved !== null) {
      encodeRequestInto(reserved, id, db, protocol, command, argv);
      channel.finishRequest(length);
    } else for (const out of framesOf(encodeRequest(id, db, protocol, command, argv), channel.maxRequestLength)) channel.send(out);
    return id;
  }

  /** A frame that answers no request (frames.ts UnsolicitedKind). */
  private unsolicited(shard: number, payload: Uint8Array): void {
    const kind = payload[0];
    if (kind === UnsolicitedKind.Events) return this.eventsListener?.(payload.subarray(1), undefined);
    if (kind === UnsolicitedKind.Propagated) return this.propagatedListener?.(shard, payload.subarray(1));
    const token = (payload[1] | (payload[2] << 8) | (payload[3] << 16) | (payload[4] << 24)) >>> 0;
    if (kind === UnsolicitedKind.Ready) return this.blockedListener?.ready(token);
    const body = payload.subarray(5);
    this.blockedListener?.served(token, replyOf(body, this.eventsListener, undefined));
  }

  /** Sets the one listener of keyspace events (their encoded bytes, a view valid during the call; event-codec.ts). */
  onKeyspaceEvents(listener: EventsListener): void {
    this.eventsListener = listener;
  }

  /** Sets the one listener of the shards' propagation streams (a view valid during the call; propagation.ts). */
  onPropagated(listener: (shard: number, records: Uint8Array) => void): void {
    this.propagatedListener = listener;
  }

  /** Sets the one listener of blocked clients' news. */
  onBlocked(listener: BlockedListener): void {
    this.blockedListener = listener;
  }

  /** Sets the one observer of executed commands. */
  observe(observer: ExecutionObserver): void {
    this.observer = observer;
  }

  /** Runs a shard operation (ShardOp) with a JSON argument; it runs in order with the commands sent before it. */
  operation(shard: number, operation: number, args: unknown): Promise<unknown> {
    const argv = [Buffer.from(JSON.stringify(args ?? null))];
    return new Promise((resolve) =>
      this.send(shard, 0, 2, operation, argv, copyingSink((reply) => resolve(JSON.parse(reply.toString('utf8')))), 0),
    );
  }

  /** A shard's figures. */
  async stats(shard: number): Promise<ShardStats> {
    return (await this.operation(shard, ShardOp.Stats, null)) as ShardStats;
  }

  /** Sends argv and resolves with a copy of the reply; `command` as for send (−1: looked up by name). */
  /** Sends one step of a command the front admitted whole (frames.ts REQUEST_STEP). */
  sendStep(shard: number, db: number, protocol: 2 | 3, command: number, argv: readonly Uint8Array[], sink: ReplySink, position: number): void {
    this.sendRequest(shard, db, protocol | REQUEST_STEP, command, argv, sink, position);
  }

  /** One step of a command the front admitted whole (an EXEC's, a multi-shard body's), resolving with its reply. */
  call(shard: number, db: number, protocol: 2 | 3, argv: readonly Uint8Array[], command = -1): Promise<Buffer> {
    return new Promise((resolve) => this.sendStep(shard, db, protocol, command, argv, copyingSink(resolve), 0));
  }

  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      this.commitOpenBatches();
    });
  }

  /**
   * Commits the open batches once the current synchronous run is over (a microtask), not at the end of
   * the turn. For embedded clients (src/embed), whose sends come from promise continuations rather than
   * socket reads: an awaited call then reaches its shard an event-loop iteration sooner (measured 10–25%
   * off a single awaited get), and a run of sends (a pipeline, the callers a batch of replies resumed)
   * is still one commit. Sockets keep the per-turn commit, which gathers every connection's reads.
   */
  commitSoon(): void {
    if (this.commitSoonScheduled) return;
    this.commitSoonScheduled = true;
    queueMicrotask(() => {
      this.commitSoonScheduled = false;
      this.commitOpenBatches();
    });
  }

  private commitOpenBatches(): void {
    for (const handle of this.shards) {
      if (handle.batchOpen) {
        handle.batchOpen = false;
        handle.channel.commit();
      }
    }
  }

  /** Closes every channel; each worker finishes what it was sent and exits. */
  async close(): Promise<void> {
    await Promise.all(this.shards.map((handle) => handle.channel.close()));
    await Promise.all(this.shards.map((handle) => handle.exited));
  }
}
