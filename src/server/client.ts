/**
 * One connected client: its parser, its connection state, its reply queue and its output buffer.
 *
 * Replies go out in request order whichever shard (or the front) produced them: each command reserves a
 * position when it is parsed, and `fill` writes replies out as far as the head of the queue is complete.
 *
 * Hot path. The queue is a power-of-two ring of slots indexed by position, so a reply arriving in order
 * (the usual case) is appended to the output buffer without touching the ring, and one arriving early is
 * copied into its slot (the shard's bytes are only valid during the callback). Appended replies collect
 * in one output buffer and leave in a single socket write per event-loop task: `fill` only marks the
 * client dirty, and the front's flush writes every dirty client once, after the batch of replies or the
 * chunk of input that made them. A write per reply costs a syscall each, which is what held a pipelining
 * front back (41% of its time, profiled).
 *
 * Frames outside the reply order (Pub/Sub messages, MONITOR's feed) go out through `push`, placed as
 * Redis places them: after the replies of the client's commands that have run, before those of commands
 * not yet run (`runningPosition`, kept by the front). A frame pushed while earlier replies are pending
 * waits for them, so a client never sees a message ahead of the reply to a command it sent before (its
 * SUBSCRIBE's confirmation, say); one pushed to a client that is running a command (PUBLISH to itself)
 * goes before that command's reply.
 *
 * Output buffer limits (client-output-buffer-limit) are checked at each flush, once per task, against
 * what the client holds unsent: the buffer, the socket's queue and held pushes.
 */
import { RequestParser, type RequestParserLimits } from '../protocol/request-parser.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import { outputLimitExceeded, type OutputLimits, type SoftLimitState } from './output-limits.js';
import type { ClientSubscriptions } from './pubsub.js';
import type { QueuedTransaction, WatchedKey } from './transactions.js';
import type { TrackingState } from './tracking.js';

/** Output buffers are handed to the socket as they fill, so each must be big enough to amortise a write. */
const OUTPUT_CHUNK_BYTES = 16 * 1024;
/** Replies this large skip the output buffer: they are written as their own copy. */
const LARGE_REPLY_BYTES = 64 * 1024;

const NOTHING = new Uint8Array(0);

/** Where a client registers that it has output waiting; the front flushes such clients once per task. */
export interface OutputScheduler {
  markDirty(client: Client): void;
  /** Bytes handed to a socket (INFO's total_net_output_bytes). */
  countOutput(bytes: number): void;
  /** The limits of every client class, kept current by CONFIG SET. */
  readonly outputLimits: OutputLimits;
  /** A client passed its class's output limit: the scheduler closes it. */
  outputLimitReached(client: Client): void;
  /** Called before a reply reaches a socket outside the scheduler's flush: writes what must be durable first (the AOF). */
  beforeOutput?(): void;
}

/**
 * What a client's output goes to: a net.Socket (which has this shape), or an embedded client's
 * in-process connection (src/embed). Every write carries whole RESP frames, never part of one: `append`
 * takes replies and pushes whole, and a flush writes out everything appended.
 */
export interface ClientSocket {
  write(bytes: Uint8Array): unknown;
  /** Ends the connection once written output is out; `done` follows. */
  end(done: () => void): unknown;
  destroy(): unknown;
  readonly destroyed: boolean;
  /** Bytes written and not yet sent. */
  readonly writableLength: number;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

export class Client {
  readonly parser: RequestParser;
  readonly writer = new ReplyWriter();
  db = 0;
  name = '';
  /** Set by QUIT or a protocol error: the socket ends once every reserved reply is out. */
  closing = false;
  /** Multi-shard transactions of this client not yet started; its later commands wait behind them. */
  waitingTransactions = 0;
  /** On the scheduler's dirty list. */
  dirty = false;
  readonly createdAt = Date.now();
  /** When the client last sent a command (CLIENT LIST idle=). */
  lastActivity = Date.now();
  /** The last command's name, as CLIENT LIST shows it (cmd=). */
  lastCommand = 'NULL';
  /** A MONITOR client gets the command feed and nothing else. */
  monitoring = false;
  /** CLIENT REPLY: ON, OFF (no replies), SKIP (none for the next command). */
  replyMode: 'on' | 'off' | 'skip' = 'on';
  /** CLIENT NO-EVICT, recorded for CLIENT INFO (sabre evicts no clients). */
  noEvict = false;
  /** Held by CLIENT PAUSE: commands wait in `deferred` until the pause ends. */
  paused = false;
  /**
   * In a blocking command (BLPOP …) not yet answered: 'pending' until its shard has said whether it
   * waits, then 'blocked' (CLIENT LIST's flag b). Its later commands wait meanwhile, as Redis reads
   * nothing more from a blocked client.
   */
  blocking: 'no' | 'pending' | 'blocked' = 'no';
  /** The first position whose command has not run yet, or the one running now (see push). */
  runningPosition = 0;
  /** Between MULTI and EXEC: the commands queued so far (transactions.ts). */
  transaction: QueuedTransaction | undefined = undefined;
  /** WATCHed keys by watchName; undefined while it watches none. */
  watched: Map<string, WatchedKey> | undefined = undefined;
  /** CLIENT TRACKING: undefined while off (tracking.ts). */
  tracking: TrackingState | undefined = undefined;
  /** Set while its EXEC runs with shards held: its commands then reach those shards directly. */
  inExec = false;
  /** Its channels, patterns and shard channels; undefined while it has none (see pubsub.ts). */
  pubsub: ClientSubscriptions | undefined = undefined;
  readonly address: string;
  readonly localAddress: string;

