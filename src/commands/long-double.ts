/**
 * The x87 80-bit `long double` that Redis's INCRBYFLOAT (and HINCRBYFLOAT) compute in, emulated exactly
 * with BigInt: a 64-bit mantissa, a 15-bit exponent, round-half-to-even. JavaScript's doubles cannot
 * stand in: Redis accepts 1e400, adds 1000 to 9223372036854775806 exactly, and prints 17 fractional
 * digits of the wider value, and the differential tests compare those bytes.
 *
 * Values are sign × mantissa × 2^exponent with 2^63 ≤ mantissa < 2^64 (or mantissa 0). Subnormals are
 * not modelled: strtold reports their underflow, and Redis then refuses the number anyway.
 */
export interface LongDouble {
  negative: boolean;
  mantissa: bigint;
  exponent: number;
}

const TOP = 1n << 64n;
const HIGH = 1n << 63n;
/** Largest binary exponent of a finite long double's leading bit (LDBL_MAX_EXP - 1). */
const MAX_LEADING_EXPONENT = 16383;
/** Smallest normal long double leading-bit exponent (LDBL_MIN_EXP - 1). */
const MIN_LEADING_EXPONENT = -16382;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * The long double nearest to ± num / den (num, den > 0), or undefined when it overflows (strtold's
 * HUGE_VALL) or underflows to zero; both are refused by Redis.
 */
function roundRational(negative: boolean, num: bigint, den: bigint): LongDouble | undefined {
  if (num === 0n) return { negative, mantissa: 0n, exponent: 0 };
  // Scale so that the quotient has 64 bits: q = floor(num * 2^k / den) in [2^63, 2^64).
  let k = 64 - (bitLength(num) - bitLength(den));
  let q: bigint;
  let r: bigint;
  let d: bigint;
  for (;;) {
    const n = k >= 0 ? num << BigInt(k) : num;
    d = k >= 0 ? den : den << BigInt(-k);
    q = n / d;
    r = n % d;
    if (q >= TOP) k--;
    else if (q < HIGH) k++;
    else break;
  }
  const twice = r * 2n;
  if (twice > d || (twice === d && (q & 1n) === 1n)) q++;
  if (q === TOP) {
    q >>= 1n;
    k--;
  }
  const leading = 63 - k;
  if (leading > MAX_LEADING_EXPONENT || leading < MIN_LEADING_EXPONENT) return undefined;
  return { negative, mantissa: q, exponent: -k };
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * A number as Redis's string2ld reads it (strtold, then refusing leading space, trailing garbage, NaN
 * and out-of-range values). Infinity parses (strtold accepts "inf"), to be refused by the caller's NaN
 * or Infinity check, as in Redis. Undefined when Redis would answer "value is not a valid float".
 */
export function parseLongDouble(text: string): LongDouble | 'inf' | '-inf' | undefined {
  if (text.length === 0 || text.length >= 5 * 1024) return undefined;
  const infinity = /^([+-]?)(inf|infinity)$/i.exec(text);
  if (infinity !== null) return infinity[1] === '-' ? '-inf' : 'inf';
  const match = DECIMAL.exec(text);
  if (match === null) return undefined;
  const [, sign, whole, fraction = '', exponentText = '0'] = match;
  if (whole === '' && fraction === '') return undefined;
  const digits = BigInt((whole + fraction).replace(/^0+(?=\d)/, '') || '0');
  const exponent = Number(exponentText) - fraction.length;
  if (digits === 0n) return { negative: sign === '-', mantissa: 0n, exponent: 0 };
  // Far outside the long double range either way; spares a giant power of ten.
  if (exponent > 5000) return undefined;
  if (exponent < -5000 - (whole + fraction).length) return undefined;
  return exponent >= 0
    ? roundRational(sign === '-', digits * 10n ** BigInt(exponent), 1n)
    : roundRational(sign === '-', digits, 10n ** BigInt(-exponent));
}

/** a + b, rounded to a long double; undefined when the sum overflows. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | undefined {
  if (a.mantissa === 0n) return b;
  if (b.mantissa === 0n) return a;
  const exponent = Math.min(a.exponent, b.exponent);
  const scaledA = a.mantissa << BigInt(a.exponent - exponent);
  const scaledB = b.mantissa << BigInt(b.exponent - exponent);
  const sum = (a.negative ? -scaledA : scaledA) + (b.negative ? -scaledB : scaledB);
  if (sum === 0n) return { negative: false, mantissa: 0n, exponent: 0 };
  const negative = sum < 0n;
  const magnitude = negative ? -sum : sum;
  return exponent >= 0
    ? roundRational(negative, magnitude << BigInt(exponent), 1n)
    : roundRational(negative, magnitude, 1n << BigInt(-exponent));
}

const FRACTION_DIGITS = 17n;
const FRACTION_SCALE = 10n ** FRACTION_DIGITS;

/**
 * printf("%.17Lf") with Redis's LD_STR_HUMAN trimming: 17 fractional digits, correctly rounded
 * (half to even), then trailing zeros and a bare '.' removed, and "-0" written "0".
 */
export function formatLongDouble(value: LongDouble): string {
  let scaled: bigint;
  if (value.exponent >= 0) scaled = (value.mantissa << BigInt(value.exponent)) * FRACTION_SCALE;
  else {
    const numerator = value.mantissa * FRACTION_SCALE;
    const shift = BigInt(-value.exponent);
    scaled = numerator >> shift;
    const remainder = numerator - (scaled << shift);
    const half = 1n << (shift - 1n);
    if (remainder > half || (remainder === half && (scaled & 1n) === 1n)) scaled++;
  }
  const whole = scaled / FRACTION_SCALE;
  const fraction = (scaled % FRACTION_SCALE).toString().padStart(17, '0').replace(/0+$/, '');
  const text = fraction === '' ? whole.toString() : `${whole}.${fraction}`;
  return value.negative && text !== '0' ? `-${text}` : text;
}
