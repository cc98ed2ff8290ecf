/**
 * The embeddable shard pool: sabre's shard workers and front inside the application's process, with
 * the front's socket layer left out until listen() asks for it. Its commands run through the front's
 * own dispatch as an in-process client (in-process-connection.ts), so they mean exactly what they mean
 * over a socket: routing by slot, multi-shard commands, transactions, errors.
 *
 * One pool per owner thread (the thread that started it runs its front); other threads share it
 * through handle() and ShardPool.attach (attach.ts). Options are redis.conf's (pool-options.ts).
 */
import { pino, type Logger } from 'pino';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { shardSettings } from '../shard/settings.js';
import { Front } from '../server/front.js';
import { createLogger } from '../server/logging.js';
import { Persistence, type EveryShard } from '../server/persistence.js';
import { ShardPool as ShardWorkers } from '../server/shard-pool.js';
import { listenAddresses, refuseRuntimeChanges } from '../server/startup.js';
import { AttachServer, attachToPool, type AttachedPool, type PoolHandle } from './attach.js';
import { Commands } from './client-commands.js';
import { InProcessConnection, type CommandConnection } from './in-process-connection.js';
import { embeddedConfig, type PoolOptions } from './pool-options.js';
import type { Reply } from './reply-decoder.js';
import { PoolError } from './reply-error.js';

/** INFO as sections of fields; numeric values as numbers. */
export type InfoSections = Record<string, Record<string, string | number>>;

/** MEMORY STATS as an object; the per-database entries (db.0 …) as nested objects. */
export type MemoryStats = Record<string, number | string | Record<string, number | string>>;

/** The RDB file in the pool's own directory, never the working directory (pool-options.ts). */
class EmbeddedPersistence extends Persistence {
  constructor(
    private readonly settings: Config,
    logger: Logger,
    private readonly dir: string,
  ) {
    super(settings, logger);
  }

  override get file(): string {
    return join(this.dir, this.settings.get('dbfilename'));
  }
}

function poolLogger(config: Config, options: PoolOptions): Logger {
  // A library writes no log lines unless told where to.
  return options.logfile === undefined ? pino({ enabled: false }) : createLogger(config);
}

/** A dedicated connection to the pool (pool.client()): its own SELECT, WATCH and blocking commands. */
export class PoolClient extends Commands {
  protected readonly dedicated = true;

  constructor(
    private readonly link: InProcessConnection,
    private readonly forget: () => void,
  ) {
    super();
  }

  protected connection(): CommandConnection {
    return this.link;
  }

  /** Closes this connection (a blocked command fails); the pool goes on. */
  close(): void {
    this.link.destroy();
    this.forget();
  }
}

export class ShardPool extends Commands {
  protected readonly dedicated = false;
  private closing: Promise<void> | undefined;
  private main: InProcessConnection;
  private readonly dedicatedLinks = new Set<InProcessConnection>();
  private attachServer: AttachServer | undefined;
  private listening = false;

  private constructor(
    private readonly workers: ShardWorkers,
    private readonly front: Front,
    private readonly persistence: Persistence,
    private readonly everyShard: EveryShard,
  ) {
    super();
    this.main = this.connectInProcess('the pool is closed');
  }

  /** Starts the shard workers (loading `dir`/`dbfilename` if it exists) and the pool's front. */
  static async start(options: PoolOptions = {}): Promise<ShardPool> {
    const { config, dir } = embeddedConfig(options);
    const logger = poolLogger(config, options);
    refuseRuntimeChanges(config);
    const shards = config.number('shards');
    let pool: ShardPool | undefined;
    const workers = ShardWorkers.start({ shards, shard: { databases: config.number('databases'), settings: shardSettings(config) } }, (shard, code) => {
      if (pool?.closing !== undefined) return;
      logger.fatal({ shard, code }, 'shard worker exited; the pool closes');
      void pool?.close({ save: false });
    });
    const everyShard: EveryShard = (operation, args) =>
      Promise.all(Array.from({ length: shards }, (_, shard) => workers.operation(shard, operation, { ...args, shard, shards })));
    const persistence = new EmbeddedPersistence(config, logger, dir);
    try {
      await persistence.load(everyShard);
    } catch (error) {
      await workers.close();
      throw new PoolError(`the pool could not load its RDB file: ${(error as Error).message}`);
    }
    const front = new Front(workers, { port: 0, addresses: [], logger, config, persistence, onShutdown: () => void pool?.close({ save: false }) });
    pool = new ShardPool(workers, front, persistence, everyShard);
    return pool;
  }

