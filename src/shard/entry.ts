/**
 * The layout of one key's entry in shard memory. One allocation holds the chain link, the key's hash,
 * its LRU/LFU word, type and flags, the key bytes and, for short strings, the value bytes too, so that a
 * GET touches one allocation after the bucket (Redis needs a dictEntry, a robj and two sds for the same).
 *
 *   word 0  next        handle of the next entry in the bucket chain (0: end)
 *   word 1  hash        hashKey() of the key, so resizing never rehashes bytes and most mismatches
 *                       in a chain are rejected without comparing keys
 *   word 2  access      LRU clock or LFU counter (eviction; access-clock.ts)
 *   byte 12 type        ValueType
 *   byte 13 flags       EntryFlag bits
 *   byte 14 encoding    how Redis would have encoded the value where its content alone does not say
 *                       (StringForm for strings), for OBJECT ENCODING and OBJECT REFCOUNT
 *   word 4  keyLength
 *   word 5  value       inline: value length; external: handle of the value's own allocation
 *   [if HasExpire]  word 6 volatile index (position in the db's volatile array, for O(1) removal),
 *                   words 7–8 expiry time in ms since the epoch (high, low)
 *   then the key bytes, then (inline) the value bytes.
 *
 * Invariant: an entry's allocation size is entrySize(keyLength, inline value length, hasExpire); the
 * store frees and reallocates with exactly that size (the allocator's frees are sized).
 */
export const E_NEXT = 0;
export const E_HASH = 1;
export const E_LRU = 2;
export const E_TYPE_BYTE = 12;
export const E_FLAGS_BYTE = 13;
export const E_ENCODING_BYTE = 14;
export const E_KEY_LENGTH = 4;
export const E_VALUE = 5;
export const E_VOLATILE_INDEX = 6;
export const E_EXPIRE_HIGH = 7;
export const E_EXPIRE_LOW = 8;

export const HEADER_BYTES = 24;
export const EXPIRE_HEADER_BYTES = 36;

export const enum ValueType {
  String = 0,
  List = 1,
  Set = 2,
  ZSet = 3,
  Hash = 4,
}

/**
 * How Redis 7.0 would hold a string value, where that depends on the command that wrote it rather than
 * on the bytes: OBJECT ENCODING and OBJECT REFCOUNT report it, and clients and tests look at them.
 */
export const enum StringForm {
  /**
   * As SET, MSET, GETSET, APPEND to a new key or INCR leave it (Redis's tryObjectEncoding): "int" when it
   * reads as a 64-bit integer of at most 20 bytes (0..9999 being Redis's shared integers), else "embstr"
   * up to 44 bytes, else "raw".
   */
  AsSet = 0,
  /** Edited in place (APPEND to an existing key, SETRANGE): "raw" whatever its length. */
  Raw = 1,
  /** Made from text and never integer-encoded (INCRBYFLOAT): "embstr" up to 44 bytes, else "raw". */
  Text = 2,
  /** COPY's duplicate of an integer: "int", but a private object rather than a shared one. */
  UnsharedInt = 3,
}

export const enum EntryFlag {
  HasExpire = 1,
  /** The value lives in its own allocation; word 5 holds its handle. */
  External = 2,
}

/** Strings up to this many bytes live inside the entry; longer ones get an allocation of their own. */
export const INLINE_VALUE_MAX = 512;

export function entrySize(keyLength: number, inlineValueLength: number, hasExpire: boolean): number {
  return (hasExpire ? EXPIRE_HEADER_BYTES : HEADER_BYTES) + keyLength + inlineValueLength;
}

export function keyOffset(flags: number): number {
  return flags & EntryFlag.HasExpire ? EXPIRE_HEADER_BYTES : HEADER_BYTES;
}
