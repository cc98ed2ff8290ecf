/**
 * The reliable work queue of issue 5 on sabre (3 shards): producers RPUSH jobs, consumers move them with
 * BLMOVE into a "taken" list, pipelined, several of each at once. No job may be lost or taken twice,
 * and each consumer gets a producer's jobs in the order they were pushed. About 4 s for 100k jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnection, b } from '../helpers/differential.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

const JOBS = 100_000;
const PRODUCERS = 4;
const CONSUMERS = 4;
/** Jobs per RPUSH, and BLMOVEs per consumer pipeline. */
const PUSH_BATCH = 500;
const MOVE_BATCH = 200;
const FILLER = 'filler';

describe('work queue over BLMOVE, sabre with 3 shards', () => {
  let sabre: RunningSabre;
  beforeAll(async () => {
    sabre = await startSabre(['--shards', '3']);
  });
  afterAll(async () => {
    expect(await sabre.stop()).toBe(0);
  });

  it(`moves ${JOBS} jobs from ${PRODUCERS} producers to ${CONSUMERS} consumers, none lost or duplicated`, async () => {
    const port = sabre.port;
    const producers = await Promise.all(Array.from({ length: PRODUCERS }, () => RedisConnection.open(port)));
    const consumers = await Promise.all(Array.from({ length: CONSUMERS }, () => RedisConnection.open(port)));
    const admin = await RedisConnection.open(port);
    try {
      await admin.run([[b('FLUSHALL')]]);
      const started = performance.now();
      const taken: string[][] = consumers.map(() => []);
      // Consumers start first, so that many of their BLMOVEs block and are woken by pushes. Each stops
      // after a pipeline that met a filler; fillers go in once every job is in, so they come last.
      const consuming = consumers.map(async (consumer, index) => {
        const batch = Array.from({ length: MOVE_BATCH }, () => [b('BLMOVE'), b('{q}jobs'), b('{q}taken'), b('LEFT'), b('RIGHT'), b('0')]);
        for (let done = false; !done; ) {
          for (const reply of await consumer.run(batch)) {
            const job = reply.toString('latin1').split('\r\n')[1];
            if (job === FILLER) done = true;
            else taken[index].push(job);
          }
        }
      });
      const producing = producers.map(async (producer, index) => {
        for (let first = index * (JOBS / PRODUCERS); first < (index + 1) * (JOBS / PRODUCERS); first += PUSH_BATCH) {
          const jobs = Array.from({ length: PUSH_BATCH }, (_, i) => b(`job:${first + i}`));
          await producer.run([[b('RPUSH'), b('{q}jobs'), ...jobs]]);
        }
      });
      await Promise.all(producing);
      // Enough fillers that every consumer's last pipeline completes: one that stops has taken at most
      // MOVE_BATCH of them, so at least MOVE_BATCH are left for each other one.
      await admin.run([[b('RPUSH'), b('{q}jobs'), ...Array.from({ length: CONSUMERS * MOVE_BATCH }, () => b(FILLER))]]);
      await Promise.all(consuming);
      const seconds = (performance.now() - started) / 1000;
      console.log(`${JOBS} jobs through BLMOVE in ${seconds.toFixed(2)} s`);

      const all = taken.flat();
      expect(all.length).toBe(JOBS);
      expect(new Set(all).size).toBe(JOBS);
      for (const jobs of taken) expect(jobs.length).toBeGreaterThan(0);
      const [left, moved] = await admin.run([
        [b('LLEN'), b('{q}jobs')],
        [b('LLEN'), b('{q}taken')],
      ]);
      const leftCount = Number(left.toString().slice(1, -2));
      expect(Number(moved.toString().slice(1, -2)) + leftCount).toBe(JOBS + CONSUMERS * MOVE_BATCH);
      // Each consumer sees its jobs in queue order: a producer's jobs come out in the order it pushed them.
      for (const jobs of taken) {
        const last = new Map<number, number>();
        for (const job of jobs) {
          const id = Number(job.slice(4));
          const producer = Math.floor(id / (JOBS / PRODUCERS));
          expect(id).toBeGreaterThan(last.get(producer) ?? -1);
          last.set(producer, id);
        }
      }
    } finally {
      for (const connection of [...producers, ...consumers, admin]) connection.close();
    }
  }, 60_000);
});
