/**
 * The memory figures INFO memory and MEMORY STATS / DOCTOR share, from every shard's counters at one
 * moment and the process's RSS: nothing is estimated, and each figure is computed once here so the two
 * commands cannot disagree.
 *
 * How sabre's figures fill Redis's: used is the bytes the arenas handed out (used_memory,
 * total.allocated), startup what they held once the empty databases existed, and overhead is startup
 * plus the growth of the databases' key dictionaries and volatile arrays since then (their empty tables
 * are in startup already, so they are not counted twice). dataset is used − overhead: exactly the sum
 * of every key's MEMORY USAGE. Replication backlog, AOF buffer, Lua and function caches do not exist in
 * sabre, and client buffers live on the front's heap, outside the arenas: their share is really 0.
 */
import { processRss, type ArenaStats } from 'native-free-alloc';
import type { ShardStats } from '../shard/shard.js';

/** Every shard's arena counters added up, size classes included. */
export function sumArenas(shards: readonly ShardStats[]): ArenaStats {
  const total: ArenaStats = { ...shards[0].arena, classes: shards[0].arena.classes.map((c) => ({ ...c })) };
  for (const shard of shards.slice(1)) {
    const arena = shard.arena;
    for (const key of Object.keys(total) as (keyof ArenaStats)[]) {
      if (key !== 'classes') total[key] += arena[key];
    }
    arena.classes.forEach((c, index) => {
      const sum = total.classes[index];
      sum.liveSlots += c.liveSlots;
      sum.capacitySlots += c.capacitySlots;
      sum.slabs += c.slabs;
      sum.fullSlabs += c.fullSlabs;
      sum.pages += c.pages;
    });
  }
  return total;
}

export interface MemoryFigures {
  arena: ArenaStats;
  /** used_memory: the arenas' allocated bytes. */
  used: number;
  peak: number;
  startup: number;
  /** used_memory_overhead: startup plus the databases' bookkeeping grown since. */
  overhead: number;
  /** used_memory_dataset: used − overhead. */
  dataset: number;
  /** What the data added since startup (Redis's net_usage). */
  net: number;
  rss: number;
  keys: number;
  /** The databases that hold keys, with their dictionaries' bytes (MEMORY STATS db.N). */
  databases: Map<number, { main: number; expires: number }>;
}

export function memoryFigures(shards: readonly ShardStats[], notePeak: (used: number) => number): MemoryFigures {
  const arena = sumArenas(shards);
  const databases = new Map<number, { main: number; expires: number }>();
  let keys = 0;
  shards[0].databases.forEach((_, index) => {
    const count = shards.reduce((sum, shard) => sum + shard.databases[index].keys, 0);
    keys += count;
    // Redis lists only the databases that hold keys.
    if (count === 0) return;
    const main = shards.reduce((sum, shard) => sum + shard.databases[index].overheadMain, 0);
    const expires = shards.reduce((sum, shard) => sum + shard.databases[index].overheadExpires, 0);
    databases.set(index, { main, expires });
  });
  const used = arena.allocatedBytes;
  const startup = shards.reduce((sum, shard) => sum + shard.startupAllocated, 0);
  // Over every database, empty ones too: an emptied table may still be larger than at startup.
  const overheadGrowth = shards.reduce(
    (sum, shard) => sum + shard.databases.reduce((own, db) => own + db.overheadMain + db.overheadExpires, 0) - shard.startupOverhead,
    0,
  );
  const overhead = startup + overheadGrowth;
  return {
    arena,
    used,
    peak: notePeak(used),
    startup,
    overhead,
    dataset: used - overhead,
    net: used - startup,
    rss: processRss(),
    keys,
    databases,
  };
}

/** a / b, or 0 where b is 0 (an empty arena has no ratios). */
export const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
