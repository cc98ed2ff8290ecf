/**
 * The front: owns every socket (Node cannot hand one to a worker), parses requests, answers connection
 * commands itself, and routes keyed commands to the shard that owns their hash slot. Replies go back in
 * request order per client, whichever shard or the front produced them: each command takes a slot in
 * its client's reply queue when it is parsed, and the queue is written out as far as it is complete.
 *
 * The front never blocks: shard work is handed over through the shard pool's rings, and replies arrive
 * as event-loop callbacks.
 *
 * A command whose keys live on more than one shard runs as a transaction over those shards (see
 * multi-shard.ts): atomic and isolated, as one Redis would run it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { SLOT_COUNT, keySlot, shardOfSlot } from '../cluster/slot.js';
import { argText } from '../commands/context.js';
import { commandKeys } from '../commands/key-specs.js';
import { CommandFlag, CommandTable, arityMatches, type CommandSpec } from '../commands/table.js';
import { OOM, unknownCommand, wrongArity } from '../protocol/errors.js';
import type { RequestParserLimits } from '../protocol/request-parser.js';
import { Shard, type ShardStats } from '../shard/shard.js';
import { ShardOp } from '../shard/frames.js';
import { SHARD_SETTING_NAMES, shardSettings } from '../shard/settings.js';
import { MISCONF, type EveryShard, type Persistence } from './persistence.js';
import type { AppendOnly } from './append-only.js';
import type { PropagationStream } from './propagation-stream.js';
import { Client, type ClientSocket, type OutputScheduler } from './client.js';
import { clientCommand, describeClient } from './client-command.js';
import { commandCommand } from './command-command.js';
import { connectionCommands, type ConnectionHandler } from './connection-commands.js';
import type { InfoFacts } from './info.js';
import { monitorLine } from './monitor.js';
import { followOutputLimits, type OutputLimits } from './output-limits.js';
import { PubSub } from './pubsub.js';
import { KeyspaceNotifier } from './keyspace-notifications.js';
import { Tracking } from './tracking.js';
import { decodeEvents } from '../shard/event-codec.js';
import { KEY_CHANGED, type KeyspaceEvent } from '../shard/keyspace-signals.js';
import { pubsubCommands } from './pubsub-commands.js';
import { KeyspaceFanout } from './keyspace-fanout.js';
import { crossShardBody } from './cross-shard.js';
import { BlockedClients } from './blocked-clients.js';
import { isBlockingCommand } from '../commands/blocking.js';
import { ShardScheduler, internalErrorReply, multiShardBody, type TransactionBody } from './multi-shard.js';
import { Gather, scatterBody, scatterPlan, type ScatterPlan } from './scatter.js';
import type { ServerContext } from './server-context.js';
import { serverCommands } from './server-commands.js';
import { sabreCommand } from './sabre-commands.js';
import { replicationCommands } from './replication-commands.js';
import { ServerStats } from './server-stats.js';
import { ERR_EXECABORT, ERR_NOT_IN_MULTI, RUN_IN_MULTI, transactionCommands, watchName, type QueuedTransaction, type WatchedKey } from './transactions.js';
import type { Config } from '../config/config.js';
import { admitConnection } from './admission.js';
import { copyingSink, type ReplySink, type ShardPool } from './shard-pool.js';
import type { ListenAddress } from './startup.js';
import { Slowlog } from './slowlog.js';

const ERR_CROSS_SHARD =
  "ERR this command's keys live on different shards, which sabre does not support for it yet; use {hash tags} to keep them together, or --shards 1";

/** Every command the front answers itself, by name. */
const FRONT_COMMANDS: ReadonlyMap<string, ConnectionHandler> = new Map(
  Object.entries({ ...connectionCommands, ...serverCommands, ...pubsubCommands, ...transactionCommands, ...replicationCommands, client: clientCommand, command: commandCommand }),
);

/** What a RESP2 client may run while subscribed (Redis compares the command itself, so renamed ones too). */
/**
 * How a command whose keys are not all on one shard runs (the fast path sends the others at once): on
 * one shard after all (keyless ones), as a transaction body, scattered, or refused.
 */
type Route =
  | { kind: 'shard'; shard: number }
  | { kind: 'body'; body: TransactionBody }
  | { kind: 'scatter'; plan: ScatterPlan }
  | { kind: 'refuse'; error: string };

/** Front commands that reach shards themselves (through onKeyShard, onEveryShard): EXEC holds every shard for them. */
const FRONT_COMMANDS_ON_SHARDS: ReadonlySet<string> = new Set(['bgsave', 'debug', 'memory', 'save', 'shutdown']);

const FLUSHES: ReadonlySet<string> = new Set(['flushall', 'flushdb']);

const SUBSCRIBED_MODE_COMMANDS = new Set(['subscribe', 'ssubscribe', 'psubscribe', 'unsubscribe', 'sunsubscribe', 'punsubscribe', 'ping', 'quit', 'reset']);

/** The longest delay setTimeout takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Commands CLIENT PAUSE WRITE holds: those that may change data. */
const PAUSED_BY_WRITE = CommandFlag.write | CommandFlag.may_replicate;

export interface FrontOptions {
  port: number;
  /** Where to listen; an optional address that cannot be bound is skipped, as Redis skips `-addr`. */
  addresses: readonly ListenAddress[];
  logger: Logger;
  /** The live configuration: CONFIG, rename-command, admission of new connections. */
  config: Config;
  /** Called by SHUTDOWN once the reply queue is dealt with; the server's owner stops and exits. */
  onShutdown?: () => void;
  /** The RDB file (SAVE, LASTSAVE, INFO persistence, SHUTDOWN's save); the server's owner loads it first. */
  persistence: Persistence;
  /** The shards' propagation stream: transactions gather their records into one group. */
  propagation?: PropagationStream;
  /** The AOF: written before clients' replies go out, rewritten by BGREWRITEAOF. */
  appendOnly?: AppendOnly;
}

