/**
 * The List type's value: a quicklist, a sequence of nodes that are each a packed sequence (packed.ts),
 * as Redis 7.0's t_list.c keeps every list. Redis 7.0 has no separate small encoding for lists (7.2 added
 * one), so OBJECT ENCODING says "quicklist" at every size, and so does sabre: a small list is simply a
 * quicklist of one node.
 *
 * Root: [u8 CollectionEncoding.Quicklist, 3 bytes 0][u32 elements][u32 nodes][u32 capacity][u32 head
 * slot], then `capacity` record slots [u32 packed handle][u32 the node's element count]; node i's record
 * is in slot head + i. Keeping the counts in the root means finding element i walks one contiguous array
 * of counts (from whichever end is nearer), touching no node but the one that holds it, as Redis walks
 * its nodes by their counts.
 *
 * The record array is a deque: free slots are kept at both ends, so a new head node (LPUSH) takes the
 * slot before the head and a new tail node the slot after the tail, moving no other record. A node
 * opened or closed in the middle moves the records on its shorter side. Only when the side that must
 * move has no free slot is the array laid out afresh: centred in place while at most half full, else
 * in one twice as large. Either way each end is left with free slots for about half as many records as
 * were moved, so pushes at either end cost amortised O(1) record moves (a head-first array without the
 * free slots before the head moved every record for every new head node: quadratic LPUSH).
 *
 * A node takes a new element while it stays within list-max-listpack-size (negative: -1..-5 cap the
 * node's bytes at 4..64 KiB; positive: its element count, within 8 KiB), the same rule as Redis's
 * _quicklistNodeAllowInsert, and also within NODE_MAX_ENTRIES elements: a packed sequence is read
 * forward only, so reaching a node's last element (RPOP, LINDEX -1) walks the node, and the cap bounds
 * that walk. Node sizes are not visible to clients. list-compress-depth is accepted but nodes are never
 * compressed.
 *
 * Invariants:
 *   elements == Σ node counts;  every node count ≥ 1 (an emptied node is freed at once);
 *   head + nodes ≤ capacity;  root bytes == ROOT_HEADER + RECORD_BYTES · capacity;  a stored list is never empty
 *   (the commands delete the key with its last element).
 *
 * A ListValue is a short-lived view made per command over a root handle; the root may move as the list
 * grows or shrinks (`root`), and the caller records it in the key's entry.
 */
import { byteOffsetOf, segmentOf, type Arena } from 'native-free-alloc';
import { CollectionEncoding } from './collection.js';
import type { CollectionDefrag, Mover } from './defrag.js';
import {
  PACKED_FIRST,
  PackedElement,
  encodedSize,
  packedAppend,
  packedCount,
  packedCreate,
  packedDeleteAt,
  packedElementEquals,
  packedFree,
  packedUsage,
  packedInsertAt,
  packedInteger,
  packedOffsetOf,
  packedReplaceAt,
  packedTotalBytes,
  readElement,
} from './packed.js';

/** Element bytes: a view of the arena (valid until the list changes) or an integer's text. */
export type ListBytes = Uint8Array | string;

const ROOT_HEADER = 20;
const RECORD_BYTES = 8;
const R_ELEMENTS = 1;
const R_NODES = 2;
const R_CAPACITY = 3;
const R_HEAD = 4;
const R_SLOTS = 5;

/** The word index, from the root's first word, of node `node`'s handle (its count is the next word). */
function recordWord(words: Uint32Array, w: number, node: number): number {
  return R_SLOTS + 2 * (words[w + R_HEAD] + node);
}

/** The cap on a node's elements, whatever list-max-listpack-size allows (see the header). */
export const NODE_MAX_ENTRIES = 128;
/** Redis's optimization_level: the byte caps that list-max-listpack-size -1 … -5 name. */
const BYTE_LEVELS = [4096, 8192, 16384, 32768, 65536];
/** Redis's SIZE_SAFETY_LIMIT: a node with a positive (count) limit stays within this many bytes. */
const SAFETY_BYTES = 8192;

