/**
 * The large encoding of a sorted set (OBJECT ENCODING "skiplist"): a skiplist with spans ordered by
 * (score, member), plus a member index, both in arena memory.
 *
 * Why a skiplist rather than a B+tree or an order-statistic tree: every operation a sorted set needs is
 * O(log n) on it — insert, delete, rank (the spans summed along the search path), the element at a rank,
 * the first element of a score or lex range — and iteration in both directions is a pointer per step
 * (forward on level 0, the backward link). A node is one small allocation that an update touches alone
 * (so a write dirties one or two pages, which keeps snapshot copy-on-write small), with no node splits or
 * rebalancing to get wrong. A B+tree would pack elements more densely, but its counted inner nodes are
 * rewritten on every insert along the whole path.
 *
 * The member index is a Dict (shard/dict.ts) of entries in the key-entry layout whose key is the member
 * and whose value word is the member's skiplist node. The member's bytes live only in that entry: a node
 * names its entry, so the member is stored once.
 *
 * Root (32-bit words): [u8 CollectionEncoding.Skiplist, 3 bytes 0] [Dict header] [length] [level]
 *                      [tail node] [header node]
 * Node (32-bit words): [score: f64 in words 0–1] [member entry] [backward node] [level]
 *                      then per level i: [forward node] [span]
 *
 * Invariants:
 *   length == Dict size == number of nodes after the header node
 *   for each level i: Σ span over the level's links from the header == rank of the last node linked on it
 *   nodes are in strictly increasing (score, member) order; member order is bytewise (memcmp, then length)
 *   node 0 means none; the header node's score and member are unused
 */
import { byteOffsetOf, segmentOf, type Arena } from 'native-free-alloc';
import { Dict } from '../shard/dict.js';
import { E_KEY_LENGTH, E_VALUE, ValueType, keyOffset } from '../shard/entry.js';
import { entryFlags, entryKeyBytes, entryShellSize, entryShellUsage, freeEntryShell, newEntry } from '../shard/entry-store.js';
import { hashKey } from '../shard/hash.js';
import { readWord, writeWord } from '../shard/arena-words.js';
import { CollectionEncoding } from './collection.js';
import type { CollectionDefrag, Mover } from './defrag.js';

const MAX_LEVEL = 32;
const LEVEL_UP_CHANCE = 0.25;

const ROOT_BYTES = 24;
const R_DICT = 1;
const R_LENGTH = 2;
const R_LEVEL = 3;
const R_TAIL = 4;
const R_HEADER = 5;

const N_SCORE = 0;
const N_MEMBER = 2;
const N_BACKWARD = 3;
const N_LEVEL = 4;
const N_LINKS = 5;

const scoreWords = new Uint32Array(2);
const scoreValue = new Float64Array(scoreWords.buffer);

function nodeBytes(level: number): number {
  return (N_LINKS + 2 * level) * 4;
}

