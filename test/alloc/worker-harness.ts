import { Worker, type TransferListItem } from 'node:worker_threads';

const bootstrap = new URL('../helpers/ts-worker.mjs', import.meta.url);

/** Starts a TypeScript worker (tests run from source) through the tsx bootstrap. */
export function startWorker(file: URL, data: object, transferList: readonly TransferListItem[]): Worker {
  return new Worker(bootstrap, { workerData: { ...data, tsFile: file.href }, transferList: [...transferList] });
}

export function resultOf<T>(worker: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (message: T) => resolve(message));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before answering`)));
  });
}

/** Blocks until the worker has set `word` to 1, or throws: a worker that never starts fails the test fast. */
export function awaitStarted(mailbox: Int32Array, word: number, timeoutMs = 15_000): void {
  if (Atomics.wait(mailbox, word, 0, timeoutMs) === 'timed-out' && Atomics.load(mailbox, word) === 0) {
    throw new Error(`worker did not start within ${timeoutMs} ms`);
  }
}
