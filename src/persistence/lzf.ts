/**
 * LZF, the compression Redis applies to RDB strings (`rdbcompression`). The stream is a sequence of
 * chunks, each opened by a control byte:
 *   000LLLLL                    a literal run: the next L + 1 bytes (1..32) are copied as they are
 *   LLLOOOOO [extra] OOOOOOOO   a back-reference: copy length L + 2 bytes, or 7 + extra + 2 when L is 7,
 *                               from (output position − offset − 1), offset being the 13 bits O
 * A back-reference may overlap the bytes it produces (offset smaller than the length repeats a pattern).
 *
 * The compressor is our own greedy one: a table of the last position where each 3-byte prefix was seen,
 * tried once per input position. Its output is valid LZF but need not equal Redis's byte for byte.
 */

const MAX_LITERAL = 32;
const MAX_OFFSET = 1 << 13;
const MAX_MATCH = 7 + 255 + 2;
const HASH_BITS = 14;

/**
 * Hot path: compression runs on every long string of a save, mostly short ones, so nothing is cleared
 * or allocated per call. The table of last positions is shared by every call: a call stores its
 * positions plus a base above every value stored before it, so older entries read as "not seen" without
 * clearing 64 KiB per string (which was three quarters of a save's time, profiled on 100-byte values).
 * The output goes to one growing scratch buffer.
 */
const lastSeen = new Int32Array(1 << HASH_BITS);
let nextBase = 1;
let scratch = new Uint8Array(1024);

function prefixHash(input: Uint8Array, at: number): number {
  const word = (input[at] << 16) | (input[at + 1] << 8) | input[at + 2];
  return (Math.imul(word, 0x9e3779b1) >>> (32 - HASH_BITS)) & ((1 << HASH_BITS) - 1);
}

/**
 * `input` compressed, or undefined when the result would take more than `limit` bytes (Redis keeps a
 * string compressed only when that saves at least 4 bytes, so callers pass input.length − 4). The
 * result is a view of scratch memory, valid until the next call.
 */
export function lzfCompress(input: Uint8Array, limit: number): Uint8Array | undefined {
  const length = input.length;
  if (length === 0 || limit <= 0) return undefined;
  // Literal runs are checked before they are written; a back-reference (3 bytes at most) after.
  if (scratch.length < limit + 3) scratch = new Uint8Array(Math.max(limit + 3, scratch.length * 2));
  const output = scratch;
  if (nextBase + length >= 2 ** 31 - 1) {
    lastSeen.fill(0);
    nextBase = 1;
  }
  const base = nextBase;
  nextBase += length + 1;
  let out = 0;
  let literalStart = 0;
  let at = 0;
  // Flushes input[literalStart, end) as literal runs of at most 32 bytes; false when past the limit.
  const flushLiterals = (end: number): boolean => {
    while (literalStart < end) {
      const run = Math.min(MAX_LITERAL, end - literalStart);
      if (out + 1 + run > limit) return false;
      output[out++] = run - 1;
      output.set(input.subarray(literalStart, literalStart + run), out);
      out += run;
      literalStart += run;
    }
    return true;
  };
  // Hot loop: one hash probe per position; a match advances past all its bytes at once.
  while (at + 2 < length) {
    // The pending literals will take at least their own bytes.
    if (out + (at - literalStart) > limit) return undefined;
    const slot = prefixHash(input, at);
    const candidate = lastSeen[slot] - base;
    lastSeen[slot] = at + base;
    const offset = at - candidate - 1;
    if (candidate >= 0 && offset < MAX_OFFSET && input[candidate] === input[at] && input[candidate + 1] === input[at + 1] && input[candidate + 2] === input[at + 2]) {
      let matched = 3;
      const most = Math.min(MAX_MATCH, length - at);
      while (matched < most && input[candidate + matched] === input[at + matched]) matched++;
      if (!flushLiterals(at)) return undefined;
      const code = matched - 2;
      if (code < 7) {
        output[out++] = (code << 5) | (offset >> 8);
      } else {
        output[out++] = (7 << 5) | (offset >> 8);
        output[out++] = code - 7;
      }
      output[out++] = offset & 0xff;
      at += matched;
      literalStart = at;
      continue;
    }
    at++;
  }
  if (!flushLiterals(length) || out > limit) return undefined;
  return output.subarray(0, out);
}

/** Decompresses `input` into exactly `expectedLength` bytes; throws when the stream is malformed. */
export function lzfDecompress(input: Uint8Array, expectedLength: number): Uint8Array {
  const output = new Uint8Array(expectedLength);
  let at = 0;
  let out = 0;
  // Hot loop: byte copies, so that overlapping back-references repeat their pattern.
  while (at < input.length) {
    const control = input[at++];
    if (control < MAX_LITERAL) {
      const run = control + 1;
      if (at + run > input.length || out + run > expectedLength) throw new Error('LZF literal run out of bounds');
      output.set(input.subarray(at, at + run), out);
      at += run;
      out += run;
      continue;
    }
    let matched = control >> 5;
    if (matched === 7) {
      if (at >= input.length) throw new Error('LZF truncated back-reference');
      matched += input[at++];
    }
    if (at >= input.length) throw new Error('LZF truncated back-reference');
    let from = out - ((control & 0x1f) << 8) - input[at++] - 1;
    matched += 2;
    if (from < 0 || out + matched > expectedLength) throw new Error('LZF back-reference out of bounds');
    while (matched-- > 0) output[out++] = output[from++];
  }
  if (out !== expectedLength) throw new Error('LZF output length mismatch');
  return output;
}
