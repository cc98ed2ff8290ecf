/**
 * The front's counters for INFO stats, commandstats and errorstats, kept as Redis keeps them: calls and
 * time per command (time measured by the shard that ran it, sent back with each reply), failed calls
 * (the command ran and answered an error), rejected calls (refused before running: arity, unknown
 * subcommand), error replies by their first word, and the per-second rates INFO reports, sampled like
 * Redis's trackInstantaneousMetric (16 samples, one every 100 ms).
 *
 * Commands run on shards are counted by table index in typed arrays (the per-command cost is a few adds);
 * those the front answers itself, subcommands included, by name.
 */
const SAMPLES = 16;
const SAMPLE_PERIOD_MS = 100;
const DASH = 0x2d;
const SPACE = 0x20;
const CR = 0x0d;

export interface CommandStat {
  name: string;
  calls: number;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
}

/** A per-second rate over the last SAMPLES samples of a growing counter. */
class InstantaneousMetric {
  private readonly samples = new Float64Array(SAMPLES);
  private index = 0;
  private lastValue = 0;
  private lastTime = performance.now();

  sample(value: number, now: number): void {
    const elapsed = now - this.lastTime;
    if (elapsed <= 0) return;
    this.samples[this.index++ % SAMPLES] = ((value - this.lastValue) * 1000) / elapsed;
    this.lastValue = value;
    this.lastTime = now;
  }

  get perSecond(): number {
    let sum = 0;
    for (const sample of this.samples) sum += sample;
    return sum / SAMPLES;
  }
}

export class ServerStats {
  readonly startedAt = Date.now();
  totalConnections = 0;
  rejectedConnections = 0;
  totalCommands = 0;
  netInputBytes = 0;
  netOutputBytes = 0;
  totalErrorReplies = 0;

  private readonly calls: Float64Array;
  private readonly usec: Float64Array;
  private readonly failed: Float64Array;
  private readonly local = new Map<string, CommandStat>();
  private readonly errors = new Map<string, number>();
  private readonly opsMetric = new InstantaneousMetric();
  private readonly inputMetric = new InstantaneousMetric();
  private readonly outputMetric = new InstantaneousMetric();
  private readonly sampler: NodeJS.Timeout;

  constructor(private readonly commandNames: readonly string[]) {
    const size = commandNames.length;
    this.calls = new Float64Array(size);
    this.usec = new Float64Array(size);
    this.failed = new Float64Array(size);
    this.sampler = setInterval(() => {
      const now = performance.now();
      this.opsMetric.sample(this.totalCommands, now);
      this.inputMetric.sample(this.netInputBytes, now);
      this.outputMetric.sample(this.netOutputBytes, now);
    }, SAMPLE_PERIOD_MS);
    this.sampler.unref();
  }

  /**
   * A client's command a shard ran (hot path), or one run across shards. Internal steps (command −1)
   * and shard operations are not clients' commands and are not counted.
   */
  executed(command: number, micros: number, reply: Uint8Array): void {
    if (command < 0 || command >= this.calls.length) return;
    this.totalCommands++;
    this.calls[command]++;
    this.usec[command] += micros;
    if (reply[0] === DASH) {
      this.failed[command]++;
      this.errorReply(reply);
    }
  }

  /**
   * A client's command that runs across shards, counted when it starts, as Redis counts a command when
   * it runs: a later command of the client (CONFIG RESETSTAT, INFO) may run before it finishes.
   */
  startedAcrossShards(command: number): void {
    this.totalCommands++;
    this.calls[command]++;
  }

  /** Its time and outcome, once it has finished. */
  finishedAcrossShards(command: number, micros: number, reply: Uint8Array): void {
    this.usec[command] += micros;
    if (reply[0] === DASH) {
      this.failed[command]++;
      this.errorReply(reply);
    }
  }

  /** A command the front answered itself; `name` is the command or "parent|sub". */
  executedLocally(name: string, micros: number, reply: Uint8Array): void {
    this.totalCommands++;
    const stat = this.localStat(name);
    stat.calls++;
    stat.usec += micros;
    if (reply[0] === DASH) {
      stat.failedCalls++;
      this.errorReply(reply);
    }
  }

  /** A known command refused before it ran (wrong arity, and the like). */
  rejectedCall(name: string, reply: Uint8Array): void {
    this.localStat(name).rejectedCalls++;
    this.errorReply(reply);
  }

  /** An error reply that no command's stats own (unknown command, protocol error). */
  errorReply(reply: Uint8Array): void {
    this.totalErrorReplies++;
    let end = 1;
    while (end < reply.length && end < 64 && reply[end] !== SPACE && reply[end] !== CR) end++;
    const prefix = Buffer.from(reply.buffer, reply.byteOffset + 1, end - 1).toString('latin1');
    this.errors.set(prefix, (this.errors.get(prefix) ?? 0) + 1);
  }

  commandStats(): CommandStat[] {
    const stats = new Map<string, CommandStat>();
    for (let i = 0; i < this.calls.length; i++) {
      if (this.calls[i] === 0) continue;
      stats.set(this.commandNames[i], {
        name: this.commandNames[i],
        calls: this.calls[i],
        usec: this.usec[i],
        rejectedCalls: 0,
        failedCalls: this.failed[i],
      });
    }
    for (const [name, stat] of this.local) {
      const merged = stats.get(name);
      if (merged === undefined) stats.set(name, { ...stat });
      else {
        merged.calls += stat.calls;
        merged.usec += stat.usec;
        merged.rejectedCalls += stat.rejectedCalls;
        merged.failedCalls += stat.failedCalls;
      }
    }
    return [...stats.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  errorStats(): [string, number][] {
    return [...this.errors].sort(([a], [b]) => a.localeCompare(b));
  }

  get opsPerSecond(): number {
    return Math.round(this.opsMetric.perSecond);
  }

  get inputKbps(): number {
    return this.inputMetric.perSecond / 1024;
  }

  get outputKbps(): number {
    return this.outputMetric.perSecond / 1024;
  }

  /** CONFIG RESETSTAT. */
  reset(): void {
    this.calls.fill(0);
    this.usec.fill(0);
    this.failed.fill(0);
    this.local.clear();
    this.errors.clear();
    this.totalConnections = 0;
    this.rejectedConnections = 0;
    this.totalCommands = 0;
    this.netInputBytes = 0;
    this.netOutputBytes = 0;
    this.totalErrorReplies = 0;
  }

  close(): void {
    clearInterval(this.sampler);
  }

  private localStat(name: string): CommandStat {
    let stat = this.local.get(name);
    if (stat === undefined) {
      stat = { name, calls: 0, usec: 0, rejectedCalls: 0, failedCalls: 0 };
      this.local.set(name, stat);
    }
    return stat;
  }
}
