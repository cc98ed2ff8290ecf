/**
 * A single-producer, single-consumer ring of variable-length byte frames over one SharedArrayBuffer: the
 * road every command and every reply takes between the front (main thread) and a shard worker.
 *
 * Layout of the buffer:
 *
 *   bytes 0..63     head   (Int32 word 0):  consumer's published read counter
 *   bytes 64..127   tail   (Int32 word 16): producer's published write counter
 *   bytes 128..     data   `capacity` bytes, a power of two
 *
 * Head and tail sit on separate 64-byte cache lines: each is written by one thread and read by the
 * other, and sharing a line would make every write on one side evict the line the other side polls.
 *
 * Counters run free (they are never reduced modulo the capacity) and wrap at 2^32 in Int32 arithmetic;
 * a counter's position in the data area is `counter & (capacity - 1)`. Because the capacity is at most
 * 2^30, the Int32 difference `(tail - head) | 0` is always the exact number of bytes in use, so "full"
 * and "empty" need no spare slot or flag to tell them apart.
 *
 * A frame is a 4-byte Int32 length, the payload, and 0..3 bytes of alignment so the next header is
 * word-aligned (headers are read and written as Int32Array elements, not byte by byte). A frame is never
 * split across the end of the data area: when the next frame does not fit in the bytes left before the
 * end, the producer writes a padding marker (length −1) there and the frame starts at position 0; the
 * consumer skips a padding marker to the end. Because capacity and frame sizes are multiples of 4, the
 * bytes left before the end are 0 or at least 4, so a padding marker always fits. Padding, rather than
 * splitting a frame in two, is what lets every read be one contiguous view with no copy; it wastes less
 * than one frame per lap. A frame may take the whole data area (maxFrameLength = capacity − 4).
 *
 * Invariants (counters compared in Int32 modular arithmetic, i.e. by their differences):
 *   producer.headSeen <= head <= consumer.read <= consumer.tailSeen <= tail <= producer.write
 *   producer.write - producer.headSeen <= capacity        (so no byte is written before it is released)
 *   frameBytes(length) = (4 + length + 3) & ~3,  position + frameBytes(length) <= capacity  (no frame wraps)
 * Between head and consumer.read lie frames read but not released (their views are still valid);
 * between tail and producer.write, frames staged but not committed (invisible to the consumer).
 *
 * Batch publication: the producer stages any number of frames, then `commit()` publishes them all with
 * one Atomics.store of the tail; the consumer reads any number, then `release()` publishes the head once.
 * Atomics.store and Atomics.load are sequentially consistent, so the plain writes of frame bytes made
 * before a commit happen-before the consumer's reads of them after it loads that tail (release/acquire),
 * and likewise for the bytes the consumer has finished with before a release.
 *
 * Each side keeps a private copy of the other side's counter and reloads it only when its copy says it
 * must (the producer when the ring looks full, the consumer when it has read everything it knew of), so
 * the cache line the other side writes is touched once per batch, not once per frame.
 *
 * What it never does: block, allocate per written frame, or let a full ring overwrite; a full ring is
 * reported (`reserve` returns null, `tryWrite` returns false) so the caller can queue and retry, and a
 * frame that could never fit is refused with a TransportError 'ETOOLARGE'.
 */
import { TransportError } from './errors.js';

const HEAD_WORD = 0;
const TAIL_WORD = 16;
/** Where the data area starts: two 64-byte cache lines of counters. */
export const RING_HEADER_BYTES = 128;
const FRAME_HEADER_BYTES = 4;
/** A frame header with this length means "nothing more before the end: continue at position 0". */
const PADDING = -1;

export const MIN_RING_CAPACITY = 64;
/** The largest capacity for which `(tail - head) | 0` stays exact in Int32 arithmetic (see header). */
export const MAX_RING_CAPACITY = 1 << 30;

/** Bytes a frame of `length` payload bytes occupies in the data area: header plus payload, word-aligned. */
export function frameBytes(length: number): number {
  return (FRAME_HEADER_BYTES + length + 3) & ~3;
}