  private readonly deferred: (() => void)[] = [];
  private slots: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(16);
  /** Per slot: 1 when CLIENT REPLY OFF or SKIP silenced that position's reply. */
  private silent = new Uint8Array(16);
  private head = 0;
  private next = 0;
  private ended = false;
  private out: Buffer = Buffer.alloc(0);
  private outStart = 0;
  private outEnd = 0;
  /** Pushed frames waiting for the replies of positions before `before`, oldest first. */
  private readonly held: { before: number; bytes: Uint8Array }[] = [];
  private heldBytes = 0;
  private readonly softLimit: SoftLimitState = { since: 0 };

  constructor(
    readonly id: number,
    readonly socket: ClientSocket,
    private readonly scheduler: OutputScheduler,
    limits: RequestParserLimits,
  ) {
    this.parser = new RequestParser(limits);
    this.address = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
    this.localAddress = `${socket.localAddress ?? ''}:${socket.localPort ?? 0}`;
  }

  get protocol(): 2 | 3 {
    return this.writer.protocol;
  }

  /** Reserves the next reply position. */
  reserve(): number {
    if (this.next - this.head === this.slots.length) this.growSlots();
    const mode = this.replyMode;
    this.silent[this.next & (this.slots.length - 1)] = mode === 'on' ? 0 : 1;
    if (mode === 'skip') this.replyMode = 'on';
    return this.next++;
  }

  /** CLIENT REPLY ON answers even though it was reserved while replies were off. */
  unsilence(position: number): void {
    this.silent[position & (this.slots.length - 1)] = 0;
  }

  /** Delivers the reply for a reserved position; `reply` need only stay valid during the call. */
  fill(position: number, reply: Uint8Array): void {
    const mask = this.slots.length - 1;
    if (position !== this.head) {
      this.slots[position & mask] = this.silent[position & mask] === 1 ? NOTHING : new Uint8Array(reply);
      return;
    }
    if (this.silent[position & mask] === 0) this.append(reply);
    let head = this.head + 1;
    if (this.held.length !== 0) this.releaseHeld(head);
    while (head < this.next) {
      const early = this.slots[head & mask];
      if (early === undefined) break;
      this.slots[head & mask] = undefined;
      this.append(early);
      head++;
      if (this.held.length !== 0) this.releaseHeld(head);
    }
    this.head = head;
    if (!this.dirty) this.scheduler.markDirty(this);
  }

  /** Writes the buffered output in one socket write; ends a closing client once everything is out. */
  flush(): void {
    this.dirty = false;
    this.flushBuffered();
    if (!this.closing && this.overOutputLimit()) return this.scheduler.outputLimitReached(this);
    if (this.closing && this.head === this.next && !this.ended) {
      // Redis closes the connection outright once the last reply is out: it reads nothing more.
      this.ended = true;
      const socket = this.socket;
      socket.end(() => socket.destroy());
    }
  }

  /** Whether a command of this client may run at once: no transaction of its own waits before it. */
  get mayRunNow(): boolean {
    return this.waitingTransactions === 0 && this.deferred.length === 0 && !this.paused && this.blocking === 'no';
  }

  /** Runs `action` now, or once this client's waiting transactions have started and its blocking command is answered. */
  inOrder(action: () => void): void {
    if (this.mayRunNow) action();
    else this.deferred.push(action);
  }

