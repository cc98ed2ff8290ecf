/**
 * The front's view of its shard workers: one worker thread and one channel per shard, request ids, and
 * reply reassembly. `send` hands a command to a shard and calls back with its RESP reply, from the event
 * loop, in the order the shard executed it. Nothing here blocks: the channels queue when a ring is full
 * and park with Atomics.waitAsync when idle.
 *
 * Sends are batched per event-loop turn: the first send of a turn opens a batch on that shard's channel
 * and a microtask commits every open batch, so a pipeline of a thousand commands costs one publication
 * and at most one wake-up per shard.
 */
import { Worker } from 'node:worker_threads';
import { FrontChannel } from '../transport/channel.js';
import { FrameAssembler, encodeRequest, framesOf } from '../shard/frames.js';
import type { ShardOptions } from '../shard/shard.js';
import type { ShardWorkerData } from '../shard/worker.js';

export type ReplyCallback = (reply: Uint8Array) => void;

interface ShardHandle {
  channel: FrontChannel;
  exited: Promise<unknown>;
  batchOpen: boolean;
}

export interface ShardPoolOptions {
  shards: number;
  shard?: ShardOptions;
  /** The worker module; defaults to the compiled shard worker beside this file. */
  workerUrl?: URL;
  /** Extra workerData (the test bootstrap passes the TypeScript file to load here). */
  workerData?: Record<string, unknown>;
}

export class ShardPool {
  private readonly shards: ShardHandle[] = [];
  private readonly callbacks = new Map<number, ReplyCallback>();
  private nextId = 1;
  private commitScheduled = false;

  private constructor(options: ShardPoolOptions, onWorkerExit: (shard: number, code: number) => void) {
    const workerUrl = options.workerUrl ?? new URL('../shard/worker.js', import.meta.url);
    for (let index = 0; index < options.shards; index++) {
      const channel = FrontChannel.create();
      const data: ShardWorkerData = { channel: channel.describe(), shard: options.shard };
      const worker = new Worker(workerUrl, { workerData: { ...options.workerData, ...data } });
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.on('exit', (code) => onWorkerExit(index, code));
      const assembler = new FrameAssembler();
      channel.onReplies((frames) => {
        for (const incoming of frames) {
          const message = assembler.add(incoming);
          if (message === undefined) continue;
          const callback = this.callbacks.get(message.id);
          this.callbacks.delete(message.id);
          callback?.(message.payload);
        }
      });
      this.shards.push({ channel, exited, batchOpen: false });
    }
  }

  static start(options: ShardPoolOptions, onWorkerExit: (shard: number, code: number) => void): ShardPool {
    return new ShardPool(options, onWorkerExit);
  }

  get size(): number {
    return this.shards.length;
  }

  /**
   * Sends argv to shard `shard` for database `db`; `callback` receives the reply (a view valid only
   * during the call). Replies of one shard arrive in the order of its sends.
   */
  send(shard: number, db: number, protocol: 2 | 3, argv: readonly Uint8Array[], callback: ReplyCallback): void {
    const handle = this.shards[shard];
    if (!handle.batchOpen) {
      handle.channel.beginBatch();
      handle.batchOpen = true;
      this.scheduleCommit();
    }
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0 || 1;
    this.callbacks.set(id, callback);
    for (const out of framesOf(encodeRequest(id, db, protocol, argv), handle.channel.maxRequestLength)) handle.channel.send(out);
  }

  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    queueMicrotask(() => {
      this.commitScheduled = false;
      for (const handle of this.shards) {
        if (handle.batchOpen) {
          handle.batchOpen = false;
          handle.channel.commit();
        }
      }
    });
  }

  /** Closes every channel; each worker finishes what it was sent and exits. */
  async close(): Promise<void> {
    await Promise.all(this.shards.map((handle) => handle.channel.close()));
    await Promise.all(this.shards.map((handle) => handle.exited));
  }
}
