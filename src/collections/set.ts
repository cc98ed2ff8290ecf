/**
 * The Set type's value, over its two encodings, as Redis 7.0's t_set.c keeps them:
 *
 *   intset (OBJECT ENCODING "intset")       a sorted array of integers (intset.ts), while every member
 *                                           is an integer and there are at most set-max-intset-entries
 *   table  (OBJECT ENCODING "hashtable")    a Dict of member entries with empty values (hash-table.ts)
 *
 * Redis 7.0 has no listpack for sets (that came in 7.2): a set whose first member is not an integer is
 * a table from the start. A set only ever goes from intset to table, at the moments Redis's setTypeAdd
 * converts (a non-integer member added, or one member too many), so OBJECT ENCODING agrees with it.
 *
 * A member is either bytes (an arena view from a table, valid until the set changes, or an argument)
 * or an intset's integer; `memberBytes`/`memberReply` turn one into what a Dict or a reply needs.
 * A SetValue is a short-lived view made per command over a root handle; the root may change as the set
 * grows (`root`), and the caller records it in the key's entry when it does.
 */
import type { Arena } from 'native-free-alloc';
import type { Dict } from '../shard/dict.js';
import { entryKeyBytes } from '../shard/entry-store.js';
import { parseInt64 } from '../commands/context.js';
import type { CollectionLimits } from './limits.js';
import { CollectionEncoding, collectionEncoding, freeCollection } from './collection.js';
import { hashTableCreate, hashTableDelete, hashTableDict, hashTableFind, hashTableSet } from './hash-table.js';
import { intsetAdd, intsetCount, intsetCreate, intsetFree, intsetGet, intsetRemoveAt, intsetSearch, type IntsetValue } from './intset.js';

export type SetMember = Uint8Array | IntsetValue;

const NO_VALUE = new Uint8Array(0);

/** The member's bytes (an integer's decimal text). */
export function memberBytes(member: SetMember): Uint8Array {
  return typeof member === 'object' ? member : Buffer.from(String(member), 'latin1');
}

/** The member as reply material. */
export function memberReply(member: SetMember): Uint8Array | string {
  return typeof member === 'object' ? member : String(member);
}

/** The member as a value of its own, safe to keep after the set changes. */
export function memberCopy(member: SetMember): SetMember {
  return typeof member === 'object' ? Buffer.from(member) : member;
}

/** The integer an intset would store for `member`, or undefined (Redis's isSdsRepresentableAsLongLong). */
function integerOf(member: SetMember): IntsetValue | undefined {
  return typeof member === 'object' ? parseInt64(member) : member;
}

export class SetValue {
  private table: Dict | undefined;

  constructor(
    private readonly arena: Arena,
    public root: number,
  ) {}

  /** A new, empty set in the encoding Redis's setTypeCreate picks for a set whose first member is `first`. */
  static create(arena: Arena, first: SetMember): SetValue {
    return integerOf(first) === undefined ? new SetValue(arena, hashTableCreate(arena)) : SetValue.createIntset(arena);
  }

  /** A new, empty intset (Redis's createIntsetObject, the start of every *STORE result). */
  static createIntset(arena: Arena): SetValue {
    return new SetValue(arena, intsetCreate(arena, CollectionEncoding.Intset));
  }

  get isIntset(): boolean {
    return collectionEncoding(this.arena, this.root) === CollectionEncoding.Intset;
  }

  private get dict(): Dict {
    this.table ??= hashTableDict(this.arena, this.root);
    return this.table;
  }

  get size(): number {
    return this.isIntset ? intsetCount(this.arena, this.root) : this.dict.size;
  }

  has(member: SetMember): boolean {
    if (!this.isIntset) return hashTableFind(this.dict, memberBytes(member)) !== 0;
    const value = integerOf(member);
    return value !== undefined && intsetSearch(this.arena, this.root, value) >= 0;
  }

