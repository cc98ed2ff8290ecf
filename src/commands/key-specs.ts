/**
 * Where a command's keys are, read from its Redis 7 key specs (the `begin_search` / `find_keys` pairs
 * in COMMAND INFO), as Redis's getKeysUsingKeySpecs reads them. The first/last/step triple is enough for
 * most commands and is what the front's hot path uses; commands flagged `movablekeys` (ZUNIONSTORE,
 * LMPOP, SINTERCARD, …) have keys whose count or place depends on the arguments, and COMMAND GETKEYS
 * and routing read those here.
 */
import { parseRedisInteger } from '../protocol/request-parser.js';
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

/**
 * The positions of one key spec's keys, searched from `begin`, or undefined when a key count is not a
 * positive integer or names more keys than there are arguments (Redis's "Invalid arguments").
 */
function findKeys(spec: KeySpec, begin: number, argv: readonly Buffer[]): number[] | undefined {
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
    if (countAt >= argc) return undefined;
    const count = parseRedisInteger(argv[countAt], 0, argv[countAt].length);
    const first = begin + (find.spec.firstkey as number);
    const step = find.spec.keystep as number;
    if (!(count > 0) || first + (count - 1) * step >= argc) return undefined;
    for (let n = 0; n < count; n++) positions.push(first + n * step);
  }
  return positions;
}

/**
 * SORT's STORE destination, which its key spec leaves 'unknown' (Redis's sortGetKeys finds it instead):
 * the last STORE followed by an argument, skipping the arguments of LIMIT, GET and BY.
 */
const SORT_OPTION_ARGUMENTS = new Map([['limit', 2], ['get', 1], ['by', 1]]);

export function sortStoreKey(argv: readonly Buffer[]): number | undefined {
  let store: number | undefined;
  for (let i = 2; i < argv.length; i++) {
    const word = argv[i].toString('latin1').toLowerCase();
    const skip = SORT_OPTION_ARGUMENTS.get(word);
    if (skip !== undefined) i += skip;
    else if (word === 'store' && i + 1 < argv.length) store = i + 1;
  }
  return store;
}

/**
 * Every key of the command, in argv order, each once (a key both read and written counts as written),
 * or undefined when a key count is invalid (the command itself then answers its own error).
 */
export function commandKeys(spec: CommandSpec, argv: readonly Buffer[]): KeyPosition[] | undefined {
  const byIndex = new Map<number, boolean>();
  for (const keySpec of spec.info[8]) {
    const begin = beginOf(keySpec, argv);
    if (begin < 0 || begin >= argv.length) continue;
    const written = keySpec.flags.some((flag) => WRITE_FLAGS.includes(flag));
    const found = findKeys(keySpec, begin, argv);
    if (found === undefined) return undefined;
    for (const index of found) byIndex.set(index, (byIndex.get(index) ?? false) || written);
  }
  const store = spec.name === 'sort' ? sortStoreKey(argv) : undefined;
  if (store !== undefined) byIndex.set(store, true);
  return [...byIndex].sort(([a], [b]) => a - b).map(([index, written]) => ({ index, written }));
}
