import { describe, expect, it } from 'vitest';
import { Crc64, crc64 } from '../../src/persistence/crc64.js';
import { lzfCompress, lzfDecompress } from '../../src/persistence/lzf.js';

/** A small deterministic generator, so a failing case can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('crc64 (Redis Jones)', () => {
  it('matches the check value of Redis crc64 test', () => {
    expect(crc64(Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
    expect(crc64(new Uint8Array(0))).toBe(0n);
  });

  it('matches the checksum redis-server 7.0 put on DUMP of the integer 12', () => {
    // redis-cli DUMP: type 0, int8 12, RDB version 10, CRC64 little-endian
    const payload = Buffer.from('00c00c0a003c2af8515c04bcd5', 'hex');
    expect(crc64(payload.subarray(0, 5))).toBe(payload.readBigUInt64LE(5));
  });

  it('gives the same value fed in pieces', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog, again and again.');
    const running = new Crc64().update(data.subarray(0, 7)).update(data.subarray(7, 30)).update(data.subarray(30));
    expect(running.value).toBe(crc64(data));
    expect(Buffer.from(running.littleEndian()).readBigUInt64LE()).toBe(crc64(data));
  });
});

describe('lzf', () => {
  it('compresses repetitive data and restores it', () => {
    const input = Buffer.from('abcabcabcabcabcabcabcabcabcabcabcabcabcabcabc'.repeat(20));
    const packed = lzfCompress(input, input.length - 4);
    expect(packed).toBeDefined();
    expect(packed!.length).toBeLessThan(input.length / 4);
    expect(Buffer.from(lzfDecompress(packed!, input.length))).toEqual(input);
  });

  it('decodes a hand-made stream with literal runs and an overlapping back-reference', () => {
    // literal "ab", then copy 6 bytes from 2 back: "abababab"
    const stream = Uint8Array.from([1, 0x61, 0x62, (4 << 5) | 0, 1]);
    expect(Buffer.from(lzfDecompress(stream, 8)).toString()).toBe('abababab');
  });

  it('gives up when the output would not fit the limit', () => {
    const random = seeded(7);
    const noise = Uint8Array.from({ length: 200 }, () => Math.floor(random() * 256));
    expect(lzfCompress(noise, noise.length - 4)).toBeUndefined();
  });

  it('refuses malformed streams', () => {
    expect(() => lzfDecompress(Uint8Array.from([5, 1, 2]), 6)).toThrow();
    expect(() => lzfDecompress(Uint8Array.from([0x20, 9]), 3)).toThrow();
    expect(() => lzfDecompress(Uint8Array.from([0, 1]), 2)).toThrow();
  });

  it('round-trips random data of every shape (fuzz)', () => {
    const random = seeded(42);
    for (let round = 0; round < 150; round++) {
      const length = 1 + Math.floor(random() * 20000);
      const alphabet = 1 + Math.floor(random() * 255);
      const data = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        // mixes runs, repeats from far back and noise
        const pick = random();
        if (pick < 0.2 && i > 10) data[i] = data[i - 1 - Math.floor(random() * Math.min(i - 1, 9000))];
        else if (pick < 0.4 && i > 0) data[i] = data[i - 1];
        else data[i] = Math.floor(random() * alphabet);
      }
      const packed = lzfCompress(data, length + Math.ceil(length / 32) + 64);
      expect(packed).toBeDefined();
      expect(Buffer.compare(lzfDecompress(packed!, length), data)).toBe(0);
    }
  });
});
