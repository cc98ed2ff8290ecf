/**
 * Front ↔ shard transport: the shared-memory channel (src/transport/) side by side with `postMessage`,
 * main → worker → main, on the same machine in the same run.
 *
 * - Round-trip latency: one message in flight at a time (64 bytes), p50 and p99 over many round trips.
 *   The channel runs twice: with its defaults (the front polls for 50 µs after activity, the worker
 *   spins up to 200 µs before parking) and parking at once on both sides, which shows what wake-ups cost.
 * - Pipelined throughput: the front sends a batch of B messages of 32–100 bytes (B = 1, 16, 256; one
 *   `beginBatch`/`commit` for the channel), and the next batch once all B echoes are back. postMessage
 *   runs it two ways: one postMessage per message, and one per batch (an array of B Uint8Arrays).
 *
 * Each contender gets one worker for all its measurements, warmed up for 500 ms first (see
 * `warmupMillis`: a fresh worker is far from its steady rate for its first ~300 ms).
 *
 * The echo worker is this same module, started with a marker in workerData, so the benchmark stays in
 * one file. It runs compiled (dist/bench/transport.js): Node 20 workers cannot load TypeScript.
 * Standalone: `npx tsc -b && node dist/bench/transport.js`.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { FrontChannel, WorkerChannel, type ChannelDescription, type FrontChannelOptions } from '../src/transport/channel.js';
import { progress } from './progress.js';
import { formatCount, formatOpsPerSecond, formatSpeedup, markdownTable } from './report.js';

const ECHO_ROLE = 'sabre-transport-bench-echo';

interface EchoTask {
  role: typeof ECHO_ROLE;
  transport: 'channel' | 'postMessage';
  description?: ChannelDescription;
  spinMicros?: number;
}

export interface TransportBenchOptions {
  /**
   * How long each contender's link is exercised before anything is timed, in ms. A fresh worker takes
   * ~300 ms to reach its steady rate (measured: its first 100 ms run at 5–10% of it, with the front
   * parking and the worker waking far more often), so a count of warm-up round trips is not enough.
   */
  warmupMillis: number;
  /** Round trips timed for each latency row. */
  roundTrips: number;
  /** Time per throughput cell, in ms. */
  throughputMillis: number;
  batchSizes: readonly number[];
}

export const DEFAULT_TRANSPORT_OPTIONS: TransportBenchOptions = {
  warmupMillis: 500,
  roundTrips: 20_000,
  throughputMillis: 800,
  batchSizes: [1, 16, 256],
};

/** How the main side talks to an echo worker; one implementation per contender. */
interface Link {
  /** Sends `messages` (one batch) and resolves when every echo is back. */
  roundTrip(messages: readonly Uint8Array[]): Promise<void>;
  close(): Promise<void>;
}

function startEcho(task: Omit<EchoTask, 'role'>): Worker {
  return new Worker(new URL(import.meta.url), { workerData: { role: ECHO_ROLE, ...task } satisfies EchoTask });
}

function channelLink(options: FrontChannelOptions, spinMicros?: number): Link {
  const channel = FrontChannel.create(options);
  const worker = startEcho({ transport: 'channel', description: channel.describe(), spinMicros });
  // Listened for from the start: the worker may exit before close() has even resolved.
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  let outstanding = 0;
  let done: () => void = () => {};
  channel.onReplies((frames) => {
    outstanding -= frames.length;
    if (outstanding === 0) done();
  });
  return {
    roundTrip(messages) {
      outstanding = messages.length;
      const echoed = new Promise<void>((resolve) => (done = resolve));
      channel.beginBatch();
      for (const message of messages) channel.send(message);
      channel.commit();
      return echoed;
    },
    async close() {
      await channel.close();
      await exited;
    },
  };
}

function postMessageLink(perBatch: boolean): Link {
  const worker = startEcho({ transport: 'postMessage' });
  let outstanding = 0;
  let done: () => void = () => {};
  worker.on('message', () => {
    if (--outstanding === 0) done();
  });
  return {
    roundTrip(messages) {
      outstanding = perBatch ? 1 : messages.length;
      const echoed = new Promise<void>((resolve) => (done = resolve));
      if (perBatch) worker.postMessage(messages);
      else for (const message of messages) worker.postMessage(message);
      return echoed;
    },
    async close() {
      await worker.terminate();
    },
  };
}

interface Contender {
  name: string;
  link: () => Link;
  /** Which tables it has a row or column in. */
  latency: boolean;
  throughput: boolean;
}

const CHANNEL_DEFAULT: Contender = {
  name: 'sabre channel (defaults)',
  link: () => channelLink({}),
  latency: true,
  throughput: true,
};
const CHANNEL_PARKING: Contender = {
  name: 'sabre channel, parking at once',
  link: () => channelLink({ pollMicros: 0 }, 0),
  latency: true,
  throughput: false,
};
const POST_PER_MESSAGE: Contender = {
  name: 'postMessage per message',
  link: () => postMessageLink(false),
  latency: true,
  throughput: true,
};
const POST_PER_BATCH: Contender = {
  name: 'postMessage per batch',
  link: () => postMessageLink(true),
  latency: false,
  throughput: true,
};
const CONTENDERS = [CHANNEL_DEFAULT, CHANNEL_PARKING, POST_PER_MESSAGE, POST_PER_BATCH];

/** A fixed pool of messages of 32–100 bytes, so every contender sends the same bytes. */
function messagePool(count: number): Uint8Array[] {
  let x = 0x2545f491;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) | 0) >>> 8;
  return Array.from({ length: count }, () => {
    const message = new Uint8Array(32 + (next() % 69));
    for (let i = 0; i < message.length; i++) message[i] = next() & 255;
    return message;
  });
}

