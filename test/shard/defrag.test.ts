/**
 * Active defragmentation in a shard: a keyspace of every type and encoding, half deleted at random,
 * defragmented to completion, must read back exactly as before (DUMP payload, encoding and expiry of
 * every key) with the arena consistent, allocations moved and pages given back; and the control follows
 * Redis's rules (thresholds, CPU share, slices) and pauses while a snapshot epoch is open.
 */
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE, REGULAR_DATA_PAGES, checkArena } from 'native-free-alloc';
import { Shard } from '../../src/shard/shard.js';
import type { ShardSettings } from '../../src/shard/settings.js';
import { readWord } from '../../src/shard/arena-words.js';
import { E_VOLATILE_INDEX } from '../../src/shard/entry.js';
import { bulkStrings, parseReply } from '../helpers/keyspace.js';
import { Random } from '../helpers/random.js';

function shardWith(settings: Partial<ShardSettings> = {}) {
  // Small thresholds so every encoding, deferred collections and many list nodes appear at a small size.
  const shard = new Shard({ settings: { 'list-max-listpack-size': 4, 'active-defrag-max-scan-fields': 50, ...settings } });
  const run = (...args: (string | Buffer)[]) => shard.execute(0, 2, args.map((a) => (typeof a === 'string' ? Buffer.from(a) : a)));
  return { shard, run };
}

const KEY_COUNT = 3000;
const FAR = String(Date.now() + 3_600_000);

/** Fills the keyspace with every type and encoding, then deletes about half of it (keys and members) at random. */
function fragmentedKeyspace(run: ReturnType<typeof shardWith>['run'], random: Random): void {
  const long = (i: number) => `long:${i}:${'x'.repeat(600 + (i % 50))}`;
  for (let i = 0; i < KEY_COUNT; i++) {
    const kind = i % 12;
    const key = `k:${i}`;
    if (kind === 0) run('SET', key, `value:${i}`);
    else if (kind === 1) run('SET', key, long(i));
    else if (kind === 2) run('SET', key, String(i * 7919));
    else if (kind === 3) run('RPUSH', key, ...Array.from({ length: 3 + (i % 9) }, (_, j) => `e:${j}`));
    else if (kind === 4) run('HSET', key, ...Array.from({ length: 4 }, (_, j) => [`f:${j}`, `v:${i}`]).flat());
    else if (kind === 5) run('HSET', key, ...Array.from({ length: 140 }, (_, j) => [`f:${j}`, j % 7 === 0 ? long(j) : `v:${j}`]).flat());
    else if (kind === 6) run('SADD', key, ...Array.from({ length: 6 }, (_, j) => String(j * 3 + i)));
    else if (kind === 7) run('SADD', key, ...Array.from({ length: 20 }, (_, j) => `m:${j}`));
    else if (kind === 8) run('ZADD', key, ...Array.from({ length: 5 }, (_, j) => [String(j), `z:${j}`]).flat());
    else if (kind === 9) run('ZADD', key, ...Array.from({ length: 150 }, (_, j) => [String((j * 37) % 101), `z:${j}`]).flat());
    else if (kind === 10) run('RPUSH', key, ...Array.from({ length: 300 }, (_, j) => `node-element:${j}`));
    else run('SET', key, `short:${i}`);
    if (i % 5 === 0) run('PEXPIREAT', key, FAR);
  }
  for (let i = 0; i < KEY_COUNT; i++) {
    const key = `k:${i}`;
    if (random.next() < 0.5) {
      run('DEL', key);
      continue;
    }
    const kind = i % 12;
    // Half the members of the large collections go too, so their own pages are sparse.
    if (kind === 5) run('HDEL', key, ...Array.from({ length: 140 }, (_, j) => `f:${j}`).filter(() => random.next() < 0.5));
    if (kind === 9) run('ZREM', key, ...Array.from({ length: 150 }, (_, j) => `z:${j}`).filter(() => random.next() < 0.5));
    if (kind === 7) run('SREM', key, ...Array.from({ length: 20 }, (_, j) => `m:${j}`).filter(() => random.next() < 0.5));
    if (kind === 10) run('LTRIM', key, String(random.int(0, 100)), String(random.int(150, 299)));
  }
}

