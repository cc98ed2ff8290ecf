/**
 * INFO [section ...]: the text Redis 7.0 answers, section by section and with Redis's field names, filled
 * from real figures: the front's counters (server-stats.ts), each shard's keyspace and arena counters
 * (asked for at the moment of the command, in order with the client's earlier commands), the OS (RSS,
 * CPU time). Fields that describe parts sabre does not have yet (replication links, persistence runs)
 * report the idle values Redis reports when those parts are idle. sabre adds a few `sabre_*` fields.
 *
 * Sections: `default` (no argument) is every section but commandstats and latencystats; `all` adds
 * commandstats; `everything` is the same here (sabre has no modules); names are case-insensitive.
 */
import type { Persistence } from './persistence.js';
import type { AppendOnly } from './append-only.js';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { ALLOCATOR_VERSION, PAGE_SIZE, fragmentation, type ArenaStats } from 'native-free-alloc';
import type { ShardStats } from '../shard/shard.js';
import { SERVER_VERSION } from '../version.js';
import { memoryFigures, ratio } from './memory-figures.js';
import type { ServerStats } from './server-stats.js';


/** Replication ids are fixed for the life of the process, as Redis's are until a failover. */
const RUN_ID = randomBytes(20).toString('hex');
const REPLICATION_ID = randomBytes(20).toString('hex');

export interface InfoFacts {
  port: number;
  shards: number;
  connectedClients: number;
  /** Clients waiting in a blocking command (BLPOP …). */
  blockedClients: number;
  /** Blocked clients with a timeout. */
  clientsInTimeoutTable: number;
  maxclients: number;
  maxmemory: number;
  maxmemoryPolicy: string;
  configFile: string;
  hz: number;
  stats: ServerStats;
  /** Channels, distinct patterns and shard channels with subscribers. */
  pubsub: { channels: number; patterns: number; shardChannels: number };
  /** CLIENT TRACKING: tracking clients, remembered keys, key and client pairs, BCAST prefixes. */
  tracking: { clients: number; keys: number; items: number; prefixes: number };
  shardStats: readonly ShardStats[];
  /** Records a used_memory reading and returns the highest seen so far (used_memory_peak). */
  notePeakMemory: (used: number) => number;
  persistence: Pick<Persistence, 'lastSave' | 'lastStatus' | 'changesSince' | 'backgroundInProgress' | 'currentBackgroundSeconds' | 'lastBackgroundSeconds' | 'saves' | 'keysProcessed' | 'lastLoad' | 'lastEpochMicros' | 'snapshotsStarted'>;
  appendOnly?: Pick<AppendOnly, 'infoFields'>;
}

type Field = [string, string | number];
type Section = (facts: InfoFacts) => Field[];

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'errorstats', 'cluster', 'keyspace'];

/** Bytes as Redis's bytesToHuman prints them. */
export function humanBytes(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  if (bytes < 1024) return `${bytes}B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)}${units[unit]}`;
}

/** One arena's counters as sabre's INFO detail lines print them (key=value pairs, as Redis's keyspace lines). */
function arenaLine(arena: ArenaStats): string {
  return [
    `requested=${arena.requestedBytes}`,
    `allocated=${arena.allocatedBytes}`,
    `active=${arena.activeBytes}`,
    `committed=${arena.committedBytes}`,
    `segments=${arena.segments}`,
    `moves=${arena.moves}`,
    `frag_ratio=${ratio(arena.activeBytes, arena.allocatedBytes).toFixed(2)}`,
  ].join(',');
}

/**
 * Redis 7.0's memory section, field for field and in its order, then sabre's detail: the allocator's
 * own totals, one line per shard and one per size class that holds slabs (all shards together), so a
 * reader sees where the bytes are and which classes leave pages half empty. Lua and functions do not
 * exist in sabre, so their figures are 0 rather than the idle VM's size Redis reports.
 */