interface Latency {
  p50: number;
  p99: number;
}

interface ContenderResult {
  latency?: Latency;
  /** Messages per second by batch size. */
  throughput: Map<number, number>;
}

/** Keeps the link busy with batches of every size for `millis`, so both threads run optimised code. */
async function warmUp(link: Link, batches: readonly (readonly Uint8Array[])[], millis: number): Promise<void> {
  const started = performance.now();
  for (let b = 0; performance.now() - started < millis; b = (b + 1) % batches.length) await link.roundTrip(batches[b]);
}

async function measureLatency(link: Link, roundTrips: number): Promise<Latency> {
  const batch = [new Uint8Array(64).fill(0x5a)];
  const times = new Float64Array(roundTrips);
  for (let i = 0; i < roundTrips; i++) {
    const started = performance.now();
    await link.roundTrip(batch);
    times[i] = performance.now() - started;
  }
  times.sort();
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] * 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Messages echoed per second, one batch of `batchSize` in flight at a time. */
async function measureThroughput(link: Link, batchSize: number, pool: readonly Uint8Array[], millis: number): Promise<number> {
  const batches: Uint8Array[][] = [];
  for (let start = 0; start + batchSize <= pool.length; start += batchSize) batches.push(pool.slice(start, start + batchSize));
  let messages = 0;
  const started = performance.now();
  for (let b = 0; performance.now() - started < millis; b = (b + 1) % batches.length) {
    await link.roundTrip(batches[b]);
    messages += batchSize;
  }
  return messages / ((performance.now() - started) / 1000);
}

async function measure(contender: Contender, pool: readonly Uint8Array[], options: TransportBenchOptions): Promise<ContenderResult> {
  const link = contender.link();
  const warmupBatches = options.batchSizes.map((size) => pool.slice(0, size));
  await warmUp(link, warmupBatches, options.warmupMillis);
  const result: ContenderResult = { throughput: new Map() };
  if (contender.latency) result.latency = await measureLatency(link, options.roundTrips);
  if (contender.throughput) {
    for (const batchSize of options.batchSizes) {
      result.throughput.set(batchSize, await measureThroughput(link, batchSize, pool, options.throughputMillis));
    }
  }
  await link.close();
  return result;
}

function formatMicros(micros: number): string {
  return `${micros.toFixed(1)} µs`;
}

export async function runTransportBench(options: TransportBenchOptions = DEFAULT_TRANSPORT_OPTIONS): Promise<string> {
  const pool = messagePool(4096);
  const results = new Map<Contender, ContenderResult>();
  for (const contender of CONTENDERS) {
    progress(`transport: ${contender.name}`);
    results.set(contender, await measure(contender, pool, options));
  }
  const latencyOf = (contender: Contender): Latency => results.get(contender)!.latency!;
  const rate = (contender: Contender, batchSize: number): number => results.get(contender)!.throughput.get(batchSize)!;
  const post = latencyOf(POST_PER_MESSAGE);

  return [
    `### Round-trip latency, one 64-byte message at a time (${formatCount(options.roundTrips)} round trips)`,
    markdownTable(
      ['transport', 'p50', 'p99', 'p50: postMessage / this'],
      CONTENDERS.filter((contender) => contender.latency).map((contender) => {
        const { p50, p99 } = latencyOf(contender);
        return [contender.name, formatMicros(p50), formatMicros(p99), formatSpeedup(post.p50 / p50)];
      }),
    ),
    `Defaults: the front polls the reply ring from setImmediate for 50 µs after the last activity before ` +
      `parking in Atomics.waitAsync; the worker spins up to 200 µs before parking in Atomics.wait (less while ` +
      `spins keep running out, as when both threads share a core). ` +
      `"Parking at once" sets both to 0, so every round trip pays both wake-ups.`,
    `### Pipelined throughput, messages of 32–100 bytes echoed main → worker → main (one batch in flight)`,
    markdownTable(
      ['batch', CHANNEL_DEFAULT.name, POST_PER_MESSAGE.name, POST_PER_BATCH.name, 'vs per message', 'vs per batch'],
      options.batchSizes.map((batchSize) => {
        const channel = rate(CHANNEL_DEFAULT, batchSize);
        const perMessage = rate(POST_PER_MESSAGE, batchSize);
        const perBatch = rate(POST_PER_BATCH, batchSize);
        return [
          String(batchSize),
          `${formatOpsPerSecond(channel)} msg/s`,
          `${formatOpsPerSecond(perMessage)} msg/s`,
          `${formatOpsPerSecond(perBatch)} msg/s`,
          formatSpeedup(channel / perMessage),
          formatSpeedup(channel / perBatch),
        ];
      }),
    ),
  ].join('\n\n');
}

/** The echo worker: what a shard's loop would be with "execute" replaced by "send it back". */
function runEcho(task: EchoTask): void {
  if (task.transport === 'postMessage') {
    const port = parentPort!;
    port.on('message', (message: unknown) => port.postMessage(message));
    return;
  }
  const channel = WorkerChannel.attach(task.description!, { spinMicros: task.spinMicros });
  while (channel.waitForWork(Infinity) !== 'closed') {
    for (let frame = channel.receive(); frame !== null; frame = channel.receive()) channel.reply(frame);
  }
}

if (!isMainThread && (workerData as Partial<EchoTask> | null)?.role === ECHO_ROLE) {
  runEcho(workerData as EchoTask);
} else if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${await runTransportBench()}\n`);
}
