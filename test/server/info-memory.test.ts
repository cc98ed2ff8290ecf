/**
 * INFO memory and the page map: sabre's memory section has every field a real redis-server 7.0 has, in
 * Redis's order, and its ratios and sabre_* detail agree with the counters they come from; MEMORY
 * DOCTOR and MALLOC-STATS answer in Redis's reply types, and DOCTOR names real fragmentation; SABRE.PAGEMAP's pages add up to the arena's
 * counters and stays out of COMMAND (COUNT, LIST, INFO, DOCS), so COMMAND answers as without it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { b } from '../helpers/differential.js';
import { rawBesideRedis } from '../helpers/sabre-server.js';

const text = (reply: Buffer) => reply.toString('latin1');
const cmd = (...args: string[]) => args.map(b);

/** An INFO reply's fields in order, as name → value. */
function infoFields(reply: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text(reply).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#') && !line.startsWith('$')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** key=value pairs of a detail line (sabre_shard_N, sabre_class_N). */
function pairs(value: string): Record<string, number> {
  return Object.fromEntries(value.split(',').map((pair) => pair.split('=')).map(([k, v]) => [k, Number(v)]));
}

/** The body of a bulk or verbatim string reply. */
function bulkBody(reply: Buffer): string {
  const body = text(reply).slice(text(reply).indexOf('\r\n') + 2, -2);
  return reply[0] === 0x3d ? body.slice(4) : body;
}

describe('INFO memory, sabre (2 shards) beside redis-server', () => {
  const servers = rawBesideRedis(['--shards', '2', '--enable-debug-command', 'yes']);
  const fill = [
    ...Array.from({ length: 300 }, (_, i) => cmd('SET', `key:${i}`, 'v'.repeat(10 + (i % 7) * 60))),
    cmd('SET', 'run', 'r'.repeat(40_000)),
    cmd('RPUSH', 'list', ...Array.from({ length: 200 }, (_, i) => `element-${i}`)),
    cmd('EXPIRE', 'key:1', '1000'),
  ];

  it('has every field of redis-server 7.0, in its order', async (context) => {
    if (servers.theirs === undefined) return context.skip();
    const [mine] = await servers.ours.run([cmd('INFO', 'memory')]);
    const [theirs] = await servers.theirs.run([cmd('INFO', 'memory')]);
    const ours = [...infoFields(mine).keys()];
    const reference = [...infoFields(theirs).keys()];
    expect(reference.length).toBeGreaterThan(40);
    expect(reference.filter((name) => !ours.includes(name))).toEqual([]);
    expect(ours.filter((name) => reference.includes(name))).toEqual(reference);
    expect(ours.filter((name) => !reference.includes(name)).every((name) => name.startsWith('sabre_'))).toBe(true);
  });

  it('computes the ratios from the counters it reports beside them', async () => {
    await servers.ours.run(fill);
    const [reply] = await servers.ours.run([cmd('INFO', 'memory')]);
    const f = infoFields(reply);
    const n = (name: string) => Number(f.get(name));
    const twoPlaces = (x: number) => x.toFixed(2);
    expect(n('used_memory')).toBe(n('allocator_allocated'));
    expect(f.get('allocator_frag_ratio')).toBe(twoPlaces(n('allocator_active') / n('allocator_allocated')));
    expect(n('allocator_frag_bytes')).toBe(n('allocator_active') - n('allocator_allocated'));
    expect(f.get('allocator_rss_ratio')).toBe(twoPlaces(n('allocator_resident') / n('allocator_active')));
    expect(n('allocator_rss_bytes')).toBe(n('allocator_resident') - n('allocator_active'));
    expect(f.get('rss_overhead_ratio')).toBe(twoPlaces(n('used_memory_rss') / n('allocator_resident')));
    expect(n('rss_overhead_bytes')).toBe(n('used_memory_rss') - n('allocator_resident'));
    expect(f.get('mem_fragmentation_ratio')).toBe(twoPlaces(n('used_memory_rss') / n('used_memory')));
    expect(n('mem_fragmentation_bytes')).toBe(n('used_memory_rss') - n('used_memory'));
    expect(n('used_memory_dataset')).toBe(n('used_memory') - n('used_memory_overhead'));
    expect(n('used_memory_dataset')).toBeGreaterThan(300 * 10);
    expect(n('used_memory_overhead')).toBeGreaterThanOrEqual(n('used_memory_startup'));
    const net = n('used_memory') - n('used_memory_startup');
    expect(f.get('used_memory_dataset_perc')).toBe(`${((100 * n('used_memory_dataset')) / net).toFixed(2)}%`);
    expect(n('allocator_active')).toBe(n('sabre_allocator_active_pages') * 4096);
    expect(n('sabre_allocator_run_pages')).toBeGreaterThanOrEqual(10);
    const version = (JSON.parse(readFileSync(new URL('../../native-free-alloc/package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(f.get('mem_allocator')).toBe(`native-free-alloc-${version}`);

    // The per-shard lines add up to the totals, and the size classes to the allocated bytes.
    const shards = [f.get('sabre_shard_0'), f.get('sabre_shard_1')].map((line) => pairs(line!));
    expect(f.has('sabre_shard_2')).toBe(false);
    for (const [field, total] of [['allocated', 'allocator_allocated'], ['active', 'allocator_active'], ['committed', 'allocator_resident'], ['requested', 'sabre_allocator_requested']]) {
      expect(shards[0][field] + shards[1][field], field).toBe(n(total));
    }
    const classes = [...f.entries()].filter(([name]) => name.startsWith('sabre_class_'));
    expect(classes.length).toBeGreaterThan(3);
    let classBytes = 0;
    for (const [name, value] of classes) {
      const c = pairs(value);
      expect(c.bytes).toBe(c.live * Number(name.slice('sabre_class_'.length)));
      expect(c.live).toBeLessThanOrEqual(c.capacity);
      classBytes += c.bytes;
    }
    expect(classBytes + n('sabre_allocator_run_pages') * 4096 + n('sabre_allocator_dedicated_bytes')).toBe(n('allocator_allocated'));
  });

  it('answers MEMORY DOCTOR and MALLOC-STATS in the reply types Redis uses, in RESP2 and RESP3', async (context) => {
    if (servers.theirs === undefined) return context.skip();
    for (const protocol of ['2', '3']) {
      const commands = [cmd('HELLO', protocol), cmd('MEMORY', 'DOCTOR'), cmd('MEMORY', 'MALLOC-STATS'), cmd('HELLO', '2')];
      const mine = await servers.ours.run(commands);
      const theirs = await servers.theirs.run(commands);
      for (const i of [1, 2]) expect(String.fromCharCode(mine[i][0]), `${protocol}: ${i}`).toBe(String.fromCharCode(theirs[i][0]));
    }
    const [malloc] = await servers.ours.run([cmd('MEMORY', 'MALLOC-STATS')]);
    expect(bulkBody(malloc)).toMatch(/size {2}pages\/slab {2}slots\/slab/);
  });

  it('maps every page: SABRE.PAGEMAP agrees with the arenas counters, and stays out of COMMAND', async (context) => {
    await servers.ours.run(fill);
    const [map, info] = await servers.ours.run([cmd('SABRE.PAGEMAP'), cmd('INFO', 'memory')]);
    const lines = bulkBody(map).trimEnd().split('\n');
    expect(lines[0]).toBe('shard,segment,page,kind,slot_size,live,capacity');
    const pages = lines.slice(1).map((line) => line.split(','));
    const f = infoFields(info);
    const activePages = pages.filter((page) => Number(page[5]) > 0);
    expect(activePages.length).toBe(Number(f.get('sabre_allocator_active_pages')));
    for (const shard of [0, 1]) {
      const own = activePages.filter((page) => page[0] === String(shard)).length;
      expect(own * 4096).toBe(pairs(f.get(`sabre_shard_${shard}`)!).active);
    }
    // Slab pages of each class are the pages INFO counts for it; no page holds more than it can.
    for (const [name, value] of [...f.entries()].filter(([key]) => key.startsWith('sabre_class_'))) {
      const size = name.slice('sabre_class_'.length);
      const slabPages = pages.filter((page) => page[3].startsWith('slab') && page[4] === size);
      expect(slabPages.length, name).toBe(pairs(value).pages);
    }
    expect(pages.every((page) => Number(page[5]) <= Number(page[6]))).toBe(true);
    expect(pages.some((page) => page[3] === 'run-head')).toBe(true);

    const [wrong, inMulti] = await servers.ours.run([cmd('SABRE.PAGEMAP', 'x'), cmd('MULTI'), cmd('sabre.pagemap'), cmd('DISCARD')]).then((r) => [r[0], r[2]]);
    expect(text(wrong)).toBe("-ERR wrong number of arguments for 'sabre.pagemap' command\r\n");
    expect(text(inMulti)).toMatch(/^-ERR unknown command 'sabre.pagemap'/);
    const [count, list] = await servers.ours.run([cmd('COMMAND', 'COUNT'), cmd('COMMAND', 'LIST')]);
    expect(text(list).toLowerCase()).not.toContain('sabre');
    expect(text(count)).toBe(`:${text(list).split('\r\n')[0].slice(1)}\r\n`);
    if (servers.theirs === undefined) return context.skip();
    const probe = [cmd('COMMAND', 'INFO', 'sabre.pagemap'), cmd('COMMAND', 'DOCS', 'sabre.pagemap')];
    expect((await servers.ours.run(probe)).map(text)).toEqual((await servers.theirs.run(probe)).map(text));
  });

  it('has MEMORY DOCTOR name the free slots a deletion of every other key leaves in pages in use', async () => {
    await servers.ours.run([cmd('FLUSHALL'), cmd('DEBUG', 'POPULATE', '50000', 'key', '480')]);
    const deletes = Array.from({ length: 25 }, (_, chunk) => cmd('DEL', ...Array.from({ length: 1000 }, (_, i) => `key:${(chunk * 1000 + i) * 2}`)));
    expect((await servers.ours.run(deletes)).map(text)).toEqual(Array(25).fill(':1000\r\n'));
    const [doctor, info] = await servers.ours.run([cmd('MEMORY', 'DOCTOR'), cmd('INFO', 'memory')]);
    const ratio = infoFields(info).get('allocator_frag_ratio')!;
    expect(Number(ratio)).toBeGreaterThan(1.8);
    expect(bulkBody(doctor)).toMatch(/^Sam, I detected a few issues/);
    expect(bulkBody(doctor)).toContain(`* Allocator fragmentation: pages in use hold `);
    expect(bulkBody(doctor)).toContain(`(ratio ${ratio})`);
    await servers.ours.run([cmd('FLUSHALL')]);
  });
});
