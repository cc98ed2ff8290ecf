import { describe, expect, it } from 'vitest';
import {
  AllocatorError,
  Arena,
  REGULAR_METADATA_PAGES,
  PAGE_SIZE,
  SEGMENT_SIZE,
  byteOffsetOf,
  checkArena,
  makeHandle,
  segmentOf,
  type AllocatorErrorCode,
} from '../../native-free-alloc/src/index.js';
import { stamp, verify } from './patterns.js';

function refusal(code: AllocatorErrorCode, call: () => unknown): void {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AllocatorError);
  expect((caught as AllocatorError).code).toBe(code);
  expect((caught as AllocatorError).message.length).toBeGreaterThan(code.length + 10);
}

/** An arena with a few live allocations whose bytes are stamped, to show that refusals change nothing. */
function populated() {
  const arena = new Arena();
  const live = [24, 100, 3000, 20_000, 400_000].map((size, id) => {
    const handle = arena.alloc(size);
    stamp(arena, handle, size, id);
    return { handle, size, id };
  });
  const before = arena.stats();
  const unchanged = () => {
    checkArena(arena);
    const after = arena.stats();
    expect(after.allocatedBytes).toBe(before.allocatedBytes);
    expect(after.requestedBytes).toBe(before.requestedBytes);
    expect(after.liveAllocations).toBe(before.liveAllocations);
    for (const e of live) expect(verify(arena, e.handle, e.size, e.id)).toBe(-1);
  };
  return { arena, live, unchanged };
}

describe('bad input is refused with a clear error and leaves the arena consistent', () => {
  it('refuses handles that were never handed out', () => {
    const { arena, live, unchanged } = populated();
    const small = live[0].handle;
    refusal('EINVALID', () => arena.free(0, 24));
    refusal('EINVALID', () => arena.free(-5, 24));
    refusal('EINVALID', () => arena.free(1.5, 24));
    refusal('EINVALID', () => arena.free(Number.NaN, 24));
    refusal('EINVALID', () => arena.free(makeHandle(3000, 0), 24));
    // Inside the metadata pages of a live segment.
    refusal('EINVALID', () => arena.free(makeHandle(segmentOf(small), 64), 24));
    // Inside a slot, not at its start.
    refusal('EINVALID', () => arena.free(small + 1, 24));
    // The tail page of a page run.
    const run = live[3].handle;
    refusal('EINVALID', () => arena.free(makeHandle(segmentOf(run), byteOffsetOf(run) + PAGE_SIZE), 20_000));
    // A page that holds nothing.
    refusal('EDOUBLEFREE', () => arena.free(makeHandle(segmentOf(small), (REGULAR_METADATA_PAGES + 200) * PAGE_SIZE), 8));
    unchanged();
  });

  it('refuses double frees of slots, runs and dedicated segments', () => {
    const { arena, unchanged } = populated();
    for (const size of [24, 20_000, 2 * SEGMENT_SIZE]) {
      const handle = arena.alloc(size);
      arena.free(handle, size);
      refusal(size > SEGMENT_SIZE ? 'EINVALID' : 'EDOUBLEFREE', () => arena.free(handle, size));
    }
    unchanged();
  });

  it('refuses a size that does not match the allocation', () => {
    const { arena, live, unchanged } = populated();
    refusal('ESIZE', () => arena.free(live[0].handle, 100));
    refusal('ESIZE', () => arena.free(live[3].handle, 30_000));
    refusal('ESIZE', () => arena.free(live[4].handle, 24));
    refusal('ESIZE', () => arena.realloc(live[1].handle, 24, 50));
    refusal('EINVALID', () => arena.free(live[0].handle, -1));
    unchanged();
  });

  it('refuses sizes beyond the configured limit, and nonsense sizes', () => {
    const arena = new Arena({ maxAllocationSize: 1 << 20 });
    refusal('ETOOLARGE', () => arena.alloc((1 << 20) + 1));
    refusal('EINVALID', () => arena.alloc(-1));
    refusal('EINVALID', () => arena.alloc(2.5));
    refusal('EINVALID', () => arena.alloc(Number.NaN));
    const handle = arena.alloc(10);
    refusal('ETOOLARGE', () => arena.realloc(handle, 10, 2 << 20));
    expect(arena.stats().liveAllocations).toBe(1);
    checkArena(arena);
  });

  it('refuses allocations past the memory limit, keeps what it has, and recovers after frees', () => {
    const arena = new Arena({ memoryLimit: 4 * SEGMENT_SIZE });
    const live: { handle: number; size: number; id: number }[] = [];
    let refused: unknown;
    for (let id = 0; id < 100_000 && refused === undefined; id++) {
      try {
        const size = 200 + (id % 700);
        const handle = arena.alloc(size);
        stamp(arena, handle, size, id);
        live.push({ handle, size, id });
      } catch (error) {
        refused = error;
      }
    }
    expect(refused).toBeInstanceOf(AllocatorError);
    expect((refused as AllocatorError).code).toBe('ENOMEM');
    expect(arena.stats().committedBytes).toBeLessThanOrEqual(4 * SEGMENT_SIZE);
    refusal('ENOMEM', () => arena.alloc(2 * SEGMENT_SIZE));
    checkArena(arena);
    for (const e of live) expect(verify(arena, e.handle, e.size, e.id)).toBe(-1);
    for (const e of live.splice(0, live.length / 2)) arena.free(e.handle, e.size);
    const again = arena.alloc(500);
    expect(again).toBeGreaterThan(0);
    checkArena(arena);
  });

  it('refuses snapshot calls that do not fit the state', () => {
    const arena = new Arena();
    refusal('ESTATE', () => arena.endSnapshot());
    arena.beginSnapshot();
    refusal('ESTATE', () => arena.beginSnapshot());
    arena.endSnapshot();
  });
});
