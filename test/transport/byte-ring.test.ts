/**
 * The ring on one thread: framing, wrap-around by padding, batch publication, backpressure and the
 * too-large error. Cross-thread behaviour is in channel.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  RING_HEADER_BYTES,
  RingConsumer,
  RingProducer,
  createRingBuffer,
  frameBytes,
  maxFrameLength,
} from '../../src/transport/byte-ring.js';
import { transportErrorCode } from './harness.js';
import { Random } from '../helpers/random.js';

function ring(capacity: number): { producer: RingProducer; consumer: RingConsumer; buffer: SharedArrayBuffer } {
  const buffer = createRingBuffer(capacity);
  return { producer: new RingProducer(buffer), consumer: new RingConsumer(buffer), buffer };
}

function frame(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seed * 31 + i * 7) & 255;
  return bytes;
}

function isFrame(bytes: Uint8Array, seed: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== ((seed * 31 + i * 7) & 255)) return false;
  return true;
}

function drain(consumer: RingConsumer): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let f = consumer.next(); f !== null; f = consumer.next()) frames.push(f.slice());
  return frames;
}


describe('byte ring', () => {
  it('refuses capacities that are not powers of two in range', () => {
    expect(transportErrorCode(() => createRingBuffer(1000))).toBe('EINVALID');
    expect(transportErrorCode(() => createRingBuffer(32))).toBe('EINVALID');
    expect(createRingBuffer(64).byteLength).toBe(RING_HEADER_BYTES + 64);
  });

  it('keeps frames in order, including empty ones, and shows nothing before commit', () => {
    const { producer, consumer } = ring(1024);
    const sent = [frame(0, 1), frame(1, 2), frame(5, 3), frame(100, 4)];
    for (const f of sent) expect(producer.tryWrite(f)).toBe(true);
    expect(consumer.next()).toBeNull();
    expect(consumer.hasData()).toBe(false);
    expect(producer.commit()).toBe(true);
    expect(producer.commit()).toBe(false);
    expect(drain(consumer)).toEqual(sent);
  });

  it('reads are views into the ring, valid until release', () => {
    const { producer, consumer, buffer } = ring(256);
    producer.tryWrite(frame(8, 9));
    producer.commit();
    const view = consumer.next()!;
    expect(view.buffer).toBe(buffer);
    expect(view).toEqual(frame(8, 9));
  });

  it('reports a full ring without overwriting, and takes more after release', () => {
    const { producer, consumer } = ring(256);
    let written = 0;
    while (producer.tryWrite(frame(28, written))) written++;
    // 28-byte payloads take 32 bytes each: exactly 8 fit in 256.
    expect(written).toBe(256 / frameBytes(28));
    producer.commit();
    expect(producer.tryWrite(frame(28, 99))).toBe(false);
    expect(producer.reserve(28)).toBeNull();
    // Reading alone frees nothing: the bytes stay pinned until release.
    const first = consumer.next()!;
    expect(producer.tryWrite(frame(28, 99))).toBe(false);
    expect(first).toEqual(frame(28, 0));
    expect(consumer.release()).toBe(true);
    expect(producer.tryWrite(frame(28, 99))).toBe(true);
    producer.commit();
    const rest = drain(consumer);
    expect(rest).toEqual([...Array.from({ length: written - 1 }, (_, i) => frame(28, i + 1)), frame(28, 99)]);
  });

  it('pads to the end instead of splitting a frame, and the consumer skips the padding', () => {
    const { producer, consumer } = ring(256);
    // Advance to position 200, then free everything so only the end-of-area layout matters.
    producer.tryWrite(frame(196, 1));
    producer.commit();
    drain(consumer);
    consumer.release();
    // 56 bytes remain before the end; a 60-byte payload needs 64: padding, then position 0.
    expect(producer.tryWrite(frame(60, 2))).toBe(true);
    producer.commit();
    const [wrapped] = drain(consumer);
    expect(wrapped).toEqual(frame(60, 2));
    consumer.release();
  });

  it('takes a frame of the full capacity once the ring is empty, whatever the position', () => {
    const { producer, consumer } = ring(256);
    const largest = maxFrameLength(256);
    producer.tryWrite(frame(10, 1));
    producer.commit();
    expect(producer.tryWrite(frame(largest, 2))).toBe(false);
    drain(consumer);
    consumer.release();
    // Still false: the write position is mid-area; this attempt stages padding to the end.
    expect(producer.tryWrite(frame(largest, 2))).toBe(false);
    producer.commit();
    expect(drain(consumer)).toEqual([]);
    consumer.release();
    expect(producer.tryWrite(frame(largest, 2))).toBe(true);
    producer.commit();
    expect(drain(consumer)).toEqual([frame(largest, 2)]);
  });

  it('refuses a frame larger than the ring with ETOOLARGE and stays usable', () => {
    const { producer, consumer } = ring(256);
    expect(transportErrorCode(() => producer.tryWrite(new Uint8Array(253)))).toBe('ETOOLARGE');
    expect(transportErrorCode(() => producer.reserve(1 << 20))).toBe('ETOOLARGE');
    expect(producer.tryWrite(frame(3, 3))).toBe(true);
    producer.commit();
    expect(drain(consumer)).toEqual([frame(3, 3)]);
  });

  it('reserve/finish writes in place, with a final length up to the reservation', () => {
    const { producer, consumer } = ring(1024);
    const view = producer.reserve(64)!;
    view.set(frame(20, 5));
    producer.finish(20);
    expect(transportErrorCode(() => producer.finish(1))).toBe('ESTATE');
    const next = producer.reserve(8)!;
    expect(transportErrorCode(() => producer.finish(9))).toBe('EINVALID');
    next.set(frame(8, 6));
    producer.finish(8);
    // An abandoned reservation leaves no trace.
    producer.reserve(100);
    producer.tryWrite(frame(4, 7));
    producer.commit();
    expect(drain(consumer)).toEqual([frame(20, 5), frame(8, 6), frame(4, 7)]);
  });

  it('survives Int32 overflow of its counters over many laps of random frames', () => {
    const capacity = 4096;
    const buffer = createRingBuffer(capacity);
    // Start both counters just below the Int32 overflow, as if the ring had run for a long time.
    const words = new Int32Array(buffer);
    const start = 0x7fffff00 | 0;
    words[0] = start;
    words[16] = start;
    const producer = new RingProducer(buffer);
    const consumer = new RingConsumer(buffer);
    const random = new Random(7);
    let sentSeq = 0;
    let readSeq = 0;
    let mismatches = 0;
    for (let round = 0; round < 3000; round++) {
      const toWrite = random.int(0, 20);
      for (let i = 0; i < toWrite; i++) {
        const length = random.next() < 0.05 ? random.int(500, maxFrameLength(capacity)) : random.int(0, 120);
        if (!producer.tryWrite(frame(length, sentSeq))) break;
        sentSeq++;
      }
      producer.commit();
      const toRead = random.int(0, 25);
      for (let i = 0; i < toRead; i++) {
        const f = consumer.next();
        if (f === null) break;
        if (!isFrame(f, readSeq)) mismatches++;
        readSeq++;
      }
      consumer.release();
    }
    for (let f = consumer.next(); f !== null; f = consumer.next()) readSeq++;
    expect(readSeq).toBe(sentSeq);
    expect(mismatches).toBe(0);
    // The counters crossed 2^31 (negative in Int32) and the ring kept working.
    expect(Atomics.load(words, 16)).toBeLessThan(0);
    expect(sentSeq).toBeGreaterThan(10_000);
  });
});
