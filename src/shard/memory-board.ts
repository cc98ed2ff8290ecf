/**
 * The memory budget's shared notice board: one SharedArrayBuffer that the pool makes and every shard and
 * the front hold. Each shard posts, after every command and every piece of idle work, how many bytes its
 * arena has allocated and whether it has keys the maxmemory-policy could evict; anyone sums the board
 * for the global used memory that maxmemory limits. One plain Int32 store per post: aligned 32-bit
 * accesses never tear, and a reader only needs each figure to be a recent one, not a synchronised one.
 *
 * Per shard, two Int32 slots: allocated bytes in units of 64 (exact enough for a budget, and 2^31 units
 * cover 128 GiB per shard), and the evictable flag.
 */
const SLOTS_PER_SHARD = 2;
const ALLOCATED = 0;
const EVICTABLE = 1;
const UNIT_BYTES = 64;

/** What travels to a shard worker (workerData clones the buffer's handle, not its bytes). */
export interface BoardSeat {
  buffer: SharedArrayBuffer;
  index: number;
}

export class MemoryBoard {
  private readonly slots: Int32Array;
  readonly shards: number;

  constructor(buffer: SharedArrayBuffer) {
    this.slots = new Int32Array(buffer);
    this.shards = this.slots.length / SLOTS_PER_SHARD;
  }

  /** A board for `shards` shards, every one evictable until it says otherwise. */
  static create(shards: number): { board: MemoryBoard; buffer: SharedArrayBuffer } {
    const buffer = new SharedArrayBuffer(shards * SLOTS_PER_SHARD * 4);
    const board = new MemoryBoard(buffer);
    for (let shard = 0; shard < shards; shard++) board.postEvictable(shard, true);
    return { board, buffer };
  }

  postAllocated(shard: number, bytes: number): void {
    this.slots[shard * SLOTS_PER_SHARD + ALLOCATED] = Math.ceil(bytes / UNIT_BYTES);
  }

  postEvictable(shard: number, evictable: boolean): void {
    this.slots[shard * SLOTS_PER_SHARD + EVICTABLE] = evictable ? 1 : 0;
  }

  /** Every shard's allocated bytes, as last posted. */
  used(): number {
    const slots = this.slots;
    let units = 0;
    for (let i = ALLOCATED; i < slots.length; i += SLOTS_PER_SHARD) units += slots[i];
    return units * UNIT_BYTES;
  }

  /** The other shards' allocated bytes: a shard adds its own live figure. */
  usedByOthers(shard: number): number {
    return this.used() - this.slots[shard * SLOTS_PER_SHARD + ALLOCATED] * UNIT_BYTES;
  }

  /** Whether any shard last said it had keys its policy may evict. */
  anyEvictable(): boolean {
    const slots = this.slots;
    for (let i = EVICTABLE; i < slots.length; i += SLOTS_PER_SHARD) if (slots[i] !== 0) return true;
    return false;
  }
}
