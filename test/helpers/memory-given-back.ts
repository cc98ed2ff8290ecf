/**
 * The check each collection's memory test makes: a key holding the collection, filled each of the given
 * ways, goes each of the given ways (the ways any key goes, then the type's own), and the arena's
 * requested bytes come back to exactly where an empty in-process sabre started, with no key left.
 */
import { expect } from 'vitest';
import { argvOf, InProcessSabre } from './in-process-sabre.js';

/** A way for the key to go: its name and the commands that take it. */
export type Way = [name: string, commands: string[][]];

/** The ways any key goes: deleted, overwritten, renamed over or away, copied, flushed, expired. */
function everyKeyWays(key: string): Way[] {
  return [
    ['DEL', [['DEL', key]]],
    ['UNLINK', [['UNLINK', key]]],
    ['SET over it', [['SET', key, 'x'], ['DEL', key]]],
    ['RENAME over it', [['SET', 'other', 'x'], ['RENAME', 'other', key], ['DEL', key]]],
    ['RENAME and DEL', [['RENAME', key, 'g'], ['DEL', 'g']]],
    ['COPY and DEL both', [['COPY', key, 'g'], ['DEL', key, 'g']]],
    ['FLUSHDB', [['FLUSHDB']]],
    ['expiry', [['PEXPIREAT', key, '1'], ['EXISTS', key]]],
  ];
}

/** For each fill (named) and each way, fills `key`, takes it that way, and expects every byte back. */
export function expectEveryWayGivesBack(key: string, fills: Record<string, (sabre: InProcessSabre) => void>, ownWays: readonly Way[]): void {
  const sabre = new InProcessSabre();
  const requested = () => sabre.arena.stats().requestedBytes;
  const baseline = requested();
  for (const [fill, make] of Object.entries(fills)) {
    for (const [way, commands] of [...everyKeyWays(key), ...ownWays]) {
      make(sabre);
      expect(requested(), `${fill}, before ${way}`).toBeGreaterThan(baseline);
      for (const command of commands) sabre.run(argvOf(command));
      expect(sabre.run(argvOf(['DBSIZE'])).toString(), `${way} of ${fill}`).toBe(':0\r\n');
      expect(requested(), `${way} of ${fill}`).toBe(baseline);
    }
  }
}

/** `make(count)` for each count, named `${count} ${noun}`. */
export function fillsOfSizes(counts: readonly number[], noun: string, make: (sabre: InProcessSabre, count: number) => void): Record<string, (sabre: InProcessSabre) => void> {
  return Object.fromEntries(counts.map((count) => [`${count} ${noun}`, (sabre: InProcessSabre) => make(sabre, count)]));
}
