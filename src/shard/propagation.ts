/**
 * The propagation stream of a shard: the writes it applied, in the deterministic form Redis 7.0 feeds
 * its AOF and replicas (absolute expiry times, the elements a random pop took, the result of a float
 * increment), in execution order. The AOF (server/append-only.ts) and, later, replication read it.
 *
 * As Redis's call(): a command that changed something (the dirty count moved) propagates its argv, or
 * what its handler rewrote it to (`rewrite`, Redis's rewriteClientCommandVector), unless the handler
 * propagated something else instead (`prevent` with `also`, as SPOP with a count does). Deletions the
 * command caused on the way (a key found expired) are propagated before it, and an execution unit of
 * more than one command is wrapped in MULTI … EXEC, as propagatePendingCommands wraps it. Outside a
 * command (active expiry, eviction) every deletion is a unit of its own.
 *
 * A shard has one only while someone consumes the stream (ShardOp.Propagate): without it no handler
 * encodes anything, which keeps the hot path as it was.
 *
 * Encoding, taken by the worker after each unit and sent to the front (frames.ts UnsolicitedKind
 * Propagated):   record = u8 RecordKind | u8 db | u32 length (LE) | the command as a RESP array
 * MULTI and EXEC records carry no database (NO_DB).
 */
import { ByteWriter } from '../persistence/byte-writer.js';

export const RecordKind = { Command: 0, Multi: 1, Exec: 2 } as const;
export const NO_DB = 0xff;
export const RECORD_HEADER_BYTES = 6;

const MULTI = [Buffer.from('MULTI')];
const EXEC = [Buffer.from('EXEC')];
const DEL = Buffer.from('DEL');
const UNLINK = Buffer.from('UNLINK');

/** How a deletion propagates: DEL, or UNLINK when the lazyfree setting that governs it freed it lazily. */
export function deletion(key: Uint8Array, lazily: boolean | number): Uint8Array[] {
  return [lazily ? UNLINK : DEL, key];
}

/**
 * Writes argv as a RESP array of bulk strings (how Redis's AOF and replication stream spell commands).
 * Hot path while the stream is on: no strings are built.
 */
export function encodeCommand(out: ByteWriter, argv: readonly Uint8Array[]): void {
  out.byte(0x2a); // '*'
  out.decimal(argv.length);
  out.byte(0x0d);
  out.byte(0x0a);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    out.byte(0x24); // '$'
    out.decimal(arg.length);
    out.byte(0x0d);
    out.byte(0x0a);
    out.bytes(arg);
    out.byte(0x0d);
    out.byte(0x0a);
  }
}

export class Propagation {
  /** Records of finished units, until the worker takes them. */
  private readonly out = new ByteWriter(1024);
  /** The running command's own deletions and `also` commands, before its unit is closed. */
  private readonly unit: { db: number; argv: readonly Uint8Array[] }[] = [];
  private inCommand = false;
  private dirtyBefore = 0;
  private rewritten: readonly Uint8Array[] | undefined = undefined;
  private prevented = false;
  private forced = false;

  /** A command starts; `dirty` is the shard's dirty count now. */
  begin(dirty: number): void {
    this.inCommand = true;
    this.dirtyBefore = dirty;
    this.rewritten = undefined;
    this.prevented = false;
    this.forced = false;
    this.unit.length = 0;
  }

  /** The running command propagates as `argv` instead of as it was sent (arguments are copied at `end`). */
  rewrite(argv: readonly Uint8Array[]): void {
    this.rewritten = argv;
  }

  /** The running command propagates even if it changed nothing (Redis's forceCommandPropagation: FLUSHDB of an empty database). */
  force(): void {
    this.forced = true;
  }

  /** The running command itself propagates nothing (what it did went out through `also`). */
  prevent(): void {
    this.prevented = true;
  }

  /** Propagates `argv` for database `db`: within the running command's unit, or as a unit of its own. */
  also(db: number, argv: readonly Uint8Array[]): void {
    if (this.inCommand) this.unit.push({ db, argv: argv.map((arg) => Buffer.from(arg)) });
    else this.record(RecordKind.Command, db, argv);
  }

  /** A key deleted by expiry or eviction: DEL, or UNLINK when the matching lazyfree setting freed it lazily. */
  deleted(db: number, key: Uint8Array, lazily: boolean | number): void {
    this.also(db, deletion(key, lazily));
  }

  /**
   * The command `argv` ran on database `db` and the shard's dirty count is now `dirty`: closes its unit.
   * Does nothing when no command began (one refused before it ran).
   */
  end(db: number, argv: readonly Uint8Array[], dirty: number): void {
    if (!this.inCommand) return;
    this.inCommand = false;
    const unit = this.unit;
    const propagates = !this.prevented && (this.forced || dirty !== this.dirtyBefore);
    const wrapped = unit.length + (propagates ? 1 : 0) > 1;
    if (wrapped) this.record(RecordKind.Multi, NO_DB, MULTI);
    for (const op of unit) this.record(RecordKind.Command, op.db, op.argv);
    if (propagates) this.record(RecordKind.Command, db, this.rewritten ?? argv);
    if (wrapped) this.record(RecordKind.Exec, NO_DB, EXEC);
    unit.length = 0;
    this.rewritten = undefined;
  }

  /** The records since the last take, or undefined if there are none; the bytes are lent until the next write. */
  take(): Buffer | undefined {
    if (this.out.length === 0) return undefined;
    const bytes = this.out.view();
    this.out.clear();
    return bytes;
  }

  private record(kind: number, db: number, argv: readonly Uint8Array[]): void {
    const out = this.out;
    out.byte(kind);
    out.byte(db);
    const at = out.length;
    out.uint32LE(0);
    encodeCommand(out, argv);
    out.patchUint32LE(at, out.length - at - 4);
  }
}

/** One record of the encoding above, as readRecords yields it. */
export interface PropagatedRecord {
  kind: number;
  db: number;
  /** The command as a RESP array: a view of the bytes read. */
  command: Uint8Array;
}

/** The records of a taken stream chunk, in order. */
export function* readRecords(bytes: Uint8Array): Generator<PropagatedRecord> {
  for (let at = 0; at < bytes.length; ) {
    const length = (bytes[at + 2] | (bytes[at + 3] << 8) | (bytes[at + 4] << 16) | (bytes[at + 5] << 24)) >>> 0;
    const start = at + RECORD_HEADER_BYTES;
    yield { kind: bytes[at], db: bytes[at + 1], command: bytes.subarray(start, start + length) };
    at = start + length;
  }
}
