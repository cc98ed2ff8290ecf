// A worker thread that attaches to a pool by its handle and adds to shared counters and hashes.
import { parentPort, workerData } from 'node:worker_threads';
import { ShardPool } from 'sabre';

const { handle, index, rounds } = workerData;
const pool = ShardPool.attach(handle);
for (let round = 0; round < rounds; round++) {
  await pool.incr('counter');
  await pool.pipeline().incrby('counter:batched', 2).hincrby('per-worker', `w${index}`, 1).hset(`hash{${round % 8}}`, `w${index}:${round}`, round).exec();
  await pool.multi().incr('counter:transactions').hincrby('per-worker:tx', `w${index}`, 1).exec();
}
await pool.setValue(`done:${index}`, { index, rounds });
pool.close();
parentPort.postMessage('done');
