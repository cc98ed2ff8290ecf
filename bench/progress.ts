/**
 * Progress lines for long steps. They go to stderr so that stdout carries only the markdown tables and
 * `npm run bench > out.md` captures a clean document.
 */
const started = performance.now();

export function progress(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}

/**
 * Collects garbage twice (the second pass frees what the first one's finalizers released) when the run
 * has --expose-gc, so memory readings and timed tasks start from a settled heap.
 */
export function settleHeap(): void {
  if (globalThis.gc === undefined) return;
  globalThis.gc();
  globalThis.gc();
}

export function warnWithoutGc(): void {
  if (globalThis.gc === undefined) {
    progress('warning: run with node --expose-gc (as `npm run bench` does): without it RSS readings are not settled');
  }
}
