/**
 * MEMORY, as Redis 7.0 answers it, with the arenas' own figures: nothing here is estimated. USAGE runs
 * on the key's shard (commands/memory.ts); STATS, DOCTOR and MALLOC-STATS read every shard's figures;
 * PURGE gives every arena's empty segments back to the OS at once.
 *
 * How sabre's figures fill Redis's STATS fields is memory-figures.ts's to say (INFO memory reads the
 * same figures); each db.N overhead is the bytes of that database's key dictionary and volatile array.
 */
import { fragmentation } from 'native-free-alloc';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { ShardOp } from '../shard/frames.js';
import type { ShardStats } from '../shard/shard.js';
import { humanBytes } from './info.js';
import { memoryFigures, ratio, type MemoryFigures } from './memory-figures.js';
import { container, helpLines } from './subcommands.js';

/** The fields of MEMORY STATS in Redis's order, values before formatting. */
type StatsField = { name: string; kind: 'integer' | 'double'; value: number } | { name: string; kind: 'map'; fields: Map<string, number> };

function statsFields(f: MemoryFigures): StatsField[] {
  const total = f.used;
  const report = fragmentation(f.arena, f.rss, total);
  const dbFields: StatsField[] = [];
  for (const [index, { main, expires }] of f.databases) {
    const fields = new Map([['overhead.hashtable.main', main], ['overhead.hashtable.expires', expires], ['overhead.hashtable.slot-to-keys', 0]]);
    dbFields.push({ name: `db.${index}`, kind: 'map', fields });
  }
  const int = (name: string, value: number): StatsField => ({ name, kind: 'integer', value });
  const double = (name: string, value: number): StatsField => ({ name, kind: 'double', value });
  return [
    int('peak.allocated', f.peak),
    int('total.allocated', total),
    int('startup.allocated', f.startup),
    int('replication.backlog', 0),
    int('clients.slaves', 0),
    int('clients.normal', 0),
    int('cluster.links', 0),
    int('aof.buffer', 0),
    int('lua.caches', 0),
    int('functions.caches', 0),
    ...dbFields,
    int('overhead.total', f.overhead),
    int('keys.count', f.keys),
    int('keys.bytes-per-key', f.keys === 0 ? 0 : Math.floor(f.net / f.keys)),
    int('dataset.bytes', f.dataset),
    double('dataset.percentage', ratio(f.dataset * 100, f.net)),
    double('peak.percentage', ratio(total * 100, f.peak)),
    int('allocator.allocated', total),
    int('allocator.active', f.arena.activeBytes),
    int('allocator.resident', f.arena.committedBytes),
    double('allocator-fragmentation.ratio', report.allocatorFragRatio),
    int('allocator-fragmentation.bytes', report.allocatorFragBytes),
    double('allocator-rss.ratio', report.allocatorRssRatio),
    int('allocator-rss.bytes', report.allocatorRssBytes),
    double('rss-overhead.ratio', ratio(f.rss, f.arena.committedBytes)),
    int('rss-overhead.bytes', f.rss - f.arena.committedBytes),
    double('fragmentation', report.memFragmentationRatio),
    int('fragmentation.bytes', report.memFragmentationBytes),
  ];
}

function writeStats(writer: ReplyWriter, fields: readonly StatsField[]): void {
  writer.mapHeader(fields.length);
  for (const field of fields) {
    writer.bulk(field.name);
    if (field.kind === 'map') {
      writer.mapHeader(field.fields.size);
      for (const [name, value] of field.fields) {
        writer.bulk(name);
        writer.integer(value);
      }
    } else if (field.kind === 'double') writer.double(field.value);
    else writer.integer(field.value);
  }
}

/** Below this much allocated memory Redis's doctor declines to judge, and so does sabre's. */
const DOCTOR_MIN_BYTES = 5 * 1024 * 1024;
/** Waste that a ratio above 1.1 must also reach in bytes before it is worth reporting. */
const DOCTOR_WASTE_BYTES = 10 * 1024 * 1024;

