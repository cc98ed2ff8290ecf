/**
 * The configuration parameters, as data: every parameter redis-server 7.0.15 lists in `CONFIG GET *`
 * (its debugging-only hidden ones aside), with Redis's names, aliases, types, defaults, bounds and
 * whether CONFIG SET may change them, plus sabre's own (`shards`). The file parser, CONFIG GET/SET and
 * CONFIG REWRITE all read this one table, so a parameter behaves the same wherever it is set.
 *
 * Types follow Redis's:
 * - bool: `yes`/`no`;
 * - int: a strict integer (string2ll: no sign '+', no leading zeros, no spaces) within [min, max];
 * - memory: digits with an optional unit (b, k, kb, m, mb, g, gb; k = 1000, kb = 1024), reported in
 *   bytes by CONFIG GET and with the largest exact binary unit by CONFIG REWRITE;
 * - enum: one of a fixed list;
 * - string: anything; some are stored as "unset" when empty and then left out of a rewritten file;
 * - special: its own grammar (save, bind, client-output-buffer-limit, …), in special-parameters.ts.
 *
 * Integer values are bigints: Redis's bounds reach 2^64 - 1, and CONFIG GET must print them exactly.
 * Many parameters are accepted and reported but not acted on yet (their subsystems come later);
 * sabre-server warns at startup when one of those is set away from its default.
 */
import { availableParallelism } from 'node:os';
import { SPECIAL_CODECS, type SpecialCodec } from './special-parameters.js';

export const LLONG_MAX = 9223372036854775807n;
export const ULLONG_MAX = 18446744073709551615n;
const INT_MAX = 2147483647n;
const INT_MIN = -2147483648n;
const UINT_MAX = 4294967295n;

interface Flags {
  readonly aliases?: readonly string[];
  /** CONFIG SET refuses it: "can't set immutable config". */
  readonly immutable?: boolean;
  /** CONFIG SET refuses it unless enable-protected-configs allows: "can't set protected config". */
  readonly protected?: boolean;
}

export interface BoolParameter extends Flags {
  readonly type: 'bool';
  readonly name: string;
  readonly default: boolean;
}

export interface IntParameter extends Flags {
  readonly type: 'int';
  readonly name: string;
  readonly default: bigint;
  readonly min: bigint;
  readonly max: bigint;
  /** Written and read in octal (unixsocketperm). */
  readonly octal?: boolean;
  /** Accepted within [min, max] but then held within these bounds (hz: 1 to 500). */
  readonly clampTo?: readonly [bigint, bigint];
}

export interface MemoryParameter extends Flags {
  readonly type: 'memory';
  readonly name: string;
  readonly default: bigint;
  readonly min: bigint;
  readonly max: bigint;
  /** Also takes `N%` (maxmemory-clients), stored as -N as Redis stores it. */
  readonly percent?: boolean;
  /** CONFIG SET raises a smaller value to this (Redis's resize of the replication backlog does). */
  readonly runtimeMin?: bigint;
}

export interface EnumParameter extends Flags {
  readonly type: 'enum';
  readonly name: string;
  readonly default: string;
  readonly values: readonly string[];
}

export interface StringParameter extends Flags {
  readonly type: 'string';
  readonly name: string;
  readonly default: string;
  /** Redis keeps an empty value as NULL: CONFIG REWRITE then drops the parameter's lines. */
  readonly emptyIsUnset?: boolean;
  /** An error message for a value Redis refuses, or undefined. */
  readonly validate?: (value: string) => string | undefined;
}

export interface SpecialParameter extends Flags {
  readonly type: 'special';
  readonly name: string;
  readonly codec: SpecialCodec;
}

export type Parameter = BoolParameter | IntParameter | MemoryParameter | EnumParameter | StringParameter | SpecialParameter;

function bool<N extends string>(name: N, value: boolean, flags: Flags = {}) {
  return { type: 'bool', name, default: value, ...flags } as const satisfies BoolParameter;
}

