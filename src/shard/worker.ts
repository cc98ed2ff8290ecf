/**
 * The shard worker thread: attaches the channel the front made for it, builds its shard, and serves
 * requests until the front closes the channel. Requests are executed in arrival order; replies are
 * staged as they are produced and published in batches (the channel flushes when the worker next waits),
 * so a pipeline costs one wake-up, not one per command.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WorkerChannel, type ChannelDescription } from '../transport/channel.js';
import {
  EVENTS_FRAME_ID,
  FRAME_HEADER_BYTES,
  FrameAssembler,
  REPLY_PREFIX_BYTES,
  SHARD_OP_BASE,
  UnsolicitedKind,
  decodeRequest,
  frame,
  frameId,
  writeFrameHeader,
  writeReplyPrefix,
} from './frames.js';
import { runOperation } from './operations.js';
import { encodeEvents } from './event-codec.js';
import { Shard, type ShardOptions } from './shard.js';

export interface ShardWorkerData {
  channel: ChannelDescription;
  shard?: ShardOptions;
}

const NO_EVENTS = new Uint8Array(0);

function serve(data: ShardWorkerData): void {
  const channel = WorkerChannel.attach(data.channel);
  const shard = new Shard(data.shard);
  // ShardPool exposes gc to its workers (see there); elsewhere segments wait for V8's own collections.
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect !== undefined) shard.defrag.segmentsReleased = () => collect();
  const assembler = new FrameAssembler();
  const maxReply = channel.maxReplyLength;
  /** A frame that answers no request (frames.ts): its kind, then `body`. */
  const unsolicited = (kind: number, body: Uint8Array): void => {
    const payload = Buffer.allocUnsafe(1 + body.length);
    payload[0] = kind;
    payload.set(body, 1);
    for (const out of frame(EVENTS_FRAME_ID, payload, maxReply)) channel.reply(out);
  };
  /** The keyspace events signalled since they were last taken, encoded (a view valid until the next call). */
  const takeEvents = (): Uint8Array => {
    const signalled = shard.signals.events;
    if (signalled.length === 0) return NO_EVENTS;
    const events = encodeEvents(signalled);
    signalled.length = 0;
    return events;
  };
  /** What the shard propagated since it was last taken, in a frame of its own ahead of the reply it belongs with. */
  const sendPropagated = (): void => {
    const propagated = shard.signals.propagation?.take();
    if (propagated === undefined) return;
    const length = FRAME_HEADER_BYTES + 1 + propagated.length;
    if (length > maxReply) return unsolicited(UnsolicitedKind.Propagated, propagated);
    // The common case, encoded straight into the ring as replies are.
    const out = channel.reserveReply(length);
    writeFrameHeader(out, EVENTS_FRAME_ID, false);
    out[FRAME_HEADER_BYTES] = UnsolicitedKind.Propagated;
    out.set(propagated, FRAME_HEADER_BYTES + 1);
    channel.finishReply(length);
  };
  const served = (token: number, reply: Buffer): void => {
    sendPropagated();
    const events = takeEvents();
    const body = Buffer.allocUnsafe(4 + REPLY_PREFIX_BYTES + events.length + reply.length);
    body.writeUInt32LE(token, 0);
    writeReplyPrefix(body, 4, 0, events.length);
    body.set(events, 4 + REPLY_PREFIX_BYTES);
    body.set(reply, 4 + REPLY_PREFIX_BYTES + events.length);
    unsolicited(UnsolicitedKind.Served, body);
  };
  const ready = (token: number): void => {
    const body = Buffer.allocUnsafe(4);
    body.writeUInt32LE(token, 0);
    unsolicited(UnsolicitedKind.Ready, body);
  };
  for (;;) {
    // Background frees, evictions and a defragmentation cycle's unspent share turn the wait into a poll.
    const state = channel.waitForWork(shard.idleWaitMs());
    if (state === 'closed') break;
    for (let incoming = channel.receive(); incoming !== null; incoming = channel.receive()) {
      const id = frameId(incoming);
      const payload = assembler.add(incoming);
      if (payload === undefined) continue;
      const request = decodeRequest(payload);
      const started = performance.now();
      const reply =
        request.command >= SHARD_OP_BASE
          ? runOperation(shard, request.command, request.argv[0])
          : shard.execute(request.db, request.protocol, request.argv, request.command, request.mayBlock ? id : 0, request.step);
      const micros = (performance.now() - started) * 1000;
      sendPropagated();
      const events = takeEvents();
      const body = REPLY_PREFIX_BYTES + events.length;
      const length = FRAME_HEADER_BYTES + body + reply.length;
      if (length <= maxReply) {
        // The common case: header, prefix, events and reply written straight into the ring's reserved space.
        const out = channel.reserveReply(length);
        writeFrameHeader(out, id, false);
        writeReplyPrefix(out, FRAME_HEADER_BYTES, micros, events.length);
        out.set(events, FRAME_HEADER_BYTES + REPLY_PREFIX_BYTES);
        out.set(reply, FRAME_HEADER_BYTES + body);
        channel.finishReply(length);
      } else {
        const whole = Buffer.allocUnsafe(body + reply.length);
        writeReplyPrefix(whole, 0, micros, events.length);
        whole.set(events, REPLY_PREFIX_BYTES);
        whole.set(reply, body);
        for (const out of frame(id, whole, maxReply)) channel.reply(out);
      }
      // Clients blocked on keys this request made ready are served before the next request runs.
      if (shard.waiters.anyReady) shard.serveBlocked(served, ready);
    }
    // Replies go out before any spare-time work, so a slice of background freeing never delays them.
    channel.flush();
    shard.idle();
    sendPropagated();
    // Events of the shard's own work (keys active expiry deleted) answer no request: frames of their own.
    const expired = takeEvents();
    if (expired.length !== 0) unsolicited(UnsolicitedKind.Events, expired);
  }
  shard.snapshots.close();
  // What is left, for whoever started the worker (tests check that idle expiry ran).
  parentPort?.postMessage({ keys: shard.databases.reduce((sum, db) => sum + db.size, 0) });
}

serve(workerData as ShardWorkerData);