function memoryFields(facts: InfoFacts): Field[] {
  const f = memoryFigures(facts.shardStats, facts.notePeakMemory);
  const { arena, used, rss, peak } = f;
  const report = fragmentation(arena, rss, used);
  const fields: Field[] = [
    ['used_memory', used],
    ['used_memory_human', humanBytes(used)],
    ['used_memory_rss', rss],
    ['used_memory_rss_human', humanBytes(rss)],
    ['used_memory_peak', peak],
    ['used_memory_peak_human', humanBytes(peak)],
    ['used_memory_peak_perc', `${ratio(100 * used, peak).toFixed(2)}%`],
    ['used_memory_overhead', f.overhead],
    ['used_memory_startup', f.startup],
    ['used_memory_dataset', f.dataset],
    ['used_memory_dataset_perc', `${ratio(100 * f.dataset, f.net).toFixed(2)}%`],
    ['allocator_allocated', arena.allocatedBytes],
    ['allocator_active', arena.activeBytes],
    ['allocator_resident', arena.committedBytes],
    ['total_system_memory', totalmem()],
    ['total_system_memory_human', humanBytes(totalmem())],
    ['used_memory_lua', 0],
    ['used_memory_vm_eval', 0],
    ['used_memory_lua_human', humanBytes(0)],
    ['used_memory_scripts_eval', 0],
    ['number_of_cached_scripts', 0],
    ['number_of_functions', 0],
    ['number_of_libraries', 0],
    ['used_memory_vm_functions', 0],
    ['used_memory_vm_total', 0],
    ['used_memory_vm_total_human', humanBytes(0)],
    ['used_memory_functions', 0],
    ['used_memory_scripts', 0],
    ['used_memory_scripts_human', humanBytes(0)],
    ['maxmemory', facts.maxmemory],
    ['maxmemory_human', humanBytes(facts.maxmemory)],
    ['maxmemory_policy', facts.maxmemoryPolicy],
    ['allocator_frag_ratio', report.allocatorFragRatio.toFixed(2)],
    ['allocator_frag_bytes', report.allocatorFragBytes],
    ['allocator_rss_ratio', report.allocatorRssRatio.toFixed(2)],
    ['allocator_rss_bytes', report.allocatorRssBytes],
    ['rss_overhead_ratio', ratio(rss, arena.committedBytes).toFixed(2)],
    ['rss_overhead_bytes', rss - arena.committedBytes],
    ['mem_fragmentation_ratio', report.memFragmentationRatio.toFixed(2)],
    ['mem_fragmentation_bytes', report.memFragmentationBytes],
    // No replication buffers, AOF buffer or cluster links exist, and client buffers are not in the arenas.
    ['mem_not_counted_for_evict', 0],
    ['mem_replication_backlog', 0],
    ['mem_total_replication_buffers', 0],
    ['mem_clients_slaves', 0],
    ['mem_clients_normal', 0],
    ['mem_cluster_links', 0],
    ['mem_aof_buffer', 0],
    ['mem_allocator', `native-free-alloc-${ALLOCATOR_VERSION}`],
    ['active_defrag_running', Math.max(0, ...facts.shardStats.map((s) => s.defrag.running))],
    ['lazyfree_pending_objects', facts.shardStats.reduce((sum, s) => sum + s.lazyfreePendingObjects, 0)],
    ['lazyfreed_objects', facts.shardStats.reduce((sum, s) => sum + s.lazyfreedObjects, 0)],
    ['sabre_allocator_requested', arena.requestedBytes],
    ['sabre_allocator_internal_frag_ratio', report.internalFragRatio.toFixed(2)],
    ['sabre_allocator_active_pages', arena.activePages],
    ['sabre_allocator_segments', arena.segments],
    ['sabre_allocator_segments_released', arena.segmentsReleased],
    ['sabre_allocator_peak_committed', arena.peakCommittedBytes],
    ['sabre_allocator_run_pages', arena.runPages],
    ['sabre_allocator_dedicated_bytes', arena.dedicatedBytes],
    ['sabre_allocator_moves', arena.moves],
    ['sabre_front_heap_used', process.memoryUsage().heapUsed],
  ];
  facts.shardStats.forEach((shard, index) => fields.push([`sabre_shard_${index}`, arenaLine(shard.arena)]));
  for (const c of arena.classes) {
    if (c.slabs === 0) continue;
    fields.push([
      `sabre_class_${c.size}`,
      `slabs=${c.slabs},full=${c.fullSlabs},pages=${c.pages},live=${c.liveSlots},capacity=${c.capacitySlots},bytes=${c.liveSlots * c.size},utilization=${ratio(c.liveSlots, c.capacitySlots).toFixed(3)}`,
    ]);
  }
  return fields;
}

/** Main-thread CPU seconds from /proc (Linux); undefined elsewhere. */
function mainThreadCpu(): { user: number; sys: number } | undefined {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1').split(') ')[1].split(' ');
    // Fields 14 and 15 of stat (utime, stime), in clock ticks of 1/100 s on Linux.
    return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
  } catch {
    return undefined;
  }
}

