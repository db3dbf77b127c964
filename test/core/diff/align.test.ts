import { describe, expect, it } from 'vitest';
import { alignSequences } from '../../../src/core/diff/align.js';

/** Length of the longest common subsequence, by the textbook table (the oracle). */
function lcsLength(a: number[], b: number[]): number {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) t[i][j] = a[i] === b[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
  }
  return t[0][0];
}

function checkCommonSubsequence(a: number[], b: number[], pairs: Array<[number, number]>): void {
  for (let k = 0; k < pairs.length; k++) {
    const [i, j] = pairs[k];
    expect(a[i]).toBe(b[j]);
    if (k > 0) {
      expect(i).toBeGreaterThan(pairs[k - 1][0]);
      expect(j).toBeGreaterThan(pairs[k - 1][1]);
    }
  }
}

const seq = (s: string) => [...s].map((c) => c.charCodeAt(0));

describe('alignSequences', () => {
  it.each([
    { name: 'identical', a: 'abcdef', b: 'abcdef', matched: 6 },
    { name: 'insert at top', a: 'bcdef', b: 'Xbcdef', matched: 5 },
    { name: 'delete in middle', a: 'abcdef', b: 'abdef', matched: 5 },
    { name: 'move top to bottom', a: 'abcdef', b: 'bcdefa', matched: 5 },
    { name: 'replace one', a: 'abcdef', b: 'abXdef', matched: 5 },
    { name: 'all different', a: 'abc', b: 'xyz', matched: 0 },
    { name: 'empty old', a: '', b: 'abc', matched: 0 },
    { name: 'duplicates only', a: 'aaaa', b: 'aa', matched: 2 },
    { name: 'duplicates around unique', a: 'aaXaa', b: 'aXaaa', matched: 4 },
  ])('$name', ({ a, b, matched }) => {
    const A = seq(a);
    const B = seq(b);
    const pairs = alignSequences(A, B);
    checkCommonSubsequence(A, B, pairs);
    expect(pairs.length).toBe(matched);
  });

  it('random edits of unique sequences: a common subsequence as long as the true LCS', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let round = 0; round < 200; round++) {
      const n = 5 + Math.floor(rnd() * 40);
      const a = Array.from({ length: n }, (_, k) => k);
      const b = a.filter(() => rnd() > 0.15);
      // a few insertions of new ids and one move
      for (let k = 0; k < 3; k++) b.splice(Math.floor(rnd() * (b.length + 1)), 0, 1000 + round * 10 + k);
      if (b.length > 2) b.push(b.splice(Math.floor(rnd() * b.length), 1)[0]);
      const pairs = alignSequences(a, b);
      checkCommonSubsequence(a, b, pairs);
      // Patience diff on unique elements finds the longest increasing run: the LCS.
      expect(pairs.length).toBe(lcsLength(a, b));
    }
  });

  it.each([
    { size: 30, alphabet: 8, rounds: 200 },
    // Beyond the exact-LCS size: patience anchors, then exact gaps.
    { size: 400, alphabet: 300, rounds: 20 },
  ])('random sequences with repeats ($size long): a valid common subsequence close to the LCS', ({ size, alphabet, rounds }) => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let round = 0; round < rounds; round++) {
      const a = Array.from({ length: size }, () => Math.floor(rnd() * alphabet));
      const b = a.map((x) => (rnd() < 0.2 ? Math.floor(rnd() * alphabet) : x));
      const pairs = alignSequences(a, b);
      checkCommonSubsequence(a, b, pairs);
      expect(pairs.length).toBeGreaterThanOrEqual(Math.floor(lcsLength(a, b) * 0.75));
    }
  });
});
