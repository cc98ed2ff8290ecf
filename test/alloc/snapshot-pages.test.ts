/**
 * SnapshotPages: an arena's read side as of a snapshot epoch. Bytes announced with beforeRead read as they
 * were when the epoch began, whatever the owner wrote since (small slots, runs, and a dedicated segment
 * past the 1 MiB a handle can address); only announced pages are fetched; settle() lets go of them past
 * the budget, and views taken before stay readable.
 */
import { describe, expect, it } from 'vitest';
import { Arena, ArenaReader, PAGE_SIZE, SnapshotPages, byteOffsetOf, segmentOf } from 'native-free-alloc';

function filled(arena: Arena, size: number, seed: number): number {
  const handle = arena.alloc(size);
  arena.beforeWrite(handle, 0, size);
  const bytes = arena.bytes(handle, size);
  for (let i = 0; i < size; i++) bytes[i] = (seed + i * 7) & 255;
  return handle;
}

function expectPattern(bytes: Uint8Array, seed: number): void {
  for (let i = 0; i < bytes.length; i += 997) expect(bytes[i], `byte ${i}`).toBe((seed + i * 7) & 255);
  expect(bytes[bytes.length - 1]).toBe((seed + (bytes.length - 1) * 7) & 255);
}

describe('SnapshotPages', () => {
  it('reads what was there when the epoch began, fetching only what it is told', () => {
    const arena = new Arena();
    const small = filled(arena, 200, 1);
    const run = filled(arena, 40_000, 2);
    const huge = filled(arena, 3 << 20, 3);
    const epoch = arena.beginSnapshot();
    const reader = ArenaReader.attach(arena.describe().description);
    const pages = new SnapshotPages(reader, epoch);
    // The owner overwrites everything, frees one allocation and reuses its memory.
    for (const [handle, size] of [[small, 200], [run, 40_000], [huge, 3 << 20]] as const) {
      arena.beforeWrite(handle, 0, size);
      arena.bytes(handle, size).fill(0xee);
    }
    arena.free(small, 200);
    filled(arena, 200, 9);

    expectPattern(pages.bytes(small, 200), 1);
    expectPattern(pages.bytes(run, 40_000), 2);
    expect(pages.fetchedPages).toBeLessThanOrEqual(2 + Math.ceil(40_000 / PAGE_SIZE) + 1);
    pages.beforeRead(huge, 0, 3 << 20);
    const view = pages.u8[segmentOf(huge)].subarray(byteOffsetOf(huge), byteOffsetOf(huge) + (3 << 20));
    expectPattern(view, 3);
    expect(arena.stats().cowPages).toBeGreaterThan((3 << 20) / PAGE_SIZE);
    arena.endSnapshot();
    reader.close();
  });

  it('lets go of fetched pages past its budget, and earlier views still read', () => {
    const arena = new Arena();
    const handles = Array.from({ length: 64 }, (_, i) => filled(arena, 16_000, i));
    const epoch = arena.beginSnapshot();
    const reader = ArenaReader.attach(arena.describe().description);
    const pages = new SnapshotPages(reader, epoch, 64 * 1024);
    const first = pages.bytes(handles[0], 16_000);
    for (const handle of handles.slice(1, 8)) pages.beforeRead(handle, 0, 16_000);
    expect(pages.held).toBeGreaterThanOrEqual(64 * 1024);
    pages.settle();
    expect(pages.held).toBe(0);
    expectPattern(first, 0);
    expectPattern(pages.bytes(handles[5], 16_000), 5);
    pages.settle();
    expect(pages.held).toBeGreaterThan(0);
    arena.endSnapshot();
    reader.close();
  });
});
