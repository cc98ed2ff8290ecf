/**
 * Size classes for small objects.
 *
 * 8-byte steps up to 64 bytes, then four classes per doubling (80, 96, 112, 128, 160, …) up to 16 KiB,
 * which bounds internal waste at 25% and averages about 10%, the same spacing jemalloc (Redis's allocator)
 * uses, so allocated-bytes figures are comparable with Redis's.
 *
 * A class whose slots do not divide a 4 KiB page evenly gets a multi-page slab: the page count is the
 * smallest one (at most 16) that leaves under 1/64 of the slab unused, or else the least wasteful.
 * For example 1536-byte slots would waste 25% of a single page, but 3 pages hold exactly 8 of them.
 */
import { MAX_SIZE_CLASSES, PAGE_SHIFT, PAGE_SIZE } from './layout.js';

export const MAX_SMALL_SIZE = 16 * 1024;
export const MAX_SLAB_PAGES = 16;

function buildSizes(): number[] {
  const sizes: number[] = [];
  for (let s = 8; s <= 64; s += 8) sizes.push(s);
  for (let base = 64; base < MAX_SMALL_SIZE; base *= 2) {
    const step = base / 4;
    for (let i = 1; i <= 4; i++) sizes.push(base + i * step);
  }
  return sizes;
}

function bestSlabPages(size: number): number {
  let best = 1;
  let bestWaste = Infinity;
  for (let pages = 1; pages <= MAX_SLAB_PAGES; pages++) {
    const bytes = pages * PAGE_SIZE;
    if (bytes < size) continue;
    const waste = (bytes % size) / bytes;
    if (waste < 1 / 64) return pages;
    if (waste < bestWaste) {
      bestWaste = waste;
      best = pages;
    }
  }
  return best;
}

/** Slot size of each class, ascending. */
export const CLASS_SIZES: readonly number[] = buildSizes();
export const CLASS_COUNT = CLASS_SIZES.length;
if (CLASS_COUNT > MAX_SIZE_CLASSES) throw new Error(`${CLASS_COUNT} size classes, but segment metadata has room for ${MAX_SIZE_CLASSES}`);
/** Pages per slab of each class. */
export const CLASS_SLAB_PAGES: readonly number[] = CLASS_SIZES.map(bestSlabPages);
/** Slots per slab of each class. */
export const CLASS_SLOTS: readonly number[] = CLASS_SIZES.map(
  (size, c) => Math.floor((CLASS_SLAB_PAGES[c] << PAGE_SHIFT) / size),
);

/**
 * Size → class lookup table, one entry per 8-byte granule up to MAX_SMALL_SIZE (2 KiB of memory), so
 * the allocation fast path maps a size to its class with one array load instead of a search.
 */
const CLASS_BY_GRANULE = (() => {
  const table = new Uint8Array((MAX_SMALL_SIZE >>> 3) + 1);
  let c = 0;
  for (let g = 0; g < table.length; g++) {
    while (CLASS_SIZES[c] < g << 3) c++;
    table[g] = c;
  }
  return table;
})();

/** The class of a small request (1 ≤ size ≤ MAX_SMALL_SIZE). */
export function classOf(size: number): number {
  return CLASS_BY_GRANULE[(size + 7) >>> 3];
}

/** The usable size of an allocation made with `size` bytes: its slot, or its pages for a run or segment. */
export function usableSize(size: number): number {
  if (size <= MAX_SMALL_SIZE) return CLASS_SIZES[classOf(size)];
  return ((size + PAGE_SIZE - 1) >>> PAGE_SHIFT) << PAGE_SHIFT;
}
