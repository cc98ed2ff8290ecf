/**
 * Keyspace notifications on their way from a shard to the front: the events a command made travel in
 * its reply payload (frames.ts), between the execution time and the RESP reply, so they are published
 * before the reply is delivered and need no message of their own.
 *
 *   per event:  u32 db | u32 event length | event bytes | u32 key length | key bytes   (little-endian)
 */
import type { KeyspaceEvent } from './keyspace-signals.js';

/** The events as bytes; a view of a reused buffer, valid until the next call. */
let scratch = Buffer.allocUnsafe(4096);

export function encodeEvents(events: readonly KeyspaceEvent[]): Buffer {
  let bytes = 0;
  for (const { event, key } of events) bytes += 12 + Buffer.byteLength(event, 'latin1') + key.length;
  if (scratch.length < bytes) scratch = Buffer.allocUnsafe(Math.max(bytes, scratch.length * 2));
  let at = 0;
  for (const { db, event, key } of events) {
    scratch.writeUInt32LE(db, at);
    const eventLength = scratch.write(event, at + 8, 'latin1');
    scratch.writeUInt32LE(eventLength, at + 4);
    at += 8 + eventLength;
    scratch.writeUInt32LE(key.length, at);
    key.copy(scratch, at + 4);
    at += 4 + key.length;
  }
  return scratch.subarray(0, bytes);
}

export function decodeEvents(bytes: Uint8Array): KeyspaceEvent[] {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const events: KeyspaceEvent[] = [];
  for (let at = 0; at < view.length; ) {
    const db = view.readUInt32LE(at);
    const eventLength = view.readUInt32LE(at + 4);
    const event = view.toString('latin1', at + 8, at + 8 + eventLength);
    at += 8 + eventLength;
    const keyLength = view.readUInt32LE(at);
    const key = Buffer.from(view.subarray(at + 4, at + 4 + keyLength));
    at += 4 + keyLength;
    events.push({ db, event, key });
  }
  return events;
}
