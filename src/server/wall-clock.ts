/**
 * Wall-clock time in microseconds, as Redis's gettimeofday-based ustime() reads it (TIME, MONITOR).
 *
 * Date.now() is the wall clock but whole milliseconds only; performance.now() has microseconds but is a
 * monotonic clock that drifts from the wall clock (performance.timeOrigin + performance.now() can run
 * ahead of or behind Date.now() by milliseconds in a long-lived process). So the milliseconds come from
 * Date.now(), and only the part below one millisecond from the monotonic clock: the time since this
 * process first saw the current millisecond, capped below 1000 µs. The result therefore always lies in
 * [Date.now(), Date.now() + 1 ms) at the moment of the call, and never goes backwards while the wall
 * clock does not.
 */

let millisecond = -1;
/** performance.now() when Date.now() was first seen at `millisecond`. */
let millisecondSeenAt = 0;

export function wallClockMicros(): number {
  const now = Date.now();
  const monotonic = performance.now();
  if (now !== millisecond) {
    millisecond = now;
    millisecondSeenAt = monotonic;
    return now * 1000;
  }
  return now * 1000 + Math.min(999, Math.floor((monotonic - millisecondSeenAt) * 1000));
}
