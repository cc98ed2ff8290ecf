/**
 * The Sorted Set type's value, over its two encodings, as Redis's t_zset.c keeps them:
 *
 *   packed   (OBJECT ENCODING "listpack")  member, score, member, score, … in one packed sequence
 *                                          (packed.ts), sorted by score then member
 *   skiplist (OBJECT ENCODING "skiplist")  skiplist.ts: a skiplist with spans and a member index
 *
 * A packed score is an integer element when the score is a safe integer (-0 included: Redis's listpack
 * reads "-0" back as 0, so a packed set has no negative zero), else the double's
 * 8 bytes little-endian as a string element; when those 8 bytes happen to be the canonical text of an
 * integer (which the packed format would store as an integer), a 0 byte is appended so they stay a
 * string. So every score reads back exactly, and small integer scores take 1–3 bytes.
 *
 * Everything above the encodings works in ranks: a score or lex range becomes the interval of ranks
 * [count of elements below min, count of elements up to max), and reads, counts and removals of ranges
 * are then one rank-interval operation each.
 *
 * A set converts to skiplist, never back by itself, at Redis 7.0's moments (the commands call
 * convertIfNeeded before an insertion; the STORE commands call packIfSmall on their result).
 */
import type { Arena } from 'native-free-alloc';
import type { CollectionLimits } from './limits.js';
import { CollectionEncoding, collectionEncoding, freeCollection } from './collection.js';
import { SkipList, compareMembers } from './skiplist.js';
import {
  PACKED_FIRST,
  PackedElement,
  packedCount,
  packedCreate,
  packedDeleteAt,
  packedFind,
  packedInsertAt,
  packedInteger,
  packedNext,
  packedOffsetOf,
  packedTotalBytes,
  readElement,
} from './packed.js';

/** A member as reply material: a view of the arena (valid until the set changes) or an integer's text. */
export type MemberBytes = Uint8Array | string;

const rawScore = new Float64Array(1);
const rawScoreBytes = new Uint8Array(rawScore.buffer);

/** The packed element bytes of a score (see the module comment). */
function scoreItem(score: number): Uint8Array {
  if (Number.isSafeInteger(score)) return Buffer.from(String(score), 'latin1');
  rawScore[0] = score;
  const raw = Buffer.from(rawScoreBytes);
  return Number.isNaN(packedInteger(raw)) ? raw : Buffer.concat([raw, Buffer.alloc(1)]);
}

export function memberBytes(member: MemberBytes): Uint8Array {
  return typeof member === 'string' ? Buffer.from(member, 'latin1') : member;
}

export class SortedSetValue {
  private list: SkipList | undefined;
  private readonly memberElement = new PackedElement();
  private readonly scoreElement = new PackedElement();

  constructor(
    private readonly arena: Arena,
    public root: number,
  ) {}

  /** A new, empty set, packed unless `large`. */
  static create(arena: Arena, large: boolean): SortedSetValue {
    return new SortedSetValue(arena, large ? SkipList.create(arena) : packedCreate(arena, CollectionEncoding.Packed));
  }

  get isPacked(): boolean {
    return collectionEncoding(this.arena, this.root) === CollectionEncoding.Packed;
  }

  private get skiplist(): SkipList {
    if (this.list === undefined || this.list.root !== this.root) this.list = new SkipList(this.arena, this.root);
    return this.list;
  }

  get length(): number {
    return this.isPacked ? packedCount(this.arena, this.root) / 2 : this.skiplist.length;
  }

  private readScore(element: PackedElement): number {
    if (element.isInteger) return element.integer;
    rawScoreBytes.set(this.arena.u8[element.segment].subarray(element.at, element.at + 8));
    return rawScore[0];
  }

  /** Reads the pair at `offset` into the member and score elements; returns the next pair's offset. */
  private readPair(offset: number): number {
    offset = readElement(this.arena, this.root, offset, this.memberElement);
    return readElement(this.arena, this.root, offset, this.scoreElement);
  }

  private packedMember(): Uint8Array {
    return memberBytes(this.memberElement.value(this.arena));
  }

