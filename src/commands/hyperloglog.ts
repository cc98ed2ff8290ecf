/**
 * The HyperLogLog commands (Redis's hyperloglog.c): PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST.
 *
 * A HyperLogLog is a string value in Redis's own format (src/hll/format.ts), so GET, SETRANGE, DUMP and
 * replication see the same bytes a real redis-server holds, and a string that is not one is refused
 * with Redis's "not a valid HyperLogLog" WRONGTYPE error.
 *
 * Edits are made where they are cheapest: a dense HyperLogLog (fixed size) is changed in place in shard
 * memory; a sparse one, or a new key, is edited in a Workspace and written back once at the end, since
 * a sparse edit may change its length and may turn it dense. A Workspace edit that failed half-way on a
 * corrupt string is written back too: Redis edits in place and keeps what it changed before noticing.
 *
 * PFCOUNT of one key stores the fresh estimate in the header's cache (a write, as in Redis). PFCOUNT of
 * several keys and PFMERGE take the register-wise maximum over all their keys; keys on different shards
 * are the front's concern: this runs with all of them in one database.
 */
import { wrongArity } from '../protocol/errors.js';
import { ExpiryChange } from '../shard/database.js';
import { NotifyType } from '../shard/keyspace-signals.js';
import { estimateCardinality } from '../hll/estimator.js';
import {
  DENSE_BYTES,
  HEADER_BYTES,
  REGISTER_COUNT,
  cachedCardinality,
  denseRegister,
  elementPattern,
  invalidateCache,
  isDense,
  isHyperLogLog,
  patternRegister,
  patternRun,
  storeCardinality,
} from '../hll/format.js';
import { mergeRegisters, newHistogram, rawHistogram, registerHistogram } from '../hll/registers.js';
import { runSelfTest } from '../hll/self-test.js';
import { Workspace, denseSet, describeSparse, sparseSet } from '../hll/sparse.js';
import { argText, type CommandHandler, type ExecutionContext } from './context.js';
import { stringEntry } from './strings.js';

const ERR_NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';
const ERR_CORRUPT = 'INVALIDOBJ Corrupted HLL object detected';
const ERR_NO_KEY = 'ERR The specified key does not exist';
const ERR_NOT_SPARSE = 'ERR HLL encoding is not sparse';

/** The HyperLogLog entry for `key`, 0 when missing, or -1 after a WRONGTYPE reply. */
function hllEntry(ctx: ExecutionContext, key: Uint8Array, reading = false): number {
  const entry = stringEntry(ctx, key, reading);
  if (entry > 0 && !isHyperLogLog(ctx.db.stringBytes(entry))) {
    ctx.reply.error(ERR_NOT_HLL);
    return -1;
  }
  return entry;
}

/**
 * The HyperLogLog a write command edits: the key's dense bytes in place, or the shared workspace (a
 * copy of a sparse value, or a new empty one). Commands run one at a time on a shard's thread, so one
 * workspace serves them all.
 */
class Target {
  private readonly workspace = new Workspace();
  private inPlace: Uint8Array | undefined;
  private registers: Uint8Array | undefined;
  /** hll-sparse-max-bytes, as configured when the command started. */
  private sparseMaxBytes = 0;

  /** Opens the HyperLogLog at `entry` (0: a key to create). */
  open(ctx: ExecutionContext, entry: number): void {
    this.sparseMaxBytes = ctx.limits['hll-sparse-max-bytes'];
    this.inPlace = undefined;
    this.registers = undefined;
    if (entry === 0) return this.workspace.loadEmpty();
    const bytes = ctx.db.stringBytes(entry);
    if (isDense(bytes)) {
      this.inPlace = bytes;
      this.registers = bytes.subarray(HEADER_BYTES);
    } else this.workspace.load(bytes);
  }

  /** The whole string as it stands. */
  bytes(): Uint8Array {
    return this.inPlace ?? this.workspace.view();
  }

