/**
 * What front-answered commands may see and do of the server as a whole: its clients, counters, slowlog,
 * the shards' figures, pausing and shutting down. The front implements it; the command families depend
 * on this interface only, not on the front.
 */
import type { ShardStats } from '../shard/shard.js';
import type { Client } from './client.js';
import type { InfoFacts } from './info.js';
import type { PubSub } from './pubsub.js';
import type { ServerStats } from './server-stats.js';
import type { Slowlog } from './slowlog.js';
import type { QueuedTransaction } from './transactions.js';
import type { Tracking } from './tracking.js';

export interface ServerContext {
  readonly port: number;
  readonly stats: ServerStats;
  readonly slowlog: Slowlog;
  /** The Pub/Sub registry: subscriptions and publishing. */
  readonly pubsub: PubSub;
  /** CLIENT TRACKING: remembered keys, prefixes and invalidations. */
  readonly tracking: Tracking;
  /** The connected client with this id. */
  clientById(id: number): Client | undefined;
  /** Connected clients, in connection order. */
  clients(): Iterable<Client>;
  /** Every shard's figures, each read after the commands already sent to that shard. */
  shardStats(): Promise<ShardStats[]>;
  /** The figures INFO formats, around the given shard figures. */
  infoFacts(shardStats: readonly ShardStats[]): InfoFacts;
  /** Unix time in seconds of the last successful save, or of startup. */
  lastSave(): number;
  /** Whether save points are configured, so that SHUTDOWN saves unless told NOSAVE. */
  readonly savesOnShutdown: boolean;
  /** BGSAVE: starts a background save; Redis's error when one runs already. */
  backgroundSave(client: Client, schedule: boolean): Promise<{ error?: string; scheduled?: boolean }>;
  /** Whether a background save is running (SAVE refuses then). */
  readonly backgroundSaveInProgress: boolean;
  /** SAVE: writes the RDB file with every shard held; false when it failed (logged). */
  save(client: Client): Promise<boolean>;
  /** DEBUG RELOAD's load of the RDB file into every shard (emptied first when `flush`); false when it failed (logged). */
  reload(client: Client, options: { flush: boolean; merge: boolean }): Promise<boolean>;
  /** CLIENT PAUSE: holds clients' commands (only writes when `writesOnly`) until `until` (ms since epoch). */
  pause(until: number, writesOnly: boolean): void;
  unpause(): void;
  /** CLIENT UNBLOCK: whether client `id` was blocked; it is then answered as timed out, or with the UNBLOCKED error. */
  unblockClient(id: number, error: boolean): boolean;
  /** RESET: drops the client from every registry (monitors, Pub/Sub) and resets its own state. */
  resetClient(client: Client): void;
  /** Starts MONITOR output for a client. */
  monitor(client: Client): void;
  /**
   * Runs `operation` (a ShardOp) with JSON arguments on every shard, with all of them held still, in
   * order with the client's other commands.
   */
  onEveryShard(client: Client | undefined, operation: number, args: unknown): Promise<unknown[]>;
  /** BGREWRITEAOF: starts an AOF rewrite; false when one is running already (the next is scheduled). */
  /** BGREWRITEAOF; 'unavailable' where there is no AOF (an embedded pool). */
  rewriteAppendOnly(): 'started' | 'scheduled' | 'in progress' | 'unavailable';
  /** CONFIG RESETSTAT: clears INFO's counters, commandstats and errorstats. */
  resetStats(): void;
  /** Runs argv on the shard that owns `key`, in order with the client's commands; resolves with the reply. */
  onKeyShard(client: Client, key: Buffer, argv: Buffer[]): Promise<Buffer>;
  /** Whether DEBUG may run for this client (enable-debug-command). */
  debugAllowed(client: Client): boolean;
  /** SHUTDOWN: answers nothing, closes everything and exits the process. */
  shutdown(): void;
  /** EXEC: runs the queued commands with their shards held; resolves with EXEC's whole reply. */
  exec(client: Client, transaction: QueuedTransaction, position: number): Promise<Buffer>;
  /** WATCH: registers the keys on their shards, in order with the client's commands. */
  watch(client: Client, keys: readonly Buffer[]): Promise<void>;
  /** UNWATCH (and EXEC, DISCARD, RESET, disconnection): forgets every key the client watches. */
  unwatch(client: Client): void;
}
