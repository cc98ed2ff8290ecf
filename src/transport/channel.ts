/**
 * A duplex channel between the front (main thread) and one shard worker: a request ring (front →
 * worker), a reply ring (worker → front), and a doorbell for each side, all in SharedArrayBuffers that
 * `describe()` hands to the worker through workerData (shared, not copied; nothing to transfer).
 *
 * Front side (`FrontChannel`), never blocks:
 * - `send(frame)` copies a frame into the request ring and publishes it; inside `beginBatch()` …
 *   `commit()` frames are only staged and published together, so a pipeline or an event-loop turn's
 *   worth of commands costs one tail store and at most one wake-up of the worker.
 * - A full request ring is backpressure, never loss: `send` then keeps a copy in an in-order queue and
 *   returns false (like a stream's `write`), the queue drains as the worker frees room, and `onDrain`
 *   fires when it is empty.
 * - Replies are delivered in batches to the `onReplies` handler, from the event loop. The front polls
 *   the reply ring from `setImmediate` while traffic flows and for `pollMicros` after the last of it,
 *   then parks with Atomics.waitAsync: polling finds a reply within a loop turn (~1 µs), whereas a
 *   waitAsync wake-up costs 15–30 µs more, and Node keeps no process alive for a pending waitAsync
 *   anyway (doorbell.ts). Sending while parked withdraws the park and polls again, since replies follow.
 *
 * Worker side (`WorkerChannel`), may block:
 * - `waitForWork(timeoutMs)` publishes pending replies, then sleeps (spin, then Atomics.wait) until a
 *   request arrives, the channel closes, or the timeout passes so the shard can do periodic work.
 * - `receive()` returns request frames as views into the ring, valid until the next `flush()` or
 *   `waitForWork()`; `reply(frame)` or `reserveReply`/`finishReply` (encode in place) stage replies;
 *   `flush()` publishes them and gives the read requests' room back. A full reply ring blocks the worker
 *   until the front drains it, which the front always does (it never waits on the worker to do so).
 *
 * Shutdown: `close()` on the front stops sending; the worker still gets every frame sent before it
 * (queued ones included), its replies are still delivered, and then `waitForWork` returns 'closed' and
 * the promise `close()` returned resolves. If the worker thread dies, that promise never settles: the
 * owner of the Worker watches its 'exit' event.
 *
 * Control words (one Int32 per 64-byte line, each written mostly by one side):
 *   WORKER_BELL    the worker's doorbell, rung by the front with WORK (requests committed, or CLOSED)
 *                  or REPLY_ROOM (reply-ring room released); the worker is interested in WORK while
 *                  idle and in REPLY_ROOM while its reply ring is full, never both
 *   FRONT_BELL     the front's doorbell, rung by the worker with REPLIES (replies committed, or DONE)
 *                  or REQUEST_ROOM (request-ring room released); the front is interested in REPLIES
 *                  whenever it parks, and in REQUEST_ROOM too while it has queued requests
 *   CLOSED         front → worker: no request follows those committed before this store
 *   WORKER_DONE    worker → front: the loop ended; every reply was committed before this store
 *   ATTACHED       set by the first attach, so a description cannot get two consumers
 * Each flag is stored after the ring change it speaks about and read before looking at the ring, so
 * whoever sees the flag also sees the change (see the ordering argument in doorbell.ts). Ringing with
 * an event the sleeper is not interested in costs one load and wakes nobody: without the interest bits,
 * every reply batch the front drains would wake an idle worker for nothing.
 */
import { Doorbell, AsyncSleeper, BlockingSleeper } from './doorbell.js';
import { TransportError } from './errors.js';
import { RingConsumer, RingProducer, createRingBuffer } from './byte-ring.js';

const WORDS_PER_LINE = 16;
const WORKER_BELL = 0 * WORDS_PER_LINE;
const FRONT_BELL = 1 * WORDS_PER_LINE;
const CLOSED = 2 * WORDS_PER_LINE;
const WORKER_DONE = 3 * WORDS_PER_LINE;
const ATTACHED = 4 * WORDS_PER_LINE;
const CONTROL_WORDS = 5 * WORDS_PER_LINE;

/** Events on the worker's bell. */
const WORK = 1;
const REPLY_ROOM = 2;
/** Events on the front's bell. */
const REPLIES = 1;
const REQUEST_ROOM = 2;

