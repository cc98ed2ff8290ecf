/**
 * An arena as it was when a snapshot epoch began, for the thread that serializes the snapshot while the
 * owner keeps writing. It offers the read side of an arena (`u8[segment]`, `u32[segment]`, `bytes`,
 * `usableSize`), so code written against an arena walks the snapshot unchanged, provided it announces
 * what it is about to read with beforeRead (the owner's views ignore that call).
 *
 * Why pages are fetched on demand: the owner's live pages change under a concurrent reader, so every
 * byte read must come through the sequence-locked readSnapshot (a page copied aside is read from its
 * copy). Doing that per field would cost a lock check per read; fetching a whole 4 KiB page into local
 * memory once costs one check per page, and then the walk reads plain typed arrays at full speed.
 *
 * Memory: each segment's local copy is a growable SharedArrayBuffer, which V8 backs with its own mmap
 * reservation, so only the pages actually fetched become resident. Fetched pages are let go of in
 * settle() once they pass a budget, between two top-level reads (keys), so the reader holds about the
 * budget plus the largest single structure, never a copy of the whole heap. A view taken before
 * settle() stays valid: it keeps its old buffer, which still holds every page fetched before it.
 */
import { byteOffsetOf, makeHandle, PAGE_SHIFT, PAGE_SIZE, segmentOf } from './layout.js';
import { usableSize } from './size-classes.js';
import type { ArenaView } from './view.js';

export class SnapshotPages {
  /** Local copies of the segments, by index, as far as they have been fetched. */
  readonly u8: Uint8Array[] = [];
  readonly u32: Uint32Array[] = [];
  /** Per segment, one byte per page: 1 once the page is in the local copy. */
  private present: Uint8Array[] = [];
  private heldBytes = 0;
  /** Pages fetched from the arena in all (tests and measurements). */
  fetchedPages = 0;
  private readonly word = new Uint32Array(1);
  private readonly wordBytes = new Uint8Array(this.word.buffer);

  constructor(
    private readonly source: ArenaView,
    readonly epoch: number,
    private readonly budgetBytes = 4 << 20,
  ) {}

  /** Fetches every page of bytes [start, start+length) of the allocation at `handle` not yet local. */
  beforeRead(handle: number, start: number, length: number): void {
    if (length <= 0) return;
    const segment = segmentOf(handle);
    const position = byteOffsetOf(handle) + start;
    let present = this.present[segment];
    if (present === undefined) present = this.open(segment);
    const last = Math.min(position + length - 1, this.u8[segment].length - 1) >>> PAGE_SHIFT;
    for (let page = position >>> PAGE_SHIFT; page <= last; page++) {
      if (present[page] === 1) continue;
      const from = page << PAGE_SHIFT;
      const size = Math.min(PAGE_SIZE, this.u8[segment].length - from);
      // The segment's first byte as the handle: a handle cannot address past 1 MiB of a dedicated segment.
      this.source.readSnapshot(this.epoch, makeHandle(segment, 0), from, size, this.u8[segment], from);
      present[page] = 1;
      this.heldBytes += PAGE_SIZE;
      this.fetchedPages++;
    }
  }

  private open(segment: number): Uint8Array {
    const length = this.source.segmentLength(segment);
    const buffer = new SharedArrayBuffer(length, { maxByteLength: length });
    // Explicit lengths: V8 reads views of growable buffers made without one on a slow path (view.ts).
    this.u8[segment] = new Uint8Array(buffer, 0, length);
    this.u32[segment] = new Uint32Array(buffer, 0, length >>> 2);
    const present = new Uint8Array(Math.ceil(length / PAGE_SIZE));
    this.present[segment] = present;
    return present;
  }

  /** Word `field` of the allocation at `handle`, read from the snapshot without fetching its page. */
  peekWord(handle: number, field: number): number {
    const segment = segmentOf(handle);
    const at = byteOffsetOf(handle) + field * 4;
    if (this.present[segment]?.[at >>> PAGE_SHIFT] === 1) return this.u32[segment][at >>> 2];
    this.source.readSnapshot(this.epoch, handle, field * 4, 4, this.wordBytes);
    return this.word[0];
  }

  /** `length` bytes of the allocation at `handle` from `start`, fetched first. */
  bytes(handle: number, length: number, start = 0): Uint8Array {
    this.beforeRead(handle, start, length);
    const begin = byteOffsetOf(handle) + start;
    return this.u8[segmentOf(handle)].subarray(begin, begin + length);
  }

  usableSize(size: number): number {
    return usableSize(size);
  }

  /** Bytes of fetched pages held now. */
  get held(): number {
    return this.heldBytes;
  }

  /**
   * Lets go of every fetched page once they pass the budget; true when it did. Call it only where no
   * structure is half read (between keys): a later beforeRead fetches what is needed again.
   */
  settle(): boolean {
    if (this.heldBytes < this.budgetBytes) return false;
    this.u8.length = 0;
    this.u32.length = 0;
    this.present = [];
    this.heldBytes = 0;
    return true;
  }
}
