/**
 * The parts of the keyspace commands a differential run cannot pin down: which commands count as an
 * access for OBJECT IDLETIME (on a clock the test moves by hand), that moving keys between databases
 * leaks no memory, the key dump that carries a key between shards, and the glob matcher on patterns
 * built to exhaust a recursive one.
 */
import { defaultCollectionLimits } from '../../src/collections/limits.js';
import { describe, expect, it } from 'vitest';
import { Arena, checkArena } from 'native-free-alloc';
import { execute } from '../../src/commands/dispatch.js';
import { globMatch } from '../../src/commands/glob.js';
import { CommandTable } from '../../src/commands/table.js';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { Database } from '../../src/shard/database.js';
import { StringForm } from '../../src/shard/entry.js';
import { LRU_TICKS_PER_SECOND, idleSeconds, lruTicks } from '../../src/shard/access-clock.js';
import { dumpKey, dumpType, restoreKey } from '../../src/shard/key-dump.js';
import { b } from '../helpers/differential.js';
import { Random } from '../helpers/random.js';

/** Sixteen databases on one arena, run through the shard's dispatch with a hand-moved clock. */
function shardOnClock() {
  const clock = { now: 1_700_000_000_000 };
  const arena = new Arena();
  const databases = Array.from({ length: 16 }, () => new Database(arena, () => clock.now));
  const table = new CommandTable();
  const reply = new ReplyWriter();
  let dbIndex = 0;
  const run = (...args: string[]): string => {
    if (args[0] === 'SELECT') dbIndex = Number(args[1]);
    else {
      const argv = args.map(b);
      execute(table.lookup(argv[0]), { db: databases[dbIndex], reply, now: clock.now, databases, dbIndex, limits: defaultCollectionLimits() }, argv);
    }
    return reply.take().toString('latin1');
  };
  return { clock, databases, run, arena };
}

describe('OBJECT IDLETIME and what counts as an access', () => {
  it('is reset by reads and writes, and left alone by inspection and keyspace-wide commands', () => {
    const { clock, run } = shardOnClock();
    const idle = (key: string) => run('OBJECT', 'IDLETIME', key);
    run('SET', 'a', 'text');
    expect(idle('a')).toBe(':0\r\n');
    clock.now += 5_000;
    expect(idle('a')).toBe(':5\r\n');
    run('GET', 'a');
    expect(idle('a')).toBe(':0\r\n');
    clock.now += 3_000;
    for (const command of [['TYPE', 'a'], ['EXISTS', 'a'], ['TTL', 'a'], ['PTTL', 'a'], ['OBJECT', 'ENCODING', 'a'], ['KEYS', '*'], ['SCAN', '0'], ['RANDOMKEY'], ['DBSIZE']]) {
      run(...command);
    }
    expect(idle('a')).toBe(':3\r\n');
    run('TOUCH', 'a');
    expect(idle('a')).toBe(':0\r\n');
    clock.now += 4_000;
    run('COPY', 'a', 'c');
    expect([idle('a'), idle('c')]).toEqual([':0\r\n', ':0\r\n']);
    clock.now += 4_000;
    run('RENAME', 'a', 'b');
    run('MOVE', 'c', '1');
    expect(idle('b')).toBe(':0\r\n');
    run('SELECT', '1');
    expect(idle('c')).toBe(':0\r\n');
    clock.now += 2_000;
    run('SET', 'c', 'new', 'KEEPTTL');
    expect(idle('c')).toBe(':0\r\n');
    run('APPEND', 'c', '!');
    clock.now += 2_000;
    expect(idle('c')).toBe(':2\r\n');
  });

  it('counts across a wrap of the 32-bit LRU clock', () => {
    const wrapsAtMs = (2 ** 32 / LRU_TICKS_PER_SECOND) * 1000;
    expect(lruTicks(wrapsAtMs + 3_000)).toBe(3 * LRU_TICKS_PER_SECOND);
    expect(idleSeconds(2 ** 32 - LRU_TICKS_PER_SECOND, wrapsAtMs + 3_000)).toBe(4);
    expect(idleSeconds(lruTicks(5_000), 8_000)).toBe(3);
  });
});

