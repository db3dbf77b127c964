/**
 * Dispatch index for large chains (kube-proxy's KUBE-SERVICES, KUBE-NODEPORTS, firewall chains
 * with thousands of `-d X/32` or `-p tcp --dport N` rules). The index never changes semantics:
 * a rule is skipped only when one of its own conditions is guaranteed false for the packet's
 * current key —
 *   - `dst`:   the rule has a non-negated host `-d A/32` (/128) and the packet's destination ≠ A;
 *   - `dport`: the rule has a non-negated `-p P` (P with ports) and a non-negated single
 *              `--dport N` of the implicit P match, and the packet is not P with dport N.
 * Rules without a key are always evaluated. The engine recomputes the candidates whenever the
 * packet's key changes inside the chain, and records skipped runs as one summary step.
 *
 * Pure: no IO.
 */
import type { Chain, Family, Rule } from '../model.js';
import type { EvalPacket } from '../extensions/types.js';
import { findMatch } from '../extensions/index.js';
import { cidrNet, ipKey, netIsHost } from './addr.js';
import { PORT_PROTOCOLS, protoNumber } from './proto.js';
import { typedOf } from './typed.js';

/** Chains shorter than this are always scanned rule by rule (the trace shows every rule). */
export const INDEX_MIN_RULES = 32;

/** A chain's dispatch index. */
export interface ChainIndex {
  dim: 'dst' | 'dport';
  keyed: Map<string, number[]>;
  unkeyed: number[];
  size: number;
  merged: Map<string, number[]>;
}

const cache = new WeakMap<Chain, { n: number; index: ChainIndex | null }>();

function dstKey(rule: Rule): string | null {
  const d = rule.ip.dst;
  if (!d || d.negated) return null;
  const n = cidrNet(d.value);
  if (!netIsHost(n)) return null;
  return ipKey({ family: n.family, text: '', w: n.w });
}

function dportKey(rule: Rule, family: Family): string | null {
  const p = rule.ip.proto;
  if (!p || p.negated) return null;
  const num = p.value.number ?? protoNumber(p.value.name);
  if (num === null || !PORT_PROTOCOLS.has(num)) return null;
  for (const m of rule.matches) {
    if (m.module !== p.value.name && !(num === 6 && m.module === 'tcp') && !(num === 17 && m.module === 'udp')) continue;
    const ext = findMatch(m.module);
    if (!ext) continue;
    const t = typedOf(m, ext, family);
    if (!t.ok) continue;
    const v = t.value as { dport?: { range: { lo: number; hi: number }; negated: boolean } };
    if (v.dport && !v.dport.negated && v.dport.range.lo === v.dport.range.hi) return `${num}:${v.dport.range.lo}`;
  }
  return null;
}

/** The packet's key for a dimension. */
export function packetKey(dim: ChainIndex['dim'], p: EvalPacket): string {
  if (dim === 'dst') return ipKey(p.dst);
  return p.dport === undefined ? `${p.protoNum}:-` : `${p.protoNum}:${p.dport}`;
}

/** The index of a chain, built on first use; null when the chain is small or not dispatch-shaped. */
export function chainIndex(chain: Chain, family: Family): ChainIndex | null {
  const c = cache.get(chain);
  if (c && c.n === chain.rules.length) return c.index;
  let index: ChainIndex | null = null;
  if (chain.rules.length >= INDEX_MIN_RULES) {
    let best: ChainIndex | null = null;
    for (const dim of ['dst', 'dport'] as const) {
      const keyed = new Map<string, number[]>();
      const unkeyed: number[] = [];
      let count = 0;
      chain.rules.forEach((r, i) => {
        const k = dim === 'dst' ? dstKey(r) : dportKey(r, family);
        if (k === null) unkeyed.push(i);
        else {
          count++;
          const list = keyed.get(k);
          if (list) list.push(i);
          else keyed.set(k, [i]);
        }
      });
      if (count >= 16 && count * 2 >= chain.rules.length && (!best || unkeyed.length < best.unkeyed.length)) {
        best = { dim, keyed, unkeyed, size: chain.rules.length, merged: new Map() };
      }
    }
    index = best;
  }
  cache.set(chain, { n: chain.rules.length, index });
  return index;
}

/** Sorted candidate rule indices for a key (keyed rules of that key ∪ unkeyed rules). */
export function candidates(ix: ChainIndex, key: string): number[] {
  const hit = ix.merged.get(key);
  if (hit) return hit;
  const a = ix.keyed.get(key) ?? [];
  const b = ix.unkeyed;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  if (ix.merged.size > 4096) ix.merged.clear();
  ix.merged.set(key, out);
  return out;
}

/** First candidate ≥ from (binary search); -1 when none. */
export function nextCandidate(cands: number[], from: number): number {
  let lo = 0;
  let hi = cands.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cands[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < cands.length ? cands[lo]! : -1;
}