/** What a worker needs to attach: three shared buffers, passed in workerData as they are. */
export interface ChannelDescription {
  requests: SharedArrayBuffer;
  replies: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

export interface FrontChannelOptions {
  /** Data bytes of the request ring, a power of two; the largest request is this minus 4. */
  requestRingBytes?: number;
  /** Data bytes of the reply ring, a power of two; the largest reply is this minus 4. */
  replyRingBytes?: number;
  /** How long the front keeps polling for replies after the last activity before it parks (0: park at once). */
  pollMicros?: number;
}

export interface WorkerChannelOptions {
  /**
   * The longest the worker polls for requests (or reply room) before parking in Atomics.wait; the
   * window adapts below it when spinning does not pay (doorbell.ts). 0: park at once.
   */
  spinMicros?: number;
}

export const DEFAULT_REQUEST_RING_BYTES = 256 * 1024;
export const DEFAULT_REPLY_RING_BYTES = 1024 * 1024;
/**
 * Polling and spinning windows. Each side's window must outlast the other side's wake-up, or the pair
 * settles into a slow steady state: one side parks, its wake-up outlasts the other's window, so that
 * side parks too, and from then on every round trip pays two wake-ups (measured: 1.1 µs → 107 µs p50
 * with both windows at 50 µs, in periods when this shared 2-core box woke threads slowly). The worker
 * spins longer than the front's worst wake-up (waitAsync, p99 ≈ 140 µs here), so the next request of a
 * front that had parked still finds the worker spinning; the front's window then only has to cover a
 * spinning worker's turnaround, and stays short because main-thread time is what the server lacks.
 * The worker's window is a ceiling: it shrinks when spins keep running out, as they do when the
 * worker and the front share a core (BlockingSleeper in doorbell.ts).
 */
export const DEFAULT_POLL_MICROS = 50;
export const DEFAULT_SPIN_MICROS = 200;

/**
 * Receives a batch of reply frames, in order. The array and the views in it are valid only during the
 * call (the ring reuses the bytes afterwards): copy whatever must outlive it.
 */
export type ReplyHandler = (frames: readonly Uint8Array[]) => void;

export interface FrontChannelStats {
  /** Frames accepted by send(), written or queued. */
  framesSent: number;
  /** Frames waiting in the backpressure queue now, and the most there ever were. */
  framesQueued: number;
  queuePeak: number;
  replyFrames: number;
  replyBatches: number;
  /** Notifies the front issued to wake the worker. */
  workerWakeups: number;
  /** Times the front parked in Atomics.waitAsync. */
  parks: number;
}

export interface WorkerChannelStats {
  framesReceived: number;
  framesReplied: number;
  /** Times the worker parked in Atomics.wait. */
  sleeps: number;
  /** Notifies the worker issued to wake the front. */
  frontWakeups: number;
  /** The worker's spin window now, adapted between 0 and the configured spinMicros. */
  spinMicros: number;
}

export type WorkResult = 'work' | 'timeout' | 'closed';

/**
 * Runs a user callback so that a throw cannot stall the channel half-way through a pump (ring read but
 * not released, next pump not scheduled): the error is rethrown from a microtask, where Node reports it
 * as an uncaught exception like any other.
 */
function callSafely(callback: () => void): void {
  try {
    callback();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** Frames queued under backpressure are dropped from the queue by overwriting them with this. */
const WRITTEN = new Uint8Array(0);

export class FrontChannel {
  private readonly description: ChannelDescription;
  private readonly requests: RingProducer;
  private readonly replies: RingConsumer;
  private readonly control: Int32Array;
  private readonly workerBell: Doorbell;
  private readonly sleeper: AsyncSleeper;
  private readonly pollMillis: number;

  private replyHandler: ReplyHandler | null = null;
  private drainHandler: (() => void) | null = null;
  /** Copies of frames that found the ring full, oldest at `queueHead`. */
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private queuePeak = 0;
  private inBatch = false;
  /** Reused for every reply batch: the handler may not keep it (ReplyHandler). */
  private readonly batch: Uint8Array[] = [];

  /** The pump runs from the first send/onReplies/close until the worker is done. */
  private pumping = false;
  private pumpScheduled = false;
  /** Something was sent since the last pump: keep polling, a reply is on its way. */
  private sentSincePump = false;
  private lastActivity = 0;

  private closing = false;
  private closePublished = false;
  private closed: Promise<void> | null = null;
  private resolveClosed: () => void = () => {};

  private framesSent = 0;
  private replyFrames = 0;
  private replyBatches = 0;

  private constructor(description: ChannelDescription, options: FrontChannelOptions) {
    this.description = description;
    this.requests = new RingProducer(description.requests);
    this.replies = new RingConsumer(description.replies);
    this.control = new Int32Array(description.control);
    this.workerBell = new Doorbell(this.control, WORKER_BELL);
    this.sleeper = new AsyncSleeper(this.control, FRONT_BELL);
    this.pollMillis = (options.pollMicros ?? DEFAULT_POLL_MICROS) / 1000;
  }

  static create(options: FrontChannelOptions = {}): FrontChannel {
    return new FrontChannel(
      {
        requests: createRingBuffer(options.requestRingBytes ?? DEFAULT_REQUEST_RING_BYTES),
        replies: createRingBuffer(options.replyRingBytes ?? DEFAULT_REPLY_RING_BYTES),
        control: new SharedArrayBuffer(CONTROL_WORDS * 4),
      },
      options,
    );
  }

  /** For the worker: pass it in workerData and call `WorkerChannel.attach` there. */
  describe(): ChannelDescription {
    return { ...this.description };
  }

  /** The largest request frame the channel accepts. */
  get maxRequestLength(): number {
    return this.requests.maxFrameLength;
  }

  /**
   * Sets the handler of reply batches (replaces any previous one) and starts listening. Replies that
   * arrive while no handler is set are dropped, so set it before the first send.
   */
  onReplies(handler: ReplyHandler): void {
    this.replyHandler = handler;
    this.startPump();
  }

  /** Called whenever the backpressure queue has emptied into the ring. */
  onDrain(handler: () => void): void {
    this.drainHandler = handler;
  }

  /** Stage the following sends; `commit()` publishes them with one store and at most one wake-up. */
  beginBatch(): void {
    if (this.closing) throw new TransportError('ECLOSED', 'beginBatch() after close()');
    this.inBatch = true;
  }

  /** Publishes every staged frame and ends the batch. */
  commit(): void {
    this.inBatch = false;
    this.publish();
  }

  /**
   * Sends one frame (copied; the caller may reuse its buffer). Returns true when it went into the ring,
   * false when the ring was full and the frame was queued: the caller should hold further input until
   * `onDrain`. Throws 'ETOOLARGE' for a frame the ring can never hold, 'ECLOSED' after close().
   */
  send(frame: Uint8Array): boolean {
    if (this.closing) throw new TransportError('ECLOSED', 'send() after close()');
    if (frame.length > this.requests.maxFrameLength) {
      throw new TransportError('ETOOLARGE', `request of ${frame.length} bytes; this channel takes at most ${this.requests.maxFrameLength}`);
    }
    this.framesSent++;
    if (this.queueHead === this.queue.length && this.requests.tryWrite(frame)) {
      if (!this.inBatch) this.publish();
      return true;
    }
    this.queue.push(frame.slice());
    this.queuePeak = Math.max(this.queuePeak, this.queue.length - this.queueHead);
    // A failed write may have staged a padding marker, which must be published for room to come back.
    if (!this.inBatch) this.publish();
    else this.startPump();
    return false;
  }

  /**
   * Zero-copy send: a view of the request ring to encode a frame of up to `maxLength` bytes into, or null
   * when it cannot go in now (ring full, or earlier frames queued); the caller then uses `send`.
   * `finishRequest(length)` stages the frame; nothing else may be sent in between.
   */
  reserveRequest(maxLength: number): Uint8Array | null {
    if (this.closing) throw new TransportError('ECLOSED', 'reserveRequest() after close()');
    if (this.queueHead !== this.queue.length || maxLength > this.requests.maxFrameLength) return null;
    return this.requests.reserve(maxLength);
  }

  finishRequest(length: number): void {
    this.requests.finish(length);
    this.framesSent++;
    if (!this.inBatch) this.publish();
  }

  /** Frames waiting for room in the request ring. */
  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  /**
   * Stops sending. Everything sent before is still delivered to the worker and its replies to the
   * handler; the promise resolves once the worker's loop has ended and its last reply was delivered.
   */
  close(): Promise<void> {
    if (this.closed !== null) return this.closed;
    this.closing = true;
    this.closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));
    this.commit();
    this.publishCloseIfDue();
    return this.closed;
  }

  stats(): FrontChannelStats {
    return {
      framesSent: this.framesSent,
      framesQueued: this.queued,
      queuePeak: this.queuePeak,
      replyFrames: this.replyFrames,
      replyBatches: this.replyBatches,
      workerWakeups: this.workerBell.notifies,
      parks: this.sleeper.sleeps,
    };
  }

  /** Publishes staged requests, wakes the worker if it sleeps, and makes sure the front listens. */
  private publish(): void {
    if (this.requests.commit()) this.workerBell.ring(WORK);
    this.sentSincePump = true;
    if (this.sleeper.parked) {
      this.sleeper.withdraw();
      this.schedulePump();
    } else {
      this.startPump();
    }
  }

  private startPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    this.lastActivity = performance.now();
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(this.pump);
  }

