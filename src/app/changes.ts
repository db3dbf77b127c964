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
import type { Chain, Rule, Ruleset, TableName } from '../core/model.js';
import { rawIdentity } from './raw-rule.js';
import type { RuleChange } from './state.js';

/** A rule's identity text: its raw line without the `[pkts:bytes]` counters prefix. */
export function ruleIdentity(rule: Rule): string {
  return rawIdentity(rule.raw);
}

/** Compare one chain's rules (old → new), appending to `out` in position order. */
function diffChain(table: TableName, chain: string, a: readonly Rule[], b: readonly Rule[], out: RuleChange[]): void {
  const ta = a.map(ruleIdentity);
  const tb = b.map(ruleIdentity);
  let head = 0;
  while (head < ta.length && head < tb.length && ta[head] === tb[head]) head++;
  let tail = 0;
  while (tail < ta.length - head && tail < tb.length - head && ta[ta.length - 1 - tail] === tb[tb.length - 1 - tail]) tail++;
  const endA = ta.length - tail;
  const endB = tb.length - tail;
  if (head === endA && head === endB) return;
  // Multiset of the old middle: a new rule whose identity is still there is unchanged (or moved).
  const pool = new Map<string, number>();
  for (let i = head; i < endA; i++) pool.set(ta[i], (pool.get(ta[i]) ?? 0) + 1);
  const newOnly: number[] = [];
  /** For each new-only rule: how many unchanged rules precede it (its place among them). */
  const newAnchor: number[] = [];
  let kept = head;
  for (let j = head; j < endB; j++) {
    const n = pool.get(tb[j]) ?? 0;
    if (n > 0) {
      pool.set(tb[j], n - 1);
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
    const n = pool.get(ta[i]) ?? 0;
    if (n > 0) {
      pool.set(ta[i], n - 1);
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
      found.push({ table, chain, kind: 'changed', position: b[j].position, text: tb[j], before: ta[i], oldPosition: a[i].position });
    } else found.push({ table, chain, kind: 'added', position: b[j].position, text: tb[j] });
  }
  for (const i of oldOnly) {
    if (!paired.has(i)) found.push({ table, chain, kind: 'removed', position: a[i].position, text: ta[i], oldPosition: a[i].position });
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
  const tables = new Set<TableName>([...(after?.tables.keys() ?? []), ...(before?.tables.keys() ?? [])]);
  for (const tname of tables) {
    const tb = before?.tables.get(tname);
    const ta = after?.tables.get(tname);
    const chains = new Set<string>([...(ta?.chains.keys() ?? []), ...(tb?.chains.keys() ?? [])]);
    for (const cname of chains) {
      const cb: Chain | undefined = tb?.chains.get(cname);
      const ca: Chain | undefined = ta?.chains.get(cname);
      if (!cb && ca) {
        out.push({ table: tname, chain: cname, kind: 'chain-added', position: null, text: `chain ${cname} added` });
        diffChain(tname, cname, NO_RULES, ca.rules, out);
        continue;
      }
      if (cb && !ca) {
        out.push({ table: tname, chain: cname, kind: 'chain-removed', position: null, text: `chain ${cname} removed` });
        diffChain(tname, cname, cb.rules, NO_RULES, out);
        continue;
      }
      if (!cb || !ca) continue;
      if (cb.policy !== ca.policy) {
        out.push({ table: tname, chain: cname, kind: 'policy', position: null, text: `policy ${cb.policy ?? '-'} → ${ca.policy ?? '-'}` });
      }
      diffChain(tname, cname, cb.rules, ca.rules, out);
    }
  }
  return out;
}
