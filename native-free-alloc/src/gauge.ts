/**
 * An arena's allocated bytes, read from another thread with nothing but the arena's control buffer
 * (no segments attached): what a server that enforces a memory budget across several arenas checks
 * before every write. It reads the block the owner publishes (Arena.publishStats), so it lags the owner
 * by at most a few calls.
 */
import { C_STATS_SEQ, S_ALLOCATED, controlViews, type ControlViews } from './control.js';

export class ArenaGauge {
  private readonly views: ControlViews;

  /** `control` is Arena.control, sent to this thread. */
  constructor(control: SharedArrayBuffer) {
    this.views = controlViews(control);
  }

  /** The allocated bytes last published, read under the stats sequence lock (one value, no copy). */
  allocatedBytes(): number {
    const { words, stats } = this.views;
    for (;;) {
      const before = Atomics.load(words, C_STATS_SEQ);
      if ((before & 1) !== 0) continue;
      const value = stats[S_ALLOCATED];
      if (Atomics.load(words, C_STATS_SEQ) === before) return value;
    }
  }
}
