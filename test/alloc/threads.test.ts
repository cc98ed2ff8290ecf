import { describe, expect, it } from 'vitest';
import { Arena, PAGE_SIZE, SegmentKind, byteOffsetOf, checkArena, segmentOf } from '../../native-free-alloc/src/index.js';
import { Random } from '../helpers/random.js';
import { M_ACK, M_DONE, M_EPOCH, M_HANDLE, M_ID, M_SEQ, M_SIZE, M_STARTED, createMailbox, type ObjectRecord } from './mailbox.js';
import { stamp } from './patterns.js';
import { awaitStarted, resultOf, startWorker } from './worker-harness.js';

const workerFile = new URL('./reader-worker.ts', import.meta.url);

interface FollowResult {
  verified: number;
  statsReads: number;
  maxSegments: number;
  errors: string[];
  errorCount: number;
}

describe('a reader on another thread', () => {
  it('reads data and consistent stats while the owner allocates, frees and reuses segments', async () => {
    const arena = new Arena();
    const mailbox = createMailbox();
    const handles = new Uint32Array(mailbox.buffer);
    const { description, transferList } = arena.describe();
    const worker = startWorker(workerFile, { mode: 'follow', description, mailbox }, transferList);
    const done = resultOf<FollowResult>(worker);
    awaitStarted(mailbox, M_STARTED);

    const random = new Random(11);
    let live: ObjectRecord[] = [];
    let nextId = 1;
    let highestIndex = 0;
    const churn = (protectedId: number) => {
      if (live.length < 3000 || random.next() < 0.55) {
        const size = random.next() < 0.97 ? random.int(1, 2048) : random.int(20_000, 200_000);
        const handle = arena.alloc(size);
        const id = nextId++;
        stamp(arena, handle, size, id);
        live.push({ handle, size, id });
        highestIndex = Math.max(highestIndex, segmentOf(handle));
      } else {
        const at = random.int(0, live.length - 1);
        if (live[at].id === protectedId) return;
        arena.free(live[at].handle, live[at].size);
        live[at] = live[live.length - 1];
        live.pop();
      }
    };
    const rounds = 400;
    for (let round = 1; round <= rounds; round++) {
      const published = live.length > 0 ? live[random.int(0, live.length - 1)] : undefined;
      if (published !== undefined) {
        handles[M_HANDLE] = published.handle;
        mailbox[M_SIZE] = published.size;
        mailbox[M_ID] = published.id;
        Atomics.store(mailbox, M_SEQ, round);
        Atomics.notify(mailbox, M_SEQ);
      }
      // Keep changing the heap while the reader works on the published object.
      const deadline = Date.now() + 5_000;
      do {
        for (let i = 0; i < 50; i++) churn(published?.id ?? -1);
        if (Date.now() > deadline) throw new Error(`reader did not acknowledge round ${round}`);
      } while (published !== undefined && Atomics.load(mailbox, M_ACK) !== round);
      if (round % 100 === 0) {
        // Drop every segment the published objects do not pin, so indexes get reused.
        const keep = published?.id;
        for (const o of live) if (o.id !== keep) arena.free(o.handle, o.size);
        live = live.filter((o) => o.id === keep);
        arena.purge();
      }
      if (published === undefined) Atomics.store(mailbox, M_ACK, round);
    }
    Atomics.store(mailbox, M_DONE, 1);
    Atomics.notify(mailbox, M_SEQ);
    const result = await done;
    expect(result.errors).toEqual([]);
    expect(result.errorCount).toBe(0);
    expect(result.verified).toBeGreaterThan(rounds * 0.9);
    expect(result.statsReads).toBeGreaterThan(rounds);
    expect(result.maxSegments).toBeGreaterThan(1);
    // Segments were dropped and their indexes handed out again while the reader was following.
    const stats = arena.stats();
    expect(stats.segmentsReleased).toBeGreaterThan(0);
    expect(stats.segments + stats.segmentsReleased).toBeGreaterThan(highestIndex);
    checkArena(arena);
    arena.close();
  });
});

