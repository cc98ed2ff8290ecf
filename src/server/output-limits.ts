/**
 * client-output-buffer-limit: per client class, a hard limit (bytes) and a soft limit (bytes) that may be
 * exceeded for at most soft-seconds. The configuration value is the canonical text the config registry
 * keeps (`normal H S T slave H S T pubsub H S T`, see special-parameters.ts); 0 turns a limit off.
 *
 * The soft limit's clock runs as Redis's does: it starts at the first check that finds the output over
 * the soft limit, is cleared by any check that finds it under, and counts whole Unix seconds, so a client
 * is closed at the first check more than soft-seconds (in whole seconds) after the clock started.
 */
import type { Config } from '../config/config.js';

export interface OutputLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

export interface OutputLimits {
  normal: OutputLimit;
  replica: OutputLimit;
  pubsub: OutputLimit;
}

/** Per client: the Unix second its output first stayed over the soft limit, 0 when it is not over. */
export interface SoftLimitState {
  since: number;
}

const CLASS_NAMES: Record<string, keyof OutputLimits> = { normal: 'normal', slave: 'replica', replica: 'replica', pubsub: 'pubsub' };

/** Parses the registry's canonical value. */
export function parseOutputLimits(value: string): OutputLimits {
  const off = (): OutputLimit => ({ hard: 0, soft: 0, softSeconds: 0 });
  const limits: OutputLimits = { normal: off(), replica: off(), pubsub: off() };
  const words = value.split(' ');
  for (let i = 0; i + 3 < words.length; i += 4) {
    const name = CLASS_NAMES[words[i]];
    if (name !== undefined) limits[name] = { hard: Number(words[i + 1]), soft: Number(words[i + 2]), softSeconds: Number(words[i + 3]) };
  }
  return limits;
}

/** The live limits: one object whose classes CONFIG SET replaces in place, so clients read it directly. */
export function followOutputLimits(config: Config): OutputLimits {
  const limits = parseOutputLimits(config.get('client-output-buffer-limit'));
  config.onChange('client-output-buffer-limit', (value) => {
    Object.assign(limits, parseOutputLimits(value));
    return undefined;
  });
  return limits;
}

/** Redis's checkClientOutputBufferLimits: whether `used` bytes break `limit` now (updates the soft clock). */
export function outputLimitExceeded(limit: OutputLimit, state: SoftLimitState, used: number, nowMs: number): boolean {
  const hard = limit.hard !== 0 && used >= limit.hard;
  let soft = limit.soft !== 0 && used >= limit.soft;
  if (soft) {
    const now = Math.floor(nowMs / 1000);
    if (state.since === 0) {
      state.since = now;
      soft = false;
    } else if (now - state.since <= limit.softSeconds) soft = false;
  } else state.since = 0;
  return soft || hard;
}
