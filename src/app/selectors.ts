/**
 * Derived views of the state: the Chains tree rows, the Rules pane order, callers ("who jumps
 * here"), service names for hashed kube-proxy chains, the folded trace rows, and the current step.
 * Indexes over a ruleset are built once per ruleset object (WeakMap) so a 434k-line dump is
 * indexed once, not per key press.
 */
import type { Chain, Rule, Ruleset, TableName } from '../core/model.js';
import type { Outcome, Step } from '../core/netfilter/types.js';
import { rawComment, rawJump } from './raw-rule.js';
import type { AppState, ChainRef } from './state.js';
import { ruleKey } from './state.js';

/** One row of the Chains tree. */
export type ChainRow =
  | { kind: 'table'; table: TableName; collapsed: boolean; chains: number }
  | { kind: 'chain'; table: TableName; chain: Chain };

interface RulesetIndex {
  /** Rules that jump to / goto each chain, per table then chain name. */
  callers: Map<string, Map<string, Rule[]>>;
  /** Service names found so far (computed on demand: only visible chains need one). */
  annotations: Map<string, string | null>;
  ruleCount: number;
}

const indexes = new WeakMap<Ruleset, RulesetIndex>();

/** The kube-proxy service name in a comment: its first word when it looks like `ns/name[:port]`. */
function serviceName(comment: string): string | undefined {
  const word = comment.split(' ')[0];
  return /^[\w.-]+\/[\w.-]+(:[\w.-]+)?$/.test(word) ? word : undefined;
}

/**
 * Index of callers, built once per ruleset in one pass over the rules' raw lines (a 434k-line
 * dump has ~110k chains and ~220k jumps). The `-j`/`-g` word is read from the raw line, so no
 * rule's parsed structure is built (the parser builds it lazily, on first access). Rules are
 * grouped by target name whatever it names (`DNAT`, `ACCEPT` too: checking each name against the
 * chains would double the cost); only chains are ever looked up, and a target naming a chain of
 * the same table is a jump to it, as the parser links it (iptables refuses chain names that are
 * target names).
 */
export function rulesetIndex(ruleset: Ruleset): RulesetIndex {
  let idx = indexes.get(ruleset);
  if (idx) return idx;
  const callers = new Map<string, Map<string, Rule[]>>();
  let ruleCount = 0;
  for (const table of ruleset.tables.values()) {
    const byChain = new Map<string, Rule[]>();
    callers.set(table.name, byChain);
    for (const chain of table.chains.values()) {
      const rules = chain.rules;
      ruleCount += rules.length;
      for (let i = 0; i < rules.length; i++) {
        const j = rawJump(rules[i].raw);
        if (!j) continue;
        const list = byChain.get(j.name);
        if (list) list.push(rules[i]);
        else byChain.set(j.name, [rules[i]]);
      }
    }
  }
  idx = { callers, annotations: new Map(), ruleCount };
  indexes.set(ruleset, idx);
  return idx;
}

/** Rules that jump to or goto a chain. */
export function callersOf(ruleset: Ruleset, table: TableName | string, chain: string): Rule[] {
  return rulesetIndex(ruleset).callers.get(table)?.get(chain) ?? [];
}

/**
 * Service name shown beside a hashed chain name, if known: from the comment of a rule jumping
 * to it (`ns/svc:port cluster IP`), else from its own rules' comments (KUBE-SEP-…).
 */
