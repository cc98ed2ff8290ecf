/**
 * Loading an AOF at startup, before any client connects: the base file (an RDB, which every shard reads
 * for its own slots; or commands), then each incremental file's commands, sent to the shard of their keys.
 *
 * Commands are pipelined to the shards without waiting for each reply (a shard runs its own in order, and
 * shards own disjoint keys, so their relative order does not matter); SELECT sets the database of the
 * following ones and a MULTI … EXEC is run once complete. A command the front would run across shards
 * (FLUSHALL, SWAPDB, a RENAME or MSET or SUNIONSTORE whose keys are spread: a file redis-server wrote
 * holds such) runs between barriers through the same transaction bodies the front uses, with nothing
 * else running; sabre's own files hold few (each shard propagates its own part).
 *
 * A torn last command (a crash during a write) is cut off and loading goes on, or refused, as
 * aof-load-truncated says; only the last file may end so, as in Redis. Anything else malformed stops the
 * server with the file and offset named.
 */
import { closeSync, openSync, readFileSync, statSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { keySlot, shardOfSlot } from '../cluster/slot.js';
import { commandKeys, type KeyPosition } from '../commands/key-specs.js';
import { CommandTable } from '../commands/table.js';
import { argText } from '../commands/context.js';
import type { AofManifest } from '../persistence/aof-manifest.js';
import { AofTruncatedError, readAofCommands } from '../persistence/aof-reader.js';
import { ShardOp } from '../shard/frames.js';
import type { Shard } from '../shard/shard.js';
import { crossShardBody } from './cross-shard.js';
import { KeyspaceFanout } from './keyspace-fanout.js';
import { multiShardBody, type ShardCall, type TransactionBody } from './multi-shard.js';
import type { EveryShard } from './persistence.js';
import { scatterBody, scatterPlan } from './scatter.js';
import type { ShardPool } from './shard-pool.js';

/** Replies to wait for before sending more: bounds what a large file keeps in flight. */
const MAX_IN_FLIGHT = 8192;
const PROGRESS_MS = 1000;

export class AofLoadError extends Error {}

export interface AofLoadOptions {
  directory: string;
  manifest: AofManifest;
  truncatedAllowed: boolean;
  pool: ShardPool;
  everyShard: EveryShard;
  logger: Logger;
  databases: number;
  /** A shard engine on this thread for commands across shards that run on a copy of their keys (cross-shard.ts). */
  scratch: () => Shard;
}

/** Loads the files the manifest names; returns how many commands ran. */
export async function loadAof(options: AofLoadOptions): Promise<number> {
  const { manifest, directory, logger } = options;
  const started = performance.now();
  const files = [...(manifest.base === undefined ? [] : [manifest.base]), ...manifest.incrementals];
  const loader = new CommandLoader(options);
  let commands = 0;
  for (const [index, file] of files.entries()) {
    const path = join(directory, file.name);
    const fileStarted = performance.now();
    const last = index === files.length - 1;
    if (file.type === 'b' && file.name.endsWith('.rdb')) {
      logger.info({ file: file.name }, 'Reading RDB base file on AOF loading...');
      const outcomes = (await options.everyShard(ShardOp.LoadRdb, { target: path, flush: false, merge: false })) as ({ error: string } | object)[];
      const failed = outcomes.find((outcome) => 'error' in outcome) as { error: string } | undefined;
      if (failed !== undefined) throw new AofLoadError(`Bad file format reading the RDB base file ${file.name}: ${failed.error}`);
    } else {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (error) {
        // Redis tolerates a missing or empty last incremental file (a crash right after a rewrite made it).
        if (!(last && (error as NodeJS.ErrnoException).code === 'ENOENT')) throw new AofLoadError(`Can't open the append-only file ${file.name}: ${(error as Error).message}`);
        continue;
      }
      // An old single-file AOF may open with an RDB (aof-use-rdb-preamble in Redis 4 to 6).
      if (bytes.subarray(0, 5).toString('latin1') === 'REDIS') throw new AofLoadError(`The AOF file ${file.name} starts with an RDB preamble, which sabre cannot load yet`);
      commands += await loadCommands(loader, bytes, file.name, path, last, options);
    }
    logger.info({ file: file.name, seconds: ((performance.now() - fileStarted) / 1000).toFixed(3) }, `DB loaded from ${file.type === 'b' ? 'base' : 'incr'} file ${file.name}`);
  }
  await loader.drain();
  logger.info({ commands, seconds: ((performance.now() - started) / 1000).toFixed(3) }, 'DB loaded from append only file');
  return commands;
}

async function loadCommands(loader: CommandLoader, bytes: Buffer, name: string, path: string, last: boolean, options: AofLoadOptions): Promise<number> {
  let count = 0;
  let progressAt = performance.now();
  /** The commands of an open MULTI, run at its EXEC; where it started, should the file end inside it. */
  let transaction: Buffer[][] | undefined;
  let transactionStart = 0;
  try {
    for (const { argv, start } of readAofCommands(bytes)) {
      const command = argText(argv[0]).toLowerCase();
      if (command === 'multi') {
        transaction = [];
        transactionStart = start;
      } else if (command === 'exec' && transaction !== undefined) {
        for (const queued of transaction) await loader.run(queued, start);
        transaction = undefined;
      } else if (transaction !== undefined) transaction.push(argv);
      else await loader.run(argv, start);
      count++;
      if ((count & 1023) === 0 && performance.now() - progressAt >= PROGRESS_MS) {
        progressAt = performance.now();
        options.logger.info({ file: name, percent: Math.floor((start / bytes.length) * 100) }, 'Loading the append only file');
      }
    }
    if (transaction !== undefined) throw new AofTruncatedError(transactionStart);
  } catch (error) {
    if (!(error instanceof AofTruncatedError)) {
      if (error instanceof AofLoadError) throw error;
      throw new AofLoadError(
        `Bad file format reading the append only file ${name} (${(error as Error).message}): make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`,
      );
    }
    const offset = error.offset;
    if (!last) throw new AofLoadError(`Unexpected end of file reading the append only file ${name} at offset ${offset}, which is not the last file of the AOF`);
    if (!options.truncatedAllowed) {
      throw new AofLoadError(
        `Unexpected end of file reading the append only file ${name} at offset ${offset}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`,
      );
    }
    options.logger.warn({ file: name, offset, size: statSync(path).size }, `!!! Warning: short read while loading the AOF file ${name}!!! Truncating the AOF at offset ${offset} !!!`);
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, offset);
    } finally {
      closeSync(fd);
    }
    options.logger.warn(`AOF ${name} loaded anyway because aof-load-truncated is enabled`);
  }
  return count;
}

