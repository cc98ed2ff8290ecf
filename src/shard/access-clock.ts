/**
 * What a key's access word (entry word 2) holds, and how a lookup updates it: Redis's LRU clock or its
 * LFU counter, whichever the maxmemory-policy asks for (Redis keeps both in its robj's 24-bit lru field).
 *
 * LRU: the time of the last access in ticks of 1/256 s, 32 bits. Redis's clock counts whole seconds in
 * 24 bits; both wrap after about 194 days, but Redis's cannot tell apart keys touched within the same
 * second, which under a fast workload makes its sampled LRU close to random. Idle times for OBJECT
 * IDLETIME are still whole seconds.
 *
 * LFU: bits 0..7 Redis's logarithmic access counter, bits 8..31 the time of the last access in ticks of
 * 1/16 s (Redis keeps minutes in 16 bits). A new key starts at LFU_INIT_VAL so that it is not the first
 * evicted; an access increments the counter with probability 1 / ((counter − LFU_INIT_VAL) ×
 * lfu-log-factor + 1); every lfu-decay-time minutes without access take one off, as Redis. The finer
 * time breaks ties between equal counters when evicting: of two keys read as often, the one untouched
 * for longer goes first (Redis picks either). The 24-bit clock wraps after about 12 days, where Redis's
 * wraps after 45; a counter has decayed to 0 within 255 decay periods anyway, so only a key idle for
 * just over a multiple of 12 days can look fresher than it is.
 */

/** Ticks per second of the LRU clock. */
export const LRU_TICKS_PER_SECOND = 256;
const TWO_POW_32 = 4294967296;
/** Redis's LFU_INIT_VAL. */
export const LFU_INIT_VAL = 5;
const LFU_COUNTER_MAX = 255;
const LFU_TICKS_PER_SECOND = 16;
const LFU_TICKS_PER_MINUTE = LFU_TICKS_PER_SECOND * 60;
const LFU_CLOCK_SPAN = 1 << 24;

/** What the shard's maxmemory settings say a lookup records. */
export interface AccessTracking {
  /** 1 under an LFU maxmemory-policy, 0 otherwise (LRU, as Redis records it for every other policy). */
  lfu: 0 | 1;
  /** lfu-log-factor */
  logFactor: number;
  /** lfu-decay-time, in minutes (0: counters never decay). */
  decayMinutes: number;
}

export function defaultAccessTracking(): AccessTracking {
  return { lfu: 0, logFactor: 10, decayMinutes: 1 };
}

/** The LRU clock at `nowMs`. */
export function lruTicks(nowMs: number): number {
  return Math.floor((nowMs * LRU_TICKS_PER_SECOND) / 1000) % TWO_POW_32;
}

/** Ticks since the access recorded as `word`, across one wrap of the clock. */
export function idleTicks(word: number, nowMs: number): number {
  const clock = lruTicks(nowMs);
  return clock >= word ? clock - word : clock + (TWO_POW_32 - word);
}

/** Whole seconds since the access recorded as `word` (OBJECT IDLETIME, DEBUG OBJECT). */
export function idleSeconds(word: number, nowMs: number): number {
  return Math.floor(idleTicks(word, nowMs) / LRU_TICKS_PER_SECOND);
}

/** The LRU word of a key last accessed `seconds` ago (RESTORE IDLETIME, an RDB's idle time). */
export function lruWordIdleFor(seconds: number, nowMs: number): number {
  const back = (seconds * LRU_TICKS_PER_SECOND) % TWO_POW_32;
  const clock = lruTicks(nowMs);
  return clock >= back ? clock - back : clock + (TWO_POW_32 - back);
}

function lfuTicks(nowMs: number): number {
  return Math.floor((nowMs * LFU_TICKS_PER_SECOND) / 1000) % LFU_CLOCK_SPAN;
}

/** LFU ticks since the access recorded in `word`, across one wrap of the clock. */
function lfuIdleTicks(word: number, nowMs: number): number {
  const last = word >>> 8;
  const now = lfuTicks(nowMs);
  return now >= last ? now - last : LFU_CLOCK_SPAN - last + now;
}

/** The LFU word of a key with `counter`, accessed now. */
export function lfuWord(counter: number, nowMs: number): number {
  return ((lfuTicks(nowMs) << 8) | counter) >>> 0;
}

/** Redis's LFUDecrAndReturn: the counter less one per elapsed decay period (OBJECT FREQ shows it). */
export function lfuCounter(word: number, nowMs: number, tracking: AccessTracking): number {
  const counter = word & LFU_COUNTER_MAX;
  if (tracking.decayMinutes === 0) return counter;
  const periods = Math.floor(lfuIdleTicks(word, nowMs) / LFU_TICKS_PER_MINUTE / tracking.decayMinutes);
  return periods >= counter ? 0 : counter - periods;
}

/** The word a new key starts with. */
export function initialAccessWord(nowMs: number, tracking: AccessTracking): number {
  return tracking.lfu === 1 ? lfuWord(LFU_INIT_VAL, nowMs) : lruTicks(nowMs);
}

/**
 * The word after an access: the clock now, or the decayed counter with its logarithmic increment.
 * Hot path (every keyed command): the LRU branch is one division and a compare at the call site.
 */
export function accessedWord(word: number, nowMs: number, tracking: AccessTracking): number {
  if (tracking.lfu === 0) return lruTicks(nowMs);
  let counter = lfuCounter(word, nowMs, tracking);
  if (counter < LFU_COUNTER_MAX) {
    const base = Math.max(0, counter - LFU_INIT_VAL);
    if (Math.random() < 1 / (base * tracking.logFactor + 1)) counter++;
  }
  return lfuWord(counter, nowMs);
}

/**
 * How much a key deserves eviction under the tracking now in force, larger first: idle ticks for LRU;
 * for LFU 255 less the counter (Redis's evictionPoolPopulate score), then the idle time among equals.
 */
export function evictionScore(word: number, nowMs: number, tracking: AccessTracking): number {
  if (tracking.lfu === 0) return idleTicks(word, nowMs);
  return (LFU_COUNTER_MAX - lfuCounter(word, nowMs, tracking)) * LFU_CLOCK_SPAN + lfuIdleTicks(word, nowMs);
}