export function annotationOf(ruleset: Ruleset, table: TableName, chain: string): string | undefined {
  const idx = rulesetIndex(ruleset);
  const key = `${table}:${chain}`;
  const known = idx.annotations.get(key);
  if (known !== undefined) return known ?? undefined;
  let found: string | undefined;
  for (const r of callersOf(ruleset, table, chain)) {
    const c = rawComment(r.raw);
    found = c === undefined ? undefined : serviceName(c);
    if (found) break;
  }
  const own = ruleset.tables.get(table)?.chains.get(chain);
  // Own comments name the service only for kube-proxy's per-service hashed chains (KUBE-SEP-…);
  // a dispatcher such as KUBE-SERVICES holds every service's comments.
  if (!found && own && !own.builtin && /^KUBE-(SVC|SVL|SEP|EXT|FW|XLB)-/.test(chain)) {
    for (const r of own.rules) {
      const c = rawComment(r.raw);
      found = c === undefined ? undefined : serviceName(c);
      if (found) break;
    }
  }
  idx.annotations.set(key, found ?? null);
  return found;
}

/** Total number of rules. */
export function ruleCount(ruleset: Ruleset): number {
  return rulesetIndex(ruleset).ruleCount;
}

const treeCache = new WeakMap<Ruleset, { collapsed: ReadonlySet<TableName>; rows: ChainRow[] }>();

/** Rows of the Chains tree: each table, then (unless folded) its chains in model order. */
export function chainRows(state: AppState): ChainRow[] {
  const rs = state.ruleset;
  if (!rs) return [];
  const cached = treeCache.get(rs);
  if (cached && cached.collapsed === state.collapsed) return cached.rows;
  const rows: ChainRow[] = [];
  for (const table of rs.tables.values()) {
    const collapsed = state.collapsed.has(table.name);
    rows.push({ kind: 'table', table: table.name, collapsed, chains: table.chains.size });
    if (collapsed) continue;
    // The model keeps builtin chains first in hook order, then user chains in declaration order.
    for (const chain of table.chains.values()) rows.push({ kind: 'chain', table: table.name, chain });
  }
  treeCache.set(rs, { collapsed: state.collapsed, rows });
  return rows;
}

/** The chain the Rules pane shows. */
export function viewChain(state: AppState): Chain | undefined {
  if (!state.ruleset || !state.view) return undefined;
  return state.ruleset.tables.get(state.view.table)?.chains.get(state.view.chain);
}

/**
 * Rows of the Rules pane: rule indexes (0-based) in display order, then one footer row for the
 * chain's end (the policy of a builtin chain, the implicit return of a user chain), index -1.
 */
export function ruleOrder(state: AppState, chain: Chain): number[] {
  const sorted = state.sortByRate && state.rates !== null;
  const key = sorted ? state.rates : null;
  const cached = orderCache.get(chain);
  if (cached && cached.key === key && cached.length === chain.rules.length) return cached.order;
  const order = chain.rules.map((_, i) => i);
  if (sorted) {
    const live = state.rates!.rules.get(`${chain.table}:${chain.name}`);
    const pps = (i: number) => live?.pps[i] ?? 0;
    order.sort((a, b) => pps(b) - pps(a) || a - b);
  }
  order.push(-1);
  orderCache.set(chain, { key, length: chain.rules.length, order });
  return order;
}

/** The last order built per chain: by position (key null) or by the rates of one sample. */
const orderCache = new WeakMap<Chain, { key: object | null; length: number; order: number[] }>();

/** The Rules pane row of a chain's rule (0-based index; -1: the chain's end), or -1 when absent. */
export function ruleRow(state: AppState, chain: Chain, index: number): number {
  const n = chain.rules.length;
  if (!(state.sortByRate && state.rates)) return index < 0 ? n : index < n ? index : -1;
  return ruleOrder(state, chain).indexOf(index);
}

/** Number of rows in the Rules pane for a chain (rules plus the footer). */
export function ruleRowCount(chain: Chain): number {
  return chain.rules.length + 1;
}

/** The rule under the Rules cursor (undefined on the footer row). */
export function selectedRule(state: AppState): Rule | undefined {
  const chain = viewChain(state);
  if (!chain) return undefined;
  if (!state.sortByRate) return chain.rules[state.rulesCursor];
  const idx = ruleOrder(state, chain)[state.rulesCursor];
  return idx === undefined || idx < 0 ? undefined : chain.rules[idx];
}