export class Front implements OutputScheduler, ServerContext {
  private readonly servers: Server[] = [];
  /** Clients with output to write at the end of this task (see client.ts). */
  private readonly dirty: Client[] = [];
  private flushScheduled = false;
  private readonly table = new CommandTable();
  /** Connected clients by id, in connection order. */
  private readonly connected = new Map<number, Client>();
  private readonly monitors = new Set<Client>();
  private readonly slotToShard: Uint8Array;
  private readonly scheduler: ShardScheduler;
  private readonly keyspace: KeyspaceFanout;
  private nextClientId = 1;
  private pausedUntil = 0;
  /** maxmemory in bytes, 0 for no limit; followed on CONFIG SET. */
  private maxmemory: number;
  /** Whether maxmemory-policy is noeviction: over the budget, refuse without asking the shards. */
  private noEviction: boolean;
  private pauseWritesOnly = false;
  private pauseTimer: NodeJS.Timeout | undefined;
  private peakMemory = 0;
  private scratch: Shard | undefined;
  private readonly blocked: BlockedClients;
  port = 0;
  /** Every client's parser reads these, so CONFIG SET changes them for all connections at once. */
  private readonly parserLimits: RequestParserLimits;
  readonly stats: ServerStats;
  readonly slowlog = new Slowlog();
  readonly pubsub = new PubSub();
  readonly tracking: Tracking;
  /** Publishes a command's keyspace events and tells tracking of the keys it changed (`by`: the client whose command it was). */
  private readonly dispatchEvents: (events: readonly KeyspaceEvent[], by: Client | undefined) => void;
  readonly outputLimits: OutputLimits;

  constructor(
    private readonly pool: ShardPool,
    private readonly options: FrontOptions,
  ) {
    this.slotToShard = new Uint8Array(SLOT_COUNT);
    for (let slot = 0; slot < SLOT_COUNT; slot++) this.slotToShard[slot] = shardOfSlot(slot, pool.size);
    this.scheduler = new ShardScheduler(pool);
    options.persistence.attach({
      held: (operation, args) => this.onEveryShard(undefined, operation, args),
      each: (operation, args) => Promise.all(Array.from({ length: pool.size }, (_, shard) => pool.operation(shard, operation, { ...args, shard, shards: pool.size }))),
    });
    this.stats = new ServerStats(this.table.indexed().map((spec) => spec.name));
    for (const [from, to] of options.config.renames) this.table.rename(from, to);
    const config = options.config;
    this.outputLimits = followOutputLimits(config);
    this.parserLimits = { protoMaxBulkLen: config.number('proto-max-bulk-len'), clientQueryBufferLimit: config.number('client-query-buffer-limit') };
    this.slowlog.slowerThan = config.number('slowlog-log-slower-than');
    this.slowlog.maxLength = config.number('slowlog-max-len');
    // Listeners may refuse a value by returning an error; these take any value the registry accepts.
    const follow = (name: 'maxmemory' | 'proto-max-bulk-len' | 'client-query-buffer-limit' | 'slowlog-log-slower-than' | 'slowlog-max-len', apply: (value: number) => void) =>
      config.onChange(name, () => {
        apply(config.number(name));
        return undefined;
      });
    this.maxmemory = config.number('maxmemory');
    follow('maxmemory', (value) => (this.maxmemory = value));
    this.noEviction = config.get('maxmemory-policy') === 'noeviction';
    config.onChange('maxmemory-policy', (value) => {
      this.noEviction = value === 'noeviction';
      return undefined;
    });
    follow('proto-max-bulk-len', (value) => (this.parserLimits.protoMaxBulkLen = value));
    follow('client-query-buffer-limit', (value) => (this.parserLimits.clientQueryBufferLimit = value));
    follow('slowlog-log-slower-than', (value) => (this.slowlog.slowerThan = value));
    follow('slowlog-max-len', (value) => {
      this.slowlog.maxLength = value;
      this.slowlog.trim();
    });
    // Every shard converts collections by the same thresholds and frees by the same lazyfree rules: a
    // change goes to all of them, in order with the commands already sent.
    for (const name of SHARD_SETTING_NAMES) {
      config.onChange(name, () => {
        const settings = shardSettings(config, [name]);
        for (let shard = 0; shard < pool.size; shard++) void pool.operation(shard, ShardOp.Configure, settings);
        this.scratch?.configure(settings);
        return undefined;
      });
    }
    const notifier = new KeyspaceNotifier(config, this.pubsub);
    this.tracking = new Tracking(
      (id) => this.connected.get(id),
      (on) => {
        for (let shard = 0; shard < pool.size; shard++) void pool.operation(shard, ShardOp.Track, { on });
      },
    );
    this.dispatchEvents = (events, by) => {
      for (const event of events) {
        if (event.event === KEY_CHANGED) this.tracking.keyChanged(event.key, by);
        else notifier.publish(event);
      }
    };
    pool.onKeyspaceEvents((bytes, by) => {
      const events = decodeEvents(bytes);
      if (by instanceof Gather) by.holdEvents(events);
      else this.dispatchEvents(events, by instanceof Client ? by : undefined);
    });
    pool.observe((command, argv, micros, reply, sink) => {
      this.stats.executed(command, micros, reply);
      if (this.slowlog.isSlow(micros) && sink instanceof Client) this.slowlog.add(argv, micros, sink.address, sink.name);
    });
    this.keyspace = new KeyspaceFanout(pool.size, options.config.number('databases'), this.shardOfKey);
    this.blocked = new BlockedClients({
      pool,
      scheduler: this.scheduler,
      shardOfKey: this.shardOfKey,
      crossShard: (command) => crossShardBody(command, this.shardOfKey, this.scratchShard(), (events) => this.dispatchEvents(events, undefined)),
    });
    pool.onBlocked(this.blocked);
    this.scheduler.hooks = options.propagation?.hooks(this.blocked) ?? this.blocked;
  }

