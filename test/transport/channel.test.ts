/**
 * The channel with a real worker thread: integrity and order of millions of frames across wrap-around,
 * backpressure on both rings, frames too large for a ring, periodic work, and clean shutdown. The main
 * thread's Atomics.wait is trapped for the whole file: the front must never reach it.
 */
import { describe, expect, it } from 'vitest';
import { FrontChannel, WorkerChannel } from '../../src/transport/channel.js';
import { Random } from '../helpers/random.js';
import { checksumHolds, seqOf, sizeFor, writeChecked } from './frames.js';
import { closeSession, sleep, startSession, guardMainThreadNeverWaits, transportErrorCode, within } from './harness.js';

guardMainThreadNeverWaits();


describe('channel between the front and a worker thread', () => {
  it('carries 2,000,000 random-size frames each way in order and intact, across thousands of wrap-arounds', async () => {
    const total = 2_000_000;
    const ringBytes = 1 << 16;
    const session = startSession(
      { requestRingBytes: ringBytes, replyRingBytes: ringBytes },
      // Replies are encoded in place in the ring (reserveReply); 1 in 1000 is up to 30 KB, half the ring.
      { mode: 'integrity', spinMicros: 50, replySpread: 100, replyLarge: 30_000 },
    );
    const { channel } = session;
    const errors: string[] = [];
    let received = 0;
    const allReplies = new Promise<void>((resolve) => {
      channel.onReplies((frames) => {
        for (const frame of frames) {
          if (!checksumHolds(frame)) errors.push(`reply ${received}: bad checksum (length ${frame.length})`);
          else if (seqOf(frame) !== received) errors.push(`reply ${received}: carries seq ${seqOf(frame)}`);
          received++;
        }
        if (received === total) resolve();
      });
    });

    // Feed from the event loop in batches of 1..256 per turn, as the front will; up to 8192 frames in
    // flight, far more than the ring holds, so the backpressure queue is in play throughout.
    const scratch = new Uint8Array(channel.maxRequestLength);
    const random = new Random(1);
    let sent = 0;
    let queuedSends = 0;
    await new Promise<void>((resolve) => {
      const feed = (): void => {
        channel.beginBatch();
        for (let n = random.int(1, 256); n > 0 && sent < total && sent - received < 8192; n--) {
          if (!channel.send(writeChecked(scratch, sent, sizeFor(sent, 0xabc, 110, 30_000)))) queuedSends++;
          sent++;
        }
        channel.commit();
        if (sent < total) setImmediate(feed);
        else resolve();
      };
      feed();
    });
    await within(allReplies, 30_000, 'replies');
    const { summary, exitCode } = await closeSession(session);

    expect(errors.slice(0, 10)).toEqual([]);
    expect(summary.errors).toEqual([]);
    expect(summary.received).toBe(total);
    expect(received).toBe(total);
    expect(queuedSends).toBeGreaterThan(0);
    // Batching: far fewer reply batches (and wake-ups) than frames.
    const stats = channel.stats();
    expect(stats.replyBatches).toBeLessThan(total / 4);
    expect(stats.workerWakeups).toBeLessThan(total / 100);
    expect(exitCode).toBe(0);
  });

  it('queues sends when the request ring is full, drains them in order, and loses nothing', async () => {
    const total = 20_000;
    // The worker starts late, so the 4 KiB ring fills and nearly everything waits in the queue.
    const session = startSession({ requestRingBytes: 4096 }, { mode: 'echo', startDelayMillis: 100 });
    const { channel } = session;
    let drains = 0;
    channel.onDrain(() => drains++);
    let received = 0;
    let outOfOrder = 0;
    const all = new Promise<void>((resolve) => {
      channel.onReplies((frames) => {
        for (const frame of frames) {
          if (!checksumHolds(frame) || seqOf(frame) !== received) outOfOrder++;
          received++;
        }
        if (received === total) resolve();
      });
    });
    const scratch = new Uint8Array(128);
    let refused = 0;
    for (let seq = 0; seq < total; seq++) {
      if (!channel.send(writeChecked(scratch, seq, sizeFor(seq, 3, 92, 100)))) refused++;
    }
    expect(refused).toBeGreaterThan(total * 0.9);
    expect(channel.queued).toBe(refused);
    await within(all, 10_000, 'echoes');
    expect(outOfOrder).toBe(0);
    expect(channel.queued).toBe(0);
    expect(drains).toBeGreaterThanOrEqual(1);
    expect(channel.stats().queuePeak).toBe(refused);
    const { summary, exitCode } = await closeSession(session);
    expect(summary.received).toBe(total);
    expect(exitCode).toBe(0);
  });

  it('wakes a parked front with a queue when the worker frees request room, with no reply to wake it', async () => {
    const total = 30_000;
    const session = startSession({ requestRingBytes: 1024, pollMicros: 0 }, { mode: 'sink', startDelayMillis: 20 });
    const { channel } = session;
    const drained = new Promise<void>((resolve) => channel.onDrain(resolve));
    const scratch = new Uint8Array(128);
    for (let seq = 0; seq < total; seq++) channel.send(writeChecked(scratch, seq, sizeFor(seq, 5, 60, 100)));
    expect(channel.queued).toBeGreaterThan(total * 0.9);
    await within(drained, 10_000, 'queue drain');
    // The front parked with a queue many times, and only the worker's REQUEST_ROOM rings woke it.
    expect(channel.stats().parks).toBeGreaterThan(10);
    const { summary, exitCode } = await closeSession(session);
    expect(summary.errors).toEqual([]);
    expect(summary.received).toBe(total);
    expect(summary.stats.frontWakeups).toBeGreaterThan(10);
    expect(exitCode).toBe(0);
  });

  it('blocks the worker on a full reply ring until the front drains it, and loses nothing', async () => {
    const requests = 2_000;
    const fanout = 50;
    const session = startSession({ replyRingBytes: 1024, pollMicros: 0 }, { mode: 'fanout', fanout });
    const { channel } = session;
    let received = 0;
    let bad = 0;
    const all = new Promise<void>((resolve) => {
      channel.onReplies((frames) => {
        for (const frame of frames) {
          if (!checksumHolds(frame) || seqOf(frame) !== received) bad++;
          received++;
        }
        if (received === requests * fanout) resolve();
      });
    });
    channel.beginBatch();
    for (let i = 0; i < requests; i++) channel.send(new Uint8Array([i & 255]));
    channel.commit();
    await within(all, 10_000, 'fanned-out replies');
    expect(bad).toBe(0);
    const { summary, exitCode } = await closeSession(session);
    expect(summary.replied).toBe(requests * fanout);
    // A 1 KiB ring holds about 10 replies: the worker must have slept waiting for room many times.
    expect(summary.stats.sleeps).toBeGreaterThan(100);
    expect(exitCode).toBe(0);
  });

  it('refuses frames larger than a ring with ETOOLARGE on both sides, and carries the largest that fits', async () => {
    const session = startSession({ requestRingBytes: 1024, replyRingBytes: 4096 }, { mode: 'echo' });
    const { channel } = session;
    const replies: Uint8Array[] = [];
    channel.onReplies((frames) => replies.push(...frames.map((frame) => frame.slice())));
    expect(transportErrorCode(() => channel.send(new Uint8Array(1021)))).toBe('ETOOLARGE');
    expect(transportErrorCode(() => channel.send(new Uint8Array(1 << 20)))).toBe('ETOOLARGE');
    const largest = new Uint8Array(channel.maxRequestLength).fill(7);
    expect(largest.length).toBe(1020);
    channel.send(new Uint8Array([1, 2, 3]));
    channel.send(largest);
    await within(
      (async () => {
        while (replies.length < 2) await sleep(1);
      })(),
      5_000,
      'echo of the largest frame',
    );
    expect(replies[0]).toEqual(new Uint8Array([1, 2, 3]));
    expect(replies[1]).toEqual(largest);
    expect((await closeSession(session)).exitCode).toBe(0);

    const tooLarge = startSession({ replyRingBytes: 1024 }, { mode: 'too-large' });
    const codes: string[] = [];
    tooLarge.channel.onReplies((frames) => codes.push(...frames.map((frame) => new TextDecoder().decode(frame))));
    tooLarge.channel.send(new Uint8Array(1));
    const { summary } = await closeSession(tooLarge);
    expect(codes).toEqual(['ETOOLARGE']);
    expect(summary.errors).toEqual([]);
  });

  it('wakes the worker for periodic work when idle (waitForWork timeout)', async () => {
    const session = startSession({}, { mode: 'echo', tickMillis: 10 });
    // One round trip first, so the quiet time below starts with the worker running (tsx startup is slow).
    const echoed = new Promise<void>((resolve) => session.channel.onReplies(() => resolve()));
    session.channel.send(new Uint8Array(1));
    await echoed;
    await sleep(150);
    const { summary, exitCode } = await closeSession(session);
    expect(summary.ticks).toBeGreaterThanOrEqual(5);
    expect(summary.ticks).toBeLessThanOrEqual(20);
    expect(exitCode).toBe(0);
  });

  it('shuts down cleanly: queued frames still go through, replies arrive before close resolves, the worker exits by itself', async () => {
    const total = 5_000;
    const session = startSession({ requestRingBytes: 1024, pollMicros: 0 }, { mode: 'echo', startDelayMillis: 20 });
    const { channel } = session;
    let received = 0;
    channel.onReplies((frames) => (received += frames.length));
    for (let i = 0; i < total; i++) channel.send(new Uint8Array(16).fill(i & 255));
    expect(channel.queued).toBeGreaterThan(0);
    const closing = channel.close();
    expect(channel.close()).toBe(closing);
    expect(transportErrorCode(() => channel.send(new Uint8Array(1)))).toBe('ECLOSED');
    expect(transportErrorCode(() => channel.beginBatch())).toBe('ECLOSED');
    await within(closing, 5_000, 'close');
    expect(received).toBe(total);
    const { summary, exitCode } = await closeSession(session);
    expect(summary.received).toBe(total);
    expect(exitCode).toBe(0);
  });

  it('closes an idle channel whose both sides are parked', async () => {
    const session = startSession({ pollMicros: 0 }, { mode: 'echo', spinMicros: 0 });
    const echoed = new Promise<void>((resolve) => session.channel.onReplies(() => resolve()));
    session.channel.send(new Uint8Array(4));
    await echoed;
    await sleep(20);
    expect(session.channel.stats().parks).toBeGreaterThan(0);
    const { summary, exitCode } = await closeSession(session);
    expect(summary.stats.sleeps).toBeGreaterThan(0);
    expect(exitCode).toBe(0);
  });

  it('has exactly one worker end, which the main thread cannot take', async () => {
    const front = FrontChannel.create();
    // Refused before the description is marked as taken, so a worker can still attach afterwards.
    expect(transportErrorCode(() => WorkerChannel.attach(front.describe()))).toBe('ESTATE');

    const session = startSession({}, { mode: 'double-attach' });
    const { summary, exitCode } = await closeSession(session);
    expect(summary.attachError).toBe('ESTATE');
    expect(exitCode).toBe(0);
  });
});