/** Whether a node of `count` elements may grow to `bytes` bytes under list-max-listpack-size `fill`. */
function nodeAllows(count: number, bytes: number, fill: number): boolean {
  if (count >= NODE_MAX_ENTRIES) return false;
  if (fill < 0) return bytes <= BYTE_LEVELS[Math.min(-fill, BYTE_LEVELS.length) - 1];
  return bytes <= SAFETY_BYTES && count < fill;
}

function asBytes(value: ListBytes): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
}

/** A copy of an element that outlives changes to the list. */
function copyOf(value: ListBytes): ListBytes {
  return typeof value === 'string' ? value : Buffer.from(value);
}

export class ListValue {
  private readonly element = new PackedElement();
  /** Where locate() found its element: the node's record index and the element's index in that node. */
  private foundNode = 0;
  private foundIndex = 0;

  constructor(
    private readonly arena: Arena,
    public root: number,
  ) {}

  /** A new, empty list (callers store it only once it has an element). */
  static create(arena: Arena): ListValue {
    const root = arena.alloc(ROOT_HEADER + RECORD_BYTES);
    arena.beforeWrite(root, 0, ROOT_HEADER);
    const words = arena.u32[segmentOf(root)];
    const w = byteOffsetOf(root) >>> 2;
    words[w] = CollectionEncoding.Quicklist;
    words[w + R_ELEMENTS] = 0;
    words[w + R_NODES] = 0;
    words[w + R_CAPACITY] = 1;
    words[w + R_HEAD] = 0;
    return new ListValue(arena, root);
  }

  // -------------------------------------------------------------- root words

  private word(field: number): number {
    return this.arena.u32[segmentOf(this.root)][(byteOffsetOf(this.root) >>> 2) + field];
  }

  private setWord(field: number, value: number): void {
    this.arena.beforeWrite(this.root, field << 2, 4);
    this.arena.u32[segmentOf(this.root)][(byteOffsetOf(this.root) >>> 2) + field] = value;
  }

  get length(): number {
    return this.word(R_ELEMENTS);
  }

  get nodes(): number {
    return this.word(R_NODES);
  }

  private nodeHandle(node: number): number {
    return this.word(R_SLOTS + 2 * (this.word(R_HEAD) + node));
  }

  private nodeCount(node: number): number {
    return this.word(R_SLOTS + 2 * (this.word(R_HEAD) + node) + 1);
  }

  private setNode(node: number, handle: number, count: number): void {
    const slot = this.word(R_HEAD) + node;
    this.setWord(R_SLOTS + 2 * slot, handle);
    this.setWord(R_SLOTS + 2 * slot + 1, count);
  }

  /** Opens a record slot at `node`, moving the shorter side's records (see the header), and fills it. */
  private insertNode(node: number, handle: number, count: number): void {
    const nodes = this.nodes;
    // Node 0 (LPUSH) moves nothing headward, node `nodes` (RPUSH) nothing tailward.
    const headward = node < nodes - node;
    if (headward ? this.word(R_HEAD) === 0 : this.word(R_HEAD) + nodes === this.word(R_CAPACITY)) this.layOut(headward);
    const head = this.word(R_HEAD);
    if (headward) {
      this.moveRecords(head, head - 1, node);
      this.setWord(R_HEAD, head - 1);
    } else this.moveRecords(head + node, head + node + 1, nodes - node);
    this.setWord(R_NODES, nodes + 1);
    this.setNode(node, handle, count);
  }

  /**
   * Lays the records out afresh with free slots at both ends (the end that is out of room gets the odd
   * one): centred in place while at most half full, else in a root twice as large.
   */
  private layOut(headward: boolean): void {
    const nodes = this.nodes;
    const capacity = this.word(R_CAPACITY);
    const head = this.word(R_HEAD);
    const grown = nodes * 2 >= capacity ? capacity * 2 : capacity;
    if (grown !== capacity) {
      this.root = this.arena.realloc(this.root, ROOT_HEADER + RECORD_BYTES * capacity, ROOT_HEADER + RECORD_BYTES * grown);
      this.setWord(R_CAPACITY, grown);
    }
    const free = grown - nodes;
    const newHead = headward ? Math.ceil(free / 2) : Math.floor(free / 2);
    this.moveRecords(head, newHead, nodes);
    this.setWord(R_HEAD, newHead);
  }