  /**
   * Listens on every address (the options' unless given: an embedded pool's listen() names its own);
   * with port 0 the first one picks the port and the others follow it.
   */
  async listen(addresses = this.options.addresses, firstPort = this.options.port): Promise<{ port: number; listening: string[] }> {
    const listening: string[] = [];
    let port = firstPort;
    for (const { host, optional } of addresses) {
      const server = createServer((socket) => this.accept(socket));
      try {
        port = await new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, host, () => {
            const address = server.address();
            resolve(typeof address === 'object' && address !== null ? address.port : port);
          });
        });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (optional && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue;
        await Promise.all(this.servers.map((open) => new Promise((resolve) => open.close(resolve))));
        throw error;
      }
      this.servers.push(server);
      listening.push(host);
    }
    if (this.servers.length === 0) throw new Error(`no address of bind could be used`);
    this.port = port;
    return { port, listening };
  }

  close(): Promise<void> {
    this.options.persistence.detach();
    for (const client of this.connected.values()) client.socket.destroy();
    this.stats.close();
    this.blocked.close();
    clearTimeout(this.pauseTimer);
    return Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => undefined);
  }

  // ---------------------------------------------------------------- ServerContext

  clients(): Iterable<Client> {
    return this.connected.values();
  }

  clientById(id: number): Client | undefined {
    return this.connected.get(id);
  }

  shardStats(): Promise<ShardStats[]> {
    return Promise.all(Array.from({ length: this.pool.size }, (_, shard) => this.pool.stats(shard)));
  }

  infoFacts(shardStats: readonly ShardStats[]): InfoFacts {
    return {
      port: this.port,
      shards: this.pool.size,
      connectedClients: this.connected.size,
      blockedClients: this.blocked.count,
      clientsInTimeoutTable: this.blocked.withTimeout,
      maxclients: this.options.config.number('maxclients'),
      maxmemory: this.options.config.number('maxmemory'),
      maxmemoryPolicy: this.options.config.get('maxmemory-policy'),
      configFile: this.options.config.file ?? '',
      hz: 10,
      stats: this.stats,
      pubsub: { channels: this.pubsub.channelCount, patterns: this.pubsub.patternCount, shardChannels: this.pubsub.shardChannelCount },
      tracking: { clients: this.tracking.clients, keys: this.tracking.totalKeys, items: this.tracking.totalItems, prefixes: this.tracking.totalPrefixes },
      shardStats,
      notePeakMemory: (used) => (this.peakMemory = Math.max(this.peakMemory, used)),
      persistence: this.options.persistence,
      appendOnly: this.options.appendOnly,
    };
  }

  lastSave(): number {
    return this.options.persistence.lastSave;
  }

  get savesOnShutdown(): boolean {
    return this.options.persistence.savesOnShutdown;
  }

  /**
   * BGSAVE: the client's later commands wait until every shard has opened its epoch (as after Redis's
   * fork they see the forked state), though no shard is held while the writer threads start.
   */
  backgroundSave(client: Client, schedule: boolean): Promise<{ error?: string; scheduled?: boolean }> {
    const held: EveryShard = (operation, args) => this.onEveryShard(client, operation, args);
    if (client.inExec) return this.options.persistence.backgroundSave(held, undefined, schedule);
    // Its later commands wait from now; once the epochs' opening is queued, they wait behind it instead.
    return this.options.persistence.backgroundSave(held, this.scheduler.holdClient(client), schedule);
  }

  get backgroundSaveInProgress(): boolean {
    return this.options.persistence.backgroundInProgress;
  }

  save(client: Client): Promise<boolean> {
    return this.options.persistence.save((operation, args) => this.onEveryShard(client, operation, args));
  }

  reload(client: Client, options: { flush: boolean; merge: boolean }): Promise<boolean> {
    return this.options.persistence.reload((operation, args) => this.onEveryShard(client, operation, args), options);
  }

  pause(until: number, writesOnly: boolean): void {
    // The later end and the stricter kind win over a pause in force, as in Redis.
    const inForce = this.pausedUntil > Date.now();
    this.pauseWritesOnly = inForce ? this.pauseWritesOnly && writesOnly : writesOnly;
    if (until > this.pausedUntil) this.pausedUntil = until;
    this.armPauseTimer();
  }

  /** Ends the pause when it is due; a timer waits at most 2^31 − 1 ms, so a long pause re-arms it. */
  private armPauseTimer(): void {
    clearTimeout(this.pauseTimer);
    const left = this.pausedUntil - Date.now();
    if (left <= 0) return this.unpause();
    this.pauseTimer = setTimeout(() => this.armPauseTimer(), Math.min(left, MAX_TIMER_MS));
  }

  unblockClient(id: number, error: boolean): boolean {
    const client = this.connected.get(id);
    return client !== undefined && this.blocked.unblock(client, error);
  }

  unpause(): void {
    this.pausedUntil = 0;
    clearTimeout(this.pauseTimer);
    for (const client of this.connected.values()) {
      if (!client.paused) continue;
      client.paused = false;
      client.releaseDeferred();
    }
  }

  resetClient(client: Client): void {
    this.monitors.delete(client);
    this.tracking.disable(client);
    this.pubsub.removeClient(client);
    client.transaction = undefined;
    this.unwatch(client);
    client.reset();
  }

  monitor(client: Client): void {
    client.monitoring = true;
    this.monitors.add(client);
  }

  onEveryShard(client: Client | undefined, operation: number, args: unknown): Promise<unknown[]> {
    const shards = this.allShards();
    const run = () => Promise.all([...shards].map((shard) => this.pool.operation(shard, operation, { ...(args as object), shard, shards: shards.size })));
    // Inside EXEC the client already holds every shard.
    if (client?.inExec === true) return run();
    return new Promise((resolve) => this.scheduler.submitOperation(client, shards, async () => resolve(await run())));
  }

  rewriteAppendOnly(): 'started' | 'scheduled' | 'in progress' | 'unavailable' {
    return this.options.appendOnly?.requestRewrite() ?? 'unavailable';
  }

  onKeyShard(client: Client, key: Buffer, argv: Buffer[]): Promise<Buffer> {
    const shard = this.shardOfKey(key);
    const { db, protocol } = client;
    if (client.inExec) return this.pool.call(shard, db, protocol, argv);
    return new Promise((resolve) => this.sendToShard(shard, db, protocol, -1, argv, copyingSink(resolve), 0));
  }

  async exec(client: Client, transaction: QueuedTransaction, position: number): Promise<Buffer> {
    const watched = client.watched === undefined ? [] : [...client.watched.values()];
    if (transaction.failed) {
      this.unwatch(client);
      return errorReply(ERR_EXECABORT);
    }
    let shards = new Set(watched.map(({ shard }) => shard));
    for (const { spec, argv } of transaction.commands) {
      const needed = this.execShards(client, spec, argv);
      if (needed === 'all') shards = this.allShards();
      else for (const shard of needed) shards.add(shard);
    }
    return new Promise((resolve) => {
      this.scheduler.submitOperation(client, shards, async () => {
        client.inExec = true;
        let reply: Buffer;
        try {
          if (await this.watchedKeysChanged(client, watched)) {
            client.writer.nullArray();
            reply = client.writer.take();
          } else reply = await this.runTransaction(client, transaction, position);
        } catch (error) {
          reply = internalErrorReply(error);
        } finally {
          client.inExec = false;
          this.unwatch(client);
        }
        // Answered once the transaction has finished: its writes reach the AOF first.
        return () => resolve(reply);
      }, true);
    });
  }

  async watch(client: Client, keys: readonly Buffer[]): Promise<void> {
    const db = client.db;
    const fresh = new Map<string, WatchedKey>();
    for (const key of keys) {
      const name = watchName(db, key);
      if (client.watched?.has(name) !== true) fresh.set(name, { db, key: Buffer.from(key), shard: this.shardOfKey(key) });
    }
    client.watched ??= new Map();
    for (const [name, watch] of fresh) client.watched.set(name, watch);
    await Promise.all(
      watchGroups(fresh.values()).map(
        ({ shard, db: onDb, keys: onShard }) =>
          // In order with the client's earlier commands: behind a transaction that holds the shard.
          new Promise<unknown>((resolve) =>
            this.scheduler.sendOrHold(shard, () => void this.pool.operation(shard, ShardOp.Watch, watchArgs(onDb, onShard, client.id)).then(resolve)),
          ),
      ),
    );
  }

  unwatch(client: Client): void {
    const watched = client.watched;
    if (watched === undefined) return;
    client.watched = undefined;
    for (const { shard, db, keys } of watchGroups(watched.values())) {
      this.scheduler.sendOrHold(shard, () => void this.pool.operation(shard, ShardOp.Unwatch, watchArgs(db, keys, client.id)));
    }
  }

  /** Whether any watched key changed (or expired) since WATCH; the caller holds their shards, so ask them directly. */
  private async watchedKeysChanged(client: Client, watched: readonly WatchedKey[]): Promise<boolean> {
    const answers = await Promise.all(
      watchGroups(watched).map(({ shard, db, keys }) => this.pool.operation(shard, ShardOp.WatchTouched, watchArgs(db, keys, client.id))),
    );
    return answers.some((touched) => touched === true);
  }

  /**
   * Runs the queued commands, its shards held, and makes EXEC's reply. Commands for one shard each are
   * sent without waiting for their replies (a shard answers in order, and no other client's command can
   * come between); anything else first waits for those, so a SELECT or a multi-shard step sees every
   * earlier command done.
   */
  private async runTransaction(client: Client, transaction: QueuedTransaction, position: number): Promise<Buffer> {
    const replies: Promise<Buffer>[] = [];
    const call = (shard: number, argv: readonly Buffer[]) => this.pool.call(shard, client.db, client.protocol, argv);
    for (const { spec, argv } of transaction.commands) {
      const local = FRONT_COMMANDS.get(spec.name);
      const shard = local === undefined ? this.shardFor(spec, argv.length, argv) : -1;
      if (shard >= 0 && spec.firstKey !== 0) {
        // With its table index, so that commandstats counts it as Redis counts commands run by EXEC.
        replies.push(this.pool.call(shard, client.db, client.protocol, argv, spec.index));
        continue;
      }
      await Promise.all(replies);
      if (local !== undefined) {
        replies.push(this.runLocal(client, local, argv, position));
        continue;
      }
      const route = this.route(client, spec, argv, shard);
      if (route.kind === 'shard') replies.push(this.pool.call(route.shard, client.db, client.protocol, argv, spec.index));
      else if (route.kind === 'body') {
        // Its steps go out one reply after another: the queued commands after it must wait for them.
        const done = this.counted(spec, route.body.run(call));
        replies.push(done);
        await done;
      } else if (route.kind === 'scatter') {
        const { parts, combine } = route.plan;
        replies.push(this.counted(spec, Promise.all(parts.map((part) => call(part.shard, part.argv))).then(combine)));
      } else replies.push(Promise.resolve(errorReply(route.error)));
    }
    const done = await Promise.all(replies);
    client.writer.arrayHeader(done.length);
    return Buffer.concat([client.writer.take(), ...done]);
  }

  /** A command EXEC runs over several shards, counted once in commandstats. */
  private counted(spec: CommandSpec, reply: Promise<Buffer>): Promise<Buffer> {
    const finish = this.countAcrossShards(spec);
    return reply.then((bytes) => {
      finish(bytes);
      return bytes;
    });
  }

  /** The shards a queued command needs held while EXEC runs it. */
  private execShards(client: Client, spec: CommandSpec, argv: Buffer[]): ReadonlySet<number> | 'all' {
    if (FRONT_COMMANDS.has(spec.name)) return FRONT_COMMANDS_ON_SHARDS.has(spec.name) ? 'all' : new Set();
    const shard = this.shardFor(spec, argv.length, argv);
    if (shard >= 0 && spec.firstKey !== 0) return new Set([shard]);
    const route = this.route(client, spec, argv, shard);
    if (route.kind === 'shard') return new Set([route.shard]);
    if (route.kind === 'body') return route.body.shards;
    if (route.kind === 'scatter') return new Set(route.plan.parts.map(({ shard: part }) => part));
    return new Set();
  }

  private allShards(): Set<number> {
    return new Set(Array.from({ length: this.pool.size }, (_, shard) => shard));
  }

  /** A front command's reply as bytes, for EXEC. */
  private async runLocal(client: Client, handler: ConnectionHandler, argv: Buffer[], position: number): Promise<Buffer> {
    const writer = client.writer;
    const later = handler({ client, writer, argv, table: this.table, server: this, config: this.options.config, position });
    if (later === undefined) return writer.take();
    const write = await later;
    write(writer);
    return writer.take();
  }

  debugAllowed(client: Client): boolean {
    const mode = this.options.config.get('enable-debug-command');
    if (mode === 'yes') return true;
    const address = client.socket.remoteAddress ?? '';
    return mode === 'local' && (address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1');
  }

  resetStats(): void {
    this.stats.reset();
  }

  shutdown(): void {
    this.options.logger.warn('User requested shutdown...');
    (this.options.onShutdown ?? (() => process.exit(0)))();
  }

  // ---------------------------------------------------------------- clients and their output

  markDirty(client: Client): void {
    if (client.dirty) return;
    client.dirty = true;
    this.dirty.push(client);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(this.flushDirty);
  }

  /** Redis's beforeSleep order: the AOF is written (and fsynced under appendfsync always) before any reply goes out. */
  beforeOutput(): void {
    this.options.appendOnly?.beforeReplies();
  }

  countOutput(bytes: number): void {
    this.stats.netOutputBytes += bytes;
  }

  outputLimitReached(client: Client): void {
    this.options.logger.warn(`Client ${describeClient(client, Date.now())} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    client.kill();
  }

  private readonly flushDirty = (): void => {
    this.flushScheduled = false;
    this.beforeOutput();
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) dirty[i].flush();
    dirty.length = 0;
  };

  private accept(socket: Socket): void {
    if (!admitConnection(socket, this.options.config, this.connected.size, this.options.logger)) return;
    socket.setNoDelay(true);
    const client = this.connect(socket);
    socket.on('data', (chunk: Buffer) => this.receive(client, chunk));
    socket.on('close', () => this.disconnect(client));
    socket.on('error', (error) => this.options.logger.debug({ client: client.id, error: error.message }, 'client socket error'));
  }

  /**
   * Registers a client writing to `socket`. An embedded client (src/embed) comes in here with its
   * in-process connection and sends its commands to `dispatch` as argv, with no RESP to parse; from
   * then on it is served exactly as a socket's client. Its connection calls `disconnect` when it closes.
   */
  connect(socket: ClientSocket): Client {
    const client = new Client(this.nextClientId++, socket, this, this.parserLimits);
    this.connected.set(client.id, client);
    this.stats.totalConnections++;
    return client;
  }

  /** Forgets a client whose connection has closed. */
  disconnect(client: Client): void {
    this.connected.delete(client.id);
    this.tracking.disable(client);
    this.monitors.delete(client);
    this.pubsub.removeClient(client);
    this.unwatch(client);
    this.blocked.disconnected(client);
  }

  private receive(client: Client, chunk: Buffer): void {
    if (client.closing) return;
    this.stats.netInputBytes += chunk.length;
    client.lastActivity = Date.now();
    const parser = client.parser;
    parser.feed(chunk);
    for (let argv = parser.next(); argv !== undefined; argv = parser.next()) {
      this.dispatch(client, argv);
      if (client.closing) return;
    }
    const error = parser.error;
    if (error !== undefined) {
      // Redis answers a protocol error, then closes once the answer (and every earlier one) is out.
      // fill() ends the socket once a closing client's queue is written out.
      client.closing = true;
      if (error.errorReply !== null) {
        client.writer.error(error.errorReply);
        client.fill(client.reserve(), client.writer.take());
      } else this.markDirty(client);
    }
  }

  /** Runs one parsed command of the client, in order with its earlier ones. */
  dispatch(client: Client, argv: Buffer[]): void {
    const position = client.reserve();
    // Only a client waiting behind its own cross-shard command needs its commands deferred (a closure each).
    if (client.mayRunNow) this.execute(client, argv, position);
    else client.inOrder(() => this.execute(client, argv, position));
  }

  /**
   * Runs one command of the client, its earlier ones having run. While it runs, frames pushed to the
   * client (a message it publishes to itself) go before its reply, as in Redis; once it has been answered
   * or handed to a shard, after. A command held by CLIENT PAUSE has not run: pushes go before it.
   */
  private execute(client: Client, argv: Buffer[], position: number): void {
    client.runningPosition = position;
    this.run(client, argv, position);
    client.runningPosition = client.paused ? position : position + 1;
    if (client.tracking !== undefined) this.track(client, argv);
  }

  /**
   * After a tracking client's command: the keys a read-only one named are remembered for invalidation
   * (before the shard has read them: a change in between only costs an early invalidation), and CLIENT
   * CACHING's word, which covers one command, is spent.
   */
  private track(client: Client, argv: Buffer[]): void {
    const spec = this.table.lookup(argv[0]);
    if (spec === undefined || client.transaction !== undefined) return;
    if ((spec.flags & CommandFlag.readonly) !== 0) this.tracking.rememberKeys(client, (commandKeys(spec, argv) ?? []).map(({ index }) => argv[index]));
    if (!(spec.name === 'client' && argv.length > 1 && argText(argv[1]).toLowerCase() === 'caching')) client.tracking!.caching = undefined;
  }

  private run(client: Client, argv: Buffer[], position: number): void {
    const spec = this.table.lookup(argv[0]);
    if (spec === undefined) return this.runUnknown(client, argv, position);
    if (!arityMatches(spec, argv.length)) return this.refuse(client, position, wrongArity(spec.name), spec.name);
    client.lastCommand = spec.subcommands !== undefined && argv.length > 1 ? `${spec.name}|${argText(argv[1]).toLowerCase()}` : spec.name;
    if (client.pubsub !== undefined && client.protocol === 2 && !SUBSCRIBED_MODE_COMMANDS.has(spec.name) && this.refuseWhileSubscribed(client, spec, argv, position)) return;
    if (this.pausedUntil !== 0 && this.holdForPause(client, spec, argv, position)) return;
    if (this.monitors.size !== 0 && (spec.flags & (CommandFlag.skip_monitor | CommandFlag.admin)) === 0) this.feedMonitors(client, argv);
    if (this.maxmemory !== 0 && this.overMemory(client, spec)) return this.refuseAdmission(client, spec, position, OOM);
    const diskError = this.diskError();
    if (diskError !== undefined && this.writes(client, spec)) return this.refuseAdmission(client, spec, position, diskError);
    if (client.transaction !== undefined && !RUN_IN_MULTI.has(spec.name)) return this.queue(client, client.transaction, spec, argv, position);
    const local = FRONT_COMMANDS.get(spec.name);
    if (local !== undefined) return this.executeLocally(client, local, argv, position);
    const shard = this.shardFor(spec, argv.length, argv);
    if ((spec.flags & CommandFlag.blocking) !== 0 && isBlockingCommand(spec.name)) {
      return this.blocked.run(client, spec, this.canonical(spec, argv), commandKeys(spec, argv) ?? [], position, shard);
    }
    if (shard >= 0 && spec.firstKey !== 0) return this.sendToShard(shard, client.db, client.protocol, spec.index, argv, client, position);
    const route = this.route(client, spec, argv, shard);
    if (route.kind === 'shard') this.sendToShard(route.shard, client.db, client.protocol, spec.index, argv, client, position);
    else if (route.kind === 'body') this.submit(client, spec, route.body, position);
    else if (route.kind === 'scatter') this.scatter(client, spec, route.plan, position);
    else this.refuse(client, position, route.error, spec.name);
  }

  /** A name the command table does not know: one of sabre's own commands (sabre-commands.ts), or unknown. */
  private runUnknown(client: Client, argv: Buffer[], position: number): void {
    const own = client.transaction === undefined ? sabreCommand(argv[0]) : undefined;
    if (own === undefined) return this.refuse(client, position, unknownCommand(argv));
    client.lastCommand = own.name;
    this.executeLocally(client, own.handler, argv, position);
  }

  /** How a command runs that the fast path did not send (see Route). */
  private route(client: Client, spec: CommandSpec, argv: Buffer[], shard: number): Route {
    // Every path from here passes argv on to shards by name.
    const named = this.canonical(spec, argv);
    const keyspace = this.keyspace.body(spec, named);
    if (keyspace !== undefined) return { kind: 'body', body: FLUSHES.has(spec.name) ? this.afterFlush(keyspace, spec.name === 'flushall') : keyspace };
    if (shard >= 0) return { kind: 'shard', shard };
    if ((spec.name === 'mset' || spec.name === 'msetnx') && argv.length % 2 === 0) return { kind: 'refuse', error: wrongArity(spec.name) };
    const plan = scatterPlan(spec.name, named, this.shardOfKey);
    if (plan !== undefined) {
      // While writes are propagated, a write across shards holds them so that its parts go out together.
      const atomic = this.options.propagation?.active === true && (spec.flags & CommandFlag.write) !== 0;
      return atomic ? { kind: 'body', body: scatterBody(plan) } : { kind: 'scatter', plan };
    }
    const body = multiShardBody(spec.name, named, this.shardOfKey);
    if (body !== undefined) return { kind: 'body', body };
    const keys = commandKeys(spec, argv) ?? [];
    if (keys.length === 0) return { kind: 'refuse', error: ERR_CROSS_SHARD };
    const command = { argv: named, keys, db: client.db, protocol: client.protocol };
    return { kind: 'body', body: crossShardBody(command, this.shardOfKey, this.scratchShard(), (events) => this.dispatchEvents(events, client)) };
  }

  /**
   * A flush, followed once it has run on every shard by tracking's invalidation of everything; FLUSHALL
   * with save points then saves the empty keyspace with the shards still held, as Redis's does.
   */
  private afterFlush(flush: TransactionBody, all: boolean): TransactionBody {
    return {
      shards: flush.shards,
      run: async (call) => {
        const reply = await flush.run(call);
        if (reply[0] !== 0x2b) return reply;
        if (this.tracking.active) this.tracking.flushed();
        const persistence = this.options.persistence;
        if (all && persistence.savesOnShutdown) {
          const held = [...flush.shards];
          await persistence.saveFlushed((operation, args) => Promise.all(held.map((shard) => this.pool.operation(shard, operation, { ...args, shard, shards: held.length }))));
        }
        return reply;
      },
    };
  }

  /**
   * maxmemory: over the budget, Redis refuses commands that may add data (denyoom), EXEC of a
   * transaction holding one, and anything queued inside MULTI, while reads and deletions go on; under
   * an evicting policy only when eviction has failed. The budget is global: every shard's allocated
   * bytes, from the memory board. The shards evict before each command they run, so under an evicting
   * policy the front refuses only once no shard has anything left that its policy may evict.
   */
  private overMemory(client: Client, spec: CommandSpec): boolean {
    const transaction = client.transaction;
    const queued = transaction !== undefined && !RUN_IN_MULTI.has(spec.name);
    const mayGrow =
      queued ||
      (spec.flags & CommandFlag.denyoom) !== 0 ||
      (spec.name === 'exec' && transaction !== undefined && transaction.commands.some(({ spec: inside }) => (inside.flags & CommandFlag.denyoom) !== 0));
    return mayGrow && this.pool.usedMemory() > this.maxmemory && (this.noEviction || !this.pool.canEvict());
  }

  /** -MISCONF's text while persistence cannot write: a failed save first, as Redis checks, then an AOF write error. */
  private diskError(): string | undefined {
    if (this.options.persistence.refusesWrites) return MISCONF;
    const aofError = this.options.appendOnly?.writeError;
    return aofError === undefined ? undefined : `MISCONF Errors writing to the AOF file: ${aofError}`;
  }

  /**
   * What -MISCONF refuses after a failed background save or AOF write: commands that write, EXEC of a transaction
   * holding one, and PING (Redis refuses it too, so that a health check notices).
   */
  private writes(client: Client, spec: CommandSpec): boolean {
    if ((spec.flags & CommandFlag.write) !== 0 || spec.name === 'ping') return true;
    const transaction = client.transaction;
    return spec.name === 'exec' && transaction !== undefined && transaction.commands.some(({ spec: inside }) => (inside.flags & CommandFlag.write) !== 0);
  }

  /** Answers `error` (-OOM, -MISCONF); an EXEC refused so also discards its transaction, as Redis's execCommandAbort. */
  private refuseAdmission(client: Client, spec: CommandSpec, position: number, error: string): void {
    if (spec.name !== 'exec') return this.refuse(client, position, error, spec.name);
    client.transaction = undefined;
    this.unwatch(client);
    this.refuse(client, position, `EXECABORT Transaction discarded because of: ${error}`, spec.name);
  }

  /** Between MULTI and EXEC: checks a command and queues it, or refuses it and dooms the transaction. */
  private queue(client: Client, transaction: QueuedTransaction, spec: CommandSpec, argv: Buffer[], position: number): void {
    if ((spec.flags & CommandFlag.no_multi) !== 0) return this.refuse(client, position, ERR_NOT_IN_MULTI, spec.name);
    transaction.commands.push({ spec, argv });
    client.writer.queued();
    client.fill(position, client.writer.take());
  }

  /**
   * Hands a request to a shard, or holds it behind the transaction that holds the shard. Hot path: the
   * check comes first so that the usual send allocates no closure.
   */
  /** `step`: one part of a command sent to several shards (frames.ts REQUEST_STEP). */
  private sendToShard(shard: number, db: number, protocol: 2 | 3, command: number, argv: readonly Buffer[], sink: ReplySink, position: number, step = false): void {
    const send = step ? () => this.pool.sendStep(shard, db, protocol, command, argv, sink, position) : () => this.pool.send(shard, db, protocol, command, argv, sink, position);
    if (!this.scheduler.isHeld(shard)) send();
    else this.scheduler.sendOrHold(shard, send);
  }

  /** The shard engine cross-shard commands run on (cross-shard.ts), made when first needed. */
  private scratchShard(): Shard {
    this.scratch ??= new Shard({ databases: this.options.config.number('databases'), settings: shardSettings(this.options.config) });
    return this.scratch;
  }

  private readonly shardOfKey = (key: Buffer): number => this.slotToShard[keySlot(key)];

  /** Sends a one-step command's parts to their shards at once and answers when all have replied (scatter.ts). */
  private scatter(client: Client, spec: CommandSpec, plan: ScatterPlan, position: number): void {
    const gather = new Gather(plan, this.acrossShards(client, spec, position), (events) => this.dispatchEvents(events, client));
    const { db, protocol } = client;
    plan.parts.forEach(({ shard, argv }, part) => this.sendToShard(shard, db, protocol, -1, argv, gather, part, true));
  }

  /** Runs a command as a transaction over several shards. */
  private submit(client: Client, spec: CommandSpec, body: TransactionBody, position: number): void {
    this.scheduler.submit(client, body.shards, body.run, this.acrossShards(client, spec, position));
  }

  /** Counts a command run across shards as one command, and answers it with the reply it ends with. */
  private acrossShards(client: Client, spec: CommandSpec, position: number): (reply: Buffer) => void {
    const finish = this.countAcrossShards(spec);
    return (reply) => {
      finish(reply);
      client.fill(position, reply);
    };
  }

  /** Counts a command run across shards now; the function returned records its time and outcome. */
  private countAcrossShards(spec: CommandSpec): (reply: Uint8Array) => void {
    const started = performance.now();
    this.stats.startedAcrossShards(spec.index);
    return (reply) => this.stats.finishedAcrossShards(spec.index, (performance.now() - started) * 1000, reply);
  }

  /**
   * argv with the command's own name in front when rename-command gave it another: transactions pass
   * argv on to shards by name, and shards know commands by their Redis names only.
   */
  private canonical(spec: CommandSpec, argv: Buffer[]): Buffer[] {
    if (this.options.config.renames.length === 0) return argv;
    return [Buffer.from(spec.name), ...argv.slice(1)];
  }

  /** Answers an error for a command refused before it ran, and counts it; a transaction being queued is doomed. */
  private refuse(client: Client, position: number, error: string | Uint8Array, known?: string): void {
    if (client.transaction !== undefined) client.transaction.failed = true;
    const writer = client.writer;
    writer.error(error);
    const reply = writer.take();
    if (known === undefined) this.stats.errorReply(reply);
    else this.stats.rejectedCall(known, reply);
    client.fill(position, reply);
  }

  private executeLocally(client: Client, handler: ConnectionHandler, argv: Buffer[], position: number): void {
    const writer = client.writer;
    const name = client.lastCommand;
    const started = performance.now();
    const later = handler({ client, writer, argv, table: this.table, server: this, config: this.options.config, position });
    if (later === undefined) {
      const reply = writer.take();
      this.stats.executedLocally(name, (performance.now() - started) * 1000, reply);
      return client.fill(position, reply);
    }
    // The reply keeps the protocol of its own command, though a HELLO after it may have run meanwhile.
    const protocol = writer.protocol;
    void later.then((write) => {
      const current = writer.protocol;
      writer.protocol = protocol;
      write(writer);
      writer.protocol = current;
      const reply = writer.take();
      this.stats.executedLocally(name, (performance.now() - started) * 1000, reply);
      client.fill(position, reply);
    });
  }

  /**
   * RESP2's subscribed mode refuses all but the subscription commands, PING, QUIT and RESET. An unknown
   * subcommand passes on, to be answered as unknown: Redis finds that out before this check.
   */
  private refuseWhileSubscribed(client: Client, spec: CommandSpec, argv: Buffer[], position: number): boolean {
    if (spec.subcommands !== undefined && spec.subcommands.get(argText(argv[1]).toLowerCase()) === undefined) return false;
    this.refuse(
      client,
      position,
      `ERR Can't execute '${client.lastCommand}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
      spec.name,
    );
    return true;
  }

  /** Holds a command during CLIENT PAUSE (all commands, or writes only); returns whether it did. */
  private holdForPause(client: Client, spec: CommandSpec, argv: Buffer[], position: number): boolean {
    if (Date.now() >= this.pausedUntil) {
      this.unpause();
      return false;
    }
    if (this.pauseWritesOnly && (spec.flags & PAUSED_BY_WRITE) === 0) return false;
    client.paused = true;
    client.inOrder(() => this.execute(client, argv, position));
    return true;
  }

  private feedMonitors(client: Client, argv: readonly Buffer[]): void {
    const line = monitorLine(client.db, client.address, argv);
    for (const monitor of this.monitors) if (monitor !== client) monitor.push(line);
  }

  /** The shard every key of the command lives on (shard 0 for keyless ones), or -1 when they are spread. */
  private shardFor(spec: CommandSpec, argc: number, argv: readonly Buffer[]): number {
    if ((spec.flags & CommandFlag.movablekeys) !== 0) return this.shardOfKeys((commandKeys(spec, argv) ?? []).map(({ index }) => argv[index]));
    if (spec.firstKey === 0 || spec.firstKey >= argc) return 0;
    const last = spec.lastKey >= 0 ? spec.lastKey : argc + spec.lastKey;
    const slotToShard = this.slotToShard;
    const first = slotToShard[keySlot(argv[spec.firstKey])];
    for (let i = spec.firstKey + spec.keyStep; i <= last && i < argc; i += spec.keyStep) {
      if (slotToShard[keySlot(argv[i])] !== first) return -1;
    }
    return first;
  }

  /** The shard all these keys live on (shard 0 for none), or -1 when they are spread. */
  private shardOfKeys(keys: readonly Buffer[]): number {
    if (keys.length === 0) return 0;
    const first = this.shardOfKey(keys[0]);
    return keys.every((key) => this.shardOfKey(key) === first) ? first : -1;
  }
}

function errorReply(message: string): Buffer {
  return Buffer.from(`-${message}\r\n`);
}

/** Watched keys grouped by shard and database, as the WATCH shard operations take them. */
function watchGroups(watches: Iterable<WatchedKey>): { shard: number; db: number; keys: WatchedKey[] }[] {
  const groups = new Map<string, { shard: number; db: number; keys: WatchedKey[] }>();
  for (const watch of watches) {
    const name = `${watch.shard}:${watch.db}`;
    const group = groups.get(name) ?? { shard: watch.shard, db: watch.db, keys: [] };
    group.keys.push(watch);
    groups.set(name, group);
  }
  return [...groups.values()];
}

/** The argument of the WATCH shard operations: the keys base64-encoded, for JSON. */
function watchArgs(db: number, watches: readonly WatchedKey[], watcher: number): { db: number; keys: string[]; watcher: number } {
  return { db, keys: watches.map(({ key }) => key.toString('base64')), watcher };
}