describe('moving keys inside a shard', () => {
  it('leaks nothing and keeps the volatile arrays exact over random RENAME, MOVE, COPY and SWAPDB', () => {
    const { clock, databases, run, arena } = shardOnClock();
    const baseline = arena.stats().allocatedBytes;
    const random = new Random(51);
    const key = () => random.pick(['a', 'b', 'c', 'd', 'e']);
    for (let step = 0; step < 5000; step++) {
      const roll = random.int(0, 9);
      if (roll < 3) run('SET', key(), random.next() < 0.3 ? 'v'.repeat(random.int(500, 900)) : 'v', ...(random.next() < 0.5 ? ['EX', '100'] : []));
      else if (roll === 3) run(random.pick(['RENAME', 'RENAMENX']), key(), key());
      else if (roll === 4) run('MOVE', key(), String(random.int(0, 3)));
      else if (roll === 5) run('COPY', key(), key(), ...(random.next() < 0.5 ? ['DB', String(random.int(0, 3))] : []), ...(random.next() < 0.5 ? ['REPLACE'] : []));
      else if (roll === 6) run('SWAPDB', String(random.int(0, 3)), String(random.int(0, 3)));
      else if (roll === 7) run('SELECT', String(random.int(0, 3)));
      else if (roll === 8) run(random.pick(['PERSIST', 'DEL']), key());
      else clock.now += random.int(0, 30_000);
    }
    for (const db of databases) {
      let volatile = 0;
      db.dict.forEach((entry) => {
        if (db.expireAt(entry) !== -1) volatile++;
      });
      expect(db.volatileCount).toBe(volatile);
    }
    expect(databases.some((db) => db.size > 0)).toBe(true);
    run('FLUSHALL');
    expect(arena.stats().allocatedBytes).toBe(baseline);
    checkArena(arena);
  });
});

describe('the key dump that carries a key between shards', () => {
  it('restores value, expiry (beyond 2^53 too) and encoding form, and refuses what it cannot read', () => {
    const from = new Database(new Arena());
    const to = new Database(new Arena());
    const cases: [string, Uint8Array, number | bigint][] = [
      ['inline', b('hello'), -1],
      ['external', Buffer.alloc(100_000, 7), Date.now() + 60_000],
      ['far', b('x'), 9223372036854775807n],
    ];
    for (const [key, value, expiry] of cases) {
      const entry = from.setString(b(key), value, expiry);
      from.setStringForm(entry, StringForm.Raw);
      const dump = dumpKey(from, entry)!;
      const restored = restoreKey(to, b(`${key}2`), dump);
      expect(Buffer.from(to.stringBytes(restored)).equals(Buffer.from(value))).toBe(true);
      expect(to.expireAt(restored)).toBe(expiry);
      expect(to.stringForm(restored)).toBe(StringForm.Raw);
    }
    const dump = dumpKey(from, from.lookup(b('inline')))!;
    expect(dumpType(dump.subarray(0, 5))).toBeUndefined();
    const otherFormat = Buffer.from(dump);
    otherFormat[0] = 99;
    expect(restoreKey(to, b('refused'), otherFormat)).toBe(0);
    expect(to.lookup(b('refused'))).toBe(0);
  });
});

describe('the glob matcher', () => {
  it('takes a pattern of a million stars and a worst-case backtracking pattern without recursion', () => {
    const stars = Buffer.alloc(1_000_000, '*');
    expect(globMatch(stars, b('anything'))).toBe(true);
    const starred = Buffer.from(`${'a*'.repeat(200_000)}b`);
    const started = performance.now();
    expect(globMatch(starred, Buffer.alloc(2_000, 'a'))).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('folds ASCII case only when asked', () => {
    expect(globMatch(b('H[A-C]LLO*'), b('hbllo world'), true)).toBe(true);
    expect(globMatch(b('H[A-C]LLO*'), b('hbllo world'))).toBe(false);
    expect(globMatch(b('\xc0'), b('\xe0'), true)).toBe(false);
  });
});
