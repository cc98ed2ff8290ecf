/**
 * The allocators the throughput benchmark compares, each adapted to "replay one round of a batch
 * workload": allocate the round's sizes in order, then free them in the round's random order.
 *
 * Each contender's loop is its own function literal on purpose: V8 keeps type feedback per literal, so
 * one shared loop calling `contender.alloc()` would turn megamorphic and tax all three alike while
 * hiding what each allocator costs when inlined into its caller, which is how a store would use it.
 *
 * Failures (thi.ng's malloc returning 0, free returning false) throw, so a failing allocator can never
 * show up as a fast one.
 */
import { MemPool } from '@thi.ng/malloc';
import { Arena } from 'native-free-alloc';
import type { BatchWorkload } from './workloads.js';

/** Big enough that no workload here runs a thi.ng pool out of space; untouched pages cost no RSS. */
export const THING_POOL_BYTES = 256 * 1024 * 1024;

export interface RoundRunner {
  runRound(): void;
  dispose(): void;
}

export interface Contender {
  name: string;
  /** What exactly is timed, for the table's notes. */
  description: string;
  prepare(workload: BatchWorkload): RoundRunner;
}

export function newThingPool(): MemPool {
  // compact and split are left at their defaults (both on), as a user who picked the library would.
  return new MemPool({ buf: new ArrayBuffer(THING_POOL_BYTES) });
}

export const ARENA: Contender = {
  name: 'native-free-alloc',
  description: '`Arena.alloc(size)` / sized `Arena.free(handle, size)`, default options',
  prepare(workload) {
    const arena = new Arena();
    const handles = new Uint32Array(workload.batchSize);
    const rounds = workload.rounds;
    let next = 0;
    return {
      runRound() {
        const { sizes, freeOrder } = rounds[next];
        next = next + 1 === rounds.length ? 0 : next + 1;
        for (let i = 0; i < sizes.length; i++) handles[i] = arena.alloc(sizes[i]);
        for (let k = 0; k < freeOrder.length; k++) {
          const i = freeOrder[k];
          arena.free(handles[i], sizes[i]);
        }
      },
      dispose() {
        arena.close();
      },
    };
  },
};

export const JS_HEAP: Contender = {
  name: 'JS heap (Buffer)',
  description:
    '`Buffer.allocUnsafe(size)` kept in an array, "freed" by dropping the reference; the GC work this causes lands in later iterations and is included in the average',
  prepare(workload) {
    const live: (Buffer | undefined)[] = new Array<Buffer | undefined>(workload.batchSize).fill(undefined);
    const rounds = workload.rounds;
    let next = 0;
    return {
      runRound() {
        const { sizes, freeOrder } = rounds[next];
        next = next + 1 === rounds.length ? 0 : next + 1;
        for (let i = 0; i < sizes.length; i++) live[i] = Buffer.allocUnsafe(sizes[i]);
        for (let k = 0; k < freeOrder.length; k++) live[freeOrder[k]] = undefined;
      },
      dispose() {
        live.fill(undefined);
      },
    };
  },
};

export const THING_MALLOC: Contender = {
  name: '@thi.ng/malloc',
  description: `\`MemPool.malloc(size)\` / \`MemPool.free(address)\` over one ${THING_POOL_BYTES >>> 20} MiB ArrayBuffer, compact and split on (defaults)`,
  prepare(workload) {
    let pool: MemPool | undefined = newThingPool();
    const addresses = new Uint32Array(workload.batchSize);
    const rounds = workload.rounds;
    let next = 0;
    return {
      runRound() {
        const { sizes, freeOrder } = rounds[next];
        next = next + 1 === rounds.length ? 0 : next + 1;
        const p = pool!;
        for (let i = 0; i < sizes.length; i++) {
          const address = p.malloc(sizes[i]);
          if (address === 0) throw new Error(`@thi.ng/malloc could not allocate ${sizes[i]} bytes`);
          addresses[i] = address;
        }
        for (let k = 0; k < freeOrder.length; k++) {
          if (!p.free(addresses[freeOrder[k]])) throw new Error('@thi.ng/malloc refused a free');
        }
      },
      dispose() {
        // Drop the 256 MiB buffer now rather than whenever the runner object is collected.
        pool = undefined;
      },
    };
  },
};

export const CONTENDERS: readonly Contender[] = [ARENA, JS_HEAP, THING_MALLOC];
