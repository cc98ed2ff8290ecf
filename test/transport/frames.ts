/**
 * Self-checking frames for the channel tests: `[seq u32][body][FNV-1a of seq+body u32]`, the body a
 * pseudo-random function of seq, so either side can verify a frame's integrity and its place in order
 * without having seen what was sent.
 */

export const MIN_CHECKED_FRAME = 8;

/** Writes the checked frame `seq` of `length` (>= 8) bytes into `into` and returns the view written. */
export function writeChecked(into: Uint8Array, seq: number, length: number): Uint8Array {
  const frame = into.subarray(0, length);
  const bodyEnd = length - 4;
  frame[0] = seq & 255;
  frame[1] = (seq >>> 8) & 255;
  frame[2] = (seq >>> 16) & 255;
  frame[3] = seq >>> 24;
  let x = seq ^ 0x9e3779b9;
  for (let i = 4; i < bodyEnd; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    frame[i] = x >>> 24;
  }
  const sum = fnv1a(frame, bodyEnd);
  frame[bodyEnd] = sum & 255;
  frame[bodyEnd + 1] = (sum >>> 8) & 255;
  frame[bodyEnd + 2] = (sum >>> 16) & 255;
  frame[bodyEnd + 3] = sum >>> 24;
  return frame;
}

/** The sequence number a checked frame carries. */
export function seqOf(frame: Uint8Array): number {
  return (frame[0] | (frame[1] << 8) | (frame[2] << 16) | (frame[3] << 24)) >>> 0;
}

/** Whether the frame's checksum matches its bytes (the body itself is covered by the checksum). */
export function checksumHolds(frame: Uint8Array): boolean {
  if (frame.length < MIN_CHECKED_FRAME) return false;
  const bodyEnd = frame.length - 4;
  const stored = (frame[bodyEnd] | (frame[bodyEnd + 1] << 8) | (frame[bodyEnd + 2] << 16) | (frame[bodyEnd + 3] << 24)) >>> 0;
  return fnv1a(frame, bodyEnd) === stored;
}

function fnv1a(bytes: Uint8Array, end: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/** A size for frame `seq` in [8, 8 + spread), with a rare large one up to `large`, from a hash of seq. */
export function sizeFor(seq: number, salt: number, spread: number, large: number): number {
  let h = Math.imul(seq ^ salt, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  if (h % 1000 === 0) return MIN_CHECKED_FRAME + (h >>> 10) % (large - MIN_CHECKED_FRAME);
  return MIN_CHECKED_FRAME + (h >>> 10) % spread;
}
