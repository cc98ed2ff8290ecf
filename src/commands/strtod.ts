/**
 * C's strtod as glibc applies it to Redis's arguments, for the commands that read doubles (sorted-set
 * scores, weights and score ranges): what prefix of the text it consumes, the value, and whether it
 * reported ERANGE. Redis's two readers differ in what they accept on top of it:
 *
 *   parseDouble       getDoubleFromObject: the whole text, non-empty, no leading space, not NaN, no
 *                     overflow and no underflow to zero
 *   parseRangeDouble  zslParseRange: the whole text, not NaN (so "" reads as 0 and " 1" as 1)
 *   parseSortDouble   SORT's weights: as zslParseRange, and no overflow or underflow to zero either
 */

interface Strtod {
  value: number;
  /** Bytes consumed; 0 when no number was found (value 0). */
  consumed: number;
  overflow: boolean;
  underflowToZero: boolean;
}

const DECIMAL = /^[ \t\n\v\f\r]*([+-]?)(?:(inf(?:inity)?)|(nan)(?:\([0-9A-Za-z_]*\))?|0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))/i;

function strtod(text: string): Strtod {
  const match = DECIMAL.exec(text);
  if (match === null) return { value: 0, consumed: 0, overflow: false, underflowToZero: false };
  const sign = match[1] === '-' ? -1 : 1;
  const consumed = match[0].length;
  if (match[2] !== undefined) return { value: sign * Infinity, consumed, overflow: false, underflowToZero: false };
  if (match[3] !== undefined) return { value: NaN, consumed, overflow: false, underflowToZero: false };
  let magnitude: number;
  let nonZeroDigits: boolean;
  if (match[4] !== undefined) {
    const [whole, fraction = ''] = match[4].split('.');
    const digits = whole + fraction;
    nonZeroDigits = /[1-9a-f]/i.test(digits);
    magnitude = (digits === '' ? 0 : parseInt(digits, 16)) * 2 ** (Number(match[5] ?? 0) - 4 * fraction.length);
  } else {
    const mantissa = match[6].split(/[eE]/)[0];
    nonZeroDigits = /[1-9]/.test(mantissa);
    magnitude = Number(match[6]);
  }
  return { value: sign * magnitude, consumed, overflow: magnitude === Infinity, underflowToZero: magnitude === 0 && nonZeroDigits };
}

/**
 * Whether `text` is a plain decimal: an optional minus, digits with at most one point, at least one
 * digit, no exponent, short enough that it can neither overflow nor underflow. Hot path (every ZADD
 * score): such text, nearly every score sent, skips strtod's regular expression, and Number() rounds it
 * correctly as glibc's strtod does.
 */
function isPlainDecimal(text: string): boolean {
  const length = text.length;
  if (length === 0 || length > 24) return false;
  let at = text.charCodeAt(0) === 0x2d ? 1 : 0;
  let digits = 0;
  let points = 0;
  for (; at < length; at++) {
    const code = text.charCodeAt(at);
    if (code >= 0x30 && code <= 0x39) digits++;
    else if (code === 0x2e && points === 0) points++;
    else return false;
  }
  return digits > 0;
}

/** A double argument as Redis's getDoubleFromObject reads it, or undefined. */
export function parseDouble(text: string): number | undefined {
  if (isPlainDecimal(text)) return Number(text);
  if (text.length === 0 || /^[ \t\n\v\f\r]/.test(text)) return undefined;
  const parsed = strtod(text);
  if (parsed.consumed !== text.length || parsed.overflow || parsed.underflowToZero || Number.isNaN(parsed.value)) return undefined;
  return parsed.value;
}

/** A score-range bound's number as zslParseRange reads it, or undefined. */
export function parseRangeDouble(text: string): number | undefined {
  const parsed = strtod(text);
  if (parsed.consumed !== text.length || Number.isNaN(parsed.value)) return undefined;
  return parsed.value;
}

/** A SORT weight as sortCommandGeneric reads it (strtod, then the rest empty, no ERANGE, not NaN), or undefined. */
export function parseSortDouble(text: string): number | undefined {
  const parsed = strtod(text);
  if (parsed.consumed !== text.length || parsed.overflow || parsed.underflowToZero || Number.isNaN(parsed.value)) return undefined;
  return parsed.value;
}
