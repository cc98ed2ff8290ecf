/**
 * MONITOR's feed line, as Redis formats it: `+<unix seconds>.<µs> [<db> <client address>] "arg" ...`,
 * each argument quoted and escaped the way sdscatrepr escapes (\n \r \t \a \b, \" \\, \xHH for other
 * non-printable bytes).
 */
import { wallClockMicros } from './wall-clock.js';

const ESCAPES: Record<number, string> = { 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x07: '\\a', 0x08: '\\b', 0x22: '\\"', 0x5c: '\\\\' };

export function quoteArgument(arg: Uint8Array): string {
  let text = '"';
  for (const byte of arg) {
    const escape = ESCAPES[byte];
    if (escape !== undefined) text += escape;
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${text}"`;
}

export function monitorLine(db: number, address: string, argv: readonly Uint8Array[]): Buffer {
  const now = wallClockMicros();
  const seconds = Math.floor(now / 1_000_000);
  const micros = String(now % 1_000_000).padStart(6, '0');
  return Buffer.from(`+${seconds}.${micros} [${db} ${address}] ${argv.map(quoteArgument).join(' ')}\r\n`, 'latin1');
}
