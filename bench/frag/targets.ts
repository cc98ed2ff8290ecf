/**
 * What the lab runs workloads against, and how it reads each one's memory counters:
 *
 * - embedded: one sabre Shard in this process (the engine the server's workers run, without threads or
 *   sockets). Counters come from its arena directly; RSS is this process's, read after a forced GC
 *   (with --expose-gc, as `npm run frag` runs) so the lab's own garbage does not pass for the store's.
 * - a running server at host:port (sabre or redis-server; INFO tells which): counters from INFO memory
 *   and stats, RSS as the server reports it (used_memory_rss).
 *
 * Each sabre counter maps onto the allocator's own (native-free-alloc stats, which sabre's INFO reports
 * live). Redis refreshes INFO's allocator_* figures and used_memory_rss only every 100 ms (its
 * cronUpdateMemoryStats), which would draw a staircase over a fast workload, so for Redis the lab reads
 * jemalloc's live figures from MEMORY MALLOC-STATS (its "Allocated: …, active: …, resident: …" line)
 * and, for a redis-server it started itself, the RSS from /proc; used_memory (live in Redis too) is
 * the allocated column and active_defrag_hits the moves. Redis counts no requested bytes, so that
 * column is empty for it.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { processRss } from 'native-free-alloc';
import { Shard } from '../../src/shard/shard.js';
import { settleHeap } from '../progress.js';
import type { Command } from './workloads.js';

export interface Counters {
  /** Bytes the store asked the allocator for (sabre only). */
  requested: number | undefined;
  allocated: number;
  active: number;
  committed: number;
  rss: number;
  /** Allocations moved by active defragmentation, since the start. */
  moves: number;
}

export interface Target {
  /** For file names and the chart legend: sabre-embedded, sabre, redis. */
  readonly name: string;
  run(commands: readonly Command[]): Promise<void>;
  sample(): Promise<Counters>;
  /** Leaves the target to its background work for `ms`. */
  pause(ms: number): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class EmbeddedTarget implements Target {
  readonly name = 'sabre-embedded';
  readonly shard = new Shard();

  async run(commands: readonly Command[]): Promise<void> {
    for (const argv of commands) {
      const reply = this.shard.execute(0, 2, argv);
      if (reply[0] === 0x2d) throw new Error(`${argv[0].toString()} failed: ${reply.toString('latin1').trim()}`);
    }
    // The shard's own idle work (lazy frees, expiry, and whatever else runs in spare time) as a worker would do it.
    this.shard.idle();
  }

  async sample(): Promise<Counters> {
    // The lab's own garbage (the commands it built) would otherwise show in the RSS as the store's.
    settleHeap();
    this.shard.arena.publishStats();
    const stats = this.shard.arena.stats();
    return {
      requested: stats.requestedBytes,
      allocated: stats.allocatedBytes,
      active: stats.activeBytes,
      committed: stats.committedBytes,
      rss: processRss(),
      moves: stats.moves,
    };
  }

  async pause(ms: number): Promise<void> {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      this.shard.idle();
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    this.shard.arena.close();
  }
}

/** INFO's `name:value` lines as a map. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && line[0] !== '#') fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** A process's resident set from /proc (Linux), in bytes. */
function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** jemalloc's live totals from MEMORY MALLOC-STATS. */
function jemallocTotals(text: string): { allocated: number; active: number; resident: number } {
  const match = /^Allocated: (\d+), active: (\d+), metadata: \d+.*, resident: (\d+),/m.exec(text);
  if (match === null) throw new Error('MEMORY MALLOC-STATS has no "Allocated:" line (not jemalloc?)');
  return { allocated: Number(match[1]), active: Number(match[2]), resident: Number(match[3]) };
}

export class ServerTarget implements Target {
  private constructor(
    readonly name: string,
    private readonly client: Redis,
    /** The server's process id when the lab started it (its RSS is then read live from /proc). */
    private readonly pid: number | undefined,
  ) {}

  /** Connects and tells sabre from redis-server by INFO's mem_allocator. */
  static async connect(host: string, port: number, pid?: number): Promise<ServerTarget> {
    // No reconnecting: a lab run that loses its server should stop and say so, not wait for it.
    const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    let lost: Error | undefined;
    client.on('error', (error: Error) => (lost = error));
    try {
      await client.connect();
    } catch (error) {
      throw new Error(`cannot connect to ${host}:${port}: ${(lost ?? (error as Error)).message}`);
    }
    const allocator = parseInfo(await client.info('memory')).get('mem_allocator') ?? '';
    return new ServerTarget(allocator.startsWith('native-free-alloc') ? 'sabre' : 'redis', client, pid);
  }

  async run(commands: readonly Command[]): Promise<void> {
    if (commands.length === 0) return;
    const pipeline = this.client.pipeline();
    for (const [name, ...args] of commands) pipeline.call(name.toString(), ...args);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error !== null);
    if (failed !== undefined) throw failed[0]!;
  }

  async sample(): Promise<Counters> {
    const info = parseInfo(String(await this.client.call('INFO', 'memory', 'stats')));
    const number = (name: string) => {
      const value = info.get(name);
      if (value === undefined) throw new Error(`INFO has no ${name}`);
      return Number(value);
    };
    const rss = this.pid === undefined ? number('used_memory_rss') : residentBytes(this.pid);
    if (this.name === 'sabre') {
      return {
        requested: number('sabre_allocator_requested'),
        allocated: number('used_memory'),
        active: number('allocator_active'),
        committed: number('allocator_resident'),
        rss,
        moves: number('sabre_allocator_moves'),
      };
    }
    const jemalloc = jemallocTotals(String(await this.client.call('MEMORY', 'MALLOC-STATS')));
    return { requested: undefined, allocated: number('used_memory'), active: jemalloc.active, committed: jemalloc.resident, rss, moves: number('active_defrag_hits') };
  }

  pause(ms: number): Promise<void> {
    return sleep(ms).then(() => undefined);
  }

  /** The server's answer to one command, as text (SABRE.PAGEMAP). */
  async text(...argv: string[]): Promise<string> {
    return String(await this.client.call(argv[0], ...argv.slice(1)));
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
