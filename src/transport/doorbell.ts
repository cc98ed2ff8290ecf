/**
 * Doorbells: how one side of a channel sleeps when it has nothing to do, and how the other side wakes it
 * without paying for a notify per message.
 *
 * A doorbell is one Int32 word in shared memory, owned by its sleeper: AWAKE (0), or the sleeper's
 * *interest*, a bit mask of the events it waits for (a channel's worker waits for "work" when idle and
 * for "reply room" when its reply ring is full, and must not be woken for the other). The sleeper
 * announces its interest, re-checks exactly the conditions those events stand for, and only then waits
 * on the word while it still holds that interest. A ringer publishes its change first (a ring's tail or
 * head, or a flag, with Atomics.store) and then rings with the event it caused: it loads the word and,
 * only when the interest includes that event, swaps it to AWAKE and notifies. A ringer facing an awake
 * or uninterested peer pays one Atomics.load and no syscall, so the cost is one notify per sleep, not
 * per message or even per batch.
 *
 * Why no wake-up is lost. Sleeper: S1 store(bell, interest); L1 load(condition); wait(bell, interest).
 * Ringer: S2 store(condition); L2 load(bell). All four are sequentially consistent Atomics operations,
 * so they fall in one total order that respects each thread's program order. If the sleeper's re-check
 * L1 missed the change, L1 precedes S2, hence S1 < L1 < S2 < L2 and L2 reads the interest: the ringer
 * rings (the classic Dekker argument: at least one of the two loads sees the other side's store). The
 * ring itself cannot slip past the sleeper either: `Atomics.wait(bell, interest)` checks the word and
 * joins the waiter list atomically with respect to `Atomics.notify`, so if the ringer's compareExchange
 * ran first the wait returns 'not-equal' at once, and if it ran after, the notify finds the sleeper
 * queued. When that compareExchange fails, the word changed after L2, hence after S2: the sleeper woke
 * by itself, or announced again and will re-check after S2, so giving up is safe. The compareExchange
 * also makes a ring and a sleeper withdrawing its announcement (`withdraw`) agree on who set the word
 * back to AWAKE, so exactly one of them issues the notify.
 *
 * Two sleepers, one per kind of thread:
 * - `BlockingSleeper` (shard workers) spins for a short while, then parks in `Atomics.wait`. It refuses
 *   to be built on the main thread, so the front cannot hold anything that blocks.
 * - `AsyncSleeper` (the front) parks with `Atomics.waitAsync` and calls back from the event loop.
 *   Node 20 facts that shape its use (measured on the 2-core development box): a pending waitAsync
 *   does not keep the event loop alive, with or without a timeout (the process exits with the promise
 *   never settled, even when another thread is about to notify), so the worker thread's own handle is
 *   what keeps a process with a parked front alive; a notified waitAsync settles in a later task, not a
 *   microtask, even when notified from the same thread; a waitAsync cannot be cancelled, only notified
 *   (hence the stale settlements handled below); and the wake-up costs 15–30 µs more than finding the
 *   reply by polling the ring from `setImmediate`, so the front polls while traffic flows and parks only
 *   when idle (channel.ts).
 */
import { isMainThread } from 'node:worker_threads';
import { TransportError } from './errors.js';

const AWAKE = 0;

/** How a sleep ended: the condition already held, the bell rang (or was rung before parking), or time ran out. */
export type WakeReason = 'ready' | 'rung' | 'timed-out';

/** The ringing side of a doorbell word. */
export class Doorbell {
  /** Notifies actually issued: at most one per announced sleep of the other side, never one per message. */
  notifies = 0;

  constructor(
    private readonly words: Int32Array,
    private readonly index: number,
  ) {}

  /**
   * Call after publishing a change with Atomics.store; `event` is the bit that change stands for. Wakes
   * the sleeper if it announced an interest in that event.
   */
  ring(event: number): boolean {
    const interest = Atomics.load(this.words, this.index);
    if ((interest & event) === 0) return false;
    if (Atomics.compareExchange(this.words, this.index, interest, AWAKE) !== interest) return false;
    Atomics.notify(this.words, this.index);
    this.notifies++;
    return true;
  }
}

abstract class Sleeper {
  /** Times this side actually parked (announced, re-checked, and waited). */
  sleeps = 0;

  protected constructor(
    protected readonly words: Int32Array,
    protected readonly index: number,
  ) {}

  /**
   * Announces `interest` (a non-zero event mask) and re-checks: true when `ready` holds and the sleeper
   * must not park after all. `ready` must test every condition whose event is in `interest`.
   */
  protected announceAndRecheck(interest: number, ready: () => boolean): boolean {
    Atomics.store(this.words, this.index, interest);
    if (!ready()) return false;
    this.settle();
    return true;
  }

  /** Back to AWAKE after any wake (a ring already set it; a timeout or a ready re-check did not). */
  protected settle(): void {
    Atomics.store(this.words, this.index, AWAKE);
  }
}

/** A spin window below this is not worth a spin: it becomes 0 (park at once). */
const MIN_SPIN_MILLIS = 0.005;
/**
 * With the window at 0, one sleep in this many spins the full window, to find out whether spinning pays
 * again. Each probe that runs out doubles the interval up to the maximum, so that on a shared core the
 * probes cost little (a 200 µs probe every 16 round trips would add 12 µs to each on average).
 */
const MIN_PROBE_INTERVAL = 16;
const MAX_PROBE_INTERVAL = 1024;
/** A park woken by the bell within this many full windows counts as a spin that just missed. */
const NEAR_MISS_WINDOWS = 8;