/** Every key's DUMP payload, encoding and absolute expiry. */
function image(run: ReturnType<typeof shardWith>['run']): Map<string, string> {
  const keys = bulkStrings(parseReply(run('KEYS', '*')));
  const result = new Map<string, string>();
  for (const key of keys) {
    result.set(key, [run('DUMP', key).toString('hex'), run('OBJECT', 'ENCODING', key).toString(), run('PEXPIRETIME', key).toString()].join(' '));
  }
  return result;
}

/** The volatile array's invariant: slot i names a live entry whose volatile index is i. */
function expectVolatileArrayConsistent(shard: Shard): void {
  const db = shard.databases[0];
  const entries = new Set<number>();
  db.dict.forEach((entry) => entries.add(entry));
  const array = readWord(shard.arena, db.header, 1);
  for (let i = 0; i < db.volatileCount; i++) {
    const entry = readWord(shard.arena, array, i);
    expect(entries.has(entry)).toBe(true);
    expect(readWord(shard.arena, entry, E_VOLATILE_INDEX)).toBe(i);
  }
}

describe('active defragmentation', () => {
  it('moves what it can in every type and encoding and keeps every value, expiry and link', () => {
    const { shard, run } = shardWith();
    fragmentedKeyspace(run, new Random(7));
    const encodings = new Set([...image(run).values()].map((line) => line.split(' ')[1]));
    expect([...encodings].sort()).toEqual(['$3\r\nint\r\n', '$3\r\nraw\r\n', '$6\r\nembstr\r\n', '$6\r\nintset\r\n', '$8\r\nlistpack\r\n', '$8\r\nskiplist\r\n', '$9\r\nhashtable\r\n', '$9\r\nquicklist\r\n'].sort());
    const before = image(run);
    const statsBefore = shard.arena.stats();
    shard.defrag.startCycle();
    shard.defrag.step(Infinity);
    expect(shard.defrag.running).toBe(0);
    const statsAfter = shard.arena.stats();
    checkArena(shard.arena);
    expect(statsAfter.moves).toBeGreaterThan(0);
    expect(shard.defrag.hits).toBe(statsAfter.moves - statsBefore.moves);
    expect(shard.defrag.misses).toBeGreaterThan(0);
    expect(shard.defrag.keyHits).toBeGreaterThan(0);
    expect(shard.defrag.keyHits + shard.defrag.keyMisses).toBeGreaterThanOrEqual(before.size);
    expect(statsAfter.activePages).toBeLessThan(statsBefore.activePages * 0.8);
    expect(statsAfter.allocatedBytes).toBe(statsBefore.allocatedBytes);
    expect(image(run)).toEqual(before);
    expectVolatileArrayConsistent(shard);
    // The structures still work after the moves: writes and deletes through every encoding.
    for (const key of before.keys()) run('DEL', key);
    expect(run('DBSIZE').toString()).toBe(':0\r\n');
    checkArena(shard.arena);
  });

  it('keeps every value when commands change, delete and replace keys between its slices', () => {
    // The same commands go to a shard that never defragments: every key must read back the same.
    const { shard, run } = shardWith();
    const model = shardWith();
    const both = (...args: string[]) => {
      const ours = run(...args).toString();
      expect(ours).toBe(model.run(...args).toString());
    };
    const random = new Random(11);
    const big = (key: number) => `big:${key % 6}`;
    const change = () => {
      const key = big(random.int(0, 5));
      const n = random.int(0, 1500);
      switch (random.int(0, 7)) {
        case 0: return both('HSET', key, `f:${n}`, n % 5 === 0 ? 'y'.repeat(700) : `v:${n}`);
        case 1: return both('HDEL', key, `f:${n}`);
        case 2: return both('ZADD', key, String(n % 13), `m:${n}`);
        case 3: return both('ZREM', key, `m:${n}`);
        case 4: return both('RPUSH', key, `e:${n}`, `e:${n + 1}`);
        case 5: return both('LPOP', key, '3');
        case 6: return both('SADD', key, `s:${n}`, String(n));
        default: return both('DEL', key);
      }
    };
    for (let i = 0; i < 6; i++) {
      const key = big(i);
      // Past max-scan-fields, and more than one step() call's worth, so changes land inside deferred walks.
      const fill = Array.from({ length: 1200 }, (_, j) => j);
      if (i % 4 === 0) both('HSET', key, ...fill.flatMap((j) => [`f:${j}`, `v:${j}`]));
      else if (i % 4 === 1) both('ZADD', key, ...fill.flatMap((j) => [String(j % 13), `m:${j}`]));
      else if (i % 4 === 2) both('RPUSH', key, ...fill.map((j) => `e:${j}`));
      else both('SADD', key, ...fill.map((j) => `s:${j}`));
    }
    for (let i = 0; i < 3000; i++) both('SET', `k:${i}`, `v:${i}`, ...(i % 3 === 0 ? ['PXAT', FAR] : []));
    for (let i = 0; i < 3000; i += 2) both('DEL', `k:${i}`);
    for (let i = 0; i < 3000; i++) if (random.next() < 0.3) change();
    shard.defrag.startCycle();
    let slices = 0;
    while (shard.defrag.running !== 0) {
      shard.defrag.step(performance.now());
      slices++;
      for (let i = random.int(0, 3); i > 0; i--) change();
      if (slices % 50 === 0) both('SET', `k:${random.int(0, 2999)}`, `new:${slices}`, 'PXAT', FAR);
    }
    expect(slices).toBeGreaterThan(20);
    expect(shard.arena.stats().moves).toBeGreaterThan(0);
    checkArena(shard.arena);
    expectVolatileArrayConsistent(shard);
    const ours = image(run);
    expect(ours).toEqual(image(model.run));
    for (const key of ours.keys()) both('DEL', key);
    checkArena(shard.arena);
  });

  it('starts by the thresholds, at a CPU share between cycle-min and cycle-max, in slices', () => {
    const { shard, run } = shardWith({ activedefrag: 1, 'active-defrag-ignore-bytes': 1 << 18, 'active-defrag-threshold-lower': 10, 'active-defrag-threshold-upper': 100, 'active-defrag-cycle-min': 5, 'active-defrag-cycle-max': 75 });
    for (let i = 0; i < 40_000; i++) run('SET', `key:${i}`, `value:${i}`);
    // The check is made once a second (Redis's run_with_period(1000)): this one, a second before the next.
    shard.defrag.run(-1000);
    expect(shard.defrag.running).toBe(0);
    for (let i = 0; i < 40_000; i += 2) run('DEL', `key:${i}`);
    const { activeBytes, allocatedBytes } = shard.arena.stats();
    // Redis's active − allocated, plus the free pages held inside segments beyond one segment's worth.
    const heldFree = Math.max(0, shard.arena.freePagesInUsedSegments() - REGULAR_DATA_PAGES) * PAGE_SIZE;
    const fragPercent = ((activeBytes - allocatedBytes + heldFree) / allocatedBytes) * 100;
    // A whole number, so that started + 1000 − started is exactly 1000 in floating point.
    const started = Math.floor(performance.now());
    shard.defrag.run(started);
    // Interpolated as Redis's computeDefragCycles does: min + (frag - lower) / (upper - lower) × (max - min).
    expect(shard.defrag.running).toBe(Math.trunc(5 + ((fragPercent - 10) / 90) * 70));
    expect(shard.defrag.hits + shard.defrag.misses).toBeGreaterThan(0);
    expect(shard.defrag.hits).toBeLessThan(20_000);
    expect(shard.defrag.currentMs(started + 1000)).toBe(1000);
    // Driven by the idle loop until the cycle ends, in slices of half a millisecond (the median; a
    // shared machine stretches a few), the fragmentation is gone and segments went back.
    const { activePages, committedBytes } = shard.arena.stats();
    let collections = 0;
    shard.defrag.segmentsReleased = () => collections++;
    const deadline = performance.now() + 5000;
    const slices: number[] = [];
    while (shard.defrag.running !== 0 && performance.now() < deadline) {
      const begin = performance.now();
      shard.idle();
      slices.push(performance.now() - begin);
    }
    slices.sort((a, b) => a - b);
    expect(slices[slices.length >>> 1]).toBeLessThan(1);
    expect(shard.defrag.running).toBe(0);
    const after = shard.arena.stats();
    expect(after.activeBytes / after.allocatedBytes).toBeLessThan(1.1);
    expect(after.activePages).toBeLessThan(activePages * 0.6);
    expect(after.committedBytes).toBeLessThan(committedBytes);
    expect(collections).toBeGreaterThan(0);
    expect(shard.defrag.totalMs()).toBeGreaterThan(0);
    checkArena(shard.arena);
  });

  it('does not start under active-defrag-ignore-bytes or with activedefrag off', () => {
    for (const settings of [{ activedefrag: 0, 'active-defrag-ignore-bytes': 1 }, { activedefrag: 1, 'active-defrag-ignore-bytes': 1 << 30 }]) {
      const { shard, run } = shardWith(settings);
      for (let i = 0; i < 20_000; i++) run('SET', `key:${i}`, `value:${i}`);
      for (let i = 0; i < 20_000; i += 2) run('DEL', `key:${i}`);
      shard.defrag.run();
      expect(shard.defrag.running).toBe(0);
      expect(shard.arena.stats().moves).toBe(0);
    }
  });

  it('drops the cycle when activedefrag is switched off, and starts afresh when it is on again', () => {
    const { shard, run } = shardWith({ activedefrag: 1, 'active-defrag-ignore-bytes': 1 });
    for (let i = 0; i < 20_000; i++) run('SET', `key:${i}`, `value:${i}`);
    for (let i = 0; i < 20_000; i += 2) run('DEL', `key:${i}`);
    shard.defrag.run();
    expect(shard.defrag.running).toBeGreaterThan(0);
    shard.configure({ activedefrag: 0 });
    shard.defrag.run();
    expect(shard.defrag.running).toBe(0);
    const moves = shard.arena.stats().moves;
    shard.defrag.run();
    expect(shard.arena.stats().moves).toBe(moves);
    shard.configure({ activedefrag: 1 });
    shard.defrag.run(performance.now() + 1000);
    expect(shard.defrag.running).toBeGreaterThan(0);
  });

  it('pauses while a snapshot epoch is open and goes on when it ends', () => {
    const { shard, run } = shardWith({ activedefrag: 1, 'active-defrag-ignore-bytes': 1 });
    for (let i = 0; i < 20_000; i++) run('SET', `key:${i}`, `value:${i}`);
    for (let i = 0; i < 20_000; i += 2) run('DEL', `key:${i}`);
    shard.arena.beginSnapshot();
    shard.defrag.run();
    expect(shard.defrag.running).toBe(0);
    expect(shard.defrag.waitMs()).toBe(Infinity);
    expect(shard.arena.stats()).toMatchObject({ moves: 0, cowPages: 0 });
    shard.arena.endSnapshot();
    shard.defrag.run();
    expect(shard.defrag.running).toBeGreaterThan(0);
    expect(shard.arena.stats().moves).toBeGreaterThan(0);
  });
});
