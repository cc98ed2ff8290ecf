import { describe, expect, it } from 'vitest';
import { crc16, keySlot } from '../../src/cluster/slot.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('cluster key slots', () => {
  it('computes CRC16/XMODEM with its published check value', () => {
    expect(crc16(bytes('123456789'))).toBe(0x31c3);
  });

  it('hashes the first non-empty {tag}, as a real Redis 7 in cluster mode answers CLUSTER KEYSLOT', () => {
    // Slots read from `redis-cli cluster keyslot` on redis-server 7.0.15 with cluster-enabled yes.
    const oracle: [string, number][] = [
      ['123456789', 12739],
      ['{user1000}.following', 3443],
      ['foo{}{bar}', 8363],
      ['foo{{bar}}zap', 4015],
      ['foo{bar}{zap}', 5061],
      ['{}', 15257],
      ['a{', 14311],
      ['}{x}', 16287],
      ['', 0],
    ];
    for (const [key, slot] of oracle) expect(keySlot(bytes(key)), key).toBe(slot);
  });

  it('gives keys sharing a tag the same slot, and reads a key inside a larger buffer', () => {
    expect(keySlot(bytes('{user1000}.followers'))).toBe(keySlot(bytes('{user1000}.following')));
    const framed = bytes('xx{user1000}.followingyy');
    expect(keySlot(framed, 2, framed.length - 2)).toBe(3443);
  });
});
