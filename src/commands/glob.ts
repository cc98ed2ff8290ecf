/**
 * Redis's glob-style matching (stringmatchlen), for CONFIG GET patterns and for KEYS, SCAN MATCH and
 * PSUBSCRIBE when they come: `*` any run of bytes, `?` one byte, `[abc]`, `[^a-z]` (ends may be given
 * in either order), and `\x` for a literal x. An unterminated `[` takes the rest of the pattern as its
 * set, as Redis does.
 *
 * The pattern is first cut into tokens that each match exactly one byte, or a star; matching then
 * backtracks only to the last star seen, which gives Redis's results with work bounded by pattern
 * length × subject length, where Redis's recursion has to be capped against patterns like `*a*a*a…`.
 */

type ByteTest = (byte: number) => boolean;
const STAR = 'star';
type Token = ByteTest | typeof STAR;

function lower(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
}

function literal(expected: number, nocase: boolean): ByteTest {
  if (!nocase) return (byte) => byte === expected;
  const folded = lower(expected);
  return (byte) => lower(byte) === folded;
}

/** A `[...]` set starting after its '['; returns the test and the index just past the set. */
function bracket(pattern: Uint8Array, start: number, nocase: boolean): [ByteTest, number] {
  let i = start;
  const negate = pattern[i] === 0x5e; // '^'
  if (negate) i++;
  const members: ByteTest[] = [];
  for (;;) {
    if (i >= pattern.length) break;
    const c = pattern[i];
    if (c === 0x5c && i + 1 < pattern.length) {
      // Escapes inside a set compare exactly, even when matching ignores case (Redis's quirk).
      members.push(literal(pattern[i + 1], false));
      i += 2;
    } else if (c === 0x5d) {
      i++;
      break;
    } else if (i + 2 < pattern.length && pattern[i + 1] === 0x2d) {
      let low = pattern[i];
      let high = pattern[i + 2];
      if (low > high) [low, high] = [high, low];
      if (nocase) {
        const [l, h] = [lower(low), lower(high)];
        members.push((byte) => lower(byte) >= l && lower(byte) <= h);
      } else members.push((byte) => byte >= low && byte <= high);
      i += 3;
    } else {
      members.push(literal(c, nocase));
      i++;
    }
  }
  const test: ByteTest = (byte) => members.some((member) => member(byte)) !== negate;
  return [test, i];
}

function tokenize(pattern: Uint8Array, nocase: boolean): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i];
    if (c === 0x2a) {
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
      i++;
    } else if (c === 0x3f) {
      tokens.push(() => true);
      i++;
    } else if (c === 0x5b) {
      const [test, next] = bracket(pattern, i + 1, nocase);
      tokens.push(test);
      i = next;
    } else if (c === 0x5c && i + 1 < pattern.length) {
      tokens.push(literal(pattern[i + 1], nocase));
      i += 2;
    } else {
      tokens.push(literal(c, nocase));
      i++;
    }
  }
  return tokens;
}

export function globMatch(pattern: Uint8Array, subject: Uint8Array, nocase = false): boolean {
  const tokens = tokenize(pattern, nocase);
  let t = 0;
  let s = 0;
  let starToken = -1;
  let starSubject = 0;
  while (s < subject.length) {
    const token = tokens[t];
    if (token === STAR) {
      starToken = t++;
      starSubject = s;
    } else if (token !== undefined && token(subject[s])) {
      t++;
      s++;
    } else if (starToken >= 0) {
      t = starToken + 1;
      s = ++starSubject;
    } else return false;
  }
  while (tokens[t] === STAR) t++;
  return t === tokens.length;
}

/** Whether a pattern has any glob character, so that it can be looked up instead of matched. */
export function hasGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}
