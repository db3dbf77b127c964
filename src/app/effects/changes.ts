/**
 * What changed between two loads of a source, for the effects' callbacks (`onLoaded(source,
 * changes)`): rules added, removed and changed, chains added and removed, policies changed.
 *
 * The comparison itself is src/app/changes.ts (`computeChanges`, on each rule's raw line without
 * counters: no rule's parsed structure is built). It runs once per new load, here, in the effect
 * that noticed it; the TUI hands the shown family's list to the reducer with the load
 * (`LoadPayload.changes`) instead of comparing again.
 */
import type { Family, Ruleset } from '../../core/model.js';
import type { LoadedSource } from '../../sources/types.js';
import { computeChanges } from '../changes.js';
import type { RuleChange } from '../state.js';
import type { RuleRef, SourceChanges } from './types.js';

/** An empty change summary. */
export function noChanges(): SourceChanges {
  return { added: [], removed: [], changed: [], chainsAdded: [], chainsRemoved: [], policiesChanged: [], rules: {}, empty: true };
}

function ref(family: Family, c: RuleChange): RuleRef {
  const r: RuleRef = { family, table: c.table, chain: c.chain, position: c.position ?? 0, text: c.text };
  if (c.before !== undefined) r.before = c.before;
  if (c.oldPosition !== undefined) r.oldPosition = c.oldPosition;
  return r;
}

/** Compare two rulesets of one family, adding to `out`. */
export function diffRulesets(family: Family, a: Ruleset | undefined, b: Ruleset | undefined, out: SourceChanges = noChanges()): SourceChanges {
  const list = computeChanges(a, b);
  out.rules[family] = list;
  for (const c of list) {
    switch (c.kind) {
      case 'added':
        out.added.push(ref(family, c));
        break;
      case 'removed':
        out.removed.push(ref(family, c));
        break;
      case 'changed':
        out.changed.push(ref(family, c));
        break;
      case 'chain-added':
        out.chainsAdded.push(`${family} ${c.table} ${c.chain}`);
        break;
      case 'chain-removed':
        out.chainsRemoved.push(`${family} ${c.table} ${c.chain}`);
        break;
      case 'policy':
        out.policiesChanged.push(`${family} ${c.table} ${c.chain}: ${c.text.replace(/^policy /, '')}`);
        break;
    }
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