  /** Frees node `node` and closes its record slot, shrinking the root when it is mostly empty. */
  private removeNode(node: number): void {
    packedFree(this.arena, this.nodeHandle(node));
    const nodes = this.nodes - 1;
    const head = this.word(R_HEAD);
    if (node < nodes - node) {
      this.moveRecords(head, head + 1, node);
      this.setWord(R_HEAD, head + 1);
    } else this.moveRecords(head + node + 1, head + node, nodes - node);
    this.setWord(R_NODES, nodes);
    const capacity = this.word(R_CAPACITY);
    if (capacity > 4 && nodes < capacity / 4) {
      // Centre the records within the first half before dropping the second.
      const shrunk = capacity / 2;
      const newHead = Math.floor((shrunk - nodes) / 2);
      this.moveRecords(this.word(R_HEAD), newHead, nodes);
      this.setWord(R_HEAD, newHead);
      this.root = this.arena.realloc(this.root, ROOT_HEADER + RECORD_BYTES * capacity, ROOT_HEADER + RECORD_BYTES * shrunk);
      this.setWord(R_CAPACITY, shrunk);
    }
  }

  /** Moves `records` records from slot `from` to slot `to` (the ranges may overlap). */
  private moveRecords(from: number, to: number, records: number): void {
    if (records === 0 || from === to) return;
    const base = byteOffsetOf(this.root) + ROOT_HEADER;
    this.arena.beforeWrite(this.root, ROOT_HEADER + RECORD_BYTES * to, RECORD_BYTES * records);
    this.arena.u8[segmentOf(this.root)].copyWithin(base + RECORD_BYTES * to, base + RECORD_BYTES * from, base + RECORD_BYTES * (from + records));
  }

  private fits(node: number, item: Uint8Array, fill: number): boolean {
    return nodeAllows(this.nodeCount(node), packedTotalBytes(this.arena, this.nodeHandle(node)) + encodedSize(item), fill);
  }

  /** A new node record at `node` holding `items`. */
  private newNode(node: number, items: Uint8Array[]): void {
    let handle = packedCreate(this.arena, CollectionEncoding.Packed);
    try {
      handle = packedAppend(this.arena, handle, ...items);
      this.insertNode(node, handle, items.length);
    } catch (error) {
      packedFree(this.arena, handle);
      throw error;
    }
  }

  // -------------------------------------------------------------- finding elements

  /** Finds element `index` (0 ≤ index < length): sets foundNode and foundIndex. */
  private locate(index: number): void {
    // Hot path (LINDEX, LRANGE, LSET): the counts are read straight from the root's words.
    const words = this.arena.u32[segmentOf(this.root)];
    const w = byteOffsetOf(this.root) >>> 2;
    const counts = w + recordWord(words, w, 0) + 1;
    const length = words[w + R_ELEMENTS];
    if (index < length / 2) {
      let node = 0;
      for (let count = words[counts]; index >= count; count = words[counts + 2 * ++node]) index -= count;
      this.foundNode = node;
      this.foundIndex = index;
      return;
    }
    let fromEnd = length - 1 - index;
    let node = words[w + R_NODES] - 1;
    for (let count = words[counts + 2 * node]; fromEnd >= count; count = words[counts + 2 * --node]) fromEnd -= count;
    this.foundNode = node;
    this.foundIndex = words[counts + 2 * node] - 1 - fromEnd;
  }

  /** Element `index` (0 ≤ index < length) as a view valid until the list changes. */
  get(index: number): ListBytes {
    this.locate(index);
    const handle = this.nodeHandle(this.foundNode);
    readElement(this.arena, handle, packedOffsetOf(this.arena, handle, this.foundIndex), this.element);
    return this.element.value(this.arena);
  }

  /** Calls `visit` for elements start … start + count - 1 (within the list), head to tail. */
  forRange(start: number, count: number, visit: (value: ListBytes) => void): void {
    if (count <= 0) return;
    this.locate(start);
    const element = this.element;
    for (let node = this.foundNode, first = this.foundIndex; count > 0; node++, first = 0) {
      const handle = this.nodeHandle(node);
      const inNode = this.nodeCount(node);
      let offset = packedOffsetOf(this.arena, handle, first);
      for (let i = first; i < inNode && count > 0; i++, count--) {
        offset = readElement(this.arena, handle, offset, element);
        visit(element.value(this.arena));
      }
    }
  }

