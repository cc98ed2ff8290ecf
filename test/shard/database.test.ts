import { describe, expect, it } from 'vitest';
import { Arena, checkArena } from 'native-free-alloc';
import { Database, ExpiryChange } from '../../src/shard/database.js';
import { Random } from '../helpers/random.js';

const text = new TextEncoder();
const decode = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

interface ModelValue {
  value: string;
  expireAt: number;
}

/** A database on a fresh arena with a clock the test moves by hand. */
function fixture() {
  const clock = { now: 1_700_000_000_000 };
  const arena = new Arena();
  const db = new Database(arena, () => clock.now);
  return { arena, db, clock };
}

function randomValue(random: Random): string {
  const roll = random.next();
  const length = roll < 0.7 ? random.int(0, 40) : roll < 0.95 ? random.int(41, 600) : random.int(601, 5000);
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(random.int(0, 255));
  return s;
}

function compare(db: Database, model: Map<string, ModelValue>, now: number): void {
  let live = 0;
  for (const [key, expected] of model) {
    if (expected.expireAt >= 0 && expected.expireAt <= now) continue;
    live++;
    const entry = db.lookup(Buffer.from(key, 'latin1'));
    expect(entry, `key ${JSON.stringify(key)}`).not.toBe(0);
    expect(decode(db.stringBytes(entry))).toBe(expected.value);
    expect(db.expireAt(entry)).toBe(expected.expireAt);
  }
  const seen = new Set<string>();
  db.dict.forEach((entry) => seen.add(decode(db.keyBytes(entry))));
  expect(seen.size).toBe(db.size);
  expect(db.size).toBeGreaterThanOrEqual(live);
}

describe('a shard database in shared memory', () => {
  for (const seed of [1, 2, 3]) {
    it(`matches a Map model through sets, deletes, expiries, resizes and rehashes (seed ${seed})`, () => {
      const { arena, db, clock } = fixture();
      const random = new Random(seed);
      const model = new Map<string, ModelValue>();
      const expired = (m: ModelValue) => m.expireAt >= 0 && m.expireAt <= clock.now;
      let poolSize = 200;
      for (let op = 0; op < 40_000; op++) {
        if (op % 10_000 === 0) poolSize = poolSize === 200 ? 6000 : 200; // grow, then shrink the table
        const key = `k:${random.int(0, poolSize)}`;
        const keyBytes = Buffer.from(key, 'latin1');
        const current = model.get(key);
        const roll = random.next();
        if (roll < 0.45) {
          const value = randomValue(random);
          const ttl = random.next() < 0.3 ? clock.now + random.int(1, 5000) : random.next() < 0.1 ? ExpiryChange.Keep : ExpiryChange.Clear;
          db.setString(keyBytes, Buffer.from(value, 'latin1'), ttl);
          const keep = ttl === ExpiryChange.Keep && current !== undefined && !expired(current) ? current.expireAt : -1;
          model.set(key, { value, expireAt: ttl >= 0 ? ttl : keep });
        } else if (roll < 0.7) {
          const existed = db.delete(keyBytes);
          expect(existed).toBe(current !== undefined && !expired(current));
          model.delete(key);
        } else if (roll < 0.8) {
          const at = random.next() < 0.7 ? clock.now + random.int(1, 3000) : ExpiryChange.Clear;
          const existed = db.setExpire(keyBytes, at);
          expect(existed).toBe(current !== undefined && !expired(current));
          if (existed) current!.expireAt = at >= 0 ? at : -1;
          else model.delete(key);
        } else if (roll < 0.97) {
          const entry = db.lookup(keyBytes);
          if (current === undefined || expired(current)) {
            expect(entry).toBe(0);
            model.delete(key);
          } else expect(decode(db.stringBytes(entry))).toBe(current.value);
        } else {
          clock.now += random.int(1, 400);
          if (random.next() < 0.5) db.activeExpireCycle(1, () => random.next());
        }
        if (op % 5000 === 4999) {
          compare(db, model, clock.now);
          checkArena(arena);
        }
      }
      compare(db, model, clock.now);
      db.flush();
      expect(db.size).toBe(0);
      expect(db.volatileCount).toBe(0);
      checkArena(arena);
    });
  }

  it('grows and shrinks through incremental rehashing, a few buckets per call', () => {
    const { db } = fixture();
    let sawRehash = false;
    for (let i = 0; i < 50_000; i++) {
      db.setString(text.encode(`key:${i}`), text.encode(`value:${i}`));
      if (db.dict.rehashing) sawRehash = true;
    }
    expect(sawRehash).toBe(true);
    while (db.dict.rehashing) db.dict.rehashStep(100);
    const [size] = db.dict.buckets();
    expect(size).toBeGreaterThanOrEqual(50_000);
    expect(size).toBeLessThan(200_000);
    for (let i = 0; i < 49_900; i++) expect(db.delete(text.encode(`key:${i}`))).toBe(true);
    db.dict.rehashForMilliseconds(1000);
    expect(db.dict.rehashing).toBe(false);
    expect(db.dict.buckets()[0]).toBeLessThanOrEqual(256);
    for (let i = 49_900; i < 50_000; i++) expect(decode(db.stringBytes(db.lookup(text.encode(`key:${i}`))))).toBe(`value:${i}`);
  });

  it('SCAN returns every key present for the whole scan at least once, across resizes', () => {
    const { db } = fixture();
    const stable = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      db.setString(text.encode(`stable:${i}`), text.encode('x'));
      stable.add(`stable:${i}`);
    }
    const seen = new Set<string>();
    let cursor = 0;
    let step = 0;
    do {
      cursor = db.dict.scan(cursor, (entry) => seen.add(decode(db.keyBytes(entry))));
      // Churn between steps: the table doubles, then halves, while the scan is under way.
      if (step < 40) for (let i = 0; i < 300; i++) db.setString(text.encode(`churn:${step}:${i}`), text.encode('y'));
      else if (step < 80) for (let i = 0; i < 300; i++) db.delete(text.encode(`churn:${step - 40}:${i}`));
      step++;
    } while (cursor !== 0);
    for (const key of stable) expect(seen.has(key), key).toBe(true);
  });

  it('expires keys lazily on access and actively in cycles, counting them', () => {
    const { db, clock } = fixture();
    for (let i = 0; i < 1000; i++) db.setString(text.encode(`t:${i}`), text.encode('v'), clock.now + 1000);
    for (let i = 0; i < 1000; i++) db.setString(text.encode(`p:${i}`), text.encode('v'));
    expect(db.volatileCount).toBe(1000);
    clock.now += 1001;
    expect(db.lookup(text.encode('t:5'))).toBe(0);
    expect(db.expiredKeys).toBe(1);
    let rounds = 0;
    while (db.volatileCount > 0 && rounds++ < 200) db.activeExpireCycle(5);
    expect(db.volatileCount).toBe(0);
    expect(db.expiredKeys).toBe(1000);
    expect(db.size).toBe(1000);
    expect(db.lookup(text.encode('p:5'))).not.toBe(0);
  });

  it('keeps fewer bytes per small key than Redis (89 B/key for DEBUG POPULATE-style keys)', () => {
    const { arena, db } = fixture();
    const keys = 200_000;
    const before = arena.stats();
    for (let i = 0; i < keys; i++) db.setString(text.encode(`key:${i}`), text.encode(`value:${i}`));
    db.dict.rehashForMilliseconds(1000);
    const after = arena.stats();
    const perKey = (after.allocatedBytes - before.allocatedBytes) / keys;
    const committedPerKey = (after.committedBytes - before.committedBytes) / keys;
    expect(perKey).toBeLessThan(89);
    expect(committedPerKey).toBeLessThan(89);
  });
});

