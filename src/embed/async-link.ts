/**
 * One end of a duplex link between two threads that both run an event loop (an attached thread and the
 * pool's owner): two byte rings (transport/byte-ring.ts), one each way, and a control block of bells
 * and flags. Neither end ever blocks: each parks on its bell with Atomics.waitAsync, and a full ring
 * queues in memory until the other end releases room.
 *
 * Messages may be longer than a ring frame: each frame's first byte says whether more of the message
 * follows, and the receiver joins the frames. Messages sent in one synchronous run are committed
 * together (one tail store and one wake-up of the other end), as the front batches its shard sends.
 *
 * Control words (Int32, one per 64-byte line), each end using its own pair by `side`:
 *   BELL[side]    rung (incremented, notified) by the other end: frames committed, room released, or closed
 *   WAITING[side] set by this end while it holds queued frames: the other end rings after releasing room
 *   CLOSED[side]  set when this end has closed; the other end stops once it sees it
 * A flag is stored before the bell rings, and the sleeper loads its bell before looking at rings and
 * flags, so a change made after that load moves the bell and waitAsync returns at once.
 *
 * A pending waitAsync does not keep Node alive: an end with messages in flight holds a timer that does
 * (`keepAlive`), so an attached thread does not exit with requests unanswered.
 */
import { RingConsumer, RingProducer, createRingBuffer } from '../transport/byte-ring.js';

const LINE = 16;
const BELL = [0 * LINE, 1 * LINE];
const WAITING = [2 * LINE, 3 * LINE];
const CLOSED = [4 * LINE, 5 * LINE];
const CONTROL_WORDS = 6 * LINE;
const RING_BYTES = 1 << 20;
/** A long message goes in frames of a quarter ring, so one end writes while the other reads. */
const MAX_CHUNK = RING_BYTES / 4;
const MORE = 1;
const LAST = 0;

/** The shared buffers of a link; side 0 sends on `rings[0]`, side 1 on `rings[1]`. */
export interface LinkBuffers {
  control: SharedArrayBuffer;
  rings: [SharedArrayBuffer, SharedArrayBuffer];
}

export function createLinkBuffers(): LinkBuffers {
  return { control: new SharedArrayBuffer(CONTROL_WORDS * 4), rings: [createRingBuffer(RING_BYTES), createRingBuffer(RING_BYTES)] };
}

export class AsyncLink {
  private readonly control: Int32Array;
  private readonly producer: RingProducer;
  private readonly consumer: RingConsumer;
  private readonly queued: Uint8Array[] = [];
  private commitScheduled = false;
  private parts: Buffer[] = [];
  private stopped = false;
  private keepAliveTimer: NodeJS.Timeout | undefined;

  /**
   * @param onMessage one whole message, a view valid during the call only
   * @param onClosed the other end closed (called once, after its last messages)
   */
  constructor(
    buffers: LinkBuffers,
    private readonly side: 0 | 1,
    private readonly onMessage: (message: Uint8Array) => void,
    private readonly onClosed: () => void,
  ) {
    this.control = new Int32Array(buffers.control);
    this.producer = new RingProducer(buffers.rings[side]);
    this.consumer = new RingConsumer(buffers.rings[1 - side]);
    this.wake();
  }

  /** Sends one message (copied); committed with the others of this synchronous run. */
  send(message: Uint8Array): void {
    if (this.stopped) return;
    for (let start = 0; start < message.length || start === 0; start += MAX_CHUNK) {
      const end = Math.min(message.length, start + MAX_CHUNK);
      this.sendFrame(message, start, end, end < message.length ? MORE : LAST);
      if (end === message.length) break;
    }
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      queueMicrotask(this.commit);
    }
  }

  /** Keeps the thread alive (or lets it exit) while this end waits for answers. */
  keepAlive(on: boolean): void {
    if (on && this.keepAliveTimer === undefined) this.keepAliveTimer = setInterval(noop, 1 << 30);
    else if (!on && this.keepAliveTimer !== undefined) {
      clearInterval(this.keepAliveTimer);
      this.keepAliveTimer = undefined;
    }
  }

  /** Closes this end: the other end hears of it; nothing more is sent or delivered here. */
  close(): void {
    if (this.stopped) return;
    this.commit();
    this.stopped = true;
    this.keepAlive(false);
    Atomics.store(this.control, CLOSED[this.side], 1);
    this.ring(1 - this.side);
  }

  private sendFrame(message: Uint8Array, start: number, end: number, flag: number): void {
    if (this.queued.length === 0) {
      const frame = this.producer.reserve(end - start + 1);
      if (frame !== null) {
        frame[0] = flag;
        frame.set(message.subarray(start, end), 1);
        this.producer.finish(end - start + 1);
        return;
      }
    }
    const copy = new Uint8Array(end - start + 1);
    copy[0] = flag;
    copy.set(message.subarray(start, end), 1);
    this.queued.push(copy);
    Atomics.store(this.control, WAITING[this.side], 1);
  }

  private readonly commit = (): void => {
    this.commitScheduled = false;
    // WAITING was stored before this retry: either it finds the room the other end released, or that
    // end's release comes later, sees WAITING and rings.
    if (this.queued.length !== 0) this.retryQueued();
    if (this.producer.commit()) this.ring(1 - this.side);
  };

  private ring(side: number): void {
    Atomics.add(this.control, BELL[side], 1);
    Atomics.notify(this.control, BELL[side]);
  }

  /** Reads what came, retries what is queued, and parks until the bell rings again. */
  private readonly wake = (): void => {
    if (this.stopped) return;
    const seen = Atomics.load(this.control, BELL[this.side]);
    this.receive();
    if (this.queued.length !== 0) this.commit();
    if (this.stopped) return;
    if (Atomics.load(this.control, CLOSED[1 - this.side]) === 1) {
      this.receive();
      this.stopped = true;
      this.keepAlive(false);
      return this.onClosed();
    }
    const wait = Atomics.waitAsync(this.control, BELL[this.side], seen);
    if (wait.async) void wait.value.then(this.wake);
    else setImmediate(this.wake);
  };

  private receive(): void {
    const consumer = this.consumer;
    let read = false;
    for (let frame = consumer.next(); frame !== null; frame = consumer.next()) {
      read = true;
      const body = frame.subarray(1);
      if (frame[0] === MORE) this.parts.push(Buffer.from(body));
      else if (this.parts.length === 0) this.onMessage(body);
      else {
        this.parts.push(Buffer.from(body));
        const whole = Buffer.concat(this.parts);
        this.parts = [];
        this.onMessage(whole);
      }
      if (this.stopped) break;
    }
    if (!read) return;
    consumer.release();
    if (Atomics.load(this.control, WAITING[1 - this.side]) === 1) this.ring(1 - this.side);
  }

  private retryQueued(): void {
    const queued = this.queued;
    let sent = 0;
    while (sent < queued.length && this.producer.tryWrite(queued[sent])) sent++;
    queued.splice(0, sent);
    if (queued.length === 0) Atomics.store(this.control, WAITING[this.side], 0);
  }
}

function noop(): void {}
