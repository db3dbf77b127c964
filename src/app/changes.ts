/**
 * What changed between two loads of the same source, for the highlight after a reload, the
 * changes list (`C`) and the source effects' change summary. This is the one place it is
 * computed: the effect that notices the new load (file watcher, live poller) calls it once, and
 * the reducer takes the result from the `loaded` action instead of computing it again.
 *
 * Rules are compared by their raw line without counters (`rawIdentity`), never by their parsed
 * structure, so a reload of a 320k-rule dump does not build every rule's matches (the parser
 * builds them lazily). Per chain: the common head and tail are unchanged; in the middle, rules
 * whose identity still occurs (as many times) are unchanged or merely moved, so inserting one rule
 * at the top is one addition (kube-proxy's resyncs), not N changes; a rule that left and a rule
 * that arrived at the same place among the unchanged ones are one changed rule (an edit in
 * place); the rest are added or removed. Linear in the number of rules. (The full structural and
 * behavioural diff is the DIFF area's, in the diff view.)
 */
import type { Rule, Ruleset, Table, TableName } from '../core/model.js';
import { rawIdentity } from './raw-rule.js';
import type { RuleChange } from './state.js';

/** A rule's identity text: its raw line without the `[pkts:bytes]` counters prefix. */
export function ruleIdentity(rule: Rule): string {
  return rawIdentity(rule.raw);
}

/** Same rule (identity) in both loads? The raw lines are compared first: usually they are equal. */
function same(x: Rule, y: Rule): boolean {
  return x.raw === y.raw || ruleIdentity(x) === ruleIdentity(y);
}

/** Compare one chain's rules (old → new), appending to `out` in position order. */
function diffChain(table: TableName, chain: string, a: readonly Rule[], b: readonly Rule[], out: RuleChange[]): void {
  let head = 0;
  while (head < a.length && head < b.length && same(a[head], b[head])) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && same(a[a.length - 1 - tail], b[b.length - 1 - tail])) tail++;
  const endA = a.length - tail;
  const endB = b.length - tail;
  if (head === endA && head === endB) return;
  // Identities of the middle only: ta[i - head] is a[i]'s.
  const ta: string[] = [];
  const tb: string[] = [];
  for (let i = head; i < endA; i++) ta.push(ruleIdentity(a[i]));
  for (let j = head; j < endB; j++) tb.push(ruleIdentity(b[j]));
  // Multiset of the old middle: a new rule whose identity is still there is unchanged (or moved).
  const pool = new Map<string, number>();
  for (let i = head; i < endA; i++) pool.set(ta[i - head], (pool.get(ta[i - head]) ?? 0) + 1);
  const newOnly: number[] = [];
  /** For each new-only rule: how many unchanged rules precede it (its place among them). */
  const newAnchor: number[] = [];
  let kept = head;
  for (let j = head; j < endB; j++) {
    const n = pool.get(tb[j - head]) ?? 0;
    if (n > 0) {
      pool.set(tb[j - head], n - 1);
      kept++;
    } else {
      newOnly.push(j);
      newAnchor.push(kept);
    }
  }
  // The old rules left over in the pool are gone; the first occurrences count as the gone ones.
  const oldByAnchor = new Map<number, number[]>();
  const oldOnly: number[] = [];
  kept = head;
  for (let i = head; i < endA; i++) {
    const n = pool.get(ta[i - head]) ?? 0;
    if (n > 0) {
      pool.set(ta[i - head], n - 1);
      oldOnly.push(i);
      const list = oldByAnchor.get(kept);
      if (list) list.push(i);
      else oldByAnchor.set(kept, [i]);
    } else kept++;
  }
  const paired = new Set<number>();
  const found: RuleChange[] = [];
  for (let k = 0; k < newOnly.length; k++) {
    const j = newOnly[k];
    const list = oldByAnchor.get(newAnchor[k]);
    const i = list?.shift();
    if (i !== undefined) {
      paired.add(i);
      found.push({ table, chain, kind: 'changed', position: b[j].position, text: tb[j - head], before: ta[i - head], oldPosition: a[i].position });
    } else found.push({ table, chain, kind: 'added', position: b[j].position, text: tb[j - head] });
  }
  for (const i of oldOnly) {
    if (!paired.has(i)) found.push({ table, chain, kind: 'removed', position: a[i].position, text: ta[i - head], oldPosition: a[i].position });
  }
  // Position order (new positions for added/changed, old ones for removed); stable otherwise.
  found.sort((x, y) => (x.position ?? 0) - (y.position ?? 0));
  for (const c of found) out.push(c);
}

const NO_RULES: readonly Rule[] = [];

/**
 * Changes from `before` to `after` (either may be absent: a family that appeared or went), in
 * table, chain, position order: chains added (then each of their rules added), chains removed
 * (then each of their rules removed), policies changed, rules added, removed and changed.
 */
export function computeChanges(before: Ruleset | undefined, after: Ruleset | undefined): RuleChange[] {
  const out: RuleChange[] = [];
  const tableChanges = (tname: TableName, tb: Table | undefined, ta: Table | undefined): void => {
    // The new table's chains in order, then the chains that went.
    for (const ca of ta?.chains.values() ?? []) {
      const cb = tb?.chains.get(ca.name);
      if (!cb) {
        out.push({ table: tname, chain: ca.name, kind: 'chain-added', position: null, text: `chain ${ca.name} added` });
        diffChain(tname, ca.name, NO_RULES, ca.rules, out);
        continue;
      }
      if (cb.policy !== ca.policy) {
        out.push({ table: tname, chain: ca.name, kind: 'policy', position: null, text: `policy ${cb.policy ?? '-'} → ${ca.policy ?? '-'}` });
      }
      diffChain(tname, ca.name, cb.rules, ca.rules, out);
    }
    for (const cb of tb?.chains.values() ?? []) {
      if (ta?.chains.has(cb.name)) continue;
      out.push({ table: tname, chain: cb.name, kind: 'chain-removed', position: null, text: `chain ${cb.name} removed` });
      diffChain(tname, cb.name, cb.rules, NO_RULES, out);
    }
  };
  for (const ta of after?.tables.values() ?? []) tableChanges(ta.name, before?.tables.get(ta.name), ta);
  for (const tb of before?.tables.values() ?? []) if (!after?.tables.has(tb.name)) tableChanges(tb.name, tb, undefined);
  return out;
}
