/** Shared words and messages of the doorbell stress (doorbell.test.ts and doorbell-worker.ts). */
export const BELL = 0;
export const COUNTER = 16;
export const ASKED = 32;
export const STOP = 48;
/** Set by the ringer once it runs, so the sleeper's rounds do not start during its start-up. */
export const RINGER_READY = 64;
export const WORDS = 80;
/** The one event the stress rings with. */
export const EVENT = 1;

export interface DoorbellTask {
  /** 'sleeper'/'ringer': the lost-wake-up sweep; 'adaptive-*': the spin window's adaptation. */
  role: 'sleeper' | 'ringer' | 'adaptive-sleeper' | 'adaptive-ringer';
  words: Int32Array;
  /** Sweep: rounds. Adaptive: rounds in which the ringer waits for the park, so every spin runs out. */
  rounds: number;
  /** Sweep: longest busy delay of the ringer before it advances the counter, in loop iterations. */
  maxDelay?: number;
  /** Adaptive: then rounds whose condition comes true by itself 20 µs in, so a spin pays. */
  payingRounds?: number;
  spinMicros?: number;
}

export interface DoorbellSummary {
  rounds: number;
  /** Sleeps that ran into their timeout although the counter had advanced: lost wake-ups. */
  lost: number;
  sleeps: number;
  notifies: number;
  /** Adaptive sleeper: its spin window (µs) after the missing rounds, then after the paying ones. */
  spinAfterPhase: number[];
}
