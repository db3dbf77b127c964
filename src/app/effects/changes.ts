/**
 * What changed between two loads of a source: rules added, removed and changed, compared by their
 * canonical text (so counters, spacing and option order as iptables-save prints them do not count).
 *
 * Per chain: the common head and tail are unchanged; in the middle, rules whose text still occurs
 * (as many times) are unchanged or merely moved; the remaining old and new rules are paired in
 * order as "changed" (an edited rule in place), the surplus is added or removed. Linear in the
 * number of rules, so a 15 000-rule kube-proxy resync compares in milliseconds.
 */
import type { Chain, Family, Rule, Ruleset } from '../../core/model.js';
import { formatRule } from '../../core/parse/index.js';
import type { LoadedSource } from '../../sources/types.js';
import type { RuleRef, SourceChanges } from './types.js';

/** The canonical text of a rule (`-A CHAIN …`, no counters). */
export function canonicalRule(rule: Rule): string {
  try {
    return formatRule(rule);
  } catch {
    // A rule the formatter cannot print: its source text without the counters.
    return rule.raw.replace(/^\s*\[\d+:\d+\]\s*/, '').trim();
  }
}

/** An empty change summary. */
export function noChanges(): SourceChanges {
  return { added: [], removed: [], changed: [], chainsAdded: [], chainsRemoved: [], policiesChanged: [], empty: true };
}

function ref(family: Family, rule: Rule, text: string): RuleRef {
  return { family, table: rule.table, chain: rule.chain, position: rule.position, text };
}

/** Compare one chain's rules (old → new), appending to `out`. */
function diffChain(family: Family, a: Chain, b: Chain, out: SourceChanges): void {
  const ta = a.rules.map(canonicalRule);
  const tb = b.rules.map(canonicalRule);
  let head = 0;
  while (head < ta.length && head < tb.length && ta[head] === tb[head]) head++;
  let tail = 0;
  while (tail < ta.length - head && tail < tb.length - head && ta[ta.length - 1 - tail] === tb[tb.length - 1 - tail]) tail++;
  const remaining = new Map<string, number>();
  for (let i = head; i < ta.length - tail; i++) remaining.set(ta[i], (remaining.get(ta[i]) ?? 0) + 1);
  const newOnly: number[] = [];
  for (let j = head; j < tb.length - tail; j++) {
    const n = remaining.get(tb[j]) ?? 0;
    if (n > 0) remaining.set(tb[j], n - 1);
    else newOnly.push(j);
  }
  const oldOnly: number[] = [];
  for (let i = head; i < ta.length - tail; i++) {
    const n = remaining.get(ta[i]) ?? 0;
    if (n > 0) {
      oldOnly.push(i);
      remaining.set(ta[i], n - 1);
    }
  }
  const paired = Math.min(oldOnly.length, newOnly.length);
  for (let k = 0; k < paired; k++) {
    const o = oldOnly[k];
    const n = newOnly[k];
    out.changed.push({ ...ref(family, b.rules[n], tb[n]), before: ta[o], oldPosition: a.rules[o].position });
  }
  for (const n of newOnly.slice(paired)) out.added.push(ref(family, b.rules[n], tb[n]));
  for (const o of oldOnly.slice(paired)) out.removed.push({ ...ref(family, a.rules[o], ta[o]), oldPosition: a.rules[o].position });
}

/** Compare two rulesets of one family. */
export function diffRulesets(family: Family, a: Ruleset | undefined, b: Ruleset | undefined, out: SourceChanges = noChanges()): SourceChanges {
  const chainsOf = (r: Ruleset | undefined): Map<string, Chain> => {
    const m = new Map<string, Chain>();
    for (const t of r?.tables.values() ?? []) for (const c of t.chains.values()) m.set(`${t.name} ${c.name}`, c);
    return m;
  };
  const ca = chainsOf(a);
  const cb = chainsOf(b);
  const empty = (c: Chain): Chain => ({ ...c, rules: [] });
  for (const [key, chain] of cb) {
    const old = ca.get(key);
    if (!old) {
      out.chainsAdded.push(`${family} ${key}`);
      diffChain(family, empty(chain), chain, out);
      continue;
    }
    if (old.policy !== chain.policy) out.policiesChanged.push(`${family} ${key}: ${old.policy ?? '-'} → ${chain.policy ?? '-'}`);
    diffChain(family, old, chain, out);
  }
  for (const [key, chain] of ca) {
    if (cb.has(key)) continue;
    out.chainsRemoved.push(`${family} ${key}`);
    diffChain(family, chain, empty(chain), out);
  }
  out.empty =
    out.added.length + out.removed.length + out.changed.length + out.chainsAdded.length + out.chainsRemoved.length + out.policiesChanged.length === 0;
  return out;
}

/** Compare two loads of a source, every family either carries. */
export function diffSources(a: LoadedSource | undefined, b: LoadedSource): SourceChanges {
  const out = noChanges();
  for (const f of ['ipv4', 'ipv6'] as Family[]) {
    if (!a?.rulesets[f] && !b.rulesets[f]) continue;
    diffRulesets(f, a?.rulesets[f]?.ruleset, b.rulesets[f]?.ruleset, out);
  }
  return out;
}
