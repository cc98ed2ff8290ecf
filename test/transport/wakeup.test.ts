/**
 * Sleep and wake-up under stress: bursts of requests separated by gaps of every length, so that sends
 * land before, during and after each side's announce-recheck-park sequence. A lost wake-up would leave
 * a burst unanswered, which the per-round watchdog turns into a failure. The main thread's Atomics.wait
 * is trapped throughout: parking the front must go through Atomics.waitAsync only.
 */
import { describe, expect, it } from 'vitest';
import type { FrontChannel } from '../../src/transport/channel.js';
import { Random } from '../helpers/random.js';
import { closeSession, sleep, startSession, guardMainThreadNeverWaits, within } from './harness.js';

guardMainThreadNeverWaits();

/** Idle gaps from none at all to long enough for both sides to park. */
async function gap(random: Random): Promise<void> {
  const kind = random.int(0, 4);
  if (kind === 0) return;
  if (kind === 1) return new Promise((resolve) => setImmediate(resolve));
  if (kind === 2) {
    // A busy gap of up to 100 µs on this thread: sends then land inside the other side's spin or park.
    const until = performance.now() + random.next() * 0.1;
    while (performance.now() < until);
    return;
  }
  return sleep(kind === 3 ? 0 : 1);
}

interface Burster {
  /** Sends a burst and resolves when every echo is back, with the time the first echo took. */
  burst(count: number, batched: boolean): Promise<number>;
}

function burster(channel: FrontChannel): Burster {
  let expected = 0;
  let received = 0;
  let firstEchoAt = 0;
  let done: (() => void) | null = null;
  channel.onReplies((frames) => {
    if (firstEchoAt === 0) firstEchoAt = performance.now();
    received += frames.length;
    if (received === expected && done !== null) done();
  });
  const frame = new Uint8Array(24);
  return {
    burst(count, batched) {
      expected += count;
      firstEchoAt = 0;
      const all = new Promise<void>((resolve) => (done = resolve));
      const started = performance.now();
      if (batched) channel.beginBatch();
      for (let i = 0; i < count; i++) channel.send(frame);
      if (batched) channel.commit();
      return all.then(() => firstEchoAt - started);
    },
  };
}

describe('sleeping and waking', () => {
  for (const { spinMicros, pollMicros, rounds } of [
    { spinMicros: 0, pollMicros: 0, rounds: 2000 },
    { spinMicros: 20, pollMicros: 20, rounds: 1200 },
  ]) {
    it(`loses no wake-up over ${rounds} on/off bursts (worker spins ${spinMicros} µs, front polls ${pollMicros} µs)`, async () => {
      const session = startSession({ pollMicros }, { mode: 'echo', spinMicros });
      const { channel } = session;
      const bursts = burster(channel);
      const random = new Random(spinMicros + 1);
      const afterLongGap: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const longGap = random.next() < 0.02;
        if (longGap) await sleep(3);
        else await gap(random);
        const firstEcho = await within(bursts.burst(random.int(1, 32), random.next() < 0.5), 2_000, `round ${round}`);
        if (longGap) afterLongGap.push(firstEcho);
      }
      const { summary, exitCode } = await closeSession(session);
      const front = channel.stats();
      // Both sides really slept, and were woken each time (a lost wake-up would have hung a round).
      expect(summary.stats.sleeps).toBeGreaterThan(rounds / 20);
      expect(front.parks).toBeGreaterThan(rounds / 20);
      // Prompt: after both sides parked, the first echo comes back within a couple of wake-ups.
      afterLongGap.sort((a, b) => a - b);
      expect(afterLongGap[afterLongGap.length >> 1]).toBeLessThan(5);
      expect(exitCode).toBe(0);
    });
  }
});