  /** Raises register `index` to `run` if higher: 1 when changed, 0 when not, -1 when corrupt. */
  set(index: number, run: number): -1 | 0 | 1 {
    if (this.registers !== undefined) return denseSet(this.registers, index, run);
    const result = sparseSet(this.workspace, index, run, this.sparseMaxBytes);
    if (isDense(this.workspace.bytes)) this.registers = this.workspace.bytes.subarray(HEADER_BYTES, DENSE_BYTES);
    return result;
  }

  /** Turns a sparse target dense; false when its sparse code is corrupt. */
  toDense(): boolean {
    if (this.registers !== undefined) return true;
    if (!this.workspace.toDense()) return false;
    this.registers = this.workspace.bytes.subarray(HEADER_BYTES, DENSE_BYTES);
    return true;
  }

  /** Writes a workspace back to `key` (entry 0: a new key without TTL; else resized, TTL and LRU kept). */
  save(ctx: ExecutionContext, key: Uint8Array, entry: number): void {
    if (this.inPlace !== undefined) return;
    const value = this.workspace.view();
    if (entry === 0) {
      ctx.db.setString(key, value, ExpiryChange.Clear);
      return;
    }
    const resized = ctx.db.stringBytes(entry).length === value.length ? entry : ctx.db.resizeString(entry, value.length);
    ctx.db.stringBytes(resized).set(value);
  }
}

const target = new Target();
/** Register-wise maxima for PFCOUNT of several keys and PFMERGE. */
const maxima = new Uint8Array(REGISTER_COUNT);

// ------------------------------------------------------------------ PFADD PFCOUNT PFMERGE

const pfadd: CommandHandler = (ctx, argv) => {
  const key = argv[1];
  const entry = hllEntry(ctx, key);
  if (entry < 0) return;
  target.open(ctx, entry);
  // Redis counts a created key and each element that raised a register as one change each.
  let updated = entry === 0 ? 1 : 0;
  let corrupt = false;
  for (let j = 2; j < argv.length && !corrupt; j++) {
    const pattern = elementPattern(argv[j]);
    const result = target.set(patternRegister(pattern), patternRun(pattern));
    if (result === 1) updated++;
    corrupt = result === -1;
  }
  if (updated && !corrupt) invalidateCache(target.bytes());
  if (updated || corrupt) target.save(ctx, key, entry);
  if (corrupt) return ctx.reply.error(ERR_CORRUPT);
  if (updated) ctx.db.changed(key, NotifyType.String, 'pfadd', updated);
  ctx.reply.integer(updated ? 1 : 0);
};

const pfcount: CommandHandler = (ctx, argv) => {
  const histogram = newHistogram();
  if (argv.length > 2) {
    maxima.fill(0);
    for (let j = 1; j < argv.length; j++) {
      const entry = hllEntry(ctx, argv[j]);
      if (entry < 0) return;
      if (entry > 0 && !mergeRegisters(ctx.db.stringBytes(entry), maxima)) return ctx.reply.error(ERR_CORRUPT);
    }
    rawHistogram(maxima, histogram);
    return ctx.reply.integer(estimateCardinality(histogram));
  }
  const entry = hllEntry(ctx, argv[1]);
  if (entry < 0) return;
  if (entry === 0) return ctx.reply.integer(0);
  const hll = ctx.db.stringBytes(entry);
  const cached = cachedCardinality(hll);
  if (cached >= 0) return ctx.reply.integer(cached);
  if (!registerHistogram(hll, histogram)) return ctx.reply.error(ERR_CORRUPT);
  const count = estimateCardinality(histogram);
  storeCardinality(hll, count);
  // The cached count is a change to the value (Redis propagates it), though no event names it.
  ctx.db.signals.dirty++;
  ctx.db.signals.modified(ctx.db.index, argv[1]);
  ctx.reply.integer(count);
};

