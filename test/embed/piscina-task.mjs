// A piscina task using the pool whose handle came in the task data: one attached pool per thread.
import { ShardPool } from 'sabre';

const attached = new Map();

export default async function task({ handle, key, times }) {
  let pool = attached.get(handle.name);
  if (pool === undefined) {
    pool = ShardPool.attach(handle);
    attached.set(handle.name, pool);
  }
  let last = 0;
  for (let i = 0; i < times; i++) last = await pool.incr(key);
  return { last, value: await pool.getValue('config') };
}
