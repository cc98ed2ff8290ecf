import { describe, expect, it } from 'vitest';
import { Arena, checkArena, segmentOf, byteOffsetOf, SEGMENT_SIZE } from '../../native-free-alloc/src/index.js';
import { Random } from '../helpers/random.js';
import { stamp, verify } from './patterns.js';

interface Live {
  handle: number;
  size: number;
  id: number;
}

/** Mostly small objects, some medium, a few page runs and, rarely, a dedicated-segment giant. */
function randomSize(random: Random): number {
  const roll = random.next();
  if (roll < 0.7) return random.int(1, 256);
  if (roll < 0.9) return random.int(257, 16 * 1024);
  if (roll < 0.995) return random.int(16 * 1024 + 1, 256 * 1024);
  return random.int(256 * 1024 + 1, 3 * 1024 * 1024);
}

function runSequence(seed: number, operations: number) {
  const random = new Random(seed);
  const arena = new Arena();
  const live: Live[] = [];
  let nextId = 1;
  let requested = 0;
  for (let op = 0; op < operations; op++) {
    const roll = random.next();
    if (live.length === 0 || roll < 0.5) {
      const size = randomSize(random);
      const handle = arena.alloc(size);
      const id = nextId++;
      stamp(arena, handle, size, id);
      live.push({ handle, size, id });
      requested += size;
    } else if (roll < 0.8) {
      const at = random.int(0, live.length - 1);
      const victim = live[at];
      expect(verify(arena, victim.handle, victim.size, victim.id)).toBe(-1);
      arena.free(victim.handle, victim.size);
      live[at] = live[live.length - 1];
      live.pop();
      requested -= victim.size;
    } else {
      const entry = live[random.int(0, live.length - 1)];
      const newSize = random.next() < 0.5 ? randomSize(random) : Math.max(0, entry.size + random.int(-64, 64));
      const handle = arena.realloc(entry.handle, entry.size, newSize);
      expect(verify(arena, handle, Math.min(entry.size, newSize), entry.id)).toBe(-1);
      requested += newSize - entry.size;
      entry.handle = handle;
      entry.size = newSize;
      entry.id = nextId++;
      stamp(arena, handle, newSize, entry.id);
    }
    if (op % 2000 === 0) checkArena(arena);
  }
  return { arena, live, requested };
}

describe('randomised alloc / free / realloc sequences', () => {
  for (const seed of [1, 7, 42, 1234, 99991]) {
    it(`keeps every live allocation intact and every counter exact (seed ${seed})`, () => {
      const { arena, live, requested } = runSequence(seed, 20_000);
      checkArena(arena);
      for (const entry of live) expect(verify(arena, entry.handle, entry.size, entry.id)).toBe(-1);

      // No two live allocations overlap: sort by address and compare neighbours' usable extents.
      const spans = live
        .map((e) => ({ segment: segmentOf(e.handle), start: byteOffsetOf(e.handle), end: byteOffsetOf(e.handle) + arena.usableSize(e.size) }))
        .sort((a, b) => a.segment - b.segment || a.start - b.start);
      for (let i = 1; i < spans.length; i++) {
        if (spans[i].segment === spans[i - 1].segment) expect(spans[i].start).toBeGreaterThanOrEqual(spans[i - 1].end);
      }

      const stats = arena.stats();
      expect(stats.requestedBytes).toBe(requested);
      expect(stats.liveAllocations).toBe(live.length);
      expect(stats.allocatedBytes).toBe(live.reduce((sum, e) => sum + arena.usableSize(e.size), 0));
      expect(stats.allocatedBytes).toBeGreaterThanOrEqual(stats.requestedBytes);
      expect(stats.activeBytes).toBeGreaterThanOrEqual(stats.allocatedBytes - stats.dedicatedBytes);
      expect(stats.committedBytes).toBeGreaterThanOrEqual(stats.activeBytes);

      for (const entry of live) arena.free(entry.handle, entry.size);
      checkArena(arena);
      const empty = arena.stats();
      expect(empty.requestedBytes).toBe(0);
      expect(empty.allocatedBytes).toBe(0);
      expect(empty.activePages).toBe(0);
      expect(empty.liveAllocations).toBe(0);
      // A few empty segments are retained to absorb churn (the floor); purge() gives even those back.
      expect(empty.segments).toBeLessThanOrEqual(arena.retainEmptySegments);
      expect(empty.committedBytes).toBeLessThanOrEqual(arena.retainEmptySegments * SEGMENT_SIZE);
      arena.purge();
      expect(arena.stats().committedBytes).toBe(0);
      expect(arena.stats().peakCommittedBytes).toBeGreaterThan(SEGMENT_SIZE);
    });
  }

  it('checks every invariant after every call in debug mode', () => {
    const random = new Random(5);
    const arena = new Arena({ debug: true });
    const live: Live[] = [];
    for (let op = 0; op < 600; op++) {
      if (live.length === 0 || random.next() < 0.6) {
        const size = randomSize(random);
        live.push({ handle: arena.alloc(size), size, id: op });
      } else {
        const victim = live.splice(random.int(0, live.length - 1), 1)[0];
        arena.free(victim.handle, victim.size);
      }
    }
    expect(arena.stats().liveAllocations).toBe(live.length);
  });
});
