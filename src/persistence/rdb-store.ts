/**
 * Stores a value read from RDB (a file or a RESTORE payload) as a key of a Database, in the encoding
 * Redis 7.0 gives it on load: packed while the shard's limits allow it (entries and element sizes),
 * an intset while every member is an integer, and converted as soon as a limit is passed, whatever the
 * encoding the value was written in. Duplicate elements, which only a corrupt payload holds, are refused.
 */
import type { CollectionLimits } from '../collections/limits.js';
import { freeCollection } from '../collections/collection.js';
import { memberBytes } from '../collections/zset.js';
import type { Database, ExpiryTime } from '../shard/database.js';
import { ValueType } from '../shard/entry.js';
import { buildHash, buildList, buildSet, buildSortedSet } from '../shard/key-dump.js';
import type { RdbValue } from './rdb-reader.js';

export class DuplicateElementError extends Error {}

function refuseDuplicate(added: boolean, what: string): void {
  if (!added) throw new DuplicateElementError(`duplicate ${what} in the value`);
}

function longest(items: readonly Uint8Array[], from = 0, step = 1): number {
  let most = 0;
  for (let i = from; i < items.length; i += step) most = Math.max(most, items[i].length);
  return most;
}

/** Builds the value's collection in `db`'s arena (not yet any key's) and returns its root. */
function buildCollection(db: Database, value: Exclude<RdbValue, { type: ValueType.String }>, limits: CollectionLimits): number {
  switch (value.type) {
    case ValueType.List:
      return buildList(db, limits['list-max-listpack-size'], (push) => value.items.forEach((item) => push(item)));
    case ValueType.Set:
      return buildSet(db, value.members.length > limits['set-max-intset-entries'], limits, (add) => {
        for (const member of value.members) refuseDuplicate(add(member), 'set member');
      });
    case ValueType.Hash:
      return buildHash(db, value.pairs.length / 2 > limits['hash-max-listpack-entries'], limits, (set) => {
        for (let i = 0; i < value.pairs.length; i += 2) refuseDuplicate(set(value.pairs[i], value.pairs[i + 1]), 'hash field');
      });
    case ValueType.ZSet: {
      const large = value.members.length > limits['zset-max-listpack-entries'] || longest(value.members) > limits['zset-max-listpack-value'];
      return buildSortedSet(db, large, (insert) => {
        value.members.forEach((member, i) => refuseDuplicate(insert(memberBytes(member), value.scores[i]), 'sorted set member'));
      });
    }
  }
}

/** Whether the value holds nothing (Redis refuses empty collections in RDB as corrupt). */
export function isEmptyCollection(value: RdbValue): boolean {
  switch (value.type) {
    case ValueType.String:
      return false;
    case ValueType.List:
      return value.items.length === 0;
    case ValueType.Set:
      return value.members.length === 0;
    case ValueType.Hash:
      return value.pairs.length === 0;
    case ValueType.ZSet:
      return value.members.length === 0;
  }
}

/** Writes `value` as `key` of `db` with `expireAt` (ExpiryChange.Clear for none); returns the entry. */
export function storeValue(db: Database, key: Uint8Array, value: RdbValue, expireAt: ExpiryTime, limits: CollectionLimits): number {
  if (value.type === ValueType.String) return db.setString(key, value.bytes, expireAt);
  const root = buildCollection(db, value, limits);
  try {
    return db.setCollection(key, value.type, root, expireAt);
  } catch (error) {
    freeCollection(db.arena, root);
    throw error;
  }
}