  /**
   * One turn of the front's listening loop: deliver replies, move queued requests into freed room,
   * then poll again next turn or, after `pollMicros` of quiet, park until the worker rings.
   */
  private readonly pump = (): void => {
    this.pumpScheduled = false;
    let active = this.sentSincePump;
    this.sentSincePump = false;
    if (this.deliverReplies()) active = true;
    if (this.drainQueue()) active = true;
    if (this.finishIfDone()) return;
    const now = performance.now();
    if (active) this.lastActivity = now;
    if (now - this.lastActivity < this.pollMillis) {
      this.schedulePump();
      return;
    }
    // With a queue, released request room is worth waking up for too.
    const interest = this.queued > 0 ? REPLIES | REQUEST_ROOM : REPLIES;
    if (!this.sleeper.park(interest, this.hasWork, this.pump)) this.schedulePump();
  };

  /** The park's re-check: anything that would wake us, read after announcing the sleep. */
  private readonly hasWork = (): boolean =>
    this.replies.hasData() ||
    Atomics.load(this.control, WORKER_DONE) === 1 ||
    (this.queued > 0 && this.requests.refreshHead());

  /**
   * Reads every committed reply into one batch for the handler, then releases the ring in one store.
   * The batch is bounded by the ring: the worker cannot write more than the room released before this
   * call, so a fast worker cannot keep the event loop here.
   */
  private deliverReplies(): boolean {
    const frames = this.batch;
    for (let frame = this.replies.next(); frame !== null; frame = this.replies.next()) frames.push(frame);
    if (frames.length > 0) {
      this.replyFrames += frames.length;
      this.replyBatches++;
      const handler = this.replyHandler;
      if (handler !== null) callSafely(() => handler(frames));
      frames.length = 0;
    }
    // Release even when only a padding marker was read: a worker waiting for room may need exactly that.
    if (!this.replies.release()) return false;
    this.workerBell.ring(REPLY_ROOM);
    return true;
  }