/**
 * A worker thread's sleeper: spins for an adaptive while, then blocks the thread in Atomics.wait.
 *
 * Spinning pays only when the other side runs on another core meanwhile. When both share one core
 * (more threads than free cores: several shards, or a busy machine), the spin holds the very core the
 * front needs to produce the next request, so every spin runs out, and the request then arrives right
 * after the park (measured, both threads pinned to one core: a 200 µs spin made a ping-pong 116 µs per
 * round trip, parking at once 7 µs). So the window adapts: a spin that finds work restores the full
 * window; a spin that runs out and is followed soon by a ring (a near miss, or a one-core hand-off)
 * halves it, down to 0; once at 0, an occasional sleep probes with the full window (less and less often
 * while probes fail), and a probe that finds work brings it back. Rings after long idle periods change
 * nothing: no spin would have caught them.
 */
export class BlockingSleeper extends Sleeper {
  private readonly fullSpinMillis: number;
  private spinMillis: number;
  private sleepsSinceProbe = 0;
  private probeInterval = MIN_PROBE_INTERVAL;
  private probing = false;

  /**
   * @param spinMicros the longest spin before parking. Waking a parked thread costs ~50 µs on the
   * development box (futex wake plus scheduling); a spin catches the next request of a busy client at
   * ~1 µs instead, for at most that much CPU per idle transition.
   */
  constructor(words: Int32Array, index: number, spinMicros: number) {
    if (isMainThread) throw new TransportError('ESTATE', 'a blocking sleeper on the main thread would block the event loop');
    super(words, index);
    this.fullSpinMillis = this.spinMillis = spinMicros / 1000;
  }

  /** The current spin window in µs (for statistics and tests). */
  get spinMicros(): number {
    return this.spinMillis * 1000;
  }

  /** Returns when `ready` holds, the bell rings for `interest`, or `timeoutMs` (may be Infinity) has passed. */
  sleepUnless(interest: number, ready: () => boolean, timeoutMs: number): WakeReason {
    if (ready()) return 'ready';
    const start = performance.now();
    const window = Math.min(this.nextWindow(), timeoutMs);
    const spinUntil = start + window;
    while (performance.now() < spinUntil) {
      if (ready()) {
        this.spinMillis = this.fullSpinMillis;
        this.probeInterval = MIN_PROBE_INTERVAL;
        this.probing = false;
        return 'ready';
      }
    }
    if (this.probing) {
      this.probing = false;
      this.probeInterval = Math.min(MAX_PROBE_INTERVAL, this.probeInterval * 2);
    }
    if (this.announceAndRecheck(interest, ready)) return 'ready';
    this.sleeps++;
    const parkedAt = performance.now();
    const result = Atomics.wait(this.words, this.index, interest, Math.max(0, timeoutMs - (parkedAt - start)));
    this.settle();
    if (result === 'timed-out') return 'timed-out';
    if (performance.now() - parkedAt < NEAR_MISS_WINDOWS * this.fullSpinMillis) {
      const halved = this.spinMillis / 2;
      this.spinMillis = halved < MIN_SPIN_MILLIS ? 0 : halved;
    }
    return 'rung';
  }

  private nextWindow(): number {
    if (this.spinMillis > 0 || ++this.sleepsSinceProbe < this.probeInterval) return this.spinMillis;
    this.sleepsSinceProbe = 0;
    this.probing = true;
    return this.fullSpinMillis;
  }
}

/**
 * The front's sleeper: never blocks; parks with Atomics.waitAsync and calls back from the event loop.
 *
 * A settled waitAsync may be stale: after `withdraw` (or after a ring that raced with a withdrawal) the
 * promise of an earlier park still settles later, in its own task. Such a settlement must neither call
 * back nor touch the word, which may by then carry a newer park's interest: storing AWAKE over it would
 * let the ringer skip the notify and strand the new park (a lost wake-up). So each park has a
 * generation, and only the settlement of the current one acts. A stale ring's notify may still wake a
 * newer park early; that is only a spurious wake, and the callback re-checks everything.
 */
export class AsyncSleeper extends Sleeper {
  private generation = 0;
  private parkedNow = false;
  private interest = AWAKE;

  constructor(words: Int32Array, index: number) {
    super(words, index);
  }

  /** Is a park pending (announced, waiting, not withdrawn)? */
  get parked(): boolean {
    return this.parkedNow;
  }

  /**
   * Announces `interest` and, unless `ready` holds or the bell was rung meanwhile, parks: `onWake` runs
   * from the event loop once the bell rings. Returns false, calling nothing, when there was no need to park.
   */
  park(interest: number, ready: () => boolean, onWake: () => void): boolean {
    if (this.announceAndRecheck(interest, ready)) return false;
    const wait = Atomics.waitAsync(this.words, this.index, interest);
    if (!wait.async) {
      this.settle();
      return false;
    }
    this.sleeps++;
    this.parkedNow = true;
    this.interest = interest;
    const generation = ++this.generation;
    void wait.value.then(() => {
      if (generation !== this.generation) return;
      this.parkedNow = false;
      this.settle();
      onWake();
    });
    return true;
  }

  /**
   * Takes back a pending park (the front has work again and will poll instead). When no ring got there
   * first, notifying our own word settles the waitAsync so V8 drops its waiter; either way that
   * settlement is now stale and ignored.
   */
  withdraw(): void {
    if (!this.parkedNow) return;
    this.parkedNow = false;
    this.generation++;
    if (Atomics.compareExchange(this.words, this.index, this.interest, AWAKE) === this.interest) {
      Atomics.notify(this.words, this.index);
    }
  }
}
