/**
 * What changed between two loads of the same source, for the highlight after a reload and the
 * changes list. Rules are matched by content within a chain (counters ignored), so inserting one
 * rule at the top is one addition, not N changes; an addition and a removal at the same position
 * are shown as one changed rule. (The full structural and behavioural diff is the DIFF area's.)
 */
import type { Rule, Ruleset } from '../core/model.js';
import type { RuleChange } from './state.js';

/** A rule's identity text: its raw line without the `[pkts:bytes]` counters prefix. */
export function ruleIdentity(rule: Rule): string {
  return rule.raw.replace(/^\s*\[\d+:\d+\]\s*/, '').trim();
}

/** Changes from `before` to `after`, in table, chain, position order. */
export function computeChanges(before: Ruleset, after: Ruleset): RuleChange[] {
  const out: RuleChange[] = [];
  const tables = new Set([...before.tables.keys(), ...after.tables.keys()]);
  for (const tname of tables) {
    const tb = before.tables.get(tname);
    const ta = after.tables.get(tname);
    const chains = new Set([...(tb?.chains.keys() ?? []), ...(ta?.chains.keys() ?? [])]);
    for (const cname of chains) {
      const cb = tb?.chains.get(cname);
      const ca = ta?.chains.get(cname);
      if (!cb && ca) {
        out.push({ table: tname, chain: cname, kind: 'chain-added', position: null, text: `chain ${cname} added` });
        for (const r of ca.rules) out.push({ table: tname, chain: cname, kind: 'added', position: r.position, text: ruleIdentity(r) });
        continue;
      }
      if (cb && !ca) {
        out.push({ table: tname, chain: cname, kind: 'chain-removed', position: null, text: `chain ${cname} removed` });
        continue;
      }
      if (!cb || !ca) continue;
      if (cb.policy !== ca.policy) {
        out.push({ table: tname, chain: cname, kind: 'policy', position: null, text: `policy ${cb.policy ?? '-'} → ${ca.policy ?? '-'}` });
      }
      // Multiset of old identities; new rules not found there are added, leftovers removed.
      const pool = new Map<string, number[]>();
      for (const r of cb.rules) {
        const id = ruleIdentity(r);
        const list = pool.get(id);
        if (list) list.push(r.position);
        else pool.set(id, [r.position]);
      }
      const added: Rule[] = [];
      for (const r of ca.rules) {
        const list = pool.get(ruleIdentity(r));
        if (list && list.length > 0) list.shift();
        else added.push(r);
      }
      const removed: { position: number; text: string }[] = [];
      for (const [id, list] of pool) for (const p of list) removed.push({ position: p, text: id });
      removed.sort((a, b) => a.position - b.position);
      const removedAt = new Map(removed.map((r) => [r.position, r]));
      for (const r of added) {
        const old = removedAt.get(r.position);
        if (old) {
          removedAt.delete(r.position);
          out.push({ table: tname, chain: cname, kind: 'changed', position: r.position, text: ruleIdentity(r) });
        } else out.push({ table: tname, chain: cname, kind: 'added', position: r.position, text: ruleIdentity(r) });
      }
      for (const r of removedAt.values()) out.push({ table: tname, chain: cname, kind: 'removed', position: r.position, text: r.text });
    }
  }
  return out;
}
