/**
 * Redis's glob matching (stringmatchlen), on the cases its own tests and KEYS users rely on: stars,
 * question marks, sets and ranges (reversed ends too), negation, escapes, case folding, and an
 * unterminated set.
 */
import { describe, expect, it } from 'vitest';
import { globMatch, hasGlob } from '../../src/commands/glob.js';

const match = (pattern: string, subject: string, nocase = false) => globMatch(Buffer.from(pattern, 'latin1'), Buffer.from(subject, 'latin1'), nocase);

describe('globMatch', () => {
  it.each([
    // stringmatchlen stops when the subject is used up, so even '*' does not match an empty string.
    ['*', '', false],
    ['*', 'anything', true],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h*llo', 'heeeello', true],
    ['h*llo', 'hello world', false],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    ['h[b-a]llo', 'hbllo', true],
    ['h[a-b]llo', 'hcllo', false],
    ['h\\*llo', 'h*llo', true],
    ['h\\*llo', 'hello', false],
    ['h[\\]]llo', 'h]llo', true],
    ['*a*b*c*', 'xxaxxbxxcxx', true],
    ['*a*b*c*', 'xxaxxcxxbxx', false],
    ['a*', 'b', false],
    ['ab[', 'ab', false],
    ['ab[c', 'abc', true],
    ['ab\\', 'ab\\', true],
    ['**x', 'yx', true],
  ])('%j against %j is %s', (pattern, subject, expected) => {
    expect(match(pattern, subject)).toBe(expected);
  });

  it('folds ASCII case when asked, except inside an escape in a set', () => {
    expect(match('MAX*', 'maxmemory', true)).toBe(true);
    expect(match('MAX*', 'maxmemory')).toBe(false);
    expect(match('[A-C]x', 'bx', true)).toBe(true);
    expect(match('[\\A]x', 'ax', true)).toBe(false);
  });

  it('finishes quickly on patterns that make naive recursion explode', () => {
    const started = performance.now();
    expect(match(`${'*a'.repeat(30)}b`, 'a'.repeat(5000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('tells patterns from plain names', () => {
    expect([hasGlob('maxmemory'), hasGlob('max*'), hasGlob('h?'), hasGlob('[h]z')]).toEqual([false, true, true, true]);
  });
});
