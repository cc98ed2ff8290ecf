/**
 * The configuration parameters a shard follows, under Redis's names: the collections' encoding
 * thresholds, the lazyfree switches, notify-keyspace-events, the maxmemory ones and the activedefrag
 * ones. The server reads them from its configuration when it starts the shards and sends every shard
 * each change (ShardOp.Configure), in order with the commands already sent.
 */
import { COLLECTION_LIMIT_NAMES, type CollectionLimits } from '../collections/limits.js';
import type { Config } from '../config/config.js';
import { LAZYFREE_SETTING_NAMES, type LazyFreeSettings } from './lazy-free.js';
import { notifyFlags, type KeyspaceSignals } from './keyspace-signals.js';
import { EVICTION_POLICIES, EVICTION_SETTING_NAMES, type EvictionPolicyName, type EvictionSettingName, type EvictionSettings, type Evictor } from './eviction.js';
import { DEFRAG_SETTING_NAMES, type DefragSettings } from './defrag.js';

export const SHARD_SETTING_NAMES = [...COLLECTION_LIMIT_NAMES, ...LAZYFREE_SETTING_NAMES, 'notify-keyspace-events', ...EVICTION_SETTING_NAMES, ...DEFRAG_SETTING_NAMES] as const;

export type ShardSettingName = (typeof SHARD_SETTING_NAMES)[number];

/**
 * The values as a shard takes them: numbers, with yes/no as 1/0, notify-keyspace-events as NotifyType
 * flags and maxmemory-policy as its index in EVICTION_POLICIES.
 */
export type ShardSettings = CollectionLimits & LazyFreeSettings & EvictionSettings & DefragSettings & { 'notify-keyspace-events': number };

/** Where a shard keeps what the settings set. */
export interface ShardSettingTargets {
  limits: CollectionLimits;
  lazyFree: LazyFreeSettings;
  signals: KeyspaceSignals;
  evictor: Evictor;
  defrag: DefragSettings;
}

const LAZYFREE_NAMES: ReadonlySet<string> = new Set(LAZYFREE_SETTING_NAMES);
const EVICTION_NAMES: ReadonlySet<string> = new Set(EVICTION_SETTING_NAMES);
const DEFRAG_NAMES: ReadonlySet<string> = new Set(DEFRAG_SETTING_NAMES);

/** The configured values of `names` (all by default), as a shard takes them. */
export function shardSettings(config: Config, names: readonly ShardSettingName[] = SHARD_SETTING_NAMES): Partial<ShardSettings> {
  return Object.fromEntries(names.map((name) => [name, settingValue(config, name)]));
}

function settingValue(config: Config, name: ShardSettingName): number {
  if (name === 'notify-keyspace-events') return notifyFlags(config.get(name));
  if (name === 'maxmemory-policy') return EVICTION_POLICIES.indexOf(config.get(name) as EvictionPolicyName);
  if (name === 'activedefrag') return Number(config.bool(name));
  if (LAZYFREE_NAMES.has(name)) return Number(config.bool(name as keyof LazyFreeSettings));
  return config.number(name as keyof CollectionLimits | Exclude<EvictionSettingName, 'maxmemory-policy'> | Exclude<keyof DefragSettings, 'activedefrag'>);
}

/** Puts each setting where the shard reads it. */
export function applyShardSettings(settings: Partial<ShardSettings>, targets: ShardSettingTargets): void {
  for (const [name, value] of Object.entries(settings)) {
    if (name === 'notify-keyspace-events') targets.signals.notify = value;
    else if (LAZYFREE_NAMES.has(name)) targets.lazyFree[name as keyof LazyFreeSettings] = value;
    else if (EVICTION_NAMES.has(name)) targets.evictor.configure(name as EvictionSettingName, value);
    else if (DEFRAG_NAMES.has(name)) targets.defrag[name as keyof DefragSettings] = value;
    else targets.limits[name as keyof CollectionLimits] = value;
  }
}
