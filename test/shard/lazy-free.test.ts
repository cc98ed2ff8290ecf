/**
 * Background freeing in a shard: UNLINK, FLUSHALL/FLUSHDB ASYNC and the lazyfree-lazy-* switches take
 * large values out of the keyspace at once, keep their memory counted until the shard's spare time has
 * freed them slice by slice, and then give the arena back exactly what they held.
 */
import { describe, expect, it } from 'vitest';
import { checkArena } from 'native-free-alloc';
import { Shard } from '../../src/shard/shard.js';

function shardWith(settings: ConstructorParameters<typeof Shard>[0] = {}) {
  const shard = new Shard(settings);
  const run = (db: number, ...args: string[]) => shard.execute(db, 2, args.map((a) => Buffer.from(a))).toString();
  const requested = () => shard.arena.stats().requestedBytes;
  /** Runs background slices of `budget` allocations until none is queued; returns how many it took. */
  const finish = (budget: number) => {
    let slices = 0;
    while (shard.lazyFree.pending) {
      shard.lazyFree.run(budget);
      slices++;
      checkArena(shard.arena);
    }
    return slices;
  };
  return { shard, run, requested, finish };
}

const members = (count: number, shape: (i: number) => string[]) => Array.from({ length: count }, (_, i) => shape(i)).flat();

/** One large collection per type, each past the threshold of 64 (elements, or list nodes). */
const LARGE: [string, string[]][] = [
  ['hash', ['HSET', 'big', ...members(3000, (i) => [`field:${i}`, `value:${i}`])]],
  ['list', ['RPUSH', 'big', ...members(3000, (i) => [`element:${i}:${'x'.repeat(i % 40)}`])]],
  ['set', ['SADD', 'big', ...members(3000, (i) => [`member:${i}`])]],
  ['sorted set', ['ZADD', 'big', ...members(3000, (i) => [String(i % 97), `member:${i}`])]],
];