describe('growing and shrinking string values in place', () => {
  it('APPEND-style growth crosses from inline to external and keeps every byte, TTL and LRU word', () => {
    const { arena, db, clock } = fixture();
    const key = text.encode('log');
    let entry = db.setString(key, text.encode('start;'), clock.now + 60_000);
    db.setAccessWord(entry, 1234);
    let expected = 'start;';
    for (let i = 0; i < 3000; i++) {
      const piece = `line ${i};`;
      const before = db.stringBytes(entry).length;
      entry = db.resizeString(entry, before + piece.length);
      const view = db.stringBytes(entry);
      view.set(text.encode(piece), before);
      expected += piece;
    }
    entry = db.lookupNoTouch(key);
    expect(decode(db.stringBytes(entry))).toBe(expected);
    expect(db.expireAt(entry)).toBe(clock.now + 60_000);
    expect(db.accessWord(entry)).toBe(1234);
    expect(db.volatileCount).toBe(1);
    checkArena(arena);
  });

  it('shrinks and zero-fills growth as SETRANGE and GETRANGE expect', () => {
    const { db } = fixture();
    const key = text.encode('k');
    let entry = db.setString(key, text.encode('abcdef'));
    entry = db.resizeString(entry, 3);
    expect(decode(db.stringBytes(entry))).toBe('abc');
    entry = db.resizeString(entry, 6);
    expect([...db.stringBytes(entry)]).toEqual([97, 98, 99, 0, 0, 0]);
    entry = db.resizeString(entry, 2000);
    expect(db.stringBytes(entry).length).toBe(2000);
    expect(db.stringBytes(entry).subarray(3).every((b) => b === 0)).toBe(true);
    entry = db.resizeString(entry, 10);
    expect(decode(db.stringBytes(entry)).slice(0, 3)).toBe('abc');
  });
});
