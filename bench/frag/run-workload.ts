/**
 * Replays a workload against a target, one batch at a time, and samples the target's counters before
 * the first batch and after every one: the time series the CSV and the chart are made of.
 */
import type { Counters, Target } from './targets.js';
import { cleanup, type Workload, type WorkloadOptions } from './workloads.js';

export interface Sample extends Counters {
  target: string;
  phase: string;
  /** Commands done so far: the x axis, the same for every target. */
  commands: number;
  elapsedMs: number;
}

export async function runWorkload(
  target: Target,
  workload: Workload,
  options: WorkloadOptions,
  onProgress: (message: string) => void = () => undefined,
): Promise<Sample[]> {
  // A running server may hold an earlier run's keys; an embedded shard starts empty anyway.
  for (const commands of cleanup(workload, options)) await target.run(commands);
  const started = performance.now();
  const samples: Sample[] = [];
  let commands = 0;
  const record = async (phase: string) => {
    samples.push({ target: target.name, phase, commands, elapsedMs: Math.round(performance.now() - started), ...(await target.sample()) });
  };
  await record('start');
  let phase = '';
  for (const batch of workload.batches(options)) {
    if (batch.phase !== phase) {
      phase = batch.phase;
      onProgress(`${workload.name} on ${target.name}: ${phase} (${commands.toLocaleString('en-US')} commands done)`);
    }
    await target.run(batch.commands);
    if (batch.pauseMs !== undefined) await target.pause(batch.pauseMs);
    commands += batch.commands.length;
    await record(batch.phase);
  }
  return samples;
}
