/**
 * Starts channel-worker.ts on a real worker thread (through the tsx bootstrap: Node 20 workers ignore
 * `--import tsx`) and watches the main thread for Atomics.wait, which the front must never call.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, expect } from 'vitest';
import { FrontChannel, type FrontChannelOptions } from '../../src/transport/channel.js';
import { TransportError } from '../../src/transport/errors.js';
import type { WorkerSummary, WorkerTask } from './channel-worker.js';

const bootstrap = new URL('../helpers/ts-worker.mjs', import.meta.url);
const workerFile = new URL('./channel-worker.ts', import.meta.url);

export interface Session {
  channel: FrontChannel;
  worker: Worker;
  /** The worker's summary, posted once the front has closed the channel and the loop ended. */
  summary: Promise<WorkerSummary>;
  /** The worker thread's exit code; 0 without terminate() is a clean shutdown. */
  exit: Promise<number>;
}

export function startSession(channelOptions: FrontChannelOptions, task: Omit<WorkerTask, 'description'>): Session {
  const channel = FrontChannel.create(channelOptions);
  const worker = new Worker(bootstrap, { workerData: { ...task, description: channel.describe(), tsFile: workerFile.href } });
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
  const summary = new Promise<WorkerSummary>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    void exit.then((code) => reject(new Error(`worker exited with code ${code} before its summary`)));
  });
  return { channel, worker, summary, exit };
}

/** Rejects after `ms`: a lost wake-up shows up as a hang, and this turns the hang into a failure. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no progress within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Replaces Atomics.wait on this (main) thread with a trap for the duration of a suite. Returns a
 * function giving the number of calls trapped; any call also throws, so it cannot block either.
 */
export function trapAtomicsWait(): { calls: () => number; restore: () => void } {
  const original = Atomics.wait;
  let calls = 0;
  const trapped = (): never => {
    calls++;
    throw new Error('Atomics.wait called on the main thread');
  };
  Atomics.wait = trapped;
  return { calls: () => calls, restore: () => (Atomics.wait = original) };
}

/** Closes the front and waits (bounded) for the worker's summary and for its thread to end by itself. */
export async function closeSession(session: Session): Promise<{ summary: WorkerSummary; exitCode: number }> {
  await within(session.channel.close(), 5_000, 'close');
  const summary = await within(session.summary, 5_000, 'worker summary');
  return { summary, exitCode: await within(session.exit, 5_000, 'worker exit') };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The TransportError code `action` throws, or undefined when it throws nothing. */
export function transportErrorCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof TransportError) return error.code;
    throw error;
  }
  return undefined;
}

/** For a whole test file: traps Atomics.wait on the main thread, and fails if anything called it. */
export function guardMainThreadNeverWaits(): void {
  let trap: ReturnType<typeof trapAtomicsWait>;
  beforeAll(() => {
    trap = trapAtomicsWait();
  });
  afterAll(() => {
    trap.restore();
    expect(trap.calls()).toBe(0);
  });
}
