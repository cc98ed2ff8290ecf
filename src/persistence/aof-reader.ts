/**
 * Reads the commands of an AOF file: RESP arrays of bulk strings, as Redis's loadSingleAppendOnlyFile
 * reads them, with its two ways of failing told apart, since aof-load-truncated treats them differently:
 *
 *   AofTruncatedError  the file ends inside a command (a write torn by a crash): `offset` is where that
 *                      command starts, where the file can be cut to its last whole command
 *   AofFormatError     bytes that are no command at all: `offset` names them
 *
 * Annotation lines (`#…`, aof-timestamp-enabled) are skipped.
 */

export class AofFormatError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

export class AofTruncatedError extends Error {
  constructor(readonly offset: number) {
    super(`unexpected end of file at offset ${offset}`);
  }
}

export interface AofCommand {
  argv: Buffer[];
  /** Where the command starts and ends in the file. */
  start: number;
  end: number;
}

const CR = 0x0d;
const LF = 0x0a;

/** The number on a `*N\r\n` or `$N\r\n` line at `at` (whose prefix byte is checked by the caller); undefined if the line is cut. */
function readLength(bytes: Buffer, at: number, commandStart: number): { value: number; next: number } | undefined {
  const end = bytes.indexOf(LF, at);
  if (end === -1) return undefined;
  if (end === at || bytes[end - 1] !== CR) throw new AofFormatError(at, `Bad file format reading the append only file at offset ${at}`);
  const text = bytes.toString('latin1', at + 1, end - 1);
  const value = Number(text);
  if (text === '' || !Number.isSafeInteger(value) || value < 0) throw new AofFormatError(commandStart, `Bad file format reading the append only file at offset ${at}`);
  return { value, next: end + 1 };
}

/** The commands of `bytes` from `from`, in order; throws as described above. */
export function* readAofCommands(bytes: Buffer, from = 0): Generator<AofCommand> {
  let at = from;
  while (at < bytes.length) {
    const start = at;
    if (bytes[at] === 0x23) {
      // '#': an annotation line.
      const end = bytes.indexOf(LF, at);
      if (end === -1) throw new AofTruncatedError(start);
      at = end + 1;
      continue;
    }
    if (bytes[at] !== 0x2a) throw new AofFormatError(at, `Bad file format reading the append only file at offset ${at}`);
    const count = readLength(bytes, at, start);
    if (count === undefined) throw new AofTruncatedError(start);
    if (count.value < 1) throw new AofFormatError(start, `Bad file format reading the append only file at offset ${start}`);
    at = count.next;
    const argv: Buffer[] = new Array(count.value);
    for (let i = 0; i < count.value; i++) {
      if (at >= bytes.length) throw new AofTruncatedError(start);
      if (bytes[at] !== 0x24) throw new AofFormatError(at, `Bad file format reading the append only file at offset ${at}`);
      const length = readLength(bytes, at, start);
      if (length === undefined) throw new AofTruncatedError(start);
      const end = length.next + length.value;
      if (end + 2 > bytes.length) throw new AofTruncatedError(start);
      if (bytes[end] !== CR || bytes[end + 1] !== LF) throw new AofFormatError(end, `Bad file format reading the append only file at offset ${end}`);
      argv[i] = bytes.subarray(length.next, end);
      at = end + 2;
    }
    yield { argv, start, end: at };
  }
}
