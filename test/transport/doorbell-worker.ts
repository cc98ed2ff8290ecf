/**
 * Worker side of the doorbell stress: a sleeper that waits for each value of a counter, and a ringer
 * that advances the counter at a varying delay after the sleeper asked for it, so the store lands at
 * every point of the sleeper's spin / announce / re-check / park sequence.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BlockingSleeper, Doorbell } from '../../src/transport/doorbell.js';
import { ASKED, BELL, COUNTER, EVENT, RINGER_READY, STOP, type DoorbellSummary, type DoorbellTask } from './doorbell-stress.js';

const { role, words, rounds, maxDelay = 1, payingRounds = 0, spinMicros = 0 } = workerData as DoorbellTask;
let summary: DoorbellSummary;

if (role === 'sleeper' || role === 'adaptive-sleeper') {
  const sleeper = new BlockingSleeper(words, BELL, spinMicros);
  while (Atomics.load(words, RINGER_READY) === 0) Atomics.wait(words, RINGER_READY, 0);
  let lost = 0;
  let round = 1;
  for (; round <= rounds && Atomics.load(words, STOP) === 0; round++) {
    const wanted = round;
    const ready = (): boolean => Atomics.load(words, COUNTER) >= wanted;
    Atomics.store(words, ASKED, wanted);
    // A timeout with the counter still short is only a slow ringer (descheduled, say): wait on.
    let reason = sleeper.sleepUnless(EVENT, ready, 200);
    while (reason === 'timed-out' && !ready() && Atomics.load(words, STOP) === 0) reason = sleeper.sleepUnless(EVENT, ready, 200);
    if (reason === 'timed-out' && ready()) {
      lost++;
      // One is enough to fail; stop both sides rather than timing out round after round.
      Atomics.store(words, STOP, 1);
    }
  }
  const spinAfterPhase = [sleeper.spinMicros];
  for (let paying = 0; paying < payingRounds; paying++) {
    // No ringer here: a parked sleeper times out after 1 ms; a spinning one sees the condition at 20 µs.
    const readyAt = performance.now() + 0.02;
    sleeper.sleepUnless(EVENT, () => performance.now() >= readyAt, 1);
  }
  spinAfterPhase.push(sleeper.spinMicros);
  summary = { rounds: round - 1, lost, sleeps: sleeper.sleeps, notifies: 0, spinAfterPhase };
} else {
  const bell = new Doorbell(words, BELL);
  Atomics.store(words, RINGER_READY, 1);
  Atomics.notify(words, RINGER_READY);
  let seed = 12345;
  let round = 1;
  for (; round <= rounds && Atomics.load(words, STOP) === 0; round++) {
    while (Atomics.load(words, ASKED) < round) if (Atomics.load(words, STOP) !== 0) break;
    if (role === 'ringer') {
      // A pseudo-random number of loads: sweeps the store across the sleeper's whole sequence.
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      for (let spin = (seed >>> 8) % maxDelay; spin > 0; spin--) Atomics.load(words, COUNTER);
    } else {
      // Only once the sleeper has announced its park: its spin ran out, and the ring follows at once.
      while (Atomics.load(words, BELL) === 0) if (Atomics.load(words, STOP) !== 0) break;
    }
    Atomics.store(words, COUNTER, round);
    bell.ring(EVENT);
  }
  summary = { rounds: round - 1, lost: 0, sleeps: 0, notifies: bell.notifies, spinAfterPhase: [] };
}
parentPort!.postMessage(summary);