/** Bytewise order of two members (Redis's sdscmp). */
export function compareMembers(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * Per-level scratch for insert and delete: the last node before the change on each level and its rank.
 * Shared by every SkipList of the thread: commands build a SkipList view per call, and two typed arrays
 * per view were a quarter of ZADD's time (profiled). Nothing inside an insert or delete re-enters one.
 */
const UPDATE = new Uint32Array(MAX_LEVEL);
const RANK = new Float64Array(MAX_LEVEL);

export class SkipList {
  private index: Dict | undefined;

  constructor(
    private readonly arena: Arena,
    readonly root: number,
  ) {}

  /** A new, empty skiplist; returns its root. */
  static create(arena: Arena): number {
    const dict = new Dict(arena);
    const root = arena.alloc(ROOT_BYTES);
    const header = arena.alloc(nodeBytes(MAX_LEVEL));
    arena.beforeWrite(header, 0, nodeBytes(MAX_LEVEL));
    arena.u32[segmentOf(header)].fill(0, byteOffsetOf(header) >>> 2, (byteOffsetOf(header) + nodeBytes(MAX_LEVEL)) >>> 2);
    writeWord(arena, header, N_LEVEL, MAX_LEVEL);
    arena.beforeWrite(root, 0, ROOT_BYTES);
    const words = arena.u32[segmentOf(root)];
    const w = byteOffsetOf(root) >>> 2;
    words[w] = CollectionEncoding.Skiplist;
    words[w + R_DICT] = dict.header;
    words[w + R_LENGTH] = 0;
    words[w + R_LEVEL] = 1;
    words[w + R_TAIL] = 0;
    words[w + R_HEADER] = header;
    return root;
  }

  private get dict(): Dict {
    this.index ??= new Dict(this.arena, readWord(this.arena, this.root, R_DICT));
    return this.index;
  }

  get length(): number {
    return readWord(this.arena, this.root, R_LENGTH);
  }

  private get header(): number {
    return readWord(this.arena, this.root, R_HEADER);
  }

  get tail(): number {
    return readWord(this.arena, this.root, R_TAIL);
  }

  // ---------------------------------------------------------------- nodes

  score(node: number): number {
    const words = this.arena.u32[segmentOf(node)];
    const w = byteOffsetOf(node) >>> 2;
    scoreWords[0] = words[w];
    scoreWords[1] = words[w + 1];
    return scoreValue[0];
  }

  /** The node's member bytes (a view of the arena, valid until the member is removed). */
  member(node: number): Uint8Array {
    return entryKeyBytes(this.arena, readWord(this.arena, node, N_MEMBER));
  }

  private forward(node: number, level: number): number {
    return readWord(this.arena, node, N_LINKS + 2 * level);
  }

  private span(node: number, level: number): number {
    return readWord(this.arena, node, N_LINKS + 2 * level + 1);
  }

  next(node: number): number {
    return this.forward(node, 0);
  }

  previous(node: number): number {
    return readWord(this.arena, node, N_BACKWARD);
  }

  /** Whether `node` sorts before (score, member). */
  private before(node: number, score: number, member: Uint8Array): boolean {
    const own = this.score(node);
    return own < score || (own === score && this.compareMember(node, member) < 0);
  }

  /** compareMembers(node's member, member), in place: the search path allocates nothing. */
  private compareMember(node: number, member: Uint8Array): number {
    const entry = readWord(this.arena, node, N_MEMBER);
    const u8 = this.arena.u8[segmentOf(entry)];
    const at = byteOffsetOf(entry) + keyOffset(entryFlags(this.arena, entry));
    const length = readWord(this.arena, entry, E_KEY_LENGTH);
    const shared = Math.min(length, member.length);
    for (let i = 0; i < shared; i++) {
      const difference = u8[at + i] - member[i];
      if (difference !== 0) return difference;
    }
    return length - member.length;
  }

  // ---------------------------------------------------------------- member index

  /** The member's node, or 0. */
  find(member: Uint8Array): number {
    const entry = this.dict.find(member, 0, member.length, hashKey(member, 0, member.length));
    return entry === 0 ? 0 : readWord(this.arena, entry, E_VALUE);
  }

  /** Adds a member that is not in the set. */
  add(member: Uint8Array, score: number): void {
    const entry = newEntry(this.arena, member, hashKey(member, 0, member.length), ValueType.String, 0, false, 0);
    this.dict.insertNew(entry);
    writeWord(this.arena, entry, E_VALUE, this.insertNode(score, member, entry));
  }

  /** Gives a member of the set a new score. */
  setScore(member: Uint8Array, score: number): void {
    const node = this.find(member);
    const entry = readWord(this.arena, node, N_MEMBER);
    this.unlinkAndFree(this.score(node), member);
    writeWord(this.arena, entry, E_VALUE, this.insertNode(score, member, entry));
  }

  /** Removes a member; returns whether it was there. */
  remove(member: Uint8Array): boolean {
    const entry = this.dict.find(member, 0, member.length, hashKey(member, 0, member.length));
    if (entry === 0) return false;
    const node = readWord(this.arena, entry, E_VALUE);
    this.unlinkAndFree(this.score(node), member);
    this.dict.unlinkFound(entry);
    freeEntryShell(this.arena, entry);
    return true;
  }

  /** A uniformly random member's node. */
  randomNode(random: () => number): number {
    return readWord(this.arena, this.dict.randomEntry(random), E_VALUE);
  }

  /** One ZSCAN step over the member index (Dict.scan's cursor), visiting nodes. */
  scanStep(cursor: number, visit: (node: number) => void): number {
    return this.dict.scan(cursor, (entry) => visit(readWord(this.arena, entry, E_VALUE)));
  }

  // ---------------------------------------------------------------- skiplist

  private randomLevel(): number {
    let level = 1;
    while (level < MAX_LEVEL && Math.random() < LEVEL_UP_CHANCE) level++;
    return level;
  }

  private setLink(node: number, level: number, forward: number, span: number): void {
    writeWord(this.arena, node, N_LINKS + 2 * level, forward);
    writeWord(this.arena, node, N_LINKS + 2 * level + 1, span);
  }

  private insertNode(score: number, member: Uint8Array, entry: number): number {
    const { arena } = this;
    const update = UPDATE;
    const rank = RANK;
    const header = this.header;
    let level = readWord(arena, this.root, R_LEVEL);
    let x = header;
    // Hot path (each ZADD of a new member): the search reads links, spans and scores straight from the
    // segments' word arrays, keeping the current node's array and word index in locals rather than
    // re-deriving them per read.
    const u32 = arena.u32;
    let xWords = u32[segmentOf(x)];
    let xAt = byteOffsetOf(x) >>> 2;
    for (let i = level - 1; i >= 0; i--) {
      let passed = i === level - 1 ? 0 : rank[i + 1];
      const link = N_LINKS + 2 * i;
      for (;;) {
        const f = xWords[xAt + link];
        if (f === 0) break;
        const fWords = u32[segmentOf(f)];
        const fAt = byteOffsetOf(f) >>> 2;
        scoreWords[0] = fWords[fAt + N_SCORE];
        scoreWords[1] = fWords[fAt + N_SCORE + 1];
        const own = scoreValue[0];
        if (!(own < score || (own === score && this.compareMember(f, member) < 0))) break;
        passed += xWords[xAt + link + 1];
        x = f;
        xWords = fWords;
        xAt = fAt;
      }
      rank[i] = passed;
      update[i] = x;
    }
    const nodeLevel = this.randomLevel();
    if (nodeLevel > level) {
      for (let i = level; i < nodeLevel; i++) {
        rank[i] = 0;
        update[i] = header;
        writeWord(arena, header, N_LINKS + 2 * i + 1, this.length);
      }
      level = nodeLevel;
      writeWord(arena, this.root, R_LEVEL, level);
    }
    const node = arena.alloc(nodeBytes(nodeLevel));
    arena.beforeWrite(node, 0, nodeBytes(nodeLevel));
    scoreValue[0] = score;
    const words = arena.u32[segmentOf(node)];
    const w = byteOffsetOf(node) >>> 2;
    words[w + N_SCORE] = scoreWords[0];
    words[w + N_SCORE + 1] = scoreWords[1];
    words[w + N_MEMBER] = entry;
    words[w + N_BACKWARD] = update[0] === header ? 0 : update[0];
    words[w + N_LEVEL] = nodeLevel;
    for (let i = 0; i < nodeLevel; i++) {
      const prior = update[i];
      this.setLink(node, i, this.forward(prior, i), this.span(prior, i) - (rank[0] - rank[i]));
      this.setLink(prior, i, node, rank[0] - rank[i] + 1);
    }
    for (let i = nodeLevel; i < level; i++) writeWord(arena, update[i], N_LINKS + 2 * i + 1, this.span(update[i], i) + 1);
    const after = this.forward(node, 0);
    if (after !== 0) writeWord(arena, after, N_BACKWARD, node);
    else writeWord(arena, this.root, R_TAIL, node);
    writeWord(arena, this.root, R_LENGTH, this.length + 1);
    return node;
  }

  /** Unlinks and frees the node of (score, member), which must be in the list. */
  private unlinkAndFree(score: number, member: Uint8Array): void {
    const { arena } = this;
    const update = UPDATE;
    const header = this.header;
    let level = readWord(arena, this.root, R_LEVEL);
    let x = header;
    for (let i = level - 1; i >= 0; i--) {
      for (let f = this.forward(x, i); f !== 0 && this.before(f, score, member); f = this.forward(x, i)) x = f;
      update[i] = x;
    }
    const node = this.forward(x, 0);
    for (let i = 0; i < level; i++) {
      const prior = update[i];
      if (this.forward(prior, i) === node) this.setLink(prior, i, this.forward(node, i), this.span(prior, i) + this.span(node, i) - 1);
      else writeWord(arena, prior, N_LINKS + 2 * i + 1, this.span(prior, i) - 1);
    }
    const after = this.forward(node, 0);
    if (after !== 0) writeWord(arena, after, N_BACKWARD, this.previous(node));
    else writeWord(arena, this.root, R_TAIL, this.previous(node));
    while (level > 1 && this.forward(header, level - 1) === 0) level--;
    writeWord(arena, this.root, R_LEVEL, level);
    writeWord(arena, this.root, R_LENGTH, this.length - 1);
    arena.free(node, nodeBytes(readWord(arena, node, N_LEVEL)));
  }

  /** The 0-based rank of (score, member), which must be in the list. */
  rankOf(score: number, member: Uint8Array): number {
    let x = this.header;
    let rank = 0;
    for (let i = readWord(this.arena, this.root, R_LEVEL) - 1; i >= 0; i--) {
      for (let f = this.forward(x, i); f !== 0 && this.before(f, score, member); f = this.forward(x, i)) {
        rank += this.span(x, i);
        x = f;
      }
    }
    return rank;
  }

  /** The node at 0-based `rank` (< length). */
  nodeAt(rank: number): number {
    let x = this.header;
    let traversed = 0;
    const target = rank + 1;
    for (let i = readWord(this.arena, this.root, R_LEVEL) - 1; i >= 0; i--) {
      for (let f = this.forward(x, i); f !== 0 && traversed + this.span(x, i) <= target; f = this.forward(x, i)) {
        traversed += this.span(x, i);
        x = f;
      }
      if (traversed === target) return x;
    }
    return x;
  }

  /** How many nodes, from the first, satisfy `goesOn` (a predicate true up to some place in the order, then false). */
  countWhile(goesOn: (node: number) => boolean): number {
    let x = this.header;
    let rank = 0;
    for (let i = readWord(this.arena, this.root, R_LEVEL) - 1; i >= 0; i--) {
      for (let f = this.forward(x, i); f !== 0 && goesOn(f); f = this.forward(x, i)) {
        rank += this.span(x, i);
        x = f;
      }
    }
    return rank;
  }

  /** Calls `visit` for each member entry's member bytes and score, in order (for conversion and dumps). */
  forEach(visit: (member: Uint8Array, score: number) => void): void {
    for (let node = this.forward(this.header, 0); node !== 0; node = this.forward(node, 0)) visit(this.member(node), this.score(node));
  }

  /**
   * Frees up to `budget` nodes with their member entries, in order from `from` (0: the first node, else
   * the node a previous call returned), then the index, header and root; returns the node to resume
   * from, or -1 once all is freed.
   */
  freeSlice(from: number, budget: number): number {
    const arena = this.arena;
    let node = from === 0 ? this.forward(this.header, 0) : from;
    for (let freed = 0; node !== 0; freed++) {
      if (freed >= budget) return node;
      const next = this.forward(node, 0);
      freeEntryShell(arena, readWord(arena, node, N_MEMBER));
      arena.free(node, nodeBytes(readWord(arena, node, N_LEVEL)));
      node = next;
    }
    this.dict.destroy();
    arena.free(this.header, nodeBytes(MAX_LEVEL));
    arena.free(this.root, ROOT_BYTES);
    return -1;
  }

  // ---------------------------------------------------------------- active defragmentation

  /**
   * Active defragmentation (collections/defrag.ts): a fresh start (cursor 0) moves the root, the header
   * node and the member index's header and tables; then the member index is walked with
   * Dict.defragScan from `cursor` over about `budget` members, each member entry and its node moved if
   * the hint says so, with every link to them rewritten.
   */
  static defragSlice(arena: Arena, mover: Mover, root: number, cursor: number, budget: number): CollectionDefrag {
    if (cursor === 0) {
      root = mover.relocate(root, ROOT_BYTES);
      const header = readWord(arena, root, R_HEADER);
      const movedHeader = mover.relocate(header, nodeBytes(MAX_LEVEL));
      if (movedHeader !== header) writeWord(arena, root, R_HEADER, movedHeader);
      const index = readWord(arena, root, R_DICT);
      const movedIndex = new Dict(arena, index).defragHeaderAndTables(mover.relocate);
      if (movedIndex !== index) writeWord(arena, root, R_DICT, movedIndex);
    }
    const list = new SkipList(arena, root);
    let visited = 0;
    const relocate = (entry: number): number => {
      visited++;
      return list.relocateMember(mover, entry);
    };
    do cursor = list.dict.defragScan(cursor, relocate);
    while (cursor !== 0 && visited < budget);
    return { root, cursor: cursor === 0 ? -1 : cursor };
  }

  /** Moves a member entry and its node where the hint says so; returns the entry's handle afterwards. */
  private relocateMember(mover: Mover, entry: number): number {
    const { arena } = this;
    const node = readWord(arena, entry, E_VALUE);
    const movedEntry = mover.relocate(entry, entryShellSize(arena, entry));
    if (movedEntry !== entry) writeWord(arena, node, N_MEMBER, movedEntry);
    if (!mover.wants(node)) return movedEntry;
    // The nodes linking to this one are found, as for a deletion, before it moves.
    const update = UPDATE;
    const score = this.score(node);
    const member = entryKeyBytes(arena, movedEntry);
    const nodeLevel = readWord(arena, node, N_LEVEL);
    let x = this.header;
    for (let i = readWord(arena, this.root, R_LEVEL) - 1; i >= 0; i--) {
      for (let f = this.forward(x, i); f !== 0 && this.before(f, score, member); f = this.forward(x, i)) x = f;
      update[i] = x;
    }
    const moved = mover.move(node, nodeBytes(nodeLevel));
    for (let i = 0; i < nodeLevel; i++) writeWord(arena, update[i], N_LINKS + 2 * i, moved);
    const after = this.forward(moved, 0);
    if (after !== 0) writeWord(arena, after, N_BACKWARD, moved);
    else writeWord(arena, this.root, R_TAIL, moved);
    writeWord(arena, movedEntry, E_VALUE, moved);
    return movedEntry;
  }

  /** Bytes the arena handed out for the skiplist: every node and member entry, the index's tables, header and root. */
  usage(): number {
    const arena = this.arena;
    arena.beforeRead(this.root, 0, ROOT_BYTES);
    arena.beforeRead(this.header, 0, nodeBytes(MAX_LEVEL));
    let bytes = this.dict.allocatedBytes() + arena.usableSize(nodeBytes(MAX_LEVEL)) + arena.usableSize(ROOT_BYTES);
    for (let node = this.forward(this.header, 0); node !== 0; node = this.forward(node, 0)) {
      arena.beforeRead(node, 0, nodeBytes(0));
      const size = nodeBytes(readWord(arena, node, N_LEVEL));
      arena.beforeRead(node, 0, size);
      bytes += entryShellUsage(arena, readWord(arena, node, N_MEMBER)) + arena.usableSize(size);
    }
    return bytes;
  }
}