/**
 * The largest payload a ring of `capacity` bytes accepts. A frame that large needs the whole data area,
 * which it gets once the ring is empty and the write position is back at 0: the producer's failed
 * attempt stages a padding marker to the end, and after that is committed and consumed, it fits.
 */
export function maxFrameLength(capacity: number): number {
  return capacity - FRAME_HEADER_BYTES;
}

/**
 * A new ring buffer of `capacity` data bytes (a power of two). It is a plain, fixed-size
 * SharedArrayBuffer: views over it never track a length, so they take V8's fast element path.
 */
export function createRingBuffer(capacity: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < MIN_RING_CAPACITY || capacity > MAX_RING_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw new TransportError('EINVALID', `ring capacity must be a power of two in [${MIN_RING_CAPACITY}, 2^30], got ${capacity}`);
  }
  return new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
}

function capacityOf(buffer: SharedArrayBuffer): number {
  const capacity = buffer.byteLength - RING_HEADER_BYTES;
  if (capacity < MIN_RING_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw new TransportError('EINVALID', `not a ring buffer: ${buffer.byteLength} bytes`);
  }
  return capacity;
}

/** The writing end. Exactly one thread may hold a producer for a given buffer. */
export class RingProducer {
  readonly capacity: number;
  readonly maxFrameLength: number;
  private readonly mask: number;
  private readonly bytes: Uint8Array;
  private readonly words: Int32Array;
  /** Write counter: everything staged, committed or not. */
  private write: number;
  /** The tail last published with Atomics.store. */
  private published: number;
  /** The consumer's head as last loaded; the real head is at or past it. */
  private headSeen: number;
  /** Byte offset (in `bytes`) of the reserved frame's header, or −1 when nothing is reserved. */
  private reservedAt = -1;
  private reservedLength = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.capacity = capacityOf(buffer);
    this.maxFrameLength = maxFrameLength(this.capacity);
    this.mask = this.capacity - 1;
    this.bytes = new Uint8Array(buffer);
    this.words = new Int32Array(buffer);
    this.write = this.published = Atomics.load(this.words, TAIL_WORD);
    this.headSeen = Atomics.load(this.words, HEAD_WORD);
  }

  /**
   * Copies `frame` in as the next staged frame. Returns false, staging nothing but perhaps a padding
   * marker, when the ring has no room for it now; throws 'ETOOLARGE' when it never could have.
   */
  tryWrite(frame: Uint8Array): boolean {
    const length = frame.length;
    const at = this.claim(length);
    if (at < 0) return false;
    this.bytes.set(frame, at + FRAME_HEADER_BYTES);
    this.words[at >> 2] = length;
    this.write = (this.write + frameBytes(length)) | 0;
    return true;
  }

  /**
   * Reserves room for a frame of up to `maxLength` bytes and returns a view to write the payload into
   * (zero-copy: the caller encodes straight into shared memory), or null when the ring is full now.
   * `finish(length)` then stages the frame with its real length; a reservation that is not finished is
   * abandoned by the next `reserve` or `tryWrite`.
   */
  reserve(maxLength: number): Uint8Array | null {
    const at = this.claim(maxLength);
    if (at < 0) return null;
    this.reservedAt = at;
    this.reservedLength = maxLength;
    return this.bytes.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + maxLength);
  }

  /** Stages the reserved frame with `length` (at most what was reserved) payload bytes. */
  finish(length: number): void {
    const at = this.reservedAt;
    if (at < 0) throw new TransportError('ESTATE', 'finish() without a reservation');
    if (!(length >= 0 && length <= this.reservedLength)) {
      throw new TransportError('EINVALID', `finish(${length}) outside the reserved 0..${this.reservedLength} bytes`);
    }
    this.words[at >> 2] = length;
    this.write = (this.write + frameBytes(length)) | 0;
    this.reservedAt = -1;
  }

  /** Publishes every staged frame with one store of the tail. Returns whether there was anything new. */
  commit(): boolean {
    if (this.write === this.published) return false;
    this.published = this.write;
    Atomics.store(this.words, TAIL_WORD, this.write);
    return true;
  }

  /** Frames staged but not yet committed? */
  get hasStaged(): boolean {
    return this.write !== this.published;
  }

  /** Reloads the consumer's head; true when it has moved since last seen, i.e. room was released. */
  refreshHead(): boolean {
    const head = Atomics.load(this.words, HEAD_WORD);
    if (head === this.headSeen) return false;
    this.headSeen = head;
    return true;
  }

  /**
   * Finds room for a frame of `length` payload bytes at the write counter and returns the byte offset
   * of its header in `bytes`, or −1 when the ring is full for now. May stage a padding marker first
   * (and keep it staged even when the frame then does not fit: it is a valid frame for the consumer to
   * skip, and committing it is what lets a frame near the full capacity fit after the consumer drains).
   */
  private claim(length: number): number {
    this.reservedAt = -1;
    const need = frameBytes(length);
    if (length > this.maxFrameLength || !(length >= 0)) {
      throw new TransportError('ETOOLARGE', `frame of ${length} bytes does not fit a ring of ${this.capacity} (at most ${this.maxFrameLength})`);
    }
    let position = this.write & this.mask;
    const untilEnd = this.capacity - position;
    if (need > untilEnd) {
      if (!this.hasRoom(untilEnd)) return -1;
      this.words[(RING_HEADER_BYTES + position) >> 2] = PADDING;
      this.write = (this.write + untilEnd) | 0;
      position = 0;
    }
    if (!this.hasRoom(need)) return -1;
    return RING_HEADER_BYTES + position;
  }

  /** Room for `bytes` more at the write counter? Reloads the head only when the cached one says no. */
  private hasRoom(bytes: number): boolean {
    if (((this.write - this.headSeen) | 0) + bytes <= this.capacity) return true;
    this.headSeen = Atomics.load(this.words, HEAD_WORD);
    return ((this.write - this.headSeen) | 0) + bytes <= this.capacity;
  }
}

