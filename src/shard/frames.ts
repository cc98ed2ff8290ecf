/**
 * The frames a front and a shard worker exchange over their channel.
 *
 * Every frame starts with the request id (u32, chosen by the front) and a flags byte. A request or reply
 * larger than a ring can hold (values go up to 512 MB, rings are a few hundred KiB) travels as several
 * frames of the same id, all but the last flagged MORE; the receiver joins them. The common case, one
 * frame, is built in one buffer (header included) and decoded in place: no copy beyond the ring's own.
 *
 *   request payload:  u8 db | u8 protocol | u16 command | u32 argc | u32 length × argc | argument bytes
 *
 * The protocol byte's top bit (REQUEST_MAY_BLOCK) lets a blocking command (BLPOP …) block: the shard
 * then keeps the client waiting under the request's id (its token) instead of answering null, as it
 * answers inside MULTI/EXEC or for the front's own requests.
 *
 * `command` is the command's index in the command table plus one, as the front looked it up (so the shard
 * does not look it up again), or 0 for "look argv[0] up" (requests the front builds itself). Values from
 * SHARD_OP_BASE up name shard operations (ShardOp) rather than commands: no client can send one, since
 * the front only ever encodes table indexes for what clients send. An operation's one argument and its
 * reply are JSON.
 *
 * The execution time travels with each reply so that the front, which knows the client and the command,
 * keeps INFO commandstats and the SLOWLOG without a second message; so do the keyspace notifications the
 * command made (event-codec.ts), which the front publishes before it delivers the reply.
 *   reply payload:    f32 execution time in µs | u32 events length | events | the RESP bytes of the reply
 *
 * Multi-byte fields are little-endian.
 */
export const FRAME_HEADER_BYTES = 5;
/**
 * The id of frames that answer no request. Their payload starts with an UnsolicitedKind byte:
 *   Events  keyspace events of the shard's own work (active expiry): the encoded events
 *   Served  a blocked client was served: u32 token | a reply payload (as below)
 *   Ready   a key a notify-only waiter waits on became ready (blocked-waiters.ts): u32 token
 *   Propagated  the writes the shard applied since the last such frame (propagation.ts), sent ahead of
 *           the reply of the request that made them, so a reply never overtakes its own write
 * The front never gives a request this id.
 */
export const EVENTS_FRAME_ID = 0;
export const UnsolicitedKind = { Events: 0, Served: 1, Ready: 2, Propagated: 3 } as const;
/** Or'ed into a request's protocol byte: the command may block (see above). */
export const REQUEST_MAY_BLOCK = 0x80;
/**
 * Or'ed into a request's protocol byte: the request is one step of a command the front admitted whole
 * (an EXEC's, a multi-shard command's). The shard evicts before it as before any command but never
 * refuses it for memory, which would leave the command half done: Redis decides -OOM once, for the
 * whole command or transaction.
 */
export const REQUEST_STEP = 0x40;