function doctorText(f: MemoryFigures): string {
  const used = f.arena.allocatedBytes;
  if (used < DOCTOR_MIN_BYTES) {
    return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
  }
  const report = fragmentation(f.arena, f.rss, used);
  const issues: string[] = [];
  if (f.peak > used * 1.5) {
    issues.push(`* Peak memory: the arenas once held ${humanBytes(f.peak)}, ${(f.peak / used).toFixed(2)} times the ${humanBytes(used)} they hold now. Pages freed since are reused first; MEMORY PURGE gives empty segments back at once.`);
  }
  if (report.allocatorFragRatio > 1.1 && report.allocatorFragBytes > DOCTOR_WASTE_BYTES) {
    issues.push(`* Allocator fragmentation: pages in use hold ${humanBytes(report.allocatorFragBytes)} of free slots (ratio ${report.allocatorFragRatio.toFixed(2)}). Active defragmentation moves live objects out of sparse slabs.`);
  }
  if (report.allocatorRssRatio > 1.1 && report.allocatorRssBytes > DOCTOR_WASTE_BYTES) {
    issues.push(`* Allocator RSS overhead: the arenas keep ${humanBytes(report.allocatorRssBytes)} of segments in free pages and metadata (ratio ${report.allocatorRssRatio.toFixed(2)}). Only a segment with nothing left in it goes back to the OS: active defragmentation empties sparse segments, and MEMORY PURGE releases empty ones at once.`);
  }
  const rssOverhead = f.rss - f.arena.committedBytes;
  if (ratio(f.rss, f.arena.committedBytes) > 1.1 && rssOverhead > DOCTOR_WASTE_BYTES) {
    issues.push(`* Process overhead: the process is ${humanBytes(rssOverhead)} larger than the arenas' segments (Node.js heaps, code, client buffers).`);
  }
  if (issues.length === 0) return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
  return `Sam, I detected a few issues in this sabre instance memory implants:\n\n${issues.join('\n\n')}\n\nI'm here to keep you safe, Sam. I want to help you.\n`;
}

function mallocStatsText(shards: readonly ShardStats[]): string {
  const lines = ['___ Begin native-free-alloc statistics ___'];
  shards.forEach(({ arena }, index) => {
    lines.push(
      `shard ${index}: requested ${arena.requestedBytes}, allocated ${arena.allocatedBytes}, active ${arena.activeBytes}, committed ${arena.committedBytes} (peak ${arena.peakCommittedBytes})`,
      `  segments ${arena.segments} (released ${arena.segmentsReleased}), live allocations ${arena.liveAllocations}, allocs ${arena.totalAllocations}, frees ${arena.totalFrees}`,
      `  run pages ${arena.runPages}, dedicated bytes ${arena.dedicatedBytes}, defrag moves ${arena.moves}, cow pages ${arena.cowPages}`,
      '  size  pages/slab  slots/slab  slabs  full  live slots  capacity  utilization',
    );
    for (const c of arena.classes) {
      if (c.slabs === 0) continue;
      const use = ratio(c.liveSlots, c.capacitySlots).toFixed(3);
      lines.push(`  ${[c.size, c.pagesPerSlab, c.slotsPerSlab, c.slabs, c.fullSlabs, c.liveSlots, c.capacitySlots, use].map(String).join('  ')}`);
    }
  });
  lines.push('___ End native-free-alloc statistics ___');
  return `${lines.join('\n')}\n`;
}

export const memory = container({
  usage: ({ client, argv, server }) => server.onKeyShard(client, argv[2], [...argv]).then((reply) => (w) => w.raw(reply)),
  stats: async ({ server }) => {
    const shards = await server.shardStats();
    const fields = statsFields(memoryFigures(shards, server.infoFacts(shards).notePeakMemory));
    return (w) => writeStats(w, fields);
  },
  doctor: async ({ server }) => {
    const shards = await server.shardStats();
    const text = doctorText(memoryFigures(shards, server.infoFacts(shards).notePeakMemory));
    return (w) => w.verbatim(text);
  },
  'malloc-stats': async ({ server }) => {
    const text = mallocStatsText(await server.shardStats());
    return (w) => w.verbatim(text);
  },
  purge: ({ client, server }) => server.onEveryShard(client, ShardOp.Purge, null).then(() => (w) => w.ok()),
  help: helpLines([
    'DOCTOR',
    '    Return memory problems reports.',
    'MALLOC-STATS',
    '    Return internal statistics report from the memory allocator.',
    'PURGE',
    '    Attempt to purge dirty pages for reclamation by the allocator.',
    'STATS',
    '    Return information about the memory usage of the server.',
    'USAGE <key> [SAMPLES <count>]',
    '    Return memory in bytes used by <key> and its value. Nested values are',
    '    sampled up to <count> times (default: 5, 0 means sample all).',
  ]),
});