  /** Adds the member; returns whether it is new. Converts as Redis's setTypeAdd does. */
  add(member: SetMember, limits: CollectionLimits): boolean {
    if (this.isIntset) {
      const value = integerOf(member);
      if (value !== undefined) {
        const result = intsetAdd(this.arena, this.root, value);
        this.root = result.handle;
        if (result.added && this.size > limits['set-max-intset-entries']) this.convertToTable();
        return result.added;
      }
      this.convertToTable();
    }
    const bytes = memberBytes(member);
    if (hashTableFind(this.dict, bytes) !== 0) return false;
    hashTableSet(this.arena, this.dict, bytes, NO_VALUE);
    return true;
  }

  /** Removes the member; returns whether it was there. */
  remove(member: SetMember): boolean {
    if (!this.isIntset) return hashTableDelete(this.arena, this.dict, memberBytes(member));
    const value = integerOf(member);
    const index = value === undefined ? -1 : intsetSearch(this.arena, this.root, value);
    if (index < 0) return false;
    this.root = intsetRemoveAt(this.arena, this.root, index);
    return true;
  }

  /** Calls `visit` for every member, in the encoding's order (intset: ascending). */
  forEach(visit: (member: SetMember) => void): void {
    if (!this.isIntset) {
      this.dict.forEach((entry) => visit(entryKeyBytes(this.arena, entry)));
      return;
    }
    const count = intsetCount(this.arena, this.root);
    for (let i = 0; i < count; i++) visit(intsetGet(this.arena, this.root, i));
  }

  /**
   * Calls `visit` for members, in the encoding's order, while it returns true: a walk that stops as
   * soon as the caller has what it needs (SINTERCARD and ZINTERCARD LIMIT).
   */
  forEachWhile(visit: (member: SetMember) => boolean): void {
    if (!this.isIntset) {
      this.dict.forEachWhile((entry) => visit(entryKeyBytes(this.arena, entry)));
      return;
    }
    const count = intsetCount(this.arena, this.root);
    for (let i = 0; i < count && visit(intsetGet(this.arena, this.root, i)); i++);
  }

  /** A uniformly random member, as a copy. */
  randomMember(random: () => number): SetMember {
    if (this.isIntset) return intsetGet(this.arena, this.root, Math.floor(random() * this.size));
    return Buffer.from(entryKeyBytes(this.arena, this.dict.randomEntry(random)));
  }

  /** `count` (< size) distinct random members, as copies. */
  randomDistinct(count: number, random: () => number): SetMember[] {
    const chosen = new Map<string, SetMember>();
    while (chosen.size < count) {
      const member = this.randomMember(random);
      chosen.set(typeof member === 'object' ? Buffer.from(member).toString('latin1') : `#${member}`, member);
    }
    return [...chosen.values()];
  }

  /** One SSCAN step over a table (Dict.scan's cursor); members are copies. */
  scanStep(cursor: number, into: Buffer[]): number {
    return this.dict.scan(cursor, (entry) => into.push(Buffer.from(entryKeyBytes(this.arena, entry))));
  }

  /** Rebuilds an intset as a table. If memory runs out half-way, the intset is left as it was. */
  convertToTable(): void {
    const intset = this.root;
    const tableRoot = hashTableCreate(this.arena);
    const dict = hashTableDict(this.arena, tableRoot);
    try {
      const count = intsetCount(this.arena, intset);
      for (let i = 0; i < count; i++) hashTableSet(this.arena, dict, memberBytes(intsetGet(this.arena, intset, i)), NO_VALUE);
    } catch (error) {
      freeCollection(this.arena, tableRoot);
      throw error;
    }
    intsetFree(this.arena, intset);
    this.root = tableRoot;
    this.table = dict;
  }

  /** Frees the set (one never given to a key, such as a result built for a reply). */
  free(): void {
    freeCollection(this.arena, this.root);
  }
}
