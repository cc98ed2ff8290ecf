/**
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN] (Redis 7.0's t_string.c): the longest common
 * subsequence of two strings, replied as the subsequence itself, its length (LEN), or the runs of
 * consecutive matches it is made of (IDX: a map of `matches` and `len`, a flat array in RESP2).
 *
 * Several subsequences can be equally long; which one Redis replies, and so which ranges, is fixed by
 * how it walks its dynamic-programming table back from the end: diagonally on a match, otherwise
 * towards the larger neighbour, to the left on a tie. sabre fills the same table and walks it the same
 * way. Missing keys are empty strings.
 *
 * Memory: Redis refuses when the table, (|a|+1)·(|b|+1) cells of 4 bytes, would exceed proto-max-bulk-len,
 * and so does sabre. Within that limit the shorter string is under 11,585 bytes, so no cell exceeds
 * 2^16 and the table is kept in 16-bit cells, half of Redis's transient memory.
 */
import { ERR_NOT_INTEGER, ERR_SYNTAX } from '../protocol/errors.js';
import { ValueType } from '../shard/entry.js';
import { isKeyword, parseInt64, type CommandHandler, type ExecutionContext } from './context.js';
import { MAX_STRING_LENGTH } from './strings.js';

const ERR_NOT_STRINGS = 'ERR The specified keys must contain string values';
const ERR_LEN_AND_IDX = 'ERR If you want both the length and indexes, please just use IDX.';
const ERR_TABLE_TOO_LARGE = 'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len';
/** Redis's table cell size, which its memory limit is counted in. */
const REDIS_CELL_BYTES = 4;

interface LcsOptions {
  length: boolean;
  indexes: boolean;
  withMatchLength: boolean;
  minMatchLength: number;
}

/** The options from argv[3] on, or undefined after an error reply. */
function readOptions(ctx: ExecutionContext, argv: readonly Buffer[]): LcsOptions | undefined {
  const options: LcsOptions = { length: false, indexes: false, withMatchLength: false, minMatchLength: 0 };
  for (let j = 3; j < argv.length; j++) {
    const option = argv[j];
    if (isKeyword(option, 'IDX')) options.indexes = true;
    else if (isKeyword(option, 'LEN')) options.length = true;
    else if (isKeyword(option, 'WITHMATCHLEN')) options.withMatchLength = true;
    else if (isKeyword(option, 'MINMATCHLEN') && j + 1 < argv.length) {
      const minimum = parseInt64(argv[++j]);
      if (minimum === undefined) {
        ctx.reply.error(ERR_NOT_INTEGER);
        return undefined;
      }
      // Beyond 2^53 no run can reach it anyway, so a rounded number compares the same.
      options.minMatchLength = Math.max(0, Number(minimum));
    } else {
      ctx.reply.error(ERR_SYNTAX);
      return undefined;
    }
  }
  return options;
}

/** table[i·(|b|+1) + j] = length of the LCS of a[0, i) and b[0, j). */
function lcsTable(a: Uint8Array, b: Uint8Array): Uint16Array {
  const width = b.length + 1;
  const table = new Uint16Array((a.length + 1) * width);
  for (let i = 1; i <= a.length; i++) {
    const byte = a[i - 1];
    const row = i * width;
    const above = row - width;
    for (let j = 1; j <= b.length; j++) {
      table[row + j] = byte === b[j - 1] ? table[above + j - 1] + 1 : Math.max(table[above + j], table[row + j - 1]);
    }
  }
  return table;
}

/** One run of consecutive matches: a[aStart, aStart + length) equals b[bStart, bStart + length). */
interface Run {
  aStart: number;
  bStart: number;
  length: number;
}

/** The subsequence, and its runs from the end of the strings backwards (Redis's order), by Redis's walk. */
function walkBack(a: Uint8Array, b: Uint8Array, table: Uint16Array): { subsequence: Uint8Array; runs: Run[] } {
  const width = b.length + 1;
  let k = table[a.length * width + b.length];
  const subsequence = new Uint8Array(k);
  const runs: Run[] = [];
  let runLength = 0;
  let i = a.length;
  let j = b.length;
  const closeRun = (): void => {
    if (runLength > 0) runs.push({ aStart: i, bStart: j, length: runLength });
    runLength = 0;
  };
  while (i > 0 && j > 0) {
    if (a[i - 1] === b[j - 1]) {
      subsequence[--k] = a[i - 1];
      runLength++;
      i--;
      j--;
    } else {
      closeRun();
      if (table[(i - 1) * width + j] > table[i * width + j - 1]) i--;
      else j--;
    }
  }
  closeRun();
  return { subsequence, runs };
}

function replyRanges(ctx: ExecutionContext, runs: readonly Run[], total: number, options: LcsOptions): void {
  const shown = runs.filter((run) => run.length >= options.minMatchLength);
  ctx.reply.mapHeader(2);
  ctx.reply.bulk('matches');
  ctx.reply.arrayHeader(shown.length);
  for (const run of shown) {
    ctx.reply.arrayHeader(options.withMatchLength ? 3 : 2);
    ctx.reply.arrayHeader(2);
    ctx.reply.integer(run.aStart);
    ctx.reply.integer(run.aStart + run.length - 1);
    ctx.reply.arrayHeader(2);
    ctx.reply.integer(run.bStart);
    ctx.reply.integer(run.bStart + run.length - 1);
    if (options.withMatchLength) ctx.reply.integer(run.length);
  }
  ctx.reply.bulk('len');
  ctx.reply.integer(total);
}

const lcs: CommandHandler = (ctx, argv) => {
  const entryA = ctx.db.lookup(argv[1]);
  const entryB = ctx.db.lookup(argv[2]);
  if ((entryA !== 0 && ctx.db.type(entryA) !== ValueType.String) || (entryB !== 0 && ctx.db.type(entryB) !== ValueType.String)) {
    return ctx.reply.error(ERR_NOT_STRINGS);
  }
  const options = readOptions(ctx, argv);
  if (options === undefined) return;
  if (options.indexes && options.length) return ctx.reply.error(ERR_LEN_AND_IDX);
  const a = entryA === 0 ? EMPTY : ctx.db.stringBytes(entryA);
  const b = entryB === 0 ? EMPTY : ctx.db.stringBytes(entryB);
  if ((a.length + 1) * (b.length + 1) * REDIS_CELL_BYTES > MAX_STRING_LENGTH) return ctx.reply.error(ERR_TABLE_TOO_LARGE);
  const table = lcsTable(a, b);
  const total = table[table.length - 1];
  if (options.length) return ctx.reply.integer(total);
  const { subsequence, runs } = walkBack(a, b, table);
  if (options.indexes) replyRanges(ctx, runs, total, options);
  else ctx.reply.bulk(subsequence);
};
const EMPTY = new Uint8Array(0);

export const lcsCommands: Readonly<Record<string, CommandHandler>> = { lcs };