/** Sends the loaded commands to the shards, a bounded number in flight. */
class CommandLoader {
  private readonly table = new CommandTable();
  private readonly pool: ShardPool;
  private readonly fanout: KeyspaceFanout;
  private readonly scratch: () => Shard;
  private db = 0;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private readonly sink = {
    fill: () => {
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    },
  };

  constructor(options: AofLoadOptions) {
    this.pool = options.pool;
    this.scratch = options.scratch;
    this.fanout = new KeyspaceFanout(this.pool.size, options.databases, this.shardOfKey);
  }

  private readonly shardOfKey = (key: Buffer) => shardOfSlot(keySlot(key), this.pool.size);

  private readonly call: ShardCall = (shard, argv) => this.pool.call(shard, this.db, 2, argv);

  /** Runs one command (`offset` names it in errors). */
  async run(argv: Buffer[], offset: number): Promise<void> {
    const spec = this.table.lookup(argv[0]);
    if (spec === undefined) throw new AofLoadError(`Unknown command '${argText(argv[0])}' reading the append only file at offset ${offset}`);
    if (spec.name === 'select') {
      this.db = Number(argText(argv[1]));
      return;
    }
    const keys = commandKeys(spec, argv) ?? [];
    const shards = new Set(keys.map(({ index }) => this.shardOfKey(argv[index])));
    const body = this.fanout.body(spec, argv) ?? (shards.size > 1 ? this.acrossShards(spec.name, argv, keys) : undefined);
    if (body !== undefined) {
      // Everything sent before has run, and nothing runs beside it: the shards are as good as held.
      await this.drain();
      await body.run(this.call);
      return;
    }
    this.send(shards.size === 0 ? 0 : [...shards][0], spec.index, argv);
    if (this.inFlight >= MAX_IN_FLIGHT) await this.drain();
  }

  /** How the front runs a command whose keys are spread (front.ts route), as one body. */
  private acrossShards(name: string, argv: Buffer[], keys: KeyPosition[]): TransactionBody {
    const plan = scatterPlan(name, argv, this.shardOfKey);
    if (plan !== undefined) return scatterBody(plan);
    return multiShardBody(name, argv, this.shardOfKey) ?? crossShardBody({ argv, keys, db: this.db, protocol: 2 }, this.shardOfKey, this.scratch(), () => undefined);
  }

  private send(shard: number, command: number, argv: Buffer[]): void {
    this.inFlight++;
    this.pool.send(shard, this.db, 2, command, argv, this.sink, 0);
  }

  /** Resolves once every command sent has been answered. */
  drain(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = () => {
        this.drained = undefined;
        resolve();
      };
    });
  }
}