/** The execution time and the keyspace events' length before the events and RESP bytes of a reply payload. */
export const REPLY_PREFIX_BYTES = 8;
/** Command values from here up are shard operations. */
export const SHARD_OP_BASE = 0xff00;
export const ShardOp = {
  /** JSON ShardStats: keyspace, counters and the arena's figures. */
  Stats: SHARD_OP_BASE,
  /** Blocks the shard for {millis} (DEBUG SLEEP). */
  Sleep: SHARD_OP_BASE + 1,
  /** DEBUG POPULATE {db, count, prefix, size, shard, shards}: the keys of this shard's slots. */
  Populate: SHARD_OP_BASE + 2,
  /** CONFIG SET of parameters shards follow: {name: value} (settings.ts). */
  Configure: SHARD_OP_BASE + 3,
  /** MEMORY PURGE: releases the arena's empty segments now; answers how many it released. */
  Purge: SHARD_OP_BASE + 4,
  /** WATCH {db, keys: base64[], watcher: client id}: the client starts watching the keys. */
  Watch: SHARD_OP_BASE + 5,
  /** {db, keys, watcher}: the client stops watching the keys. */
  Unwatch: SHARD_OP_BASE + 6,
  /** {db, keys, watcher}: whether any of the keys changed (or expired) since the client watched it. */
  WatchTouched: SHARD_OP_BASE + 7,
  /** {on: boolean}: whether changed keys are reported for CLIENT TRACKING. */
  Track: SHARD_OP_BASE + 8,
  /** {token, db, keys: base64[]}: a notify-only waiter on the keys (a blocking command across shards). */
  BlockNotify: SHARD_OP_BASE + 9,
  /** {token}: forgets the waiter; answers whether it was still waiting (timeouts, CLIENT UNBLOCK). */
  Unblock: SHARD_OP_BASE + 10,
  /** {held}: waiters are not served while held (a transaction holds the shard); release serves the ready ones. */
  HoldWaiters: SHARD_OP_BASE + 11,
  /** SABRE.PAGEMAP: the occupancy of every data page of the arena (operations.ts ShardPageMap). */
  PageMap: SHARD_OP_BASE + 12,
  /** {target, compression}: SAVE's part of this shard (rdb-files.ts), beside `target`; answers {keys} or {error}. */
  SaveRdbPart: SHARD_OP_BASE + 13,
  /** {target}: loads this shard's keys of the RDB file at `target`; answers {keys, expiredSkipped} or {error}. */
  LoadRdb: SHARD_OP_BASE + 14,
  /** {target, compression, shard}: opens a snapshot epoch and starts writing it beside `target` (snapshots.ts); answers {started}. */
  BeginSnapshot: SHARD_OP_BASE + 15,
  /** Where the background snapshot stands (snapshots.ts SnapshotStatus); taking a finished one closes its epoch. */
  SnapshotStatus: SHARD_OP_BASE + 16,
  /** Starts the shard's snapshot writer thread if it has none, ahead of BeginSnapshot. */
  PrepareSnapshot: SHARD_OP_BASE + 17,
  /** {on}: whether the shard keeps a propagation stream (propagation.ts), for the AOF and replicas. */
  Propagate: SHARD_OP_BASE + 20,
  /** {target, shard}: this shard's keys as commands (aof-base.ts), beside `target`; answers {keys, dirty} or {error}. */
  SaveAofPart: SHARD_OP_BASE + 21,
  /** Does nothing: its answer says that everything sent before it has run (and propagated). */
  Barrier: SHARD_OP_BASE + 22,
} as const;

const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);

/** Writes the reply prefix (execution time, events length) at `at`. */
export function writeReplyPrefix(target: Uint8Array, at: number, micros: number, eventsLength: number): void {
  f32[0] = micros;
  target[at] = f32Bytes[0];
  target[at + 1] = f32Bytes[1];
  target[at + 2] = f32Bytes[2];
  target[at + 3] = f32Bytes[3];
  target[at + 4] = eventsLength;
  target[at + 5] = eventsLength >>> 8;
  target[at + 6] = eventsLength >>> 16;
  target[at + 7] = eventsLength >>> 24;
}

/** The length of the keyspace events after a reply payload's prefix. */
export function readReplyEventsLength(payload: Uint8Array): number {
  return (payload[4] | (payload[5] << 8) | (payload[6] << 16) | (payload[7] << 24)) >>> 0;
}

/** The execution time a reply payload starts with. */
export function readReplyMicros(payload: Uint8Array): number {
  f32Bytes[0] = payload[0];
  f32Bytes[1] = payload[1];
  f32Bytes[2] = payload[2];
  f32Bytes[3] = payload[3];
  return f32[0];
}
export const FLAG_MORE = 1;
const REQUEST_FIXED_BYTES = 8;

interface Request {
  db: number;
  protocol: 2 | 3;
  /** REQUEST_MAY_BLOCK was set: a blocking command may block rather than answer null. */
  mayBlock: boolean;
  /** REQUEST_STEP was set: one step of a command admitted whole. */
  step: boolean;
  /** CommandSpec.index, or −1 when the shard is to look argv[0] up. */
  command: number;
  argv: Buffer[];
}

/** The bytes of a request as one message, frame header included. */
export function requestLength(argv: readonly Uint8Array[]): number {
  let bytes = FRAME_HEADER_BYTES + REQUEST_FIXED_BYTES + 4 * argv.length;
  for (let i = 0; i < argv.length; i++) bytes += argv[i].length;
  return bytes;
}

/**
 * Writes a request as one message, frame header first, into `target` (at least requestLength bytes):
 * the front encodes straight into the request ring this way, so arguments are copied once, from the
 * socket's chunk into shared memory. Hot path: plain byte stores, no DataView or Buffer methods.
 */
export function encodeRequestInto(
  target: Uint8Array,
  id: number,
  db: number,
  /** 2 or 3, with REQUEST_MAY_BLOCK or'ed in for a blocking command that may block, REQUEST_STEP for a step. */
  protocol: number,
  command: number,
  argv: readonly Uint8Array[],
): void {
  writeFrameHeader(target, id, false);
  const base = FRAME_HEADER_BYTES;
  const argc = argv.length;
  target[base] = db;
  target[base + 1] = protocol;
  target[base + 2] = (command + 1) & 0xff;
  target[base + 3] = (command + 1) >>> 8;
  writeU32(target, base + 4, argc);
  let lengths = base + REQUEST_FIXED_BYTES;
  let at = lengths + 4 * argc;
  for (let i = 0; i < argc; i++) {
    const arg = argv[i];
    writeU32(target, lengths, arg.length);
    lengths += 4;
    target.set(arg, at);
    at += arg.length;
  }
}

