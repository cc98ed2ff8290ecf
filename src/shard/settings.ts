/**
 * The configuration parameters a shard follows, under Redis's names: the collections' encoding
 * thresholds and the lazyfree switches. The server reads them from its configuration when it starts the
 * shards and sends every shard each change (ShardOp.Configure), in order with the commands already sent.
 */
import { COLLECTION_LIMIT_NAMES, type CollectionLimits } from '../collections/limits.js';
import type { Config } from '../config/config.js';
import { LAZYFREE_SETTING_NAMES, type LazyFreeSettings } from './lazy-free.js';

export const SHARD_SETTING_NAMES = [...COLLECTION_LIMIT_NAMES, ...LAZYFREE_SETTING_NAMES] as const;

export type ShardSettingName = (typeof SHARD_SETTING_NAMES)[number];

/** The values as a shard takes them: numbers, with yes/no as 1/0. */
export type ShardSettings = CollectionLimits & LazyFreeSettings;

const LAZYFREE_NAMES: ReadonlySet<string> = new Set(LAZYFREE_SETTING_NAMES);

/** The configured values of `names` (all by default), as a shard takes them. */
export function shardSettings(config: Config, names: readonly ShardSettingName[] = SHARD_SETTING_NAMES): Partial<ShardSettings> {
  return Object.fromEntries(
    names.map((name) => [name, LAZYFREE_NAMES.has(name) ? Number(config.bool(name as keyof LazyFreeSettings)) : config.number(name as keyof CollectionLimits)]),
  );
}

/** Splits settings between the collections' limits and the lazyfree switches, updating both in place. */
export function applyShardSettings(settings: Partial<ShardSettings>, limits: CollectionLimits, lazyFree: LazyFreeSettings): void {
  for (const [name, value] of Object.entries(settings)) {
    if (LAZYFREE_NAMES.has(name)) lazyFree[name as keyof LazyFreeSettings] = value;
    else limits[name as keyof CollectionLimits] = value;
  }
}
