/**
 * Worker side of the channel tests. It runs the loop a shard will run (waitForWork, receive, reply,
 * flush) in one of a few modes, and posts a summary when the front closes the channel; the thread then
 * ends on its own, which is what a clean shutdown means.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WorkerChannel, type ChannelDescription, type WorkerChannelStats } from '../../src/transport/channel.js';
import { TransportError } from '../../src/transport/errors.js';
import { checksumHolds, seqOf, sizeFor, writeChecked } from './frames.js';

export type WorkerMode =
  /** Verify every request (checksum, order); answer each with a checked reply of another size. */
  | 'integrity'
  /** Send every request back as it came. */
  | 'echo'
  /** Verify every request and send nothing back: only released room can wake a front with a queue. */
  | 'sink'
  /** Answer each request with `fanout` checked replies, to fill a small reply ring. */
  | 'fanout'
  /** Try to reply with a frame larger than the reply ring, then report the error code as a reply. */
  | 'too-large'
  /** Attach a second time, which must fail. */
  | 'double-attach';

export interface WorkerTask {
  mode: WorkerMode;
  description: ChannelDescription;
  spinMicros?: number;
  /** waitForWork timeout: each 'timeout' is counted as a tick of periodic work. */
  tickMillis?: number;
  /** Sleep this long before attaching, so the front fills the request ring first. */
  startDelayMillis?: number;
  fanout?: number;
  /** For 'integrity': reply sizes, as sizeFor's spread and large bound. */
  replySpread?: number;
  replyLarge?: number;
}

export interface WorkerSummary {
  received: number;
  replied: number;
  ticks: number;
  errors: string[];
  stats: WorkerChannelStats;
  attachError?: string;
}

const task = workerData as WorkerTask;

if (task.startDelayMillis !== undefined) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, task.startDelayMillis);
}

const channel = WorkerChannel.attach(task.description, { spinMicros: task.spinMicros ?? 0 });
const errors: string[] = [];
const scratch = new Uint8Array(channel.maxReplyLength);
let received = 0;
let replied = 0;
let ticks = 0;
let attachError: string | undefined;

if (task.mode === 'double-attach') {
  try {
    WorkerChannel.attach(task.description);
  } catch (error) {
    attachError = error instanceof TransportError ? error.code : String(error);
  }
}

function handle(frame: Uint8Array): void {
  switch (task.mode) {
    case 'integrity': {
      if (!checksumHolds(frame)) errors.push(`request ${received}: bad checksum (length ${frame.length})`);
      else if (seqOf(frame) !== received) errors.push(`request ${received}: carries seq ${seqOf(frame)}`);
      // Encode the reply in place, as a shard writes RESP straight into the ring.
      const length = sizeFor(received, 0x5eed, task.replySpread ?? 100, task.replyLarge ?? 1000);
      const view = channel.reserveReply(length);
      writeChecked(view, received, length);
      channel.finishReply(length);
      replied++;
      break;
    }
    case 'sink':
      if (!checksumHolds(frame) || seqOf(frame) !== received) errors.push(`request ${received}: bad frame`);
      break;
    case 'echo':
    case 'double-attach':
      channel.reply(frame);
      replied++;
      break;
    case 'fanout':
      for (let i = 0; i < (task.fanout ?? 1); i++) {
        channel.reply(writeChecked(scratch, replied, sizeFor(replied, 7, 120, 200)));
        replied++;
      }
      break;
    case 'too-large':
      try {
        channel.reply(new Uint8Array(channel.maxReplyLength + 1));
        errors.push('an oversized reply was accepted');
      } catch (error) {
        channel.reply(new TextEncoder().encode(error instanceof TransportError ? error.code : String(error)));
        replied++;
      }
      break;
  }
  received++;
}

for (;;) {
  const result = channel.waitForWork(task.tickMillis ?? Infinity);
  if (result === 'closed') break;
  if (result === 'timeout') {
    ticks++;
    continue;
  }
  for (let frame = channel.receive(); frame !== null; frame = channel.receive()) handle(frame);
}

const summary: WorkerSummary = { received, replied, ticks, errors: errors.slice(0, 20), stats: channel.stats(), attachError };
parentPort!.postMessage(summary);