describe('lazy free', () => {
  for (const [type, build] of LARGE) {
    it(`UNLINK of a large ${type} returns at once and frees it in slices`, () => {
      const { shard, run, requested, finish } = shardWith({ settings: { 'list-max-listpack-size': 8 } });
      const baseline = requested();
      run(0, ...build);
      const built = requested();
      expect(run(0, 'UNLINK', 'big', 'missing')).toBe(':1\r\n');
      expect(run(0, 'EXISTS', 'big')).toBe(':0\r\n');
      expect(shard.stats().lazyfreePendingObjects).toBe(1);
      expect(requested()).toBe(built);
      // The name is free for a new value at once; the old one's freeing must not touch it.
      expect(run(0, 'SET', 'big', 'new')).toBe('+OK\r\n');
      const withNew = requested();
      expect(finish(64)).toBeGreaterThan(5);
      expect(run(0, 'GET', 'big')).toBe('$3\r\nnew\r\n');
      expect(shard.stats()).toMatchObject({ lazyfreePendingObjects: 0, lazyfreedObjects: 1 });
      expect(requested()).toBe(baseline + (withNew - built));
    });
  }

  it('frees small values, strings and packed collections at once even for UNLINK', () => {
    const { shard, run, requested } = shardWith();
    const baseline = requested();
    run(0, 'SET', 's', 'x'.repeat(5000));
    run(0, 'HSET', 'h', 'a', '1', 'b', '2');
    run(0, 'SADD', 'i', ...members(64, (i) => [String(i)]));
    run(0, 'SADD', 't', ...members(64, (i) => [`m${i}`]));
    expect(run(0, 'OBJECT', 'ENCODING', 't')).toBe('$9\r\nhashtable\r\n');
    expect(run(0, 'UNLINK', 's', 'h', 'i', 't')).toBe(':4\r\n');
    expect(shard.lazyFree.pending).toBe(false);
    expect(shard.stats().lazyfreedObjects).toBe(0);
    expect(requested()).toBe(baseline);
  });

  it('DEL frees at once unless lazyfree-lazy-user-del, which Configure switches at run time', () => {
    const { shard, run, requested, finish } = shardWith();
    const baseline = requested();
    run(0, ...LARGE[0][1]);
    expect(run(0, 'DEL', 'big')).toBe(':1\r\n');
    expect(shard.lazyFree.pending).toBe(false);
    expect(requested()).toBe(baseline);
    shard.configure({ 'lazyfree-lazy-user-del': 1 });
    run(0, ...LARGE[0][1]);
    expect(run(0, 'DEL', 'big')).toBe(':1\r\n');
    expect(shard.stats().lazyfreePendingObjects).toBe(1);
    finish(1000);
    expect(requested()).toBe(baseline);
  });

  it('FLUSHALL ASYNC empties every database at once and frees their keys, large values included, later', () => {
    const { shard, run, requested, finish } = shardWith();
    const baseline = requested();
    for (const db of [0, 3]) {
      for (let i = 0; i < 500; i++) run(db, 'SET', `key:${i}`, `value:${i}`, ...(i % 5 === 0 ? ['EX', '1000'] : []));
      for (const [, build] of LARGE) run(db, ...build.map((arg) => (arg === 'big' ? `big:${build[0]}` : arg)));
    }
    expect(run(0, 'FLUSHALL', 'ASYNC')).toBe('+OK\r\n');
    expect(run(0, 'DBSIZE')).toBe(':0\r\n');
    expect(run(3, 'DBSIZE')).toBe(':0\r\n');
    expect(shard.stats().lazyfreePendingObjects).toBe(2 * 504);
    run(3, 'SET', 'after', 'flush');
    expect(finish(256)).toBeGreaterThan(10);
    expect(shard.stats()).toMatchObject({ lazyfreePendingObjects: 0, lazyfreedObjects: 2 * 504 });
    expect(run(3, 'GET', 'after')).toBe('$5\r\nflush\r\n');
    run(3, 'DEL', 'after');
    expect(requested()).toBe(baseline);
  });

  it('FLUSHDB follows lazyfree-lazy-user-flush unless told SYNC or ASYNC, and refuses anything else', () => {
    const { shard, run, requested, finish } = shardWith({ settings: { 'lazyfree-lazy-user-flush': 1 } });
    const baseline = requested();
    const fill = () => {
      for (let i = 0; i < 100; i++) run(0, 'SET', `key:${i}`, 'v');
    };
    fill();
    expect(run(0, 'FLUSHDB', 'SYNC')).toBe('+OK\r\n');
    expect(shard.lazyFree.pending).toBe(false);
    fill();
    expect(run(0, 'FLUSHDB')).toBe('+OK\r\n');
    expect(shard.stats().lazyfreePendingObjects).toBe(100);
    expect(run(0, 'FLUSHDB', 'LAZY')).toBe('-ERR syntax error\r\n');
    expect(run(0, 'FLUSHALL', 'ASYNC', 'SYNC')).toBe('-ERR syntax error\r\n');
    finish(1 << 20);
    expect(requested()).toBe(baseline);
  });

  it('overwrites follow lazyfree-lazy-server-del and expiries lazyfree-lazy-expire', () => {
    const { shard, run, requested, finish } = shardWith({ settings: { 'lazyfree-lazy-server-del': 1, 'lazyfree-lazy-expire': 1 } });
    const baseline = requested();
    run(0, ...LARGE[2][1]);
    expect(run(0, 'SET', 'big', 'x')).toBe('+OK\r\n');
    expect(shard.stats().lazyfreePendingObjects).toBe(1);
    run(0, 'DEL', 'big');
    run(0, ...LARGE[3][1]);
    run(0, 'PEXPIREAT', 'big', '1');
    expect(run(0, 'EXISTS', 'big')).toBe(':0\r\n');
    expect(shard.stats().lazyfreePendingObjects).toBe(2);
    finish(500);
    expect(shard.stats().lazyfreedObjects).toBe(2);
    expect(requested()).toBe(baseline);
  });
});
