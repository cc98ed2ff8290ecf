/**
 * The frames a front and a shard worker exchange over their channel.
 *
 * Every frame starts with the request id (u32, chosen by the front) and a flags byte. A request or reply
 * larger than a ring can hold (values go up to 512 MB, rings are a few hundred KiB) travels as several
 * frames of the same id, all but the last flagged MORE; the receiver joins them. The common case, one
 * frame, is built in one buffer (header included) and decoded in place: no copy beyond the ring's own.
 *
 *   request payload:  u8 db | u8 protocol | u16 0 | u32 argc | u32 length × argc | argument bytes
 *   reply payload:    the RESP bytes of the reply, as the client must receive them
 *
 * Multi-byte fields are little-endian.
 */
export const FRAME_HEADER_BYTES = 5;
export const FLAG_MORE = 1;
const REQUEST_FIXED_BYTES = 8;

interface Request {
  id: number;
  db: number;
  protocol: 2 | 3;
  argv: Buffer[];
}

/**
 * A request as one message, frame header first (arguments are copied once, into it). It is a frame as it
 * stands when it fits the ring; `framesOf` splits it otherwise.
 */
export function encodeRequest(id: number, db: number, protocol: 2 | 3, argv: readonly Uint8Array[]): Buffer {
  let bytes = FRAME_HEADER_BYTES + REQUEST_FIXED_BYTES + 4 * argv.length;
  for (const arg of argv) bytes += arg.length;
  const message = Buffer.allocUnsafe(bytes);
  writeFrameHeader(message, id, false);
  const payload = message.subarray(FRAME_HEADER_BYTES);
  payload[0] = db;
  payload[1] = protocol;
  payload.writeUInt16LE(0, 2);
  payload.writeUInt32LE(argv.length, 4);
  let at = REQUEST_FIXED_BYTES;
  for (const arg of argv) {
    payload.writeUInt32LE(arg.length, at);
    at += 4;
  }
  for (const arg of argv) {
    payload.set(arg, at);
    at += arg.length;
  }
  return message;
}

/** The frames that carry a message built with its header (encodeRequest): itself, or its payload split. */
export function framesOf(message: Buffer, maxFrame: number): Buffer[] {
  return message.length <= maxFrame ? [message] : frame(frameId(message), message.subarray(FRAME_HEADER_BYTES), maxFrame);
}

export function writeFrameHeader(target: Uint8Array, id: number, more: boolean): void {
  target[0] = id & 0xff;
  target[1] = (id >>> 8) & 0xff;
  target[2] = (id >>> 16) & 0xff;
  target[3] = id >>> 24;
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
 * Joins the frames of one message. A single frame is returned as a view of itself; several are copied
 * into one buffer. Holds at most one partial message per id at a time.
 */
export class FrameAssembler {
  private readonly partial = new Map<number, Uint8Array[]>();

  /** The whole payload once the last frame of its id has arrived, else undefined. */
  add(frameBytes: Uint8Array): { id: number; payload: Uint8Array } | undefined {
    const id = frameId(frameBytes);
    const chunk = frameBytes.subarray(FRAME_HEADER_BYTES);
    const parts = this.partial.get(id);
    if (frameHasMore(frameBytes)) {
      const copy = Uint8Array.from(chunk);
      if (parts === undefined) this.partial.set(id, [copy]);
      else parts.push(copy);
      return undefined;
    }
    if (parts === undefined) return { id, payload: chunk };
    this.partial.delete(id);
    parts.push(chunk);
    return { id, payload: Buffer.concat(parts) };
  }
}

/** Decodes a request payload; argv are views of the payload (valid as long as it is). */
export function decodeRequest(id: number, payload: Uint8Array): Request {
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
  return { id, db: view[0], protocol: view[1] === 3 ? 3 : 2, argv };
}
