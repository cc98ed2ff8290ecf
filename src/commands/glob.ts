/**
 * Glob-style matching with the exact behaviour of Redis 7.0's stringmatchlen, used by KEYS and SCAN MATCH
 * (and later HSCAN, SSCAN, ZSCAN and pub/sub patterns): `*` any run of bytes, `?` one byte, `[...]` a
 * class (`^` negates, `a-z` ranges in either order, `\` escapes), `\x` a literal x.
 *
 * Redis's quirks are kept on purpose, since clients see them:
 *  - an empty string matches only the empty pattern (even `*` does not match it; KEYS * and SCAN MATCH *
 *    skip the matcher, so they still list the empty key);
 *  - bytes are C `char`s, signed: in a range, bytes from 0x80 up compare below 0x00;
 *  - a class with no closing `]` runs to the end of the pattern, and `x-]` is a range that ends at `]`
 *    (so `[a-]` holds `]` to `a` and no closing bracket);
 *  - case folding (nocase) is ASCII only, as C's tolower in the "C" locale.
 *
 * Why not a port of Redis's recursion: it recurses once per `*`, and a client may send a pattern with a
 * million of them; here a `*` only records where to resume. Every other token consumes exactly one byte
 * and its extent in the pattern does not depend on the string, so resuming after the most recent `*`
 * alone finds a match whenever the recursion would (the classic wildcard argument), in O(pattern ×
 * string) time at worst and no recursion at all.
 */

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const BACKSLASH = 0x5c;
const DASH = 0x2d;

/** A byte as a signed C char. */
function signed(byte: number): number {
  return byte >= 0x80 ? byte - 0x100 : byte;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

export class GlobPattern {
  private readonly pattern: Uint8Array;
  private readonly nocase: boolean;

  constructor(pattern: Uint8Array, nocase = false) {
    this.pattern = pattern;
    this.nocase = nocase;
  }

  /** The pattern byte at `i`, or 0 past its end (C reads the string's terminating NUL there). */
  private at(i: number): number {
    return i < this.pattern.length ? this.pattern[i] : 0;
  }

  private same(a: number, b: number): boolean {
    return this.nocase ? lower(a) === lower(b) : a === b;
  }

  /**
   * Matches the single-byte token starting at `p` (not a `*`) against byte `c`: the index just past the
   * token, or -1 when it does not match.
   */
  private token(p: number, c: number): number {
    const end = this.pattern.length;
    const first = this.pattern[p];
    if (first === QUESTION) return p + 1;
    if (first === BACKSLASH) {
      if (end - p >= 2) p++;
      return this.same(this.pattern[p], c) ? p + 1 : -1;
    }
    if (first !== OPEN) return this.same(first, c) ? p + 1 : -1;
    let q = p + 1;
    const negate = this.at(q) === CARET;
    if (negate) q++;
    let match = false;
    for (;;) {
      const here = this.at(q);
      if (here === BACKSLASH && end - q >= 2) {
        q++;
        if (this.pattern[q] === c) match = true;
      } else if (here === CLOSE) {
        break;
      } else if (end - q === 0) {
        // Unterminated: the class ends with the pattern (the step back is undone below).
        q--;
        break;
      } else if (end - q >= 3 && this.pattern[q + 1] === DASH) {
        let start = signed(here);
        let stop = signed(this.pattern[q + 2]);
        let byte = signed(c);
        if (start > stop) [start, stop] = [stop, start];
        if (this.nocase) {
          start = lower(start);
          stop = lower(stop);
          byte = lower(byte);
        }
        q += 2;
        if (byte >= start && byte <= stop) match = true;
      } else if (this.same(here, c)) {
        match = true;
      }
      q++;
    }
    return match !== negate ? q + 1 : -1;
  }

  /** Whether `text[start, start + length)` matches. */
  matches(text: Uint8Array, start = 0, length = text.length - start): boolean {
    const pattern = this.pattern;
    const end = pattern.length;
    if (length === 0) return end === 0;
    const stop = start + length;
    let p = 0;
    let s = start;
    // Where to resume after the latest `*`: the pattern just past it, and the next string position to try.
    let resumeP = -1;
    let resumeS = 0;
    for (;;) {
      if (s === stop) {
        while (this.at(p) === STAR) p++;
        if (p >= end) return true;
      } else if (p < end && pattern[p] === STAR) {
        while (p + 1 < end && pattern[p + 1] === STAR) p++;
        if (p + 1 === end) return true;
        resumeP = p + 1;
        resumeS = s;
        p = resumeP;
        continue;
      } else if (p < end) {
        const next = this.token(p, text[s]);
        if (next >= 0) {
          p = next;
          s++;
          continue;
        }
      }
      // A mismatch: let the latest `*` take one more byte, if it may.
      if (resumeP < 0 || ++resumeS >= stop) return false;
      p = resumeP;
      s = resumeS;
    }
  }
}

/** One-shot form of GlobPattern.matches. */
export function globMatch(pattern: Uint8Array, text: Uint8Array, nocase = false): boolean {
  return new GlobPattern(pattern, nocase).matches(text);
}

/** Whether a pattern has any glob character, so that it can be looked up instead of matched. */
export function hasGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}
