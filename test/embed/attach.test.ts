/** Other threads share one pool through its handle: attached workers, and piscina tasks. */
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardPool } from 'sabre';

let pool: ShardPool;

beforeAll(async () => {
  pool = await ShardPool.start({ shards: 2 });
});

afterAll(async () => {
  await pool.close();
});

function runWorker(data: object): Promise<void> {
  const worker = new Worker(new URL('./attached-worker.mjs', import.meta.url), { workerData: data });
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
  });
}

describe('attached threads', () => {
  it('four threads adding to shared counters and hashes lose no update', async () => {
    const rounds = 300;
    const handle = pool.handle();
    await Promise.all([0, 1, 2, 3].map((index) => runWorker({ handle, index, rounds })));
    expect(await pool.get('counter')).toBe(String(4 * rounds));
    expect(await pool.get('counter:batched')).toBe(String(4 * rounds * 2));
    expect(await pool.get('counter:transactions')).toBe(String(4 * rounds));
    expect(await pool.hgetall('per-worker')).toEqual({ w0: '300', w1: '300', w2: '300', w3: '300' });
    expect(await pool.hgetall('per-worker:tx')).toEqual({ w0: '300', w1: '300', w2: '300', w3: '300' });
    let fields = 0;
    for (let slot = 0; slot < 8; slot++) fields += Object.keys(await pool.hgetall(`hash{${slot}}`)).length;
    expect(fields).toBe(4 * rounds);
    expect(await pool.getValue('done:3')).toEqual({ index: 3, rounds });
    // Closing the attached pools left the pool serving.
    expect(await pool.command('PING')).toBe('PONG');
  });

  it('piscina tasks use the pool through the handle in their task data', async () => {
    await pool.setValue('config', { mode: 'shared' });
    const piscina = new Piscina({ filename: new URL('./piscina-task.mjs', import.meta.url).href, minThreads: 2, maxThreads: 2 });
    try {
      const handle = pool.handle();
      const results = (await Promise.all(Array.from({ length: 8 }, () => piscina.run({ handle, key: 'tasks', times: 25 })))) as { last: number; value: unknown }[];
      expect(await pool.get('tasks')).toBe('200');
      expect(Math.max(...results.map((result) => result.last))).toBe(200);
      for (const result of results) expect(result.value).toEqual({ mode: 'shared' });
    } finally {
      await piscina.destroy();
    }
  });

  it('a large value crosses the link in several frames', async () => {
    const value = Buffer.alloc(3 * 1024 * 1024, 7);
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       import('sabre').then(async ({ ShardPool }) => {
         const pool = ShardPool.attach(workerData.handle);
         await pool.set('big', Buffer.from(workerData.value));
         const back = await pool.getBuffer('big');
         pool.close();
         parentPort.postMessage(back.length);
       });`,
      { eval: true, workerData: { handle: pool.handle(), value } },
    );
    const length = await new Promise((resolve) => worker.once('message', resolve));
    expect(length).toBe(value.length);
    expect((await pool.getBuffer('big'))!.equals(value)).toBe(true);
  });
});
