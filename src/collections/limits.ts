/**
 * The configuration parameters that decide when a collection (or a HyperLogLog) changes encoding, under
 * Redis's names.
 * A shard keeps one CollectionLimits for all its databases (shard/settings.ts keeps it up to date).
 */
export const COLLECTION_LIMIT_NAMES = [
  'hash-max-listpack-entries',
  'hash-max-listpack-value',
  'hll-sparse-max-bytes',
  'list-max-listpack-size',
  'zset-max-listpack-entries',
  'zset-max-listpack-value',
  'set-max-intset-entries',
] as const;

export type CollectionLimitName = (typeof COLLECTION_LIMIT_NAMES)[number];

export type CollectionLimits = Record<CollectionLimitName, number>;

/** Redis 7.0's defaults. */
export function defaultCollectionLimits(): CollectionLimits {
  return {
    'hash-max-listpack-entries': 512,
    'hash-max-listpack-value': 64,
    'hll-sparse-max-bytes': 3000,
    'list-max-listpack-size': -2,
    'zset-max-listpack-entries': 128,
    'zset-max-listpack-value': 64,
    'set-max-intset-entries': 512,
  };
}