  score(member: Uint8Array): number | undefined {
    if (!this.isPacked) {
      const node = this.skiplist.find(member);
      return node === 0 ? undefined : this.skiplist.score(node);
    }
    const at = packedFind(this.arena, this.root, member, packedInteger(member), 2);
    if (at < 0) return undefined;
    readElement(this.arena, this.root, packedNext(this.arena, this.root, at), this.scoreElement);
    return this.readScore(this.scoreElement);
  }

  /** The member's 0-based rank in ascending order, or -1. */
  rank(member: Uint8Array): number {
    if (!this.isPacked) {
      const node = this.skiplist.find(member);
      return node === 0 ? -1 : this.skiplist.rankOf(this.skiplist.score(node), member);
    }
    const at = packedFind(this.arena, this.root, member, packedInteger(member), 2);
    if (at < 0) return -1;
    let rank = 0;
    for (let offset = PACKED_FIRST; offset < at; offset = this.readPair(offset)) rank++;
    return rank;
  }

  /** How many elements, from the first, `goesOn` holds for (it must hold up to a place in the order, then not). */
  countWhile(goesOn: (score: number, member: () => Uint8Array) => boolean): number {
    if (!this.isPacked) {
      const list = this.skiplist;
      return list.countWhile((node) => goesOn(list.score(node), () => list.member(node)));
    }
    const end = packedTotalBytes(this.arena, this.root);
    let count = 0;
    for (let offset = PACKED_FIRST; offset < end; count++) {
      offset = this.readPair(offset);
      if (!goesOn(this.readScore(this.scoreElement), () => this.packedMember())) break;
    }
    return count;
  }

  /**
   * Visits the elements of ascending ranks [start, end), from start up, or from end - 1 down when
   * `reverse`. The member is a view valid until the set changes.
   */
  forRange(start: number, end: number, reverse: boolean, visit: (member: MemberBytes, score: number) => void): void {
    if (start >= end) return;
    if (!this.isPacked) {
      const list = this.skiplist;
      let node = list.nodeAt(reverse ? end - 1 : start);
      for (let i = start; i < end; i++) {
        visit(list.member(node), list.score(node));
        node = reverse ? list.previous(node) : list.next(node);
      }
      return;
    }
    if (!reverse) {
      let offset = packedOffsetOf(this.arena, this.root, 2 * start);
      for (let i = start; i < end; i++) {
        offset = this.readPair(offset);
        visit(this.memberElement.value(this.arena), this.readScore(this.scoreElement));
      }
      return;
    }
    // A packed sequence walks forward only: collect the range's offsets, then visit them backwards.
    const offsets: number[] = [];
    let offset = packedOffsetOf(this.arena, this.root, 2 * start);
    for (let i = start; i < end; i++) {
      offsets.push(offset);
      offset = this.readPair(offset);
    }
    for (let i = offsets.length - 1; i >= 0; i--) {
      this.readPair(offsets[i]);
      visit(this.memberElement.value(this.arena), this.readScore(this.scoreElement));
    }
  }

  /**
   * Visits the elements in ascending order while `visit` returns true: a walk that stops as soon as the
   * caller has what it needs (ZINTERCARD LIMIT). The member is a view valid until the set changes.
   */
  forEachWhile(visit: (member: MemberBytes, score: number) => boolean): void {
    if (!this.isPacked) {
      const list = this.skiplist;
      for (let node = list.length === 0 ? 0 : list.nodeAt(0); node !== 0 && visit(list.member(node), list.score(node)); node = list.next(node));
      return;
    }
    const end = packedTotalBytes(this.arena, this.root);
    for (let offset = PACKED_FIRST; offset < end; ) {
      offset = this.readPair(offset);
      if (!visit(this.memberElement.value(this.arena), this.readScore(this.scoreElement))) return;
    }
  }

  /** Removes the elements of ascending ranks [start, end). */
  deleteRange(start: number, end: number): void {
    if (start >= end) return;
    if (this.isPacked) {
      this.root = packedDeleteAt(this.arena, this.root, packedOffsetOf(this.arena, this.root, 2 * start), 2 * (end - start));
      return;
    }
    const members: Buffer[] = [];
    this.forRange(start, end, false, (member) => members.push(Buffer.from(memberBytes(member))));
    for (const member of members) this.skiplist.remove(member);
  }