  /**
   * The indexes of elements equal to `needle`, in the direction asked (head to tail, or tail to head),
   * looking at no more than `maxLength` elements (0: all) and stopping when `wanted` returns false.
   */
  findEach(needle: Uint8Array, fromTail: boolean, maxLength: number, wanted: (index: number) => boolean): void {
    const needleInteger = packedInteger(needle);
    const element = this.element;
    const nodes = this.nodes;
    let seen = 0;
    if (!fromTail) {
      for (let node = 0, base = 0; node < nodes; node++) {
        const handle = this.nodeHandle(node);
        const count = this.nodeCount(node);
        for (let i = 0, offset = PACKED_FIRST; i < count; i++) {
          if (maxLength !== 0 && seen++ >= maxLength) return;
          offset = readElement(this.arena, handle, offset, element);
          if (packedElementEquals(this.arena, element, needle, needleInteger) && !wanted(base + i)) return;
        }
        base += count;
      }
      return;
    }
    const matches: number[] = [];
    for (let node = nodes - 1, end = this.length; node >= 0; node--) {
      const count = this.nodeCount(node);
      const base = end - count;
      // Packed nodes read forward only: note the node's matches, then take them last first.
      const toSee = maxLength === 0 ? count : Math.min(count, maxLength - seen);
      if (toSee <= 0) return;
      this.matchesIn(node, needle, needleInteger, count - toSee, matches);
      seen += toSee;
      for (let m = matches.length - 1; m >= 0; m--) if (!wanted(base + matches[m])) return;
      end = base;
    }
  }

  /** Fills `into` with the in-node indexes ≥ from of node `node`'s elements equal to the needle. */
  private matchesIn(node: number, needle: Uint8Array, needleInteger: number, from: number, into: number[]): void {
    into.length = 0;
    const handle = this.nodeHandle(node);
    const count = this.nodeCount(node);
    const element = this.element;
    for (let i = 0, offset = PACKED_FIRST; i < count; i++) {
      offset = readElement(this.arena, handle, offset, element);
      if (i >= from && packedElementEquals(this.arena, element, needle, needleInteger)) into.push(i);
    }
  }

  // -------------------------------------------------------------- changing the list

  /** Adds `item` at the head or the tail. */
  push(item: Uint8Array, atHead: boolean, fill: number): void {
    const nodes = this.nodes;
    const node = atHead ? 0 : nodes - 1;
    if (nodes !== 0 && this.fits(node, item, fill)) {
      const handle = this.nodeHandle(node);
      const grown = atHead ? packedInsertAt(this.arena, handle, PACKED_FIRST, item) : packedAppend(this.arena, handle, item);
      this.setNode(node, grown, this.nodeCount(node) + 1);
    } else this.newNode(atHead ? 0 : nodes, [item]);
    this.setWord(R_ELEMENTS, this.length + 1);
  }

  /** Removes the head or tail element (the list is not empty) and returns a copy of it. */
  pop(atHead: boolean): ListBytes {
    const node = atHead ? 0 : this.nodes - 1;
    const handle = this.nodeHandle(node);
    const count = this.nodeCount(node);
    const offset = atHead ? PACKED_FIRST : packedOffsetOf(this.arena, handle, count - 1);
    readElement(this.arena, handle, offset, this.element);
    const value = copyOf(this.element.value(this.arena));
    if (count === 1) this.removeNode(node);
    else this.setNode(node, packedDeleteAt(this.arena, handle, offset, 1), count - 1);
    this.setWord(R_ELEMENTS, this.length - 1);
    return value;
  }

  /** Replaces element `index` (0 ≤ index < length), in place whatever its node's limit, as Redis does. */
  set(index: number, item: Uint8Array): void {
    this.locate(index);
    const node = this.foundNode;
    const handle = this.nodeHandle(node);
    this.setNode(node, packedReplaceAt(this.arena, handle, packedOffsetOf(this.arena, handle, this.foundIndex), item), this.nodeCount(node));
  }

