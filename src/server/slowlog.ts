/**
 * SLOWLOG: commands whose execution took at least `slowlog-log-slower-than` µs (negative disables it,
 * 0 logs everything), newest first, at most `slowlog-max-len` entries. Entries hold what Redis's hold:
 * a unique id, the unix time, the duration, the arguments (at most 32, each cut at 128 bytes) and the
 * client's address and name. The time is the shard's measured execution time, not the round trip.
 */
const MAX_ARGC = 32;
const MAX_ARG_BYTES = 128;

export interface SlowlogEntry {
  id: number;
  time: number;
  micros: number;
  argv: Buffer[];
  peer: string;
  name: string;
}

export class Slowlog {
  slowerThan = 10000;
  maxLength = 128;
  private entries: SlowlogEntry[] = [];
  private nextId = 0;

  /** Whether a command that took `micros` belongs in the log. */
  isSlow(micros: number): boolean {
    return this.slowerThan >= 0 && micros >= this.slowerThan;
  }

  add(argv: readonly Uint8Array[], micros: number, peer: string, name: string): void {
    const kept: Buffer[] = [];
    const shown = argv.length > MAX_ARGC ? MAX_ARGC - 1 : argv.length;
    for (let i = 0; i < shown; i++) {
      const arg = argv[i];
      if (arg.length <= MAX_ARG_BYTES) kept.push(Buffer.from(arg));
      else {
        const more = Buffer.from(`... (${arg.length - MAX_ARG_BYTES} more bytes)`);
        kept.push(Buffer.concat([arg.subarray(0, MAX_ARG_BYTES), more]));
      }
    }
    if (shown < argv.length) kept.push(Buffer.from(`... (${argv.length - shown} more arguments)`));
    this.entries.unshift({ id: this.nextId++, time: Math.floor(Date.now() / 1000), micros: Math.floor(micros), argv: kept, peer, name });
    this.trim();
  }

  /** The newest `count` entries (all for a negative count). */
  newest(count: number): readonly SlowlogEntry[] {
    return count < 0 ? this.entries : this.entries.slice(0, count);
  }

  get length(): number {
    return this.entries.length;
  }

  reset(): void {
    this.entries = [];
  }

  /** Drops the oldest entries beyond maxLength (after CONFIG SET slowlog-max-len too). */
  trim(): void {
    if (this.entries.length > this.maxLength) this.entries.length = Math.max(0, this.maxLength);
  }
}
