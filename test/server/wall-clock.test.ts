/**
 * The wall clock behind TIME and MONITOR: Date.now()'s milliseconds with microseconds below them, never
 * outside the millisecond Date.now() reads, never going backwards.
 */
import { describe, expect, it } from 'vitest';
import { wallClockMicros } from '../../src/server/wall-clock.js';

describe('wallClockMicros', () => {
  it('stays within the millisecond Date.now() reads and never goes backwards', () => {
    let previous = 0;
    let subMillisecond = 0;
    for (let i = 0; i < 50_000; i++) {
      const before = Date.now();
      const micros = wallClockMicros();
      const after = Date.now();
      expect(micros >= before * 1000 && micros < (after + 1) * 1000).toBe(true);
      expect(micros >= previous).toBe(true);
      if (micros % 1000 !== 0) subMillisecond++;
      previous = micros;
    }
    // Within a millisecond the calls are told apart by the monotonic clock.
    expect(subMillisecond).toBeGreaterThan(0);
  });
});