function int<N extends string>(name: N, value: bigint, min: bigint, max: bigint, flags: Flags & Pick<IntParameter, 'octal' | 'clampTo'> = {}) {
  return { type: 'int', name, default: value, min, max, ...flags } as const satisfies IntParameter;
}

function memory<N extends string>(name: N, value: bigint, min: bigint, max: bigint, flags: Flags & Pick<MemoryParameter, 'percent' | 'runtimeMin'> = {}) {
  return { type: 'memory', name, default: value, min, max, ...flags } as const satisfies MemoryParameter;
}

function oneOf<N extends string>(name: N, value: string, values: readonly string[], flags: Flags = {}) {
  return { type: 'enum', name, default: value, values, ...flags } as const satisfies EnumParameter;
}

type StringFlags = Flags & Pick<StringParameter, 'emptyIsUnset' | 'validate'>;

function string<N extends string>(name: N, value: string, flags: StringFlags = {}) {
  return { type: 'string', name, default: value, ...flags } as const satisfies StringParameter;
}

/** A string Redis stores as NULL when empty. */
function optional<N extends string>(name: N, flags: StringFlags = {}) {
  return string(name, '', { emptyIsUnset: true, ...flags });
}

function special<N extends keyof typeof SPECIAL_CODECS>(name: N, flags: Flags = {}) {
  return { type: 'special', name, codec: SPECIAL_CODECS[name], ...flags } as const satisfies SpecialParameter;
}

function plainFileName(what: string, kind: string): (value: string) => string | undefined {
  return (value) => (value.includes('/') ? `${what} can't be a path, just a ${kind}` : undefined);
}

function hostname(value: string): string | undefined {
  return /^[A-Za-z0-9.-]*$/.test(value) ? undefined : 'Hostnames may only contain alphanumeric characters, hyphens or dots';
}

