/**
 * Where a command's keys are, read from its Redis 7 key specs (the `begin_search` / `find_keys` pairs
 * in COMMAND INFO), as Redis's getKeysUsingKeySpecs reads them. The first/last/step triple is enough for
 * most commands and is what the front's hot path uses; commands flagged `movablekeys` (ZUNIONSTORE,
 * LMPOP, SINTERCARD, …) have keys whose count or place depends on the arguments, and COMMAND GETKEYS
 * and routing read those here.
 */
import type { CommandSpec, KeySpec } from './table.js';

/** A key's position in argv and whether its key spec may write it. */
export interface KeyPosition {
  index: number;
  written: boolean;
}

const WRITE_FLAGS = ['RW', 'OW', 'RM'];

/** Where one key spec's search begins, or -1 when these arguments have no keys for it. */
function beginOf(spec: KeySpec, argv: readonly Buffer[]): number {
  const search = spec.begin_search;
  if (search.type === 'index') return search.spec.index as number;
  if (search.type !== 'keyword') return -1;
  const keyword = (search.spec.keyword as string).toLowerCase();
  const startFrom = search.spec.startfrom as number;
  const argc = argv.length;
  if (startFrom >= 0) {
    for (let i = startFrom; i < argc; i++) if (argv[i].toString('latin1').toLowerCase() === keyword) return i + 1;
  } else {
    for (let i = argc + startFrom; i > 0; i--) if (argv[i].toString('latin1').toLowerCase() === keyword) return i + 1;
  }
  return -1;
}

/** The positions of one key spec's keys, searched from `begin`. */
function findKeys(spec: KeySpec, begin: number, argv: readonly Buffer[]): number[] {
  const argc = argv.length;
  const find = spec.find_keys;
  const positions: number[] = [];
  if (find.type === 'range') {
    const lastKey = find.spec.lastkey as number;
    const step = find.spec.keystep as number;
    const limit = find.spec.limit as number;
    // A limit says keys are 1/limit of the arguments left (XREAD's STREAMS k1 k2 id1 id2).
    const last = lastKey >= 0 ? begin + lastKey : limit === 0 ? argc + lastKey : begin + Math.floor((argc - begin) / limit) + lastKey;
    for (let i = begin; i <= last && i < argc; i += step) positions.push(i);
  } else if (find.type === 'keynum') {
    const countAt = begin + (find.spec.keynumidx as number);
    if (countAt >= argc) return positions;
    const count = Number(argv[countAt].toString('latin1'));
    if (!Number.isInteger(count) || count < 0) return positions;
    const first = begin + (find.spec.firstkey as number);
    const step = find.spec.keystep as number;
    for (let n = 0, i = first; n < count && i < argc; n++, i += step) positions.push(i);
  }
  return positions;
}

/** Every key of the command, in argv order, each once (a key both read and written counts as written). */
export function commandKeys(spec: CommandSpec, argv: readonly Buffer[]): KeyPosition[] {
  const byIndex = new Map<number, boolean>();
  for (const keySpec of spec.info[8]) {
    const begin = beginOf(keySpec, argv);
    if (begin < 0 || begin >= argv.length) continue;
    const written = keySpec.flags.some((flag) => WRITE_FLAGS.includes(flag));
    for (const index of findKeys(keySpec, begin, argv)) byIndex.set(index, (byIndex.get(index) ?? false) || written);
  }
  return [...byIndex].sort(([a], [b]) => a - b).map(([index, written]) => ({ index, written }));
}
