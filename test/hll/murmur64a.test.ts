/**
 * MurmurHash64A in 32-bit halves against two oracles: a plain BigInt transcription of the algorithm
 * (all 64 bits, every tail length, binary input), and a real redis-server, whose PFDEBUG DECODE of a
 * one-element HyperLogLog shows the register and run that element's hash gives.
 */
import { describe, expect, it } from 'vitest';
import { elementPattern, patternRegister, patternRun } from '../../src/hll/format.js';
import { hashResult, murmurHash64A } from '../../src/hll/murmur64a.js';
import { b } from '../helpers/differential.js';
import { redisPair } from '../helpers/in-process-sabre.js';
import { Random } from '../helpers/random.js';

const MASK = (1n << 64n) - 1n;
const M = 0xc6a4a7935bd1e995n;

function referenceHash(bytes: Uint8Array, seed: bigint): bigint {
  let h = (seed ^ (BigInt(bytes.length) * M)) & MASK;
  const blocks = bytes.length & ~7;
  for (let at = 0; at < blocks; at += 8) {
    let k = 0n;
    for (let i = 7; i >= 0; i--) k = (k << 8n) | BigInt(bytes[at + i]);
    k = (k * M) & MASK;
    k ^= k >> 47n;
    k = (k * M) & MASK;
    h ^= k;
    h = (h * M) & MASK;
  }
  const tail = bytes.length & 7;
  if (tail > 0) {
    for (let i = tail - 1; i >= 0; i--) h ^= BigInt(bytes[blocks + i]) << BigInt(8 * i);
    h = (h * M) & MASK;
  }
  h ^= h >> 47n;
  h = (h * M) & MASK;
  h ^= h >> 47n;
  return h;
}

const ours = (bytes: Uint8Array, seed: number): bigint => {
  murmurHash64A(bytes, seed);
  return (BigInt(hashResult.high) << 32n) | BigInt(hashResult.low);
};

describe('MurmurHash64A', () => {
  it('equals a BigInt transcription on every length 0..100 and random binary input', () => {
    const random = new Random(11);
    for (let round = 0; round < 2000; round++) {
      const bytes = Uint8Array.from({ length: round < 101 ? round : random.int(0, 300) }, () => random.int(0, 255));
      const seed = round % 3 === 0 ? 0xadc83b19 : random.int(0, 0xffffffff);
      expect(ours(bytes, seed), `length ${bytes.length}, seed ${seed}`).toBe(referenceHash(bytes, BigInt(seed)));
    }
  });

  it('gives the extremes: all-zero and all-one inputs', () => {
    for (const fill of [0x00, 0xff]) {
      for (const length of [1, 7, 8, 9, 16, 1000]) {
        const bytes = new Uint8Array(length).fill(fill);
        expect(ours(bytes, 0xadc83b19)).toBe(referenceHash(bytes, 0xadc83b19n));
      }
    }
  });
});

describe('element → (register, run), against redis-server', () => {
  const pair = redisPair();

  it('lands every element in the register, with the run, that Redis shows in PFDEBUG DECODE', async (context) => {
    const redis = pair.connection(2);
    if (redis === undefined) return context.skip();
    const random = new Random(5);
    const elements = Array.from({ length: 400 }, (_, i) =>
      i % 2 === 0 ? b(`element:${i}`) : Buffer.from(Uint8Array.from({ length: random.int(0, 40) }, () => random.int(0, 255))),
    );
    const replies = await redis.run(
      elements.flatMap((element) => [[b('DEL'), b('one')], [b('PFADD'), b('one'), element], [b('PFDEBUG'), b('DECODE'), b('one')]]),
    );
    elements.forEach((element, i) => {
      // "Z:a v:run,1 Z:b" (or z:), the zeros before the value being the register's index.
      const decoded = replies[i * 3 + 2].toString('latin1');
      const match = /^\$\d+\r\n(?:[zZ]:(\d+) )?v:(\d+),1/.exec(decoded);
      expect(match, decoded).not.toBeNull();
      const pattern = elementPattern(element);
      expect([patternRegister(pattern), patternRun(pattern)]).toEqual([Number(match![1] ?? 0), Number(match![2])]);
    });
  });
});