export const PARAMETERS = [
  oneOf('acl-pubsub-default', 'resetchannels', ['allchannels', 'resetchannels']),
  string('aclfile', '', { immutable: true }),
  int('acllog-max-len', 128n, 0n, LLONG_MAX),
  int('active-defrag-cycle-max', 25n, 1n, 99n),
  int('active-defrag-cycle-min', 1n, 1n, 99n),
  memory('active-defrag-ignore-bytes', 104857600n, 1n, LLONG_MAX),
  int('active-defrag-max-scan-fields', 1000n, 1n, LLONG_MAX),
  int('active-defrag-threshold-lower', 10n, 0n, 1000n),
  int('active-defrag-threshold-upper', 100n, 0n, 1000n),
  int('active-expire-effort', 1n, 1n, 10n),
  bool('activedefrag', false),
  bool('activerehashing', true),
  bool('always-show-logo', false, { immutable: true }),
  bool('aof-disable-auto-gc', false),
  bool('aof-load-truncated', true),
  bool('aof-rewrite-incremental-fsync', true),
  bool('aof-timestamp-enabled', false),
  bool('aof-use-rdb-preamble', true),
  optional('aof_rewrite_cpulist', { immutable: true }),
  string('appenddirname', 'appendonlydir', { immutable: true, validate: plainFileName('appenddirname', 'dirname') }),
  string('appendfilename', 'appendonly.aof', { immutable: true, validate: plainFileName('appendfilename', 'filename') }),
  oneOf('appendfsync', 'everysec', ['everysec', 'always', 'no']),
  bool('appendonly', false),
  memory('auto-aof-rewrite-min-size', 67108864n, 0n, LLONG_MAX),
  int('auto-aof-rewrite-percentage', 100n, 0n, INT_MAX),
  optional('bgsave_cpulist', { immutable: true }),
  special('bind'),
  optional('bind-source-addr'),
  optional('bio_cpulist', { immutable: true }),
  int('busy-reply-threshold', 5000n, 0n, LLONG_MAX, { aliases: ['lua-time-limit'] }),
  special('client-output-buffer-limit'),
  memory('client-query-buffer-limit', 1073741824n, 1048576n, LLONG_MAX),
  bool('cluster-allow-pubsubshard-when-down', true),
  bool('cluster-allow-reads-when-down', false),
  bool('cluster-allow-replica-migration', true),
  int('cluster-announce-bus-port', 0n, 0n, 65535n),
  optional('cluster-announce-hostname', { validate: hostname }),
  optional('cluster-announce-ip'),
  int('cluster-announce-port', 0n, 0n, 65535n),
  int('cluster-announce-tls-port', 0n, 0n, 65535n),
  string('cluster-config-file', 'nodes.conf', { immutable: true }),
  bool('cluster-enabled', false, { immutable: true }),
  memory('cluster-link-sendbuf-limit', 0n, 0n, ULLONG_MAX),
  int('cluster-migration-barrier', 1n, 0n, INT_MAX),
  int('cluster-node-timeout', 15000n, 0n, LLONG_MAX),
  int('cluster-port', 0n, 0n, 65535n, { immutable: true }),
  oneOf('cluster-preferred-endpoint-type', 'ip', ['ip', 'hostname', 'unknown-endpoint']),
  bool('cluster-replica-no-failover', false, { aliases: ['cluster-slave-no-failover'] }),
  int('cluster-replica-validity-factor', 10n, 0n, INT_MAX, { aliases: ['cluster-slave-validity-factor'] }),
  bool('cluster-require-full-coverage', true),
  bool('crash-log-enabled', true),
  bool('crash-memcheck-enabled', true),
  bool('daemonize', false, { immutable: true }),
  int('databases', 16n, 1n, INT_MAX, { immutable: true }),
  string('dbfilename', 'dump.rdb', { protected: true, validate: plainFileName('dbfilename', 'filename') }),
  special('dir', { protected: true }),
  bool('disable-thp', true, { immutable: true }),
  bool('dynamic-hz', true),
  oneOf('enable-debug-command', 'no', ['no', 'yes', 'local'], { immutable: true }),
  oneOf('enable-module-command', 'no', ['no', 'yes', 'local'], { immutable: true }),
  oneOf('enable-protected-configs', 'no', ['no', 'yes', 'local'], { immutable: true }),
  int('hash-max-listpack-entries', 512n, 0n, LLONG_MAX, { aliases: ['hash-max-ziplist-entries'] }),
  memory('hash-max-listpack-value', 64n, 0n, LLONG_MAX, { aliases: ['hash-max-ziplist-value'] }),
  memory('hll-sparse-max-bytes', 3000n, 0n, LLONG_MAX),
  int('hz', 10n, 0n, INT_MAX, { clampTo: [1n, 500n] }),
  string('ignore-warnings', ''),
  int('io-threads', 1n, 1n, 128n, { immutable: true }),
  bool('io-threads-do-reads', false, { immutable: true }),
  bool('jemalloc-bg-thread', true),
  int('latency-monitor-threshold', 0n, 0n, LLONG_MAX),
  bool('latency-tracking', true),
  special('latency-tracking-info-percentiles'),
  bool('lazyfree-lazy-eviction', false),
  bool('lazyfree-lazy-expire', false),
  bool('lazyfree-lazy-server-del', false),
  bool('lazyfree-lazy-user-del', false),
  bool('lazyfree-lazy-user-flush', false),
  int('lfu-decay-time', 1n, 0n, INT_MAX),
  int('lfu-log-factor', 10n, 0n, INT_MAX),
  int('list-compress-depth', 0n, 0n, INT_MAX),
  int('list-max-listpack-size', -2n, INT_MIN, INT_MAX, { aliases: ['list-max-ziplist-size'] }),
  string('logfile', '', { immutable: true }),
  oneOf('loglevel', 'notice', ['debug', 'verbose', 'notice', 'warning']),
  optional('masterauth'),
  optional('masteruser'),
  int('maxclients', 10000n, 1n, UINT_MAX),
  memory('maxmemory', 0n, 0n, ULLONG_MAX),
  memory('maxmemory-clients', 0n, 0n, LLONG_MAX, { percent: true }),
  int('maxmemory-eviction-tenacity', 10n, 0n, 100n),
  oneOf('maxmemory-policy', 'noeviction', ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction']),
  int('maxmemory-samples', 5n, 1n, INT_MAX),
  int('min-replicas-max-lag', 10n, 0n, INT_MAX, { aliases: ['min-slaves-max-lag'] }),
  int('min-replicas-to-write', 0n, 0n, INT_MAX, { aliases: ['min-slaves-to-write'] }),
  bool('no-appendfsync-on-rewrite', false),
  special('notify-keyspace-events'),
  oneOf('oom-score-adj', 'no', ['no', 'yes', 'relative', 'absolute']),
  special('oom-score-adj-values'),
  optional('pidfile', { immutable: true }),
  int('port', 6379n, 0n, 65535n),
  string('proc-title-template', '{title} {listen-addr} {server-mode}'),
  oneOf('propagation-error-behavior', 'ignore', ['ignore', 'panic', 'panic-on-replicas']),
  bool('protected-mode', true),
  memory('proto-max-bulk-len', 536870912n, 1048576n, LLONG_MAX),
  bool('rdb-del-sync-files', false),
  bool('rdb-save-incremental-fsync', true),
  bool('rdbchecksum', true, { immutable: true }),
  bool('rdbcompression', true),
  memory('repl-backlog-size', 1048576n, 1n, LLONG_MAX, { runtimeMin: 16384n }),
  int('repl-backlog-ttl', 3600n, 0n, LLONG_MAX),
  bool('repl-disable-tcp-nodelay', false),
  oneOf('repl-diskless-load', 'disabled', ['disabled', 'on-empty-db', 'swapdb']),
  bool('repl-diskless-sync', true),
  int('repl-diskless-sync-delay', 5n, 0n, INT_MAX),
  int('repl-diskless-sync-max-replicas', 0n, 0n, INT_MAX),
  int('repl-ping-replica-period', 10n, 1n, INT_MAX, { aliases: ['repl-ping-slave-period'] }),
  int('repl-timeout', 60n, 1n, INT_MAX),
  optional('replica-announce-ip', { aliases: ['slave-announce-ip'] }),
  int('replica-announce-port', 0n, 0n, 65535n, { aliases: ['slave-announce-port'] }),
  bool('replica-announced', true),
  bool('replica-ignore-disk-write-errors', false),
  bool('replica-ignore-maxmemory', true, { aliases: ['slave-ignore-maxmemory'] }),
  bool('replica-lazy-flush', false, { aliases: ['slave-lazy-flush'] }),
  int('replica-priority', 100n, 0n, INT_MAX, { aliases: ['slave-priority'] }),
  bool('replica-read-only', true, { aliases: ['slave-read-only'] }),
  bool('replica-serve-stale-data', true, { aliases: ['slave-serve-stale-data'] }),
  special('replicaof', { aliases: ['slaveof'], immutable: true }),
  optional('requirepass'),
  oneOf('sanitize-dump-payload', 'no', ['no', 'yes', 'clients']),
  special('save'),
  optional('server_cpulist', { immutable: true }),
  int('set-max-intset-entries', 512n, 0n, LLONG_MAX),
  bool('set-proc-title', true, { immutable: true }),
  oneOf('shutdown-on-sigint', 'default', ['default', 'save', 'nosave', 'now', 'force']),
  oneOf('shutdown-on-sigterm', 'default', ['default', 'save', 'nosave', 'now', 'force']),
  int('shutdown-timeout', 10n, 0n, INT_MAX),
  int('slowlog-log-slower-than', 10000n, -1n, LLONG_MAX),
  int('slowlog-max-len', 128n, 0n, LLONG_MAX),
  int('socket-mark-id', 0n, 0n, UINT_MAX, { immutable: true }),
  bool('stop-writes-on-bgsave-error', true),
  memory('stream-node-max-bytes', 4096n, 0n, LLONG_MAX),
  int('stream-node-max-entries', 100n, 0n, LLONG_MAX),
  oneOf('supervised', 'no', ['upstart', 'systemd', 'auto', 'no'], { immutable: true }),
  bool('syslog-enabled', false, { immutable: true }),
  oneOf('syslog-facility', 'local0', ['user', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'], { immutable: true }),
  string('syslog-ident', 'redis', { immutable: true }),
  int('tcp-backlog', 511n, 0n, INT_MAX, { immutable: true }),
  int('tcp-keepalive', 300n, 0n, INT_MAX),
  int('timeout', 0n, 0n, INT_MAX),
  oneOf('tls-auth-clients', 'yes', ['no', 'yes', 'optional']),
  optional('tls-ca-cert-dir'),
  optional('tls-ca-cert-file'),
  optional('tls-cert-file'),
  optional('tls-ciphers'),
  optional('tls-ciphersuites'),
  optional('tls-client-cert-file'),
  optional('tls-client-key-file'),
  optional('tls-client-key-file-pass'),
  bool('tls-cluster', false),
  optional('tls-dh-params-file'),
  optional('tls-key-file'),
  optional('tls-key-file-pass'),
  int('tls-port', 0n, 0n, 65535n),
  bool('tls-prefer-server-ciphers', false),
  optional('tls-protocols'),
  bool('tls-replication', false),
  int('tls-session-cache-size', 20480n, 0n, INT_MAX),
  int('tls-session-cache-timeout', 300n, 0n, INT_MAX),
  bool('tls-session-caching', true),
  int('tracking-table-max-keys', 1000000n, 0n, LLONG_MAX),
  optional('unixsocket', { immutable: true }),
  int('unixsocketperm', 0n, 0n, 0o777n, { immutable: true, octal: true }),
  int('zset-max-listpack-entries', 128n, 0n, LLONG_MAX, { aliases: ['zset-max-ziplist-entries'] }),
  memory('zset-max-listpack-value', 64n, 0n, LLONG_MAX, { aliases: ['zset-max-ziplist-value'] }),
  // sabre's own: how many shard worker threads hold the keyspace (one per core by default).
  int('shards', BigInt(Math.max(1, availableParallelism())), 1n, BigInt(Math.max(64, availableParallelism())), { immutable: true }),
] as const;

type Registered = (typeof PARAMETERS)[number];
export type ParameterName = Registered['name'];
export type BoolName = Extract<Registered, { type: 'bool' }>['name'];
export type NumericName = Extract<Registered, { type: 'int' | 'memory' }>['name'];

/** Directives Redis 7.0 still accepts in a file and ignores. */
export const DEPRECATED_DIRECTIVES: ReadonlySet<string> = new Set(['list-max-ziplist-entries', 'list-max-ziplist-value', 'lua-replicate-commands']);

const BY_NAME = new Map<string, Parameter>();
for (const parameter of PARAMETERS as readonly Parameter[]) {
  BY_NAME.set(parameter.name, parameter);
  for (const alias of parameter.aliases ?? []) BY_NAME.set(alias, parameter);
}

/** The parameter a name or alias (any letter case) stands for. */
export function lookupParameter(name: string): Parameter | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Every name CONFIG GET can match, aliases included, in the table's order. */
export function* allNames(): Generator<[string, Parameter]> {
  for (const parameter of PARAMETERS as readonly Parameter[]) {
    yield [parameter.name, parameter];
    for (const alias of parameter.aliases ?? []) yield [alias, parameter];
  }
}