/** The reading end. Exactly one thread may hold a consumer for a given buffer. */
export class RingConsumer {
  readonly capacity: number;
  private readonly mask: number;
  private readonly bytes: Uint8Array;
  private readonly words: Int32Array;
  /** Read counter: the next frame to read. */
  private read: number;
  /** The head last published with Atomics.store; frames between it and `read` are still pinned. */
  private released: number;
  /** The producer's tail as last loaded; everything before it is readable. */
  private tailSeen: number;

  constructor(buffer: SharedArrayBuffer) {
    this.capacity = capacityOf(buffer);
    this.mask = this.capacity - 1;
    this.bytes = new Uint8Array(buffer);
    this.words = new Int32Array(buffer);
    this.read = this.released = Atomics.load(this.words, HEAD_WORD);
    this.tailSeen = Atomics.load(this.words, TAIL_WORD);
  }

  /**
   * The next committed frame as a view into the ring (no copy), or null when there is none. The view
   * stays valid until `release()`: until then the producer cannot reuse those bytes.
   */
  next(): Uint8Array | null {
    for (;;) {
      if (this.read === this.tailSeen) {
        // Everything known is read: one acquire-load of the tail learns of the producer's new batch.
        this.tailSeen = Atomics.load(this.words, TAIL_WORD);
        if (this.read === this.tailSeen) return null;
      }
      const position = this.read & this.mask;
      const at = RING_HEADER_BYTES + position;
      const length = this.words[at >> 2];
      if (length === PADDING) {
        this.read = (this.read + this.capacity - position) | 0;
        continue;
      }
      this.read = (this.read + frameBytes(length)) | 0;
      return this.bytes.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
    }
  }

  /** Committed frames not yet read? Reloads the tail when the cached one says no. */
  hasData(): boolean {
    if (this.read !== this.tailSeen) return true;
    this.tailSeen = Atomics.load(this.words, TAIL_WORD);
    return this.read !== this.tailSeen;
  }

  /**
   * Gives every frame read so far back to the producer with one store of the head; the views `next()`
   * returned become invalid. Returns whether anything was released.
   */
  release(): boolean {
    if (this.read === this.released) return false;
    this.released = this.read;
    Atomics.store(this.words, HEAD_WORD, this.read);
    return true;
  }
}