/** The followed outcome of the current trace. */
export function currentOutcome(state: AppState): Outcome | undefined {
  const t = state.trace;
  return t ? t.result.outcomes[t.outcome] : undefined;
}

/** One displayed row of the Trace pane. */
export type TraceRow =
  | { kind: 'hook'; hook: string }
  | { kind: 'step'; step: number }
  /** A run of non-matching rule steps folded into one row: steps from..to inclusive. */
  | { kind: 'fold'; from: number; to: number }
  | { kind: 'verdict'; text: string };

const foldCache = new WeakMap<Outcome, { verbose: boolean; rows: TraceRow[] }>();

/**
 * The Trace pane's rows: a header whenever the hook changes, one row per step, runs of two or
 * more non-matching rules in one chain folded into one row (unless verbose), and the verdict.
 */
export function traceRows(outcome: Outcome, verbose: boolean): TraceRow[] {
  const cached = foldCache.get(outcome);
  if (cached && cached.verbose === verbose) return cached.rows;
  const rows: TraceRow[] = [];
  const steps = outcome.steps;
  let hook: string | null = null;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (s.hook !== hook) {
      hook = s.hook;
      rows.push({ kind: 'hook', hook });
    }
    if (!verbose && isMiss(s)) {
      let j = i;
      while (j + 1 < steps.length && isMiss(steps[j + 1]) && steps[j + 1].chain === s.chain && steps[j + 1].table === s.table && steps[j + 1].hook === s.hook) j++;
      if (j > i) {
        rows.push({ kind: 'fold', from: i, to: j });
        i = j;
        continue;
      }
    }
    rows.push({ kind: 'step', step: i });
  }
  rows.push({ kind: 'verdict', text: outcome.disposition.text });
  foldCache.set(outcome, { verbose, rows });
  return rows;
}

function isMiss(s: Step): boolean {
  return s.kind === 'rule' && s.matched === false;
}

/** Whether a trace row can hold the step cursor (headers cannot). */
export function isSteppable(row: TraceRow): boolean {
  return row.kind !== 'hook';
}

/** The step index a trace row stands for (a fold stands for its last step). */
export function rowStep(row: TraceRow | undefined): number | null {
  if (!row) return null;
  if (row.kind === 'step') return row.step;
  if (row.kind === 'fold') return row.to;
  return null;
}

/** The current step of the trace (the one the cursor is on), with its index. */
export function currentStep(state: AppState): { step: Step; index: number } | undefined {
  const outcome = currentOutcome(state);
  const t = state.trace;
  if (!outcome || !t) return undefined;
  const rows = traceRows(outcome, t.verbose);
  const row = rows[t.row];
  if (row?.kind === 'verdict') {
    const last = outcome.steps.length - 1;
    return last >= 0 ? { step: outcome.steps[last], index: last } : undefined;
  }
  const idx = rowStep(row);
  return idx === null ? undefined : { step: outcome.steps[idx], index: idx };
}

/** The chain a step shows in the Rules pane, and the row to highlight there. */
export function stepLocation(state: AppState, step: Step): (ChainRef & { row: number }) | undefined {
  if (!state.ruleset || step.table === null || step.chain === null) return undefined;
  const chain = state.ruleset.tables.get(step.table)?.chains.get(step.chain);
  if (!chain) return undefined;
  const index = step.rule !== null ? step.rule - 1 : -1;
  const row = ruleRow(state, chain, index);
  return { table: step.table, chain: step.chain, row: row < 0 ? chain.rules.length : row };
}

/** The rule positions of the current chain visited by the followed outcome → matched or not. */
export function visitedInView(state: AppState): Map<number, Step> {
  const out = new Map<number, Step>();
  const outcome = currentOutcome(state);
  if (!outcome || !state.view) return out;
  const { table, chain } = state.view;
  for (const s of outcome.steps) {
    if (s.table === table && s.chain === chain && s.rule !== null) out.set(s.rule, s);
  }
  return out;
}
