/**
 * Sequence alignment of two chains' rules (as interned text ids): which rules stay in place.
 *
 * Patience diff (Bram Cohen; as in git's `--patience`): common prefix and suffix first, then the
 * rules that occur exactly once on each side are anchors, and the longest increasing run of anchors
 * (by position on the new side) is kept; the gaps between anchors are aligned the same way,
 * recursively. Where no unique anchor exists (runs of duplicate rules), a plain LCS table is used
 * when the gap is small enough, else the gap is left unaligned. Small gaps (up to 256 × 256 rules)
 * always get the exact LCS. This is linear-ish on the large,
 * mostly unique chains kube-proxy writes (KUBE-SERVICES with thousands of rules) and gives the
 * diff people expect: one rule inserted at the top is one addition.
 *
 * Pure.
 */

/** Gaps up to this many cells (old × new rules) are aligned exactly with the LCS table. */
const EXACT_CELLS = 65_536;
/** Largest gap without unique anchors still aligned with the quadratic LCS table. */
const LCS_CELLS = 4_000_000;

/**
 * Matched index pairs `[i, j]` (a[i] === b[j]), strictly increasing in both, forming a common
 * subsequence of `a` and `b`.
 */
export function alignSequences(a: readonly number[], b: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  alignRange(a, b, 0, a.length, 0, b.length, out);
  return out;
}

function alignRange(
  a: readonly number[],
  b: readonly number[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  out: Array<[number, number]>,
): void {
  // Common prefix.
  while (a0 < a1 && b0 < b1 && a[a0] === b[b0]) out.push([a0++, b0++]);
  // Common suffix (pushed after the middle).
  let s = 0;
  while (a1 - s > a0 && b1 - s > b0 && a[a1 - s - 1] === b[b1 - s - 1]) s++;
  const ma1 = a1 - s;
  const mb1 = b1 - s;
  if (a0 < ma1 && b0 < mb1) alignMiddle(a, b, a0, ma1, b0, mb1, out);
  for (let k = 0; k < s; k++) out.push([ma1 + k, mb1 + k]);
}

function alignMiddle(
  a: readonly number[],
  b: readonly number[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  out: Array<[number, number]>,
): void {
  // Small gaps: the exact LCS (patience anchors can be poor among many repeated rules).
  if ((a1 - a0) * (b1 - b0) <= EXACT_CELLS) {
    lcsTable(a, b, a0, a1, b0, b1, out);
    return;
  }
  const anchors = uniqueAnchors(a, b, a0, a1, b0, b1);
  if (anchors.length > 0) {
    let pa = a0;
    let pb = b0;
    for (const [i, j] of anchors) {
      alignRange(a, b, pa, i, pb, j, out);
      out.push([i, j]);
      pa = i + 1;
      pb = j + 1;
    }
    alignRange(a, b, pa, a1, pb, b1, out);
    return;
  }
  const n = a1 - a0;
  const m = b1 - b0;
  if (n * m <= LCS_CELLS) lcsTable(a, b, a0, a1, b0, b1, out);
  // Else: a huge gap of duplicated rules with nothing unique in common: left unaligned.
}

/** Elements unique on both sides of the range, matched, reduced to the longest increasing run. */
function uniqueAnchors(
  a: readonly number[],
  b: readonly number[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
): Array<[number, number]> {
  // count: >0 index+1 of the single occurrence in a, -1 when repeated.
  const inA = new Map<number, number>();
  for (let i = a0; i < a1; i++) {
    const k = a[i];
    inA.set(k, inA.has(k) ? -1 : i + 1);
  }
  const inB = new Map<number, number>();
  for (let j = b0; j < b1; j++) {
    const k = b[j];
    if (!inA.has(k)) continue;
    inB.set(k, inB.has(k) ? -1 : j + 1);
  }
  const pairs: Array<[number, number]> = [];
  for (let i = a0; i < a1; i++) {
    const k = a[i];
    const ia = inA.get(k)!;
    if (ia <= 0) continue;
    const jb = inB.get(k);
    if (jb === undefined || jb <= 0) continue;
    pairs.push([i, jb - 1]);
  }
  return longestIncreasing(pairs);
}

/** Longest subsequence of pairs (sorted by i) with increasing j (patience sorting). */
function longestIncreasing(pairs: Array<[number, number]>): Array<[number, number]> {
  if (pairs.length <= 1) return pairs;
  const tails: number[] = []; // index into pairs of the smallest tail of each length
  const prev = new Int32Array(pairs.length).fill(-1);
  for (let p = 0; p < pairs.length; p++) {
    const j = pairs[p][1];
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]][1] < j) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[p] = tails[lo - 1];
    tails[lo] = p;
  }
  const res: Array<[number, number]> = [];
  for (let p = tails[tails.length - 1]; p >= 0; p = prev[p]) res.push(pairs[p]);
  return res.reverse();
}

/** Classic LCS by dynamic programming over a small gap. */
function lcsTable(
  a: readonly number[],
  b: readonly number[],
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  out: Array<[number, number]>,
): void {
  const n = a1 - a0;
  const m = b1 - b0;
  const w = m + 1;
  const t = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      t[i * w + j] = a[a0 + i] === b[b0 + j] ? t[(i + 1) * w + j + 1] + 1 : Math.max(t[(i + 1) * w + j], t[i * w + j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[a0 + i] === b[b0 + j]) {
      out.push([a0 + i, b0 + j]);
      i++;
      j++;
    } else if (t[(i + 1) * w + j] >= t[i * w + j + 1]) i++;
    else j++;
  }
}