  /** Moves queued frames into the ring in order, as far as room allows. */
  private drainQueue(): boolean {
    if (this.queued === 0) return false;
    const queue = this.queue;
    let head = this.queueHead;
    while (head < queue.length && this.requests.tryWrite(queue[head])) queue[head++] = WRITTEN;
    const moved = head !== this.queueHead;
    this.queueHead = head;
    if (head === queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
    if (this.requests.hasStaged && !this.inBatch) {
      this.requests.commit();
      this.workerBell.ring(WORK);
    }
    if (this.queued === 0) {
      this.publishCloseIfDue();
      const handler = this.drainHandler;
      if (moved && handler !== null) callSafely(handler);
    }
    return moved;
  }

  /** CLOSED goes out only after the last queued frame is committed, so the worker cannot finish early. */
  private publishCloseIfDue(): void {
    if (!this.closing || this.closePublished || this.queued > 0) return;
    this.closePublished = true;
    this.requests.commit();
    Atomics.store(this.control, CLOSED, 1);
    this.workerBell.ring(WORK);
  }

  private finishIfDone(): boolean {
    if (!this.closePublished || Atomics.load(this.control, WORKER_DONE) !== 1) return false;
    // The worker committed its last replies before storing DONE, so they are all visible now.
    this.deliverReplies();
    this.resolveClosed();
    return true;
  }
}

export class WorkerChannel {
  private readonly requests: RingConsumer;
  private readonly replies: RingProducer;
  private readonly control: Int32Array;
  private readonly frontBell: Doorbell;
  private readonly sleeper: BlockingSleeper;
  private done = false;
  private framesReceived = 0;
  private framesReplied = 0;

