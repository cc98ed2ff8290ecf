/**
 * The snapshot writer thread of one shard (BGSAVE): it attaches to the shard's arena as a reader and,
 * for each job, writes the shard's databases as they were when the job's snapshot epoch began into a
 * part file, while the shard keeps serving and copies aside each page it writes for the first time.
 *
 * The databases are read through SnapshotPages, which fetches pages from the epoch's image on demand:
 * before each key, a walk of its allocations (Database.entryUsage) fetches the whole key, and the RDB
 * writer then reads it like any other database. Fetched pages are let go of between keys once they pass
 * the budget, so the thread holds a few MiB whatever the dataset's size.
 *
 * The job arrives on a message port and its result goes back on it; the shard polls the port (it never
 * waits). The thread then ends, as Redis's child process does: its heap and the pages it fetched go back
 * to the OS with it, instead of staying with an idle thread until the next save.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { ArenaReader, SnapshotPages, type Arena, type ArenaDescription } from 'native-free-alloc';
import { Database } from '../shard/database.js';
import { writeRdbPart } from './rdb-files.js';

export interface SnapshotWorkerData {
  arena: ArenaDescription;
  /** [keys written by the job in progress]: INFO's current_save_keys_processed. */
  progress: Int32Array;
  jobs: MessagePort;
}

export interface SnapshotJob {
  epoch: number;
  /** The header handle of each database, by number. */
  headers: number[];
  path: string;
  compression: boolean;
}

export type SnapshotResult = { keys: number } | { error: string };

const collect = (globalThis as { gc?: () => void }).gc;

/** Keys between two progress updates. */
const PROGRESS_EVERY = 1024;

function run(reader: ArenaReader, progress: Int32Array, job: SnapshotJob): SnapshotResult {
  const pages = new SnapshotPages(reader, job.epoch);
  // SnapshotPages has an arena's whole read side; the database code only reads through it here.
  const arena = pages as unknown as Arena;
  const databases = job.headers.map((header, index) => new Database(arena, Date.now, { index }, header));
  let keys = 0;
  try {
    writeRdbPart(databases, job.path, {
      compression: job.compression,
      beforeKey: (db, entry) => {
        // Pages let go of are only returned once collected; a small heap would not collect them soon.
        if (pages.settle()) collect?.();
        db.entryUsage(entry);
        if (++keys % PROGRESS_EVERY === 0) Atomics.store(progress, 0, keys);
      },
    });
  } catch (error) {
    return { error: (error as Error).message };
  }
  Atomics.store(progress, 0, keys);
  return { keys };
}

const data = workerData as SnapshotWorkerData;
const reader = ArenaReader.attach(data.arena);
data.jobs.once('message', (job: SnapshotJob) => {
  data.jobs.postMessage(run(reader, data.progress, job));
  reader.close();
  data.jobs.close();
});