  private readonly commitSoon = (): void => this.workers.commitSoon();

  private connectInProcess(closedMessage: string): InProcessConnection {
    return new InProcessConnection(this.front, this.commitSoon, closedMessage);
  }

  /** A handle's pool in another thread: the same API, over a link to this pool's front (attach.ts). */
  static attach(handle: PoolHandle): AttachedPool {
    return attachToPool(handle);
  }

  protected connection(): CommandConnection {
    if (this.closing !== undefined) throw new PoolError('the pool is closed');
    // CLIENT KILL from a listening socket's client ends this connection, not the pool.
    if (this.main.destroyed) this.main = this.connectInProcess('the pool is closed');
    return this.main;
  }

  /** A dedicated connection: for WATCH, SELECT and blocking commands, which hold connection state. */
  client(): PoolClient {
    if (this.closing !== undefined) throw new PoolError('the pool is closed');
    const link = this.connectInProcess('this pool client is closed');
    this.dedicatedLinks.add(link);
    return new PoolClient(link, () => this.dedicatedLinks.delete(link));
  }

  /** A small structured-clonable description another thread passes to ShardPool.attach. */
  handle(): PoolHandle {
    if (this.closing !== undefined) throw new PoolError('the pool is closed');
    this.attachServer ??= new AttachServer(this.front, this.commitSoon);
    return this.attachServer.handle;
  }

  /** Serves this pool over RESP as sabre-server does, so redis-cli and Redis clients can use it too. */
  async listen(options: { port?: number; host?: string } = {}): Promise<{ port: number; host: string }> {
    if (this.closing !== undefined) throw new PoolError('the pool is closed');
    if (this.listening) throw new PoolError('the pool listens already');
    this.listening = true;
    const host = options.host ?? '127.0.0.1';
    try {
      const { port } = await this.front.listen(await listenAddresses(host), options.port ?? 6379);
      return { port, host };
    } catch (error) {
      this.listening = false;
      throw error;
    }
  }

  /** INFO (all sections, or the ones named) as an object of sections. */
  async info(...sections: string[]): Promise<InfoSections> {
    const text = (await this.run<Reply>(['INFO', ...sections], true)) as string;
    const result: InfoSections = {};
    let section: Record<string, string | number> = {};
    for (const line of text.split('\r\n')) {
      if (line.startsWith('# ')) result[line.slice(2).toLowerCase()] = section = {};
      else if (line !== '') {
        const colon = line.indexOf(':');
        section[line.slice(0, colon)] = numberOrText(line.slice(colon + 1));
      }
    }
    return result;
  }

  /** MEMORY STATS (the allocator's figures, measured) as an object. */
  async memoryStats(): Promise<MemoryStats> {
    const flat = (await this.run<Reply>(['MEMORY', 'STATS'], true)) as Reply[];
    const stats: MemoryStats = {};
    for (let i = 0; i < flat.length; i += 2) {
      const value = flat[i + 1];
      stats[flat[i] as string] = Array.isArray(value) ? fieldsOf(value) : numberOrText(value as string | number);
    }
    return stats;
  }

  /**
   * Waits for the commands sent so far (a blocked one is not waited for), saves if save points are set
   * (or `save` says so), and stops the front and the shard workers. Later calls fail with PoolError.
   */
  close(options: { save?: boolean } = {}): Promise<void> {
    this.closing ??= this.shutDown(options.save ?? this.persistence.savesOnShutdown);
    return this.closing;
  }

  private async shutDown(save: boolean): Promise<void> {
    await Promise.all([this.main, ...this.dedicatedLinks, ...(this.attachServer?.links() ?? [])].map((link) => link.whenIdle()));
    this.attachServer?.close();
    await this.front.close();
    if (save) await this.persistence.save(this.everyShard);
    await this.workers.close();
  }
}

function numberOrText(value: string | number): string | number {
  return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

function fieldsOf(flat: Reply[]): Record<string, string | number> {
  const fields: Record<string, string | number> = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i] as string] = numberOrText(flat[i + 1] as string | number);
  return fields;
}
