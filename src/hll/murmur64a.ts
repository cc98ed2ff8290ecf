/**
 * MurmurHash64A (Austin Appleby's 64-bit hash for 64-bit platforms), the hash Redis's HyperLogLog feeds
 * every element through, and the (register, run length) pair an element maps to.
 *
 * This is PFADD's hot path: every element is hashed once. The 64-bit state is kept as two unsigned
 * 32-bit halves in module variables rather than BigInt: BigInt arithmetic allocates a heap object per
 * operation (tens per element here) and is several times slower, while 32-bit halves stay in registers
 * as small integers and allocate nothing. Each 64-bit product is assembled from 16-bit partial products
 * (exact in doubles) plus Math.imul for the cross terms, which only matter modulo 2^32.
 *
 * Input blocks are read little-endian, as Redis does on the x86 and ARM machines it runs on, so the
 * registers match a real redis-server byte for byte.
 */

/** The multiplier 0xc6a4a7935bd1e995, as halves. */
const M_HIGH = 0xc6a4a793;
const M_LOW = 0x5bd1e995;
/** The shift R = 47 of the mixing steps, which moves the high half right by 15 into the low half. */
const R_FROM_HIGH = 47 - 32;

/** The state h and the block k, as unsigned 32-bit halves. */
let hHigh = 0;
let hLow = 0;
let kHigh = 0;
let kLow = 0;
/** The last product, written by multiply(). */
let productHigh = 0;
let productLow = 0;

/** (aHigh:aLow) × (bHigh:bLow) mod 2^64 into productHigh:productLow. */
function multiply(aHigh: number, aLow: number, bHigh: number, bLow: number): void {
  const a0 = aLow & 0xffff;
  const a1 = aLow >>> 16;
  const b0 = bLow & 0xffff;
  const b1 = bLow >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  // The middle column with the carry out of the low one: below 3 × 2^16, so no overflow anywhere.
  const middle = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  productLow = ((middle << 16) | (p00 & 0xffff)) >>> 0;
  const high = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (middle >>> 16);
  productHigh = (high + Math.imul(aHigh, bLow) + Math.imul(aLow, bHigh)) >>> 0;
}

/** x ^= x >> 47 on the halves (hHigh, hLow). */
function mixState(): void {
  hLow = (hLow ^ (hHigh >>> R_FROM_HIGH)) >>> 0;
}

/** The hash's high and low 32 bits, written by murmurHash64A(). */
export const hashResult = { high: 0, low: 0 };

/** MurmurHash64A of bytes[0, length) with a 32-bit seed; the result is left in hashResult. */
export function murmurHash64A(bytes: Uint8Array, seed: number): void {
  const length = bytes.length;
  multiply(0, length >>> 0, M_HIGH, M_LOW);
  hHigh = productHigh;
  hLow = (productLow ^ seed) >>> 0;
  const blocksEnd = length & ~7;
  for (let at = 0; at < blocksEnd; at += 8) {
    kLow = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
    kHigh = (bytes[at + 4] | (bytes[at + 5] << 8) | (bytes[at + 6] << 16) | (bytes[at + 7] << 24)) >>> 0;
    multiply(kHigh, kLow, M_HIGH, M_LOW);
    kLow = (productLow ^ (productHigh >>> R_FROM_HIGH)) >>> 0;
    kHigh = productHigh;
    multiply(kHigh, kLow, M_HIGH, M_LOW);
    hHigh = (hHigh ^ productHigh) >>> 0;
    hLow = (hLow ^ productLow) >>> 0;
    multiply(hHigh, hLow, M_HIGH, M_LOW);
    hHigh = productHigh;
    hLow = productLow;
  }
  const tail = length & 7;
  if (tail !== 0) {
    // The 1..7 remaining bytes, little-endian, xor-ed into h before one more multiply.
    for (let i = tail - 1; i >= 0; i--) {
      const byte = bytes[blocksEnd + i];
      if (i >= 4) hHigh = (hHigh ^ (byte << ((i - 4) * 8))) >>> 0;
      else hLow = (hLow ^ (byte << (i * 8))) >>> 0;
    }
    multiply(hHigh, hLow, M_HIGH, M_LOW);
    hHigh = productHigh;
    hLow = productLow;
  }
  mixState();
  multiply(hHigh, hLow, M_HIGH, M_LOW);
  hHigh = productHigh;
  hLow = productLow;
  mixState();
  hashResult.high = hHigh;
  hashResult.low = hLow;
}
