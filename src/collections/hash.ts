/**
 * The Hash type's value, over its two encodings, as Redis's t_hash.c keeps them:
 *
 *   packed (OBJECT ENCODING "listpack")  field, value, field, value, … in one packed sequence (packed.ts);
 *                                        lookups scan it, which is faster than hashing at this size
 *   table  (OBJECT ENCODING "hashtable") a Dict of field entries (hash-table.ts)
 *
 * A hash starts packed and becomes a table, never back, when it would hold more than
 * hash-max-listpack-entries fields or a field or value longer than hash-max-listpack-value bytes (the
 * same checks, at the same moments, as Redis 7.0, so OBJECT ENCODING agrees with it).
 *
 * A HashValue is a short-lived view made per command over a root handle in the arena; the root may
 * change as the hash grows (`root`), and the caller records it in the key's entry when it does.
 */
import type { Arena } from 'native-free-alloc';
import type { Dict } from '../shard/dict.js';
import { entryKeyBytes } from '../shard/entry-store.js';
import type { CollectionLimits } from './limits.js';
import { CollectionEncoding, collectionEncoding, freeCollection } from './collection.js';
import {
  hashTableCreate,
  hashTableDelete,
  hashTableDict,
  hashTableFind,
  hashTableSet,
  hashTableValue,
} from './hash-table.js';
import {
  PACKED_FIRST,
  PackedElement,
  packedAppend,
  packedCount,
  packedCreate,
  packedDeleteAt,
  packedFind,
  packedFree,
  packedInteger,
  packedNext,
  packedOffsetOf,
  packedReplaceAt,
  packedTotalBytes,
  readElement,
} from './packed.js';

/** Field or value bytes: a view of the arena (valid until the hash changes) or an integer's text. */
export type HashBytes = Uint8Array | string;

export class HashValue {
  private table: Dict | undefined;
  private readonly fieldElement = new PackedElement();
  private readonly valueElement = new PackedElement();

  constructor(
    private readonly arena: Arena,
    public root: number,
  ) {}

  /** A new, empty (packed) hash. */
  static create(arena: Arena): HashValue {
    return new HashValue(arena, packedCreate(arena, CollectionEncoding.Packed));
  }

  get isPacked(): boolean {
    return collectionEncoding(this.arena, this.root) === CollectionEncoding.Packed;
  }

  private get dict(): Dict {
    this.table ??= hashTableDict(this.arena, this.root);
    return this.table;
  }

  get length(): number {
    return this.isPacked ? packedCount(this.arena, this.root) / 2 : this.dict.size;
  }

  /** The packed offset of `field`'s element, or -1. */
  private packedField(field: Uint8Array): number {
    return packedFind(this.arena, this.root, field, packedInteger(field), 2);
  }

  get(field: Uint8Array): HashBytes | undefined {
    if (this.isPacked) {
      const at = this.packedField(field);
      if (at < 0) return undefined;
      readElement(this.arena, this.root, packedNext(this.arena, this.root, at), this.valueElement);
      return this.valueElement.value(this.arena);
    }
    const entry = hashTableFind(this.dict, field);
    return entry === 0 ? undefined : hashTableValue(this.arena, entry);
  }

  exists(field: Uint8Array): boolean {
    return this.isPacked ? this.packedField(field) >= 0 : hashTableFind(this.dict, field) !== 0;
  }

  /**
   * Redis's hashTypeTryConversion: before a write, a packed hash becomes a table when any of
   * args[from, to) is longer than hash-max-listpack-value, whether or not that argument ends up stored.
   */
  convertForArguments(args: readonly Uint8Array[], from: number, to: number, limits: CollectionLimits): void {
    if (!this.isPacked) return;
    for (let i = from; i < to; i++) {
      if (args[i].length > limits['hash-max-listpack-value']) return this.convertToTable();
    }
  }