describe('copy-on-write snapshots', () => {
  it('reads bytes as they were at the epoch start, on the owner thread', () => {
    const arena = new Arena();
    const a = arena.alloc(100);
    stamp(arena, a, 100, 1);
    const epoch = arena.beginSnapshot();
    arena.beforeWrite(a, 10, 5);
    stamp(arena, a, 100, 2);
    const b = arena.alloc(100);
    arena.beforeWrite(b, 0, 100);
    stamp(arena, b, 100, 3);
    const out = new Uint8Array(100);
    arena.readSnapshot(epoch, a, 0, 100, out);
    stamp(arena, a, 0, 1);
    const expected = new Uint8Array(100);
    for (let i = 0; i < 100; i++) expected[i] = (1 * 31 + i * 7) & 255;
    expect(out).toEqual(expected);
    // Both objects share one page, which was copied once.
    expect(arena.stats().cowPages).toBe(1);
    arena.endSnapshot();
    expect(arena.stats().cowPages).toBe(0);
    expect(arena.stats().lastCowPages).toBe(1);
  });

  it('copies nothing outside a snapshot and nothing in segments born during it', () => {
    const arena = new Arena();
    const a = arena.alloc(64);
    arena.beforeWrite(a, 0, 64);
    expect(arena.stats().cowPages).toBe(0);
    arena.beginSnapshot();
    const huge = arena.alloc(2 << 20);
    arena.beforeWrite(huge, 0, 2 << 20);
    expect(arena.stats().cowPages).toBe(0);
    arena.endSnapshot();
    expect(arena.stats().lastCowPages).toBe(0);
  });

  it('gives a concurrent reader the point-in-time image while the owner overwrites, frees and reallocates', async () => {
    const arena = new Arena();
    const random = new Random(77);
    const objects: ObjectRecord[] = [];
    for (let id = 1; id <= 3000; id++) {
      const roll = random.next();
      const size = roll < 0.9 ? random.int(1, 1024) : roll < 0.995 ? random.int(17_000, 150_000) : random.int(1_100_000, 3_000_000);
      const handle = arena.alloc(size);
      stamp(arena, handle, size, id);
      objects.push({ handle, size, id });
    }
    const segmentsAtStart = new Set(arena.segmentTable().map((s) => s.index));
    const mailbox = createMailbox();
    const epoch = arena.beginSnapshot();
    Atomics.store(mailbox, M_EPOCH, epoch);
    const { description, transferList } = arena.describe();
    const worker = startWorker(workerFile, { mode: 'snapshot', description, mailbox, objects, passes: 4 }, transferList);
    const done = resultOf<{ verified: number; errors: string[]; errorCount: number }>(worker);
    awaitStarted(mailbox, M_STARTED);

    // The pages the owner writes that existed at the epoch's start: exactly these must be copied.
    const written = new Set<string>();
    const noteWrite = (handle: number, start: number, length: number) => {
      if (!segmentsAtStart.has(segmentOf(handle)) || length === 0) return;
      const first = (byteOffsetOf(handle) + start) >>> 12;
      const last = (byteOffsetOf(handle) + start + length - 1) >>> 12;
      for (let p = first; p <= last; p++) written.add(`${segmentOf(handle)}:${p}`);
    };
    const current = objects.map((o) => ({ ...o }));
    let nextId = 10_000;
    let operations = 0;
    while (Atomics.load(mailbox, M_DONE) === 0 || operations < 2000) {
      const at = random.int(0, current.length - 1);
      const o = current[at];
      const roll = random.next();
      if (roll < 0.5) {
        arena.beforeWrite(o.handle, 0, o.size);
        noteWrite(o.handle, 0, o.size);
        o.id = nextId++;
        stamp(arena, o.handle, o.size, o.id);
      } else if (roll < 0.8) {
        arena.free(o.handle, o.size);
        o.size = random.int(1, 1024);
        o.handle = arena.alloc(o.size);
        arena.beforeWrite(o.handle, 0, o.size);
        noteWrite(o.handle, 0, o.size);
        o.id = nextId++;
        stamp(arena, o.handle, o.size, o.id);
      } else {
        const newSize = o.size + random.int(1, 4000);
        const moved = arena.realloc(o.handle, o.size, newSize);
        arena.beforeWrite(moved, 0, newSize);
        noteWrite(moved, 0, newSize);
        o.handle = moved;
        o.size = newSize;
        o.id = nextId++;
        stamp(arena, moved, newSize, o.id);
      }
      operations++;
      if (operations > 200_000) break;
    }
    const result = await done;
    expect(result.errors).toEqual([]);
    expect(result.errorCount).toBe(0);
    expect(result.verified).toBe(objects.length * 4);

    const during = arena.stats();
    // The extra memory is exactly the pre-existing pages written during the snapshot.
    expect(during.cowPages).toBe(written.size);
    expect(during.cowPeakPages).toBe(written.size);
    const copyBytes = arena.segmentTable().filter((s) => s.kind === SegmentKind.Copy).reduce((sum, s) => sum + s.byteLength, 0);
    expect(copyBytes).toBeGreaterThanOrEqual(written.size * PAGE_SIZE);
    arena.endSnapshot();
    const after = arena.stats();
    expect(after.lastCowPages).toBe(written.size);
    expect(after.cowPages).toBe(0);
    expect(after.committedBytes).toBe(during.committedBytes - copyBytes - (during.committedBytes - copyBytes - after.committedBytes));
    expect(arena.segmentTable().some((s) => s.kind === SegmentKind.Copy)).toBe(false);
    checkArena(arena);
    arena.close();
  });
});