const pfmerge: CommandHandler = (ctx, argv) => {
  maxima.fill(0);
  let anyDense = false;
  // The destination is a source too.
  for (let j = 1; j < argv.length; j++) {
    const entry = hllEntry(ctx, argv[j], true);
    if (entry < 0) return;
    if (entry === 0) continue;
    const hll = ctx.db.stringBytes(entry);
    if (isDense(hll)) anyDense = true;
    if (!mergeRegisters(hll, maxima)) return ctx.reply.error(ERR_CORRUPT);
  }
  const key = argv[1];
  const entry = ctx.db.lookup(key);
  target.open(ctx, entry);
  // The result is dense when any input was, whatever the registers would fit in.
  if (anyDense && !target.toDense()) return ctx.reply.error(ERR_CORRUPT);
  for (let index = 0; index < REGISTER_COUNT; index++) {
    if (maxima[index] !== 0) target.set(index, maxima[index]);
  }
  invalidateCache(target.bytes());
  target.save(ctx, key, entry);
  // A merge is a mass PFADD to Redis: notified as one, always.
  ctx.db.changed(key, NotifyType.String, 'pfadd');
  ctx.reply.ok();
};

// ------------------------------------------------------------------ PFDEBUG PFSELFTEST

/** PFDEBUG's subcommand as Redis's %s prints it: up to a NUL byte, line breaks made spaces. */
function subcommandText(arg: Uint8Array): string {
  const nul = arg.indexOf(0);
  return argText(nul < 0 ? arg : arg.subarray(0, nul)).replace(/[\r\n]/g, ' ');
}

/**
 * PFDEBUG <GETREG|DECODE|ENCODING|TODENSE> key. The key is checked before the subcommand, as Redis
 * does; GETREG and TODENSE leave a sparse HyperLogLog dense.
 */
const pfdebug: CommandHandler = (ctx, argv) => {
  const key = argv[2];
  const entry = hllEntry(ctx, key);
  if (entry < 0) return;
  if (entry === 0) return ctx.reply.error(ERR_NO_KEY);
  const subcommand = argText(argv[1]).toLowerCase();
  const known = subcommand === 'getreg' || subcommand === 'decode' || subcommand === 'encoding' || subcommand === 'todense';
  if (!known) return ctx.reply.error(`ERR Unknown PFDEBUG subcommand '${subcommandText(argv[1])}'`);
  if (argv.length !== 3) return ctx.reply.error(wrongArity('pfdebug'));
  const hll = ctx.db.stringBytes(entry);
  if (subcommand === 'encoding') return ctx.reply.simple(isDense(hll) ? 'dense' : 'sparse');
  if (subcommand === 'decode') {
    if (isDense(hll)) return ctx.reply.error(ERR_NOT_SPARSE);
    return ctx.reply.bulk(describeSparse(hll));
  }
  const wasSparse = !isDense(hll);
  target.open(ctx, entry);
  if (!target.toDense()) return ctx.reply.error(ERR_CORRUPT);
  target.save(ctx, key, entry);
  // A conversion counts as a change (Redis propagates it), unsignalled.
  if (wasSparse) ctx.db.signals.dirty++;
  if (subcommand === 'todense') return ctx.reply.integer(wasSparse ? 1 : 0);
  const registers = target.bytes().subarray(HEADER_BYTES);
  ctx.reply.arrayHeader(REGISTER_COUNT);
  for (let index = 0; index < REGISTER_COUNT; index++) ctx.reply.integer(denseRegister(registers, index));
};

const pfselftest: CommandHandler = (ctx) => {
  const failure = runSelfTest();
  if (failure === undefined) ctx.reply.ok();
  else ctx.reply.error(`TESTFAILED ${failure}`);
};

export const hyperLogLogCommands: Readonly<Record<string, CommandHandler>> = {
  pfadd,
  pfcount,
  pfmerge,
  pfdebug,
  pfselftest,
};