  /** Runs deferred commands until one of them starts waiting (for a transaction or a pause) again. */
  releaseDeferred(): void {
    while (this.waitingTransactions === 0 && !this.paused && this.blocking === 'no' && this.deferred.length > 0) this.deferred.shift()!();
  }

  /** Output bytes buffered and not yet handed to the socket, plus what the socket still holds. */
  get outputBytes(): number {
    return this.outEnd - this.outStart + this.socket.writableLength + this.heldBytes;
  }

  /** Replies reserved and not yet written out. */
  get pendingReplies(): number {
    return this.next - this.head;
  }

  /** CLIENT KILL: drops the connection at once, replies pending or not, as Redis does. */
  kill(): void {
    this.closing = true;
    this.socket.destroy();
  }

  /**
   * Writes a frame outside the reply order (a Pub/Sub message, MONITOR's feed), before the reply at
   * `runningPosition`: at once when every reply before it is out, else once they are. `bytes` must not
   * change afterwards (one frame may go to many clients). A closing client takes no more, as Redis adds
   * nothing to one it will close.
   */
  push(bytes: Uint8Array): void {
    if (this.closing) return;
    const before = this.runningPosition;
    if (before <= this.head) this.append(bytes);
    else {
      this.held.push({ before, bytes });
      this.heldBytes += bytes.length;
    }
    if (!this.dirty) this.scheduler.markDirty(this);
  }

  /**
   * RESET's part on the connection's own state: database 0, RESP2, no name, replies on, no MONITOR.
   * The front drops the client from its registries (monitors, Pub/Sub) first; other per-client state
   * RESET must clear belongs here.
   */
  reset(): void {
    this.db = 0;
    this.writer.protocol = 2;
    this.name = '';
    this.replyMode = 'on';
    this.monitoring = false;
  }

  private releaseHeld(head: number): void {
    const held = this.held;
    let released = 0;
    while (released < held.length && held[released].before <= head) {
      const bytes = held[released++].bytes;
      this.heldBytes -= bytes.length;
      this.append(bytes);
    }
    held.splice(0, released);
  }

  /** Whether the output held for this client breaks its class's limit (pubsub while subscribed, else normal). */
  private overOutputLimit(): boolean {
    const limits = this.scheduler.outputLimits;
    const limit = this.pubsub !== undefined ? limits.pubsub : limits.normal;
    if (limit.hard === 0 && limit.soft === 0) return false;
    return outputLimitExceeded(limit, this.softLimit, this.outputBytes, Date.now());
  }

  private append(reply: Uint8Array): void {
    const length = reply.length;
    if (length >= LARGE_REPLY_BYTES) {
      this.scheduler.beforeOutput?.();
      this.flushBuffered();
      this.scheduler.countOutput(length);
      if (!this.socket.destroyed) this.socket.write(new Uint8Array(reply));
      return;
    }
    if (this.out.length - this.outEnd < length) {
      // Start a fresh chunk; what is buffered and not yet written moves along (the socket may still
      // hold the old chunk's written part, so it is never reused).
      const buffered = this.outEnd - this.outStart;
      const chunk = Buffer.allocUnsafe(Math.max(OUTPUT_CHUNK_BYTES, 2 * (buffered + length)));
      this.out.copy(chunk, 0, this.outStart, this.outEnd);
      this.out = chunk;
      this.outStart = 0;
      this.outEnd = buffered;
    }
    this.out.set(reply, this.outEnd);
    this.outEnd += length;
  }

  private flushBuffered(): void {
    if (this.outEnd === this.outStart) return;
    this.scheduler.countOutput(this.outEnd - this.outStart);
    if (!this.socket.destroyed) this.socket.write(this.out.subarray(this.outStart, this.outEnd));
    // The written bytes now belong to the socket until sent; later replies go after them.
    this.outStart = this.outEnd;
  }

  private growSlots(): void {
    const old = this.slots;
    const oldSilent = this.silent;
    const grown = new Array<Uint8Array | undefined>(old.length * 2);
    const grownSilent = new Uint8Array(old.length * 2);
    for (let position = this.head; position < this.next; position++) {
      grown[position & (grown.length - 1)] = old[position & (old.length - 1)];
      grownSilent[position & (grown.length - 1)] = oldSilent[position & (old.length - 1)];
    }
    this.slots = grown;
    this.silent = grownSilent;
  }
}