  private constructor(description: ChannelDescription, sleeper: BlockingSleeper, control: Int32Array) {
    this.requests = new RingConsumer(description.requests);
    this.replies = new RingProducer(description.replies);
    this.control = control;
    this.frontBell = new Doorbell(control, FRONT_BELL);
    this.sleeper = sleeper;
  }

  /**
   * The worker end of a channel the front created. Throws 'ESTATE' on the main thread (the worker end
   * blocks) and when the description was attached before (a ring has exactly one consumer).
   */
  static attach(description: ChannelDescription, options: WorkerChannelOptions = {}): WorkerChannel {
    const control = new Int32Array(description.control);
    // Built first: it refuses the main thread before the description is marked as taken.
    const sleeper = new BlockingSleeper(control, WORKER_BELL, options.spinMicros ?? DEFAULT_SPIN_MICROS);
    if (Atomics.compareExchange(control, ATTACHED, 0, 1) !== 0) {
      throw new TransportError('ESTATE', 'this channel already has a worker end');
    }
    return new WorkerChannel(description, sleeper, control);
  }

  /** The largest reply frame the channel accepts. */
  get maxReplyLength(): number {
    return this.replies.maxFrameLength;
  }

  /**
   * Publishes pending replies, then returns 'work' when requests are waiting, sleeping first if there
   * are none; 'timeout' after `timeoutMs` without any; 'closed', once and for all, when the front has
   * closed and every request was received.
   */
  waitForWork(timeoutMs: number): WorkResult {
    this.flush();
    if (this.done) return 'closed';
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.requests.hasData()) return 'work';
      if (Atomics.load(this.control, CLOSED) === 1) {
        // CLOSED was stored after the last commit: with it seen, one more look at the ring is final.
        if (this.requests.hasData()) return 'work';
        this.finish();
        return 'closed';
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) return 'timeout';
      this.sleeper.sleepUnless(WORK, this.workOrClose, remaining);
    }
  }

  /** The next request as a view into the ring (valid until flush/waitForWork), or null when none is left. */
  receive(): Uint8Array | null {
    const frame = this.requests.next();
    if (frame !== null) this.framesReceived++;
    return frame;
  }

  /** Stages a copy of `frame` as the next reply; blocks while the reply ring is full. */
  reply(frame: Uint8Array): void {
    while (!this.replies.tryWrite(frame)) this.awaitReplyRoom();
    this.framesReplied++;
  }

  /**
   * A view of `maxLength` bytes in the reply ring to encode the next reply into (blocks while the ring
   * is full); `finishReply(length)` stages it. Nothing else may be written in between.
   */
  reserveReply(maxLength: number): Uint8Array {
    for (;;) {
      const view = this.replies.reserve(maxLength);
      if (view !== null) return view;
      this.awaitReplyRoom();
    }
  }

  finishReply(length: number): void {
    this.replies.finish(length);
    this.framesReplied++;
  }

  /** Publishes staged replies and gives the room of every received request back to the front. */
  flush(): void {
    this.publishReplies();
    if (this.requests.release()) this.frontBell.ring(REQUEST_ROOM);
  }

  stats(): WorkerChannelStats {
    return {
      framesReceived: this.framesReceived,
      framesReplied: this.framesReplied,
      sleeps: this.sleeper.sleeps,
      frontWakeups: this.frontBell.notifies,
      spinMicros: this.sleeper.spinMicros,
    };
  }

  private publishReplies(): void {
    if (this.replies.commit()) this.frontBell.ring(REPLIES);
  }

  /** The reply ring is full: let the front see what is staged, and sleep until it releases room. */
  private awaitReplyRoom(): void {
    this.publishReplies();
    this.sleeper.sleepUnless(REPLY_ROOM, this.replyRoomReleased, Infinity);
  }

  private finish(): void {
    this.flush();
    this.done = true;
    Atomics.store(this.control, WORKER_DONE, 1);
    this.frontBell.ring(REPLIES);
  }

  private readonly workOrClose = (): boolean => this.requests.hasData() || Atomics.load(this.control, CLOSED) === 1;
  private readonly replyRoomReleased = (): boolean => this.replies.refreshHead();
}
