/**
 * The hash of a key inside a shard's dictionary: MurmurHash3 (x86, 32-bit), seeded once per process.
 *
 * Hot path: it runs on every command that names a key. It reads four bytes per round from any
 * Uint8Array range (a request buffer or the arena), with no allocation and no DataView, and the seed is
 * random so that a client cannot aim many keys at one bucket chain (Redis seeds SipHash for the same
 * reason). Cluster routing uses CRC16 instead, as Redis Cluster prescribes; this hash never leaves the
 * process, so it may differ between runs.
 */
const SEED = (Math.random() * 0x100000000) >>> 0;

export function hashKey(bytes: Uint8Array, start: number, length: number, seed = SEED): number {
  let h = seed;
  const end4 = start + (length & ~3);
  let i = start;
  for (; i < end4; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = length & 3;
  if (rest !== 0) {
    let k = bytes[i];
    if (rest > 1) k ^= bytes[i + 1] << 8;
    if (rest > 2) k ^= bytes[i + 2] << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
