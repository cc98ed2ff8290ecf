import { describe, expect, it } from 'vitest';
import { Arena, CLASS_SIZES, CLASS_SLAB_PAGES, CLASS_SLOTS, PAGE_SIZE, REGULAR_DATA_PAGES, checkArena, classOf, fragmentation, processRss } from '../../native-free-alloc/src/index.js';
import { Random } from '../helpers/random.js';
import { stamp, verify } from './patterns.js';

const MiB = 1024 * 1024;

async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (vitest.config.ts passes it)');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('memory goes back to the OS', () => {
  it('drops RSS when everything is freed and the segments are released', async () => {
    const arena = new Arena();
    const live: { handle: number; size: number }[] = [];
    await collect();
    const baseline = processRss();
    // 192 MiB of page runs plus 64 MiB of small slots, every byte written so the pages are resident.
    for (let i = 0; i < 3072; i++) live.push({ handle: arena.alloc(64 * 1024), size: 64 * 1024 });
    for (let i = 0; i < 640_000; i++) live.push({ handle: arena.alloc(100), size: 100 });
    for (const { handle, size } of live) arena.bytes(handle, size).fill(0xa5);
    const full = processRss();
    expect(full - baseline).toBeGreaterThan(200 * MiB);
    const peak = arena.stats();

    for (const { handle, size } of live) arena.free(handle, size);
    const afterFree = arena.stats();
    expect(afterFree.committedBytes).toBeLessThanOrEqual(arena.retainEmptySegments * MiB);
    expect(afterFree.segmentsReleased).toBeGreaterThan(peak.segments - arena.retainEmptySegments - 1);
    arena.purge();
    await collect();
    const released = processRss();
    // Everything the arena held above the baseline is back with the OS, bar allocator-unrelated noise.
    expect(released - baseline).toBeLessThan(40 * MiB);
    expect(full - released).toBeGreaterThan(200 * MiB);
  });
});

describe('defragmentation primitives', () => {
  it('moves live allocations out of sparse slabs, frees pages and segments, and keeps every byte', () => {
    const arena = new Arena();
    const random = new Random(3);
    let live: { handle: number; size: number; id: number }[] = [];
    for (let id = 0; id < 200_000; id++) {
      const size = random.int(16, 256);
      const handle = arena.alloc(size);
      stamp(arena, handle, size, id);
      live.push({ handle, size, id });
    }
    // Free a random 80%: most slabs keep a few live slots, so hardly a page empties by itself.
    live = live.filter((entry) => {
      if (random.next() < 0.8) {
        arena.free(entry.handle, entry.size);
        return false;
      }
      return true;
    });
    const sparse = arena.stats();
    const sparseReport = fragmentation(sparse, processRss());
    expect(sparseReport.allocatorFragRatio).toBeGreaterThan(3);

    // Visit objects in an order unrelated to their addresses, as a keyspace scan in hash order does.
    for (let i = live.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [live[i], live[j]] = [live[j], live[i]];
    }
    let moves = 0;
    for (let pass = 0; pass < 10; pass++) {
      let movedThisPass = 0;
      for (const entry of live) {
        if (arena.defragHint(entry.handle)) {
          entry.handle = arena.move(entry.handle, entry.size);
          movedThisPass++;
        }
      }
      moves += movedThisPass;
      if (movedThisPass === 0) break;
    }
    arena.purge();
    checkArena(arena);
    for (const entry of live) expect(verify(arena, entry.handle, entry.size, entry.id)).toBe(-1);

    const compact = arena.stats();
    expect(moves).toBeGreaterThan(0);
    expect(compact.moves).toBe(moves);
    expect(compact.liveAllocations).toBe(live.length);
    expect(compact.activePages).toBeLessThan(sparse.activePages * 0.4);
    // Whole segments emptied and went back: what stays committed is little more than the live pages.
    expect(compact.committedBytes).toBeLessThan(sparse.committedBytes * 0.4);
    expect(compact.committedBytes).toBeLessThan(compact.activeBytes * 1.5);
    expect(fragmentation(compact, processRss()).allocatorFragRatio).toBeLessThan(1.2);
  });

  it('counts the free pages held inside used segments, and a compaction plan empties the high segments', () => {
    const arena = new Arena();
    const size = 200;
    const handles = Array.from({ length: 40_000 }, () => arena.alloc(size));
    expect(arena.freePagesInUsedSegments()).toBeLessThan(REGULAR_DATA_PAGES);
    // Whole slabs freed in a stripe through every segment: pages empty, segments stay in use.
    const slots = CLASS_SLOTS[classOf(size)];
    const kept = handles.filter((handle, i) => {
      if (Math.floor(i / slots) % 3 === 0) return true;
      arena.free(handle, size);
      return false;
    });
    const striped = arena.stats();
    const held = arena.freePagesInUsedSegments();
    expect(held * PAGE_SIZE).toBeGreaterThan((striped.committedBytes - striped.activeBytes) / 2);
    // Slabs are full, so Redis's slab rule picks nothing; the default segment rule (1/8) neither.
    expect(kept.filter((handle) => arena.defragHint(handle)).length).toBe(0);
    const planned = arena.planSegmentCompaction();
    expect(planned).toBeGreaterThan(striped.segments / 3);
    const moved = kept.map((handle) => (arena.defragHint(handle) ? arena.move(handle, size) : handle));
    arena.purge();
    checkArena(arena);
    expect(arena.stats().moves).toBeGreaterThan(0);
    expect(arena.freePagesInUsedSegments()).toBeLessThan(held / 4);
    expect(arena.stats().committedBytes).toBeLessThan(striped.committedBytes * 0.5);
    for (const handle of moved) arena.free(handle, size);
    checkArena(arena);
  });

  it('reports the occupancy of every page', () => {
    const arena = new Arena();
    const a = arena.alloc(100);
    const b = arena.alloc(100);
    arena.alloc(40_000);
    const cls = classOf(100);
    const pages = [...arena.pages()];
    const slabPages = pages.filter((p) => p.slotSize === CLASS_SIZES[cls]);
    expect(slabPages.length).toBe(CLASS_SLAB_PAGES[cls]);
    expect(slabPages[0].live).toBe(2);
    expect(slabPages[0].capacity).toBe(Math.ceil(CLASS_SLOTS[cls] / CLASS_SLAB_PAGES[cls]));
    expect(pages.filter((p) => p.slotSize === 40_960).length).toBe(10);
    expect(arena.slabOccupancy(a)).toEqual({ live: 2, capacity: CLASS_SLOTS[cls], slotSize: CLASS_SIZES[cls] });
    arena.free(b, 100);
    expect(arena.slabOccupancy(a)?.live).toBe(1);
  });

  it('counts the slots straddling a page boundary in both pages, within each page\'s capacity', () => {
    const arena = new Arena();
    const cls = classOf(384);
    for (let i = 0; i < CLASS_SLOTS[cls]; i++) arena.alloc(384);
    const slabPages = [...arena.pages()].filter((p) => p.slotSize === CLASS_SIZES[cls]);
    expect(slabPages.length).toBe(CLASS_SLAB_PAGES[cls]);
    // A full slab: every page holds all it can, and a middle page more than slots / pages.
    for (const page of slabPages) expect(page.live).toBe(page.capacity);
    expect(Math.max(...slabPages.map((p) => p.capacity))).toBeGreaterThan(Math.ceil(CLASS_SLOTS[cls] / CLASS_SLAB_PAGES[cls]));
    arena.close();
  });
});
