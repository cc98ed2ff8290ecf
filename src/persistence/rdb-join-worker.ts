/**
 * Joins a background save's part files into the RDB file (rdb-files.ts joinRdbParts) on a thread of its
 * own: the join reads and checksums the whole file, which on the front's thread would stall every client
 * for as long as that takes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { joinRdbParts, removeRdbParts, type RdbJoinOptions } from './rdb-files.js';

export interface RdbJoinJob {
  target: string;
  parts: string[];
  options: RdbJoinOptions;
  /** rdb-files.ts rdbPartPath's tag. */
  tag: string;
}

const job = workerData as RdbJoinJob;
try {
  joinRdbParts(job.target, job.parts, job.options, job.tag);
  parentPort!.postMessage({ ok: true });
} catch (error) {
  parentPort!.postMessage({ ok: false, error: (error as Error).message });
} finally {
  removeRdbParts(job.parts);
}