function writeU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value & 0xff;
  target[at + 1] = (value >>> 8) & 0xff;
  target[at + 2] = (value >>> 16) & 0xff;
  target[at + 3] = value >>> 24;
}

/**
 * A request as one message, frame header first. It is a frame as it stands when it fits the ring;
 * `framesOf` splits it otherwise.
 */
export function encodeRequest(id: number, db: number, protocol: number, command: number, argv: readonly Uint8Array[]): Buffer {
  const message = Buffer.allocUnsafe(requestLength(argv));
  encodeRequestInto(message, id, db, protocol, command, argv);
  return message;
}

/** The frames that carry a message built with its header (encodeRequest): itself, or its payload split. */
export function framesOf(message: Buffer, maxFrame: number): Buffer[] {
  return message.length <= maxFrame ? [message] : frame(frameId(message), message.subarray(FRAME_HEADER_BYTES), maxFrame);
}

export function writeFrameHeader(target: Uint8Array, id: number, more: boolean): void {
  writeU32(target, 0, id);
  target[4] = more ? FLAG_MORE : 0;
}

/** Splits a payload into frames of at most `maxFrame` bytes, each with the id and flags header. */
export function frame(id: number, payload: Uint8Array, maxFrame: number): Buffer[] {
  const room = maxFrame - FRAME_HEADER_BYTES;
  const frames: Buffer[] = [];
  for (let at = 0; at < payload.length || frames.length === 0; at += room) {
    const end = Math.min(payload.length, at + room);
    const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + end - at);
    writeFrameHeader(out, id, end < payload.length);
    out.set(payload.subarray(at, end), FRAME_HEADER_BYTES);
    frames.push(out);
  }
  return frames;
}

export function frameId(frameBytes: Uint8Array): number {
  return (frameBytes[0] | (frameBytes[1] << 8) | (frameBytes[2] << 16) | (frameBytes[3] << 24)) >>> 0;
}

export function frameHasMore(frameBytes: Uint8Array): boolean {
  return (frameBytes[4] & FLAG_MORE) !== 0;
}

/**
 * Joins the frames of one message. A single frame's payload is returned as a view of it; several are
 * copied into one buffer. Holds at most one partial message per id at a time. The message's id is its
 * last frame's (frameId).
 */
export class FrameAssembler {
  private readonly partial = new Map<number, Uint8Array[]>();

  /** The whole payload once the last frame of its id has arrived, else undefined. */
  add(frameBytes: Uint8Array): Uint8Array | undefined {
    const chunk = frameBytes.subarray(FRAME_HEADER_BYTES);
    // Hot path: a whole message in one frame while nothing is being joined needs no id or map.
    if (this.partial.size === 0 && !frameHasMore(frameBytes)) return chunk;
    const id = frameId(frameBytes);
    const parts = this.partial.get(id);
    if (frameHasMore(frameBytes)) {
      const copy = Uint8Array.from(chunk);
      if (parts === undefined) this.partial.set(id, [copy]);
      else parts.push(copy);
      return undefined;
    }
    if (parts === undefined) return chunk;
    this.partial.delete(id);
    parts.push(chunk);
    return Buffer.concat(parts);
  }
}

/** Decodes a request payload; argv are views of the payload (valid as long as it is). */
export function decodeRequest(payload: Uint8Array): Request {
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  const argc = view.readUInt32LE(4);
  const argv: Buffer[] = new Array(argc);
  let lengths = REQUEST_FIXED_BYTES;
  let at = REQUEST_FIXED_BYTES + 4 * argc;
  for (let i = 0; i < argc; i++) {
    const length = view.readUInt32LE(lengths);
    argv[i] = view.subarray(at, at + length);
    lengths += 4;
    at += length;
  }
  const flags = view[1];
  return {
    db: view[0],
    protocol: (flags & ~(REQUEST_MAY_BLOCK | REQUEST_STEP)) === 3 ? 3 : 2,
    mayBlock: (flags & REQUEST_MAY_BLOCK) !== 0,
    step: (flags & REQUEST_STEP) !== 0,
    command: view.readUInt16LE(2) - 1,
    argv,
  };
}