  /**
   * Before inserting `member` as a new element: converts to skiplist when the set would outgrow
   * zset-max-listpack-entries or the member is longer than zset-max-listpack-value (Redis's zsetAdd).
   */
  convertIfNeeded(member: Uint8Array, limits: CollectionLimits): void {
    if (this.isPacked && (this.length + 1 > limits['zset-max-listpack-entries'] || member.length > limits['zset-max-listpack-value'])) this.convertToSkiplist();
  }

  /** Adds a member that is not in the set (convertIfNeeded first). */
  insert(member: Uint8Array, score: number): void {
    if (!this.isPacked) return this.skiplist.add(member, score);
    const end = packedTotalBytes(this.arena, this.root);
    let offset = PACKED_FIRST;
    while (offset < end) {
      const next = this.readPair(offset);
      const own = this.readScore(this.scoreElement);
      if (own > score || (own === score && compareMembers(this.packedMember(), member) > 0)) break;
      offset = next;
    }
    this.root = packedInsertAt(this.arena, this.root, offset, member, scoreItem(score));
  }

  /** Gives a member of the set a new score. */
  setScore(member: Uint8Array, score: number): void {
    if (!this.isPacked) return this.skiplist.setScore(member, score);
    this.remove(member);
    this.insert(member, score);
  }

  /** Removes the member; returns whether it was there. */
  remove(member: Uint8Array): boolean {
    if (!this.isPacked) return this.skiplist.remove(member);
    const at = packedFind(this.arena, this.root, member, packedInteger(member), 2);
    if (at < 0) return false;
    this.root = packedDeleteAt(this.arena, this.root, at, 2);
    return true;
  }

  /** A uniformly random element of a skiplist set (copied), or of a packed set the one at `rank`. */
  randomElement(random: () => number): [Buffer, number] {
    if (!this.isPacked) {
      const node = this.skiplist.randomNode(random);
      return [Buffer.from(this.skiplist.member(node)), this.skiplist.score(node)];
    }
    let result: [Buffer, number] = [Buffer.alloc(0), 0];
    const rank = Math.floor(random() * this.length);
    this.forRange(rank, rank + 1, false, (member, score) => (result = [Buffer.from(memberBytes(member)), score]));
    return result;
  }

  /** One ZSCAN step over a skiplist set's member index; pairs are copies. */
  scanStep(cursor: number, into: [Buffer, number][]): number {
    const list = this.skiplist;
    return list.scanStep(cursor, (node) => into.push([Buffer.from(list.member(node)), list.score(node)]));
  }

  /** Rebuilds a packed set as a skiplist. If memory runs out half-way, the packed set is left as it was. */
  convertToSkiplist(): void {
    const packed = this.root;
    const listRoot = SkipList.create(this.arena);
    const list = new SkipList(this.arena, listRoot);
    try {
      this.forRange(0, this.length, false, (member, score) => list.add(memberBytes(member), score));
    } catch (error) {
      freeCollection(this.arena, listRoot);
      throw error;
    }
    freeCollection(this.arena, packed);
    this.root = listRoot;
  }

  /**
   * Redis's zsetConvertToListpackIfNeeded, for a set a STORE command built: a skiplist set small enough
   * for the packed limits becomes packed.
   */
  packIfSmall(limits: CollectionLimits): void {
    if (this.isPacked || this.length > limits['zset-max-listpack-entries']) return;
    let longest = 0;
    this.forRange(0, this.length, false, (member) => (longest = Math.max(longest, member.length)));
    if (longest > limits['zset-max-listpack-value']) return;
    const list = this.root;
    const packed = new SortedSetValue(this.arena, packedCreate(this.arena, CollectionEncoding.Packed));
    try {
      this.forRange(0, this.length, false, (member, score) => {
        packed.root = packedInsertAt(this.arena, packed.root, packedTotalBytes(this.arena, packed.root), memberBytes(member), scoreItem(score));
      });
    } catch (error) {
      freeCollection(this.arena, packed.root);
      throw error;
    }
    freeCollection(this.arena, list);
    this.root = packed.root;
  }
}