  /** Sets field → value; returns true when the field is new. Converts as Redis's hashTypeSet does. */
  set(field: Uint8Array, value: Uint8Array, limits: CollectionLimits): boolean {
    if (this.isPacked && (field.length > limits['hash-max-listpack-value'] || value.length > limits['hash-max-listpack-value'])) this.convertToTable();
    if (!this.isPacked) return hashTableSet(this.arena, this.dict, field, value);
    const at = this.packedField(field);
    if (at >= 0) {
      this.root = packedReplaceAt(this.arena, this.root, packedNext(this.arena, this.root, at), value);
      return false;
    }
    this.root = packedAppend(this.arena, this.root, field, value);
    if (this.length > limits['hash-max-listpack-entries']) this.convertToTable();
    return true;
  }

  /** Deletes the field; returns whether it was there. */
  delete(field: Uint8Array): boolean {
    if (!this.isPacked) return hashTableDelete(this.arena, this.dict, field);
    const at = this.packedField(field);
    if (at < 0) return false;
    this.root = packedDeleteAt(this.arena, this.root, at, 2);
    return true;
  }

  /** Calls `visit` for every field and value, in the encoding's order (packed: insertion order). */
  forEach(visit: (field: HashBytes, value: HashBytes) => void): void {
    if (!this.isPacked) {
      this.dict.forEach((entry) => visit(entryKeyBytes(this.arena, entry), hashTableValue(this.arena, entry)));
      return;
    }
    const end = packedTotalBytes(this.arena, this.root);
    for (let at = PACKED_FIRST; at < end; ) {
      at = readElement(this.arena, this.root, at, this.fieldElement);
      at = readElement(this.arena, this.root, at, this.valueElement);
      visit(this.fieldElement.value(this.arena), this.valueElement.value(this.arena));
    }
  }

  /**
   * The field and value of record `index` of a packed hash, or of a random field of a table (`index`
   * ignored), as copies: what HRANDFIELD returns.
   */
  pairAt(index: number, random: () => number): [HashBytes, HashBytes] {
    if (!this.isPacked) {
      const entry = this.dict.randomEntry(random);
      return [Buffer.from(entryKeyBytes(this.arena, entry)), Buffer.from(hashTableValue(this.arena, entry))];
    }
    const at = readElement(this.arena, this.root, packedOffsetOf(this.arena, this.root, index * 2), this.fieldElement);
    readElement(this.arena, this.root, at, this.valueElement);
    return [copyOf(this.fieldElement.value(this.arena)), copyOf(this.valueElement.value(this.arena))];
  }

  /** The table's entries as field/value pairs, distinct, chosen by sampling (a table only). */
  sampleDistinct(count: number, random: () => number): [HashBytes, HashBytes][] {
    const chosen = new Set<number>();
    while (chosen.size < count) chosen.add(this.dict.randomEntry(random));
    return [...chosen].map((entry) => [Buffer.from(entryKeyBytes(this.arena, entry)), Buffer.from(hashTableValue(this.arena, entry))]);
  }

  /** One HSCAN step over a table (Dict.scan's cursor); pairs are copies. */
  scanStep(cursor: number, into: [Buffer, Buffer][]): number {
    return this.dict.scan(cursor, (entry) => into.push([Buffer.from(entryKeyBytes(this.arena, entry)), Buffer.from(hashTableValue(this.arena, entry))]));
  }

  /** Rebuilds a packed hash as a table. If memory runs out half-way, the packed hash is left as it was. */
  convertToTable(): void {
    const packed = this.root;
    const tableRoot = hashTableCreate(this.arena);
    const dict = hashTableDict(this.arena, tableRoot);
    try {
      const end = packedTotalBytes(this.arena, packed);
      for (let at = PACKED_FIRST; at < end; ) {
        at = readElement(this.arena, packed, at, this.fieldElement);
        at = readElement(this.arena, packed, at, this.valueElement);
        hashTableSet(this.arena, dict, asBytes(this.fieldElement.value(this.arena)), asBytes(this.valueElement.value(this.arena)));
      }
    } catch (error) {
      freeCollection(this.arena, tableRoot);
      throw error;
    }
    packedFree(this.arena, packed);
    this.root = tableRoot;
    this.table = dict;
  }
}

function asBytes(value: HashBytes): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
}

function copyOf(value: HashBytes): HashBytes {
  return typeof value === 'string' ? value : Buffer.from(value);
}