  /**
   * Inserts `item` before (or after) the first element equal to `pivot`; returns whether the pivot was
   * found. Like Redis, a full node hands the item to the neighbour it borders, else splits at the pivot.
   */
  insertAtPivot(pivot: Uint8Array, after: boolean, item: Uint8Array, fill: number): boolean {
    let found = -1;
    this.findEach(pivot, false, 0, (index) => {
      found = index;
      return false;
    });
    if (found < 0) return false;
    if (after && found === this.length - 1) {
      this.push(item, false, fill);
      return true;
    }
    this.locate(after ? found + 1 : found);
    this.insertBefore(this.foundNode, this.foundIndex, item, fill);
    this.setWord(R_ELEMENTS, this.length + 1);
    return true;
  }

  /** Inserts `item` before element `at` of node `node` (0 ≤ at < the node's count). */
  private insertBefore(node: number, at: number, item: Uint8Array, fill: number): void {
    const handle = this.nodeHandle(node);
    const count = this.nodeCount(node);
    if (this.fits(node, item, fill)) {
      this.setNode(node, packedInsertAt(this.arena, handle, packedOffsetOf(this.arena, handle, at), item), count + 1);
      return;
    }
    if (at === 0) {
      if (node > 0 && this.fits(node - 1, item, fill)) {
        this.setNode(node - 1, packedAppend(this.arena, this.nodeHandle(node - 1), item), this.nodeCount(node - 1) + 1);
      } else this.newNode(node, [item]);
      return;
    }
    // Split: elements at … count - 1 move to a new node after this one, then the item joins a side.
    const moved: Uint8Array[] = [];
    const offset = packedOffsetOf(this.arena, handle, at);
    for (let i = at, next = offset; i < count; i++) {
      next = readElement(this.arena, handle, next, this.element);
      moved.push(asBytes(copyOf(this.element.value(this.arena))));
    }
    this.newNode(node + 1, moved);
    this.setNode(node, packedDeleteAt(this.arena, handle, offset, count - at), at);
    if (this.fits(node, item, fill)) this.setNode(node, packedAppend(this.arena, this.nodeHandle(node), item), at + 1);
    else if (this.fits(node + 1, item, fill)) this.setNode(node + 1, packedInsertAt(this.arena, this.nodeHandle(node + 1), PACKED_FIRST, item), moved.length + 1);
    else this.newNode(node + 1, [item]);
  }

  /** Removes up to `limit` (0: all) elements equal to `needle`, from the head or the tail; returns how many. */
  removeMatching(needle: Uint8Array, limit: number, fromTail: boolean): number {
    const needleInteger = packedInteger(needle);
    const matches: number[] = [];
    let removed = 0;
    for (let step = 0, nodes = this.nodes; step < nodes && (limit === 0 || removed < limit); step++) {
      const node = fromTail ? nodes - 1 - step : step;
      this.matchesIn(node, needle, needleInteger, 0, matches);
      if (limit !== 0 && matches.length > limit - removed) {
        if (fromTail) matches.splice(0, matches.length - (limit - removed));
        else matches.length = limit - removed;
      }
      if (matches.length === 0) continue;
      removed += matches.length;
      // From the last match back, so the offsets of earlier matches stay where they were.
      let handle = this.nodeHandle(node);
      const count = this.nodeCount(node);
      for (let m = matches.length - 1; m >= 0; m--) handle = packedDeleteAt(this.arena, handle, packedOffsetOf(this.arena, handle, matches[m]), 1);
      this.setNode(node, handle, count - matches.length);
    }
    if (removed !== 0) {
      this.dropEmptyNodes();
      this.setWord(R_ELEMENTS, this.length - removed);
    }
    return removed;
  }

  private dropEmptyNodes(): void {
    for (let node = this.nodes - 1; node >= 0; node--) if (this.nodeCount(node) === 0) this.removeNode(node);
  }

  /** Deletes elements start … start + count - 1 (within the list). */
  deleteRange(start: number, count: number): void {
    if (count <= 0) return;
    this.locate(start);
    let remaining = count;
    for (let node = this.foundNode, first = this.foundIndex; remaining > 0; first = 0) {
      const inNode = this.nodeCount(node);
      const taken = Math.min(remaining, inNode - first);
      remaining -= taken;
      if (taken === inNode) {
        this.removeNode(node);
        continue;
      }
      const handle = this.nodeHandle(node);
      this.setNode(node, packedDeleteAt(this.arena, handle, packedOffsetOf(this.arena, handle, first), taken), inNode - taken);
      node++;
    }
    this.setWord(R_ELEMENTS, this.length - count);
  }