const SECTIONS: Record<string, Section> = {
  server: (facts) => {
    const uptime = Math.floor((Date.now() - facts.stats.startedAt) / 1000);
    return [
      ['redis_version', SERVER_VERSION],
      ['redis_git_sha1', '00000000'],
      ['redis_git_dirty', 0],
      ['redis_mode', 'standalone'],
      ['os', `${process.platform === 'linux' ? 'Linux' : process.platform} ${process.arch === 'x64' ? 'x86_64' : process.arch}`],
      ['arch_bits', process.arch.endsWith('64') ? 64 : 32],
      ['multiplexing_api', process.platform === 'linux' ? 'epoll' : 'kqueue'],
      ['process_id', process.pid],
      ['process_supervised', 'no'],
      ['run_id', RUN_ID],
      ['tcp_port', facts.port],
      ['server_time_usec', Date.now() * 1000],
      ['uptime_in_seconds', uptime],
      ['uptime_in_days', Math.floor(uptime / 86400)],
      ['hz', facts.hz],
      ['configured_hz', facts.hz],
      ['executable', process.argv[1] ?? ''],
      ['config_file', facts.configFile],
      ['io_threads_active', 0],
      ['sabre_node_version', process.version],
      ['sabre_shards', facts.shards],
    ];
  },
  clients: (facts) => [
    ['connected_clients', facts.connectedClients],
    ['cluster_connections', 0],
    ['maxclients', facts.maxclients],
    ['blocked_clients', facts.blockedClients],
    ['tracking_clients', facts.tracking.clients],
    ['clients_in_timeout_table', facts.clientsInTimeoutTable],
  ],
  memory: memoryFields,
  persistence: (facts) => {
    const persistence = facts.persistence;
    // Copy-on-write: the pages the shards copied aside for the snapshot in progress (or the last one), 4 KiB each.
    const cow = (pick: (arena: ArenaStats) => number) => facts.shardStats.reduce((sum, s) => sum + pick(s.arena), 0) * PAGE_SIZE;
    return [
      ['loading', 0],
      ['async_loading', 0],
      ['current_cow_peak', cow((arena) => arena.cowPeakPages)],
      ['current_cow_size', cow((arena) => arena.cowPages)],
      ['current_cow_size_age', 0],
      ['current_fork_perc', '0.00'],
      ['current_save_keys_processed', persistence.keysProcessed],
      ['current_save_keys_total', persistence.backgroundInProgress ? facts.shardStats.reduce((sum, s) => sum + s.databases.reduce((keys, db) => keys + db.keys, 0), 0) : 0],
      // Every shard's count of changes (Redis's server.dirty) since the last save or load.
      ['rdb_changes_since_last_save', persistence.changesSince(facts.shardStats.reduce((sum, s) => sum + s.dirty, 0))],
      ['rdb_bgsave_in_progress', persistence.backgroundInProgress ? 1 : 0],
      ['rdb_last_save_time', persistence.lastSave],
      ['rdb_last_bgsave_status', persistence.lastStatus],
      ['rdb_last_bgsave_time_sec', persistence.lastBackgroundSeconds],
      ['rdb_current_bgsave_time_sec', persistence.currentBackgroundSeconds],
      ['rdb_saves', persistence.saves],
      ['rdb_last_cow_size', cow((arena) => arena.lastCowPages)],
      ['rdb_last_load_keys_expired', persistence.lastLoad.expired],
      ['rdb_last_load_keys_loaded', persistence.lastLoad.keys],
      ...(facts.appendOnly?.infoFields() ?? [['aof_enabled', 0] as Field]),
    ];
  },
  stats: (facts) => {
    const stats = facts.stats;
    const shard = (pick: (s: ShardStats) => number) => facts.shardStats.reduce((sum, s) => sum + pick(s), 0);
    return [
      ['total_connections_received', stats.totalConnections],
      ['total_commands_processed', stats.totalCommands],
      ['instantaneous_ops_per_sec', stats.opsPerSecond],
      ['total_net_input_bytes', stats.netInputBytes],
      ['total_net_output_bytes', stats.netOutputBytes],
      ['instantaneous_input_kbps', stats.inputKbps.toFixed(2)],
      ['instantaneous_output_kbps', stats.outputKbps.toFixed(2)],
      ['rejected_connections', stats.rejectedConnections],
      ['sync_full', 0],
      ['sync_partial_ok', 0],
      ['sync_partial_err', 0],
      ['expired_keys', shard((s) => s.expiredKeys)],
      ['evicted_keys', shard((s) => s.evictedKeys)],
      ['evicted_clients', 0],
      // Every shard times the stretches it found the global budget exceeded: the longest account stands for the server's.
      ['total_eviction_exceeded_time', Math.floor(Math.max(...facts.shardStats.map((s) => s.evictionExceededMs + s.evictionCurrentExceededMs)))],
      ['current_eviction_exceeded_time', Math.floor(Math.max(...facts.shardStats.map((s) => s.evictionCurrentExceededMs)))],
      ['keyspace_hits', shard((s) => s.hits)],
      ['keyspace_misses', shard((s) => s.misses)],
      ['pubsub_channels', facts.pubsub.channels],
      ['pubsub_patterns', facts.pubsub.patterns],
      ['pubsubshard_channels', facts.pubsub.shardChannels],
      ['latest_fork_usec', facts.persistence.lastEpochMicros],
      ['total_forks', facts.persistence.snapshotsStarted],
      ['active_defrag_hits', shard((s) => s.defrag.hits)],
      ['active_defrag_misses', shard((s) => s.defrag.misses)],
      ['active_defrag_key_hits', shard((s) => s.defrag.keyHits)],
      ['active_defrag_key_misses', shard((s) => s.defrag.keyMisses)],
      // The shards defragment side by side: the longest-running one's time, as one Redis would report.
      ['total_active_defrag_time', Math.max(0, ...facts.shardStats.map((s) => s.defrag.totalMs))],
      ['current_active_defrag_time', Math.max(0, ...facts.shardStats.map((s) => s.defrag.currentMs))],
      ['tracking_total_keys', facts.tracking.keys],
      ['tracking_total_items', facts.tracking.items],
      ['tracking_total_prefixes', facts.tracking.prefixes],
      ['total_error_replies', stats.totalErrorReplies],
    ];
  },
  replication: () => [
    ['role', 'master'],
    ['connected_slaves', 0],
    ['master_failover_state', 'no-failover'],
    ['master_replid', REPLICATION_ID],
    ['master_replid2', '0'.repeat(40)],
    ['master_repl_offset', 0],
    ['second_repl_offset', -1],
    ['repl_backlog_active', 0],
  ],
  cpu: () => {
    const usage = process.cpuUsage();
    const fields: Field[] = [
      ['used_cpu_sys', (usage.system / 1e6).toFixed(6)],
      ['used_cpu_user', (usage.user / 1e6).toFixed(6)],
      ['used_cpu_sys_children', '0.000000'],
      ['used_cpu_user_children', '0.000000'],
    ];
    const main = mainThreadCpu();
    if (main !== undefined) fields.push(['used_cpu_sys_main_thread', main.sys.toFixed(6)], ['used_cpu_user_main_thread', main.user.toFixed(6)]);
    return fields;
  },
  modules: () => [],
  commandstats: (facts) =>
    facts.stats
      .commandStats()
      .map((stat) => [
        `cmdstat_${stat.name}`,
        `calls=${stat.calls},usec=${Math.round(stat.usec)},usec_per_call=${(stat.calls === 0 ? 0 : stat.usec / stat.calls).toFixed(2)},rejected_calls=${stat.rejectedCalls},failed_calls=${stat.failedCalls}`,
      ]),
  errorstats: (facts) => facts.stats.errorStats().map(([prefix, count]) => [`errorstat_${prefix}`, `count=${count}`]),
  cluster: () => [['cluster_enabled', 0]],
  keyspace: (facts) => {
    const fields: Field[] = [];
    const databases = facts.shardStats[0].databases.length;
    for (let db = 0; db < databases; db++) {
      let keys = 0;
      let expires = 0;
      let ttlWeighted = 0;
      for (const shard of facts.shardStats) {
        keys += shard.databases[db].keys;
        expires += shard.databases[db].expires;
        ttlWeighted += shard.databases[db].avgTtl * shard.databases[db].expires;
      }
      if (keys > 0) fields.push([`db${db}`, `keys=${keys},expires=${expires},avg_ttl=${expires === 0 ? 0 : Math.round(ttlWeighted / expires)}`]);
    }
    return fields;
  },
};

/** The sections INFO's arguments ask for, in Redis's order. */
export function requestedSections(args: readonly string[]): string[] {
  const names = args.map((arg) => arg.toLowerCase());
  if (names.length === 0 || names.includes('default')) return DEFAULT_SECTIONS;
  if (names.includes('all') || names.includes('everything')) {
    return [...DEFAULT_SECTIONS.slice(0, 7), 'modules', 'commandstats', 'errorstats', 'cluster', 'keyspace'];
  }
  return Object.keys(SECTIONS).filter((name) => names.includes(name));
}

/** The INFO text for `sections`. */
export function infoText(sections: readonly string[], facts: InfoFacts): string {
  return sections
    .map((name) => {
      const fields = SECTIONS[name](facts);
      const title = name === 'cpu' ? 'CPU' : `${name[0].toUpperCase()}${name.slice(1)}`;
      return `# ${title}\r\n${fields.map(([key, value]) => `${key}:${value}\r\n`).join('')}`;
    })
    .join('\r\n');
}
