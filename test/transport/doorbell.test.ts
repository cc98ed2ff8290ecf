/**
 * The doorbell protocol alone, between two worker threads, where a lost wake-up would show at once: the
 * sleeper times out with the condition it waits for already true. The ringer's store sweeps across the
 * sleeper's announce / re-check / park window (a few tens of ns) tens of thousands of times.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { BlockingSleeper, Doorbell } from '../../src/transport/doorbell.js';
import { BELL, WORDS, type DoorbellSummary, type DoorbellTask } from './doorbell-stress.js';

const bootstrap = new URL('../helpers/ts-worker.mjs', import.meta.url);
const workerFile = new URL('./doorbell-worker.ts', import.meta.url);

function run(task: DoorbellTask): Promise<DoorbellSummary> {
  const worker = new Worker(bootstrap, { workerData: { ...task, tsFile: workerFile.href } });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

describe('doorbell', () => {
  it('never loses a wake-up while the ringer sweeps the sleeper\'s announce / re-check / park window', async () => {
    const words = new Int32Array(new SharedArrayBuffer(WORDS * 4));
    const rounds = 40_000;
    const [sleeper, ringer] = await Promise.all([
      run({ role: 'sleeper', words, rounds, maxDelay: 200 }),
      run({ role: 'ringer', words, rounds, maxDelay: 200 }),
    ]);
    expect(sleeper.lost).toBe(0);
    expect(sleeper.rounds).toBe(rounds);
    expect(ringer.rounds).toBe(rounds);
    // The window was exercised: the sleeper really parked in a good share of the rounds.
    expect(sleeper.sleeps).toBeGreaterThan(rounds / 10);
  });

  it('shrinks its spin when spins keep running out, and restores it when a spin pays again', async () => {
    const words = new Int32Array(new SharedArrayBuffer(WORDS * 4));
    // First every spin runs out and the ring follows the park at once (what sharing one core with the
    // other side looks like); then the condition comes true 20 µs into each wait, so a probe pays.
    const [sleeper] = await Promise.all([
      run({ role: 'adaptive-sleeper', words, rounds: 40, payingRounds: 80, spinMicros: 200 }),
      run({ role: 'adaptive-ringer', words, rounds: 40 }),
    ]);
    expect(sleeper.lost).toBe(0);
    expect(sleeper.spinAfterPhase).toEqual([0, 200]);
  });

  it('rings without a notify unless the other side announced a sleep interested in the event', () => {
    const words = new Int32Array(new SharedArrayBuffer(WORDS * 4));
    const bell = new Doorbell(words, BELL);
    const work = 1;
    const room = 2;
    for (let i = 0; i < 1000; i++) expect(bell.ring(work)).toBe(false);
    // A sleeper waiting for room is not woken by work, and its announcement stays in place.
    Atomics.store(words, BELL, room);
    expect(bell.ring(work)).toBe(false);
    expect(Atomics.load(words, BELL)).toBe(room);
    expect(bell.notifies).toBe(0);
    expect(bell.ring(room)).toBe(true);
    expect(Atomics.load(words, BELL)).toBe(0);
    expect(bell.ring(room)).toBe(false);
    Atomics.store(words, BELL, work | room);
    expect(bell.ring(work)).toBe(true);
    expect(bell.notifies).toBe(2);
  });

  it('refuses to build a blocking sleeper on the main thread', () => {
    const words = new Int32Array(new SharedArrayBuffer(WORDS * 4));
    expect(() => new BlockingSleeper(words, BELL, 0)).toThrow(/ESTATE/);
  });
});