  /** Calls `visit` for every element, head to tail (views valid until the list changes). */
  forEach(visit: (value: ListBytes) => void): void {
    this.forRange(0, this.length, visit);
  }
}

/**
 * Frees up to `budget` of a list's nodes from node `from`, and the root after the last; returns the
 * node to resume from, or -1 once all is freed (collection.ts's freeCollectionSlice).
 */
export function listFreeSlice(arena: Arena, root: number, from: number, budget: number): number {
  const words = arena.u32[segmentOf(root)];
  const w = byteOffsetOf(root) >>> 2;
  const nodes = words[w + R_NODES];
  const end = Math.min(nodes, from + budget);
  for (let node = from; node < end; node++) packedFree(arena, words[w + recordWord(words, w, node)]);
  if (end < nodes) return end;
  arena.free(root, ROOT_HEADER + RECORD_BYTES * words[w + R_CAPACITY]);
  return -1;
}

/**
 * Active defragmentation (collections/defrag.ts): from node `from` (0 also moves the root's record
 * array), about `budget` nodes each moved if the hint says so, its record rewritten.
 */
export function listDefragSlice(arena: Arena, mover: Mover, root: number, from: number, budget: number): CollectionDefrag {
  if (from === 0) root = mover.relocate(root, ROOT_HEADER + RECORD_BYTES * listCapacity(arena, root));
  const words = arena.u32[segmentOf(root)];
  const w = byteOffsetOf(root) >>> 2;
  const nodes = words[w + R_NODES];
  const end = Math.min(nodes, from + budget);
  for (let node = from; node < end; node++) {
    const record = recordWord(words, w, node);
    const handle = words[w + record];
    const moved = mover.relocate(handle, packedTotalBytes(arena, handle));
    if (moved === handle) continue;
    arena.beforeWrite(root, record << 2, 4);
    words[w + record] = moved;
  }
  return { root, cursor: end < nodes ? end : -1 };
}

function listCapacity(arena: Arena, root: number): number {
  return arena.u32[segmentOf(root)][(byteOffsetOf(root) >>> 2) + R_CAPACITY];
}

/** How many nodes the list has: the work of freeing it. */
export function listNodeCount(arena: Arena, root: number): number {
  return arena.u32[segmentOf(root)][(byteOffsetOf(root) >>> 2) + R_NODES];
}

/** Bytes the arena handed out for the list: every node and the root's record array. */
export function listUsage(arena: Arena, root: number): number {
  arena.beforeRead(root, 0, ROOT_HEADER);
  const rootBytes = ROOT_HEADER + RECORD_BYTES * listCapacity(arena, root);
  arena.beforeRead(root, 0, rootBytes);
  const words = arena.u32[segmentOf(root)];
  const w = byteOffsetOf(root) >>> 2;
  let bytes = arena.usableSize(rootBytes);
  for (let node = 0; node < words[w + R_NODES]; node++) bytes += packedUsage(arena, words[w + recordWord(words, w, node)]);
  return bytes;
}

/** The element count of the node records (for tests of the layout's invariants). */
export function listNodeCounts(arena: Arena, root: number): number[] {
  const words = arena.u32[segmentOf(root)];
  const w = byteOffsetOf(root) >>> 2;
  const counts: number[] = [];
  const nodes = words[w + R_NODES];
  if (words[w + R_HEAD] + nodes > words[w + R_CAPACITY]) throw new Error(`records ${words[w + R_HEAD]} … ${words[w + R_HEAD] + nodes - 1} overrun ${words[w + R_CAPACITY]} slots`);
  for (let node = 0; node < nodes; node++) {
    const record = w + recordWord(words, w, node);
    const count = words[record + 1];
    if (count !== packedCount(arena, words[record])) throw new Error(`node ${node}: record says ${count} elements, node holds ${packedCount(arena, words[record])}`);
    counts.push(count);
  }
  return counts;
}
