/**
 * The Rules pane: the selected chain's rules numbered like `iptables -L --line-numbers`, with
 * real counters, simulated counters, live rates, matches and target. Only the visible rows are
 * formatted (a 10k-rule KUBE-SERVICES scrolls at the cost of one screenful).
 */
import type { Rule } from '../../core/model.js';
import { liveCounters, liveRate, simCounter } from '../../app/counters.js';
import { grouped, humanCount, humanRate } from '../../app/human.js';
import { annotationOf, currentStep, ruleOrder, viewChain, visitedInView } from '../../app/selectors.js';
import type { AppState } from '../../app/state.js';
import { CHANGE_HIGHLIGHT_MS, ruleKey } from '../../app/state.js';
import { escapeTags, fg, fit, segments, stripControls } from '../text.js';
import type { PaneContent } from './chains.js';
import { commentText, matchSegments, targetSegments } from './rule-text.js';
import type { Segment } from './rule-text.js';

/** Pane title: the breadcrumb of followed jumps, then the chain and its size. */
export function rulesLabel(state: AppState): string {
  const chain = viewChain(state);
  if (!state.view || !chain) return ' 2 Rules ';
  // Crumbs from another table (a :chain jump) say their table.
  const crumbs = [state.view.table, ...state.breadcrumb.map((c) => (c.table === state.view!.table ? c.chain : `${c.table}:${c.chain}`)), state.view.chain];
  const ann = annotationOf(state.ruleset!, state.view.table, state.view.chain);
  const sort = state.sortByRate ? ' · by rate' : '';
  const focusMark = state.focus === 'rules' ? '● ' : '';
  return ` 2 Rules ${focusMark}· ${escapeTags(stripControls(crumbs.join(' › ')))}${ann ? ' (' + escapeTags(stripControls(ann)) + ')' : ''} · ${grouped(chain.rules.length)} rule${chain.rules.length === 1 ? '' : 's'}${chain.policy ? ' · policy ' + chain.policy : ''}${sort} `;
}

/** The Rules pane: header and the visible rows, the trace step, visits and changes marked. */
export function renderRules(state: AppState, width: number, height: number, now: number): PaneContent {
  const chain = viewChain(state);
  const label = rulesLabel(state);
  if (!chain) return { label, lines: [state.ruleset ? 'select a chain (1)' : state.loading ?? ''] };
  const order = ruleOrder(state, chain);
  const numW = Math.max(3, String(chain.rules.length).length);
  // Dumps without -c still print [0:0] on chain lines: show counters when rules carry them.
  const hasCounters = chain.rules.some((r) => r.counters) || (chain.counters !== undefined && chain.counters.packets > 0) || (state.rates?.rules.size ?? 0) > 0;
  const showSim = state.simPackets > 0;
  const showRate = state.rates !== null;
  const cntW = hasCounters ? 13 : 0;
  // Simulated packets and bytes, like the real counters.
  const simW = showSim ? 12 : 0;
  // Live: packets/s and bytes/s.
  const rateW = showRate ? 16 : 0;
  const fixed = 2 + numW + 1 + cntW + simW + rateW + 1;
  const flex = Math.max(10, width - fixed);
  const targetW = Math.min(flex >= 60 ? 34 : 22, Math.floor(flex * 0.4));
  const matchW = flex - targetW;
  const step = currentStep(state);
  const stepHere = step && step.step.table === chain.table && step.step.chain === chain.name ? step.step : undefined;
  const visited = visitedInView(state);
  const recent = state.changedAt !== null && now - state.changedAt < CHANGE_HIGHLIGHT_MS;
  const changed = new Map<number, string>();
  if (recent) for (const c of state.changes) if (c.table === chain.table && c.chain === chain.name && c.position !== null && c.kind !== 'removed') changed.set(c.position, c.kind);

  const header =
    fg('gray', fit('', 2) + fit('#', numW, 'right') + ' ' + (hasCounters ? fit('pkts', 6, 'right') + fit('bytes', 7, 'right') : '') + (showSim ? fit('sim', 5, 'right') + fit('bytes', 7, 'right') : '') + (showRate ? fit('pkt/s', 8, 'right') + fit('B/s', 8, 'right') : '') + ' ' + fit('match', matchW - 1) + fit('target', targetW));
  const lines: string[] = [header];
  const body = Math.max(0, height - 1);
  for (let i = state.rulesScroll; i < Math.min(order.length, state.rulesScroll + body); i++) {
    const idx = order[i];
    const rule: Rule | undefined = idx >= 0 ? chain.rules[idx] : undefined;
    const pos = rule ? rule.position : null;
    const isStep = stepHere !== undefined && (pos !== null ? stepHere.rule === pos : stepHere.rule === null);
    const v = pos !== null ? visited.get(pos) : undefined;
    let marker: Segment = ['  '];
    if (isStep) marker = ['▶ ', stepHere!.matched === true || stepHere!.kind === 'policy' ? 'green,bold' : stepHere!.matched === 'unknown' ? 'yellow,bold' : 'red,bold'];
    else if (pos !== null && changed.has(pos)) marker = [changed.get(pos) === 'added' ? '+ ' : '~ ', 'yellow,bold'];
    else if (v) marker = [v.matched === true ? '✓ ' : v.matched === 'unknown' ? '? ' : '· ', v.matched === true ? 'green' : 'gray'];
    const key = ruleKey(chain.table, chain.name, pos ?? 'policy');
    // Live: the latest read's counters are newer than the loaded dump's.
    const counters = (pos !== null ? liveCounters(state.rates, chain.table, chain.name, pos) : undefined) ?? (rule ? rule.counters : chain.counters);
    const sim = simCounter(state, key);
    const rate = liveRate(state.rates, chain.table, chain.name, pos ?? 'policy');
    const cols: Segment[] = [marker, [fit(pos !== null ? String(pos) : '', numW, 'right') + ' ', 'white']];
    if (hasCounters) cols.push([fit(counters ? humanCount(counters.packets) : '', 6, 'right') + fit(counters ? humanCount(counters.bytes) : '', 7, 'right'), 'gray']);
    if (showSim) cols.push([fit(sim && sim.packets !== 0 ? humanCount(sim.packets) : '', 5, 'right') + fit(sim && sim.packets !== 0 ? humanCount(sim.bytes) : '', 7, 'right'), 'magenta,bold']);
    if (showRate) cols.push([fit(rate ? humanRate(rate.pps) : '', 8, 'right') + fit(rate && rate.bps > 0 ? humanRate(rate.bps).replace('/s', 'B/s') : '', 8, 'right'), 'yellow']);
    cols.push([' ']);
    let line = segments(cols, fixed);
    if (rule) {
      const m = matchSegments(rule);
      const c = commentText(rule);
      if (c !== undefined) m.push([`/* ${c} */`, 'green']);
      line += segments(m.length > 0 ? m : [['(any packet)', 'gray']], matchW);
      const t = targetSegments(rule);
      const ann = rule.target?.kind === 'chain' ? annotationOf(state.ruleset!, rule.table, rule.target.name) : undefined;
      if (ann && c === undefined) t.push([` (${ann})`, 'gray']);
      line += segments(t, targetW);
    } else {
      const text = chain.builtin ? `policy ${chain.policy}` : 'end of chain: return to the caller';
      line += segments([[text, chain.policy === 'DROP' ? 'red' : chain.builtin ? 'green' : 'gray']], matchW + targetW);
    }
    if (i === state.rulesCursor) line = `{inverse}${line}{/inverse}`;
    else if (isStep) line = `{underline}${line}{/underline}`;
    lines.push(line);
  }
  return { label, lines };
}
