/**
 * The reducer: (state, action) → next state. Pure and synchronous; no terminal, no engine call
 * (traces arrive as `traced` actions computed by the controller). Every transition the explorer
 * makes is here, so it can be tested without a screen.
 */
import type { Chain, Ruleset, TableName } from '../core/model.js';
import { assertNever } from '../core/model.js';
import type { Action, LoadPayload } from './actions.js';
import { addCounts, currentTraceCounts, nextRates, outcomeCounts, remapCounts } from './counters.js';
import { overlayItems, overlayRowCount } from './overlays.js';
import { PACKET_FIELDS, specToForm } from './packet-form.js';
import {
  chainRows,
  currentOutcome,
  isSteppable,
  ruleRow,
  ruleRowCount,
  selectedRule,
  stepLocation,
  traceRows,
  viewChain,
} from './selectors.js';
import type { AppState, ChainRef, Crumb, PaneId, SearchHit, TraceState } from './state.js';
import { PANES } from './state.js';

const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));

/** Keep the cursor inside the window: the smallest scroll change that shows it. */
export function scrollFor(cursor: number, scroll: number, rows: number, total: number): number {
  const r = Math.max(1, rows);
  let s = scroll;
  if (cursor < s) s = cursor;
  if (cursor >= s + r) s = cursor - r + 1;
  return clamp(s, 0, Math.max(0, total - r));
}

function findChain(rs: Ruleset, table: TableName | undefined, name: string): Chain | undefined {
  if (table) return rs.tables.get(table)?.chains.get(name);
  // Without a table: filter first (where people look), then nat, then the rest in kernel order.
  const order: TableName[] = ['filter', 'nat', 'mangle', 'raw', 'security'];
  for (const t of order) {
    const c = rs.tables.get(t)?.chains.get(name);
    if (c) return c;
  }
  return undefined;
}

/** Move the Chains cursor onto a chain's row (when its table is unfolded). */
function syncChainsCursor(s: AppState): AppState {
  if (!s.view) return s;
  const rows = chainRows(s);
  const i = rows.findIndex((r) => r.kind === 'chain' && r.table === s.view!.table && r.chain.name === s.view!.chain);
  if (i < 0) return s;
  return { ...s, chainsCursor: i, chainsScroll: scrollFor(i, s.chainsScroll, s.viewport.chains, rows.length) };
}

/** Show a chain in the Rules pane with the cursor on `row`. */
function viewAt(s: AppState, ref: ChainRef, row: number, breadcrumb: Crumb[]): AppState {
  const chain = s.ruleset?.tables.get(ref.table)?.chains.get(ref.chain);
  if (!chain) return s;
  const total = ruleRowCount(chain);
  const cursor = clamp(row, 0, total - 1);
  const sameView = s.view?.table === ref.table && s.view.chain === ref.chain;
  const scroll = scrollFor(cursor, sameView ? s.rulesScroll : Math.max(0, cursor - Math.floor(s.viewport.rules / 3)), s.viewport.rules, total);
  return syncChainsCursor({ ...s, view: { table: ref.table, chain: ref.chain }, rulesCursor: cursor, rulesScroll: scroll, breadcrumb });
}

/** The default chain to show first: the first builtin chain with rules, else the first chain. */
function defaultView(rs: Ruleset): ChainRef | null {
  let first: ChainRef | null = null;
  for (const t of rs.tables.values()) {
    for (const c of t.chains.values()) {
      if (!first) first = { table: t.name, chain: c.name };
      if (c.builtin && c.rules.length > 0) return { table: t.name, chain: c.name };
    }
  }
  return first;
}

function load(s: AppState, p: LoadPayload): AppState {
  const rs = p.parse.ruleset;
  // The same source read again (same label and family): keep the view and show what changed.
  const reload = s.ruleset !== null && s.source?.label === p.info.label && s.family === p.family;
  let next: AppState = {
    ...s,
    source: p.info,
    family: p.family,
    ruleset: rs,
    diagnostics: p.parse.diagnostics,
    sourceText: p.text,
    context: p.context,
    loading: null,
    loadedAt: p.at,
    gone: null,
    reloadError: null,
    reloadDiagnostics: [],
    reloadText: '',
    presets: p.presets.length > 0 || !reload ? p.presets : s.presets,
  };
  if (reload && s.ruleset) {
    // What changed comes with the load, computed once by the source effect that noticed it.
    const changes = p.changes ?? [];
    next = {
      ...next,
      changes,
      changedAt: changes.length > 0 ? p.at : s.changedAt,
      previous: changes.length > 0 ? { label: s.source?.label ?? 'before', ruleset: s.ruleset } : s.previous,
    };
    // Keep the view: same table and chain, same rule position (clamped), breadcrumb still valid.
    const view = s.view && findChain(rs, s.view.table, s.view.chain) ? s.view : defaultView(rs);
    const crumbs = s.breadcrumb.filter((c) => findChain(rs, c.table, c.chain));
    const rows = chainRows(next).length;
    next = { ...next, chainsCursor: clamp(s.chainsCursor, 0, Math.max(0, rows - 1)) };
    if (view) next = viewAt(next, view, s.view && view === s.view ? s.rulesCursor : 0, crumbs);
    // The trace refers to the old ruleset's rules: its counts are kept (on the same rules in the
    // new ruleset), and the controller re-traces the kept packet on the new rules (without
    // counting it twice).
    const committed = addCounts(s.simCommitted, currentTraceCounts(s));
    return { ...next, simCommitted: committed.size > 0 ? remapCounts(committed, s.ruleset, rs) : committed, trace: null };
  }
  const view = defaultView(rs);
  next = { ...next, changes: [], changedAt: null, previous: null, trace: null, traceError: null, breadcrumb: [], search: null };
  // An empty form starts as the first scenario packet, so `t` traces something at once.
  if (next.packet.src === '' && next.packet.dst === '' && p.presets.length > 0) next = { ...next, packet: specToForm(p.presets[0].packet) };
  next = { ...next, view: null, chainsCursor: 0, chainsScroll: 0, rulesCursor: 0, rulesScroll: 0 };
  return view ? viewAt(next, view, 0, []) : next;
}

/** Apply the trace step under the cursor to the Rules pane (view follows the packet). */
function followStep(s: AppState): AppState {
  const t = s.trace;
  const outcome = currentOutcome(s);
  if (!t || !outcome) return s;
  const rows = traceRows(outcome, t.verbose);
  const row = rows[t.row];
  let idx: number | null = null;
  if (row?.kind === 'step') idx = row.step;
  else if (row?.kind === 'fold') idx = row.to;
  else if (row?.kind === 'verdict') idx = outcome.steps.length - 1;
  if (idx === null || idx < 0) return s;
  // The call stack up to this step becomes the breadcrumb: builtin chain, then each jump.
  const stack: Crumb[] = [];
  let loc: (ChainRef & { row: number }) | undefined;
  for (let i = 0; i <= idx; i++) {
    const st = outcome.steps[i];
    if (st.table === null || st.chain === null) continue;
    const chain = s.ruleset?.tables.get(st.table)?.chains.get(st.chain);
    if (!chain) continue;
    const l = stepLocation(s, st);
    if (!l) continue;
    if (chain.builtin) stack.length = 0;
    const at = stack.findIndex((c) => c.table === st.table && c.chain === st.chain);
    if (at >= 0) stack.length = at;
    stack.push({ table: st.table, chain: st.chain, cursor: l.row, scroll: 0 });
    if (i === idx) loc = l;
  }
  if (!loc) {
    // A route/conntrack/note step: stay where the last chain step was.
    const top = stack[stack.length - 1];
    if (!top) return s;
    loc = { table: top.table, chain: top.chain, row: top.cursor };
  }
  stack.pop();
  return viewAt(s, loc, loc.row, stack.map((c) => ({ ...c, scroll: Math.max(0, c.cursor - 2) })));
}

/** Put the trace cursor on `row`; the Rules pane follows the step unless `follow` is false. */
function setTraceRow(s: AppState, row: number, follow = true): AppState {
  const t = s.trace;
  const outcome = currentOutcome(s);
  if (!t || !outcome) return s;
  const rows = traceRows(outcome, t.verbose);
  const r = clamp(row, 0, rows.length - 1);
  const trace: TraceState = { ...t, row: r, scroll: scrollFor(r, t.scroll, s.viewport.trace, rows.length) };
  return follow ? followStep({ ...s, trace }) : { ...s, trace };
}

/** Move the step cursor by `delta` steppable rows. */
function stepBy(s: AppState, delta: number): AppState {
  const t = s.trace;
  const outcome = currentOutcome(s);
  if (!t || !outcome) return { ...s, flash: { text: 'no trace yet: fill the Packet pane (3) and press t, or :trace …', level: 'info' } };
  const rows = traceRows(outcome, t.verbose);
  let r = t.row;
  let left = Math.abs(delta);
  const dir = delta < 0 ? -1 : 1;
  while (left > 0) {
    let j = r + dir;
    while (j >= 0 && j < rows.length && !isSteppable(rows[j])) j += dir;
    if (j < 0 || j >= rows.length) break;
    r = j;
    left--;
  }
  return setTraceRow(s, r);
}

/** First steppable row of a trace. */
function firstRow(s: AppState): number {
  const outcome = currentOutcome(s);
  if (!outcome || !s.trace) return 0;
  const rows = traceRows(outcome, s.trace.verbose);
  const i = rows.findIndex(isSteppable);
  return i < 0 ? 0 : i;
}

function searchHits(rs: Ruleset, query: string): SearchHit[] {
  const q = query.toLowerCase();
  const hits: SearchHit[] = [];
  for (const t of rs.tables.values()) {
    for (const c of t.chains.values()) {
      if (c.name.toLowerCase().includes(q)) hits.push({ table: t.name, chain: c.name, rule: null });
      for (const r of c.rules) if (r.raw.toLowerCase().includes(q)) hits.push({ table: t.name, chain: c.name, rule: r.position });
    }
  }
  return hits;
}

function gotoHit(s: AppState, hit: SearchHit): AppState {
  const chain = s.ruleset?.tables.get(hit.table)?.chains.get(hit.chain);
  if (!chain) return s;
  const row = hit.rule === null ? 0 : ruleRow(s, chain, hit.rule - 1);
  return viewAt({ ...s, collapsed: without(s.collapsed, hit.table) }, hit, row, []);
}

function without<T>(set: ReadonlySet<T>, x: T): ReadonlySet<T> {
  if (!set.has(x)) return set;
  const n = new Set(set);
  n.delete(x);
  return n;
}

/** Cursor movement in the focused pane (or overlay). */
function move(s: AppState, delta: number, absolute?: number): AppState {
  if (s.overlay?.kind === 'help' || s.overlay?.kind === 'probe') {
    // Text overlays: keys scroll them directly.
    const max = Math.max(0, overlayRowCount(s, s.overlay.kind) - s.viewport.overlay);
    const sc = clamp(absolute ?? s.overlay.scroll + delta, 0, max);
    return { ...s, overlay: { ...s.overlay, cursor: sc, scroll: sc } };
  }
  if (s.overlay) {
    const total = overlayRowCount(s, s.overlay.kind);
    const c = clamp(absolute ?? s.overlay.cursor + delta, 0, Math.max(0, total - 1));
    return { ...s, overlay: { ...s.overlay, cursor: c, scroll: scrollFor(c, s.overlay.scroll, s.viewport.overlay, total) } };
  }
  if (s.mode === 'diff' && s.diff) {
    const total = s.diff.lines?.length ?? Number.MAX_SAFE_INTEGER;
    const c = clamp(absolute ?? s.diff.cursor + delta, 0, Math.max(0, total - 1));
    return { ...s, diff: { ...s.diff, cursor: c } };
  }
  switch (s.focus) {
    case 'chains': {
      const rows = chainRows(s);
      if (rows.length === 0) return s;
      const c = clamp(absolute ?? s.chainsCursor + delta, 0, rows.length - 1);
      const next = { ...s, chainsCursor: c, chainsScroll: scrollFor(c, s.chainsScroll, s.viewport.chains, rows.length) };
      const row = rows[c];
      // Moving over the tree previews the chain in the Rules pane (k9s style).
      if (row.kind === 'chain') return viewAt(next, { table: row.table, chain: row.chain.name }, 0, []);
      return next;
    }
    case 'rules': {
      const chain = viewChain(s);
      if (!chain) return s;
      const total = ruleRowCount(chain);
      const c = clamp(absolute ?? s.rulesCursor + delta, 0, total - 1);
      return { ...s, rulesCursor: c, rulesScroll: scrollFor(c, s.rulesScroll, s.viewport.rules, total) };
    }
    case 'packet': {
      // One row past the fields: the "trace this packet" button.
      const c = clamp(absolute ?? s.packetCursor + delta, 0, PACKET_FIELDS.length);
      return { ...s, packetCursor: c };
    }
    case 'trace': {
      if (!s.trace) return s;
      if (absolute !== undefined) {
        const outcome = currentOutcome(s);
        if (!outcome) return s;
        const rows = traceRows(outcome, s.trace.verbose);
        let r = clamp(absolute, 0, rows.length - 1);
        if (!isSteppable(rows[r])) r = absolute <= 0 ? firstRow(s) : r;
        return setTraceRow(s, r);
      }
      return stepBy(s, delta);
    }
    case 'map':
      return s;
    default:
      return assertNever(s.focus, 'pane');
  }
}

function scrollPane(s: AppState, pane: PaneId, delta: number): AppState {
  switch (pane) {
    case 'chains': {
      const total = chainRows(s).length;
      return { ...s, chainsScroll: clamp(s.chainsScroll + delta, 0, Math.max(0, total - s.viewport.chains)) };
    }
    case 'rules': {
      const chain = viewChain(s);
      if (!chain) return s;
      const total = ruleRowCount(chain);
      return { ...s, rulesScroll: clamp(s.rulesScroll + delta, 0, Math.max(0, total - s.viewport.rules)) };
    }
    case 'trace': {
      const outcome = currentOutcome(s);
      if (!outcome || !s.trace) return s;
      const total = traceRows(outcome, s.trace.verbose).length;
      return { ...s, trace: { ...s.trace, scroll: clamp(s.trace.scroll + delta, 0, Math.max(0, total - s.viewport.trace)) } };
    }
    default:
      return s;
  }
}

/** Enter in the focused pane or overlay. */
function activate(s: AppState): AppState {
  if (s.overlay) return activateOverlay(s);
  switch (s.focus) {
    case 'chains': {
      const row = chainRows(s)[s.chainsCursor];
      if (!row) return s;
      if (row.kind === 'table') return reduce(s, { type: 'toggleTable', table: row.table });
      return { ...viewAt(s, { table: row.table, chain: row.chain.name }, s.view?.chain === row.chain.name ? s.rulesCursor : 0, []), focus: 'rules' };
    }
    case 'rules': {
      const rule = selectedRule(s);
      if (!rule || !rule.target || rule.target.kind !== 'chain' || !s.view) {
        return { ...s, flash: { text: rule?.target ? `${rule.target.name} is not a chain: nothing to follow` : 'nothing to follow here', level: 'info' } };
      }
      const target = s.ruleset?.tables.get(rule.table)?.chains.get(rule.target.name);
      if (!target) return { ...s, flash: { text: `chain ${rule.target.name} is not defined in table ${rule.table}`, level: 'error' } };
      const crumb: Crumb = { ...s.view, cursor: s.rulesCursor, scroll: s.rulesScroll };
      return viewAt(s, { table: rule.table, chain: target.name }, 0, [...s.breadcrumb, crumb]);
    }
    case 'packet': {
      const f = PACKET_FIELDS[s.packetCursor];
      if (!f) return s;
      return { ...s, input: { kind: 'field', field: f.key, text: s.packet[f.key] } };
    }
    case 'trace':
      return followStep(s);
    case 'map':
      return s;
    default:
      return assertNever(s.focus, 'pane');
  }
}

function activateOverlay(s: AppState): AppState {
  const o = s.overlay!;
  const item = overlayItems(s, o.kind)[o.cursor];
  const closed: AppState = { ...s, overlay: null };
  if (!item) return o.kind === 'help' || o.kind === 'probe' ? closed : s;
  switch (item.kind) {
    case 'caller': {
      const r = item.rule;
      const crumb: Crumb[] = s.view ? [...s.breadcrumb, { ...s.view, cursor: s.rulesCursor, scroll: s.rulesScroll }] : s.breadcrumb;
      const chain = s.ruleset?.tables.get(r.table)?.chains.get(r.chain);
      if (!chain) return closed;
      return { ...viewAt(closed, { table: r.table, chain: r.chain }, ruleRow(s, chain, r.position - 1), crumb), focus: 'rules' };
    }
    case 'change': {
      const c = item.change;
      const chain = s.ruleset?.tables.get(c.table)?.chains.get(c.chain);
      if (!chain) return { ...closed, flash: { text: `${c.table} ${c.chain} no longer exists`, level: 'info' } };
      const row = c.position !== null && c.kind !== 'removed' ? ruleRow(s, chain, c.position - 1) : 0;
      return { ...viewAt({ ...closed, collapsed: without(s.collapsed, c.table) }, c, row, []), focus: 'rules' };
    }
    case 'diagnostic': {
      // Go to the rule on the diagnostic's line, when one is there.
      const line = item.diag.line;
      if (!s.ruleset) return closed;
      for (const t of s.ruleset.tables.values())
        for (const c of t.chains.values())
          for (const r of c.rules)
            if (r.span.line === line) return { ...viewAt({ ...closed, collapsed: without(s.collapsed, t.name) }, { table: t.name, chain: c.name }, ruleRow(s, c, r.position - 1), []), focus: 'rules' };
      return { ...closed, flash: { text: `line ${line} holds no rule`, level: 'info' } };
    }
    case 'outcome':
      return reduce(closed, { type: 'pickOutcome', index: item.index });
    case 'hot': {
      const cut = item.key.lastIndexOf(':');
      const first = item.key.indexOf(':');
      const table = item.key.slice(0, first) as TableName;
      const chainName = item.key.slice(first + 1, cut);
      const pos = Number(item.key.slice(cut + 1));
      const chain = s.ruleset?.tables.get(table)?.chains.get(chainName);
      if (!chain) return closed;
      return { ...viewAt(closed, { table, chain: chainName }, ruleRow(s, chain, pos - 1), []), focus: 'rules' };
    }
    case 'preset':
    case 'entry':
      // Presets need the engine, entries a load: the controller handles Enter there.
      return s;
    default:
      return assertNever(item, 'overlay item');
  }
}

/** Backspace / Esc: close what is open, innermost first, then walk back the breadcrumb. */
function back(s: AppState): AppState {
  if (s.input) return { ...s, input: null };
  if (s.overlay) return { ...s, overlay: null };
  if (s.mode === 'diff') return { ...s, mode: 'explore' };
  if (s.search) return { ...s, search: null, flash: null };
  const crumb = s.breadcrumb[s.breadcrumb.length - 1];
  if (!crumb) return s;
  const next = viewAt(s, crumb, crumb.cursor, s.breadcrumb.slice(0, -1));
  return { ...next, rulesScroll: scrollFor(next.rulesCursor, crumb.scroll, s.viewport.rules, viewChain(next) ? ruleRowCount(viewChain(next)!) : 1) };
}

/** The next state. */
export function reduce(s: AppState, a: Action): AppState {
  switch (a.type) {
    case 'loading':
      return { ...s, loading: a.message };
    case 'loaded':
      return load(s, a.payload);
    case 'reloadFailed':
      // A load was attempted, so the file is there again (if it was gone).
      return { ...s, loading: null, gone: null, reloadError: a.message, reloadDiagnostics: a.diagnostics, reloadText: a.text ?? '' };
    case 'gone':
      return { ...s, gone: a.path };
    case 'countersSampled':
      return { ...s, rates: nextRates(s.rates, a.at, a.rules, a.chains, a.policies) };
    case 'resize': {
      const next = { ...s, viewport: a.viewport };
      const chain = viewChain(next);
      return {
        ...next,
        chainsScroll: scrollFor(s.chainsCursor, s.chainsScroll, a.viewport.chains, chainRows(next).length),
        rulesScroll: chain ? scrollFor(s.rulesCursor, s.rulesScroll, a.viewport.rules, ruleRowCount(chain)) : 0,
      };
    }
    case 'focus':
      return { ...s, focus: a.pane, overlay: null };
    case 'focusCycle': {
      const i = PANES.indexOf(s.focus);
      return { ...s, focus: PANES[(i + a.delta + PANES.length) % PANES.length] };
    }
    case 'move':
      return move(s, a.delta);
    case 'moveEdge':
      return move(s, 0, a.edge === 'first' ? 0 : Number.MAX_SAFE_INTEGER);
    case 'page': {
      const rows = s.overlay || s.mode === 'diff' ? s.viewport.overlay : s.focus === 'chains' ? s.viewport.chains : s.focus === 'trace' ? s.viewport.trace : s.viewport.rules;
      return move(s, a.delta * Math.max(1, rows - 1));
    }
    case 'clickRow': {
      const focused = { ...s, focus: a.pane, overlay: null };
      if (a.pane === 'chains') return move(focused, 0, s.chainsScroll + a.row);
      if (a.pane === 'rules') return move(focused, 0, s.rulesScroll + a.row);
      if (a.pane === 'packet') return move(focused, 0, a.row);
      if (a.pane === 'trace' && s.trace) {
        const outcome = currentOutcome(s);
        const rows = outcome ? traceRows(outcome, s.trace.verbose) : [];
        const r = s.trace.scroll + a.row;
        return rows[r] && isSteppable(rows[r]) ? setTraceRow(focused, r) : focused;
      }
      return focused;
    }
    case 'scroll':
      return scrollPane(s, a.pane, a.delta);
    case 'activate':
      return activate(s);
    case 'back':
      return back(s);
    case 'showChain': {
      if (!s.ruleset) return s;
      const chain = findChain(s.ruleset, a.table, a.chain);
      if (!chain) return { ...s, flash: { text: `no chain ${a.table ? a.table + ' ' : ''}${a.chain}`, level: 'error' } };
      const crumbs = a.push && s.view ? [...s.breadcrumb, { ...s.view, cursor: s.rulesCursor, scroll: s.rulesScroll }] : [];
      const row = a.rule !== undefined ? ruleRow(s, chain, a.rule - 1) : 0;
      return { ...viewAt({ ...s, collapsed: without(s.collapsed, chain.table) }, { table: chain.table, chain: chain.name }, row, crumbs), focus: 'rules' };
    }
    case 'showTable': {
      const next = { ...s, collapsed: without(s.collapsed, a.table), focus: 'chains' as const };
      const rows = chainRows(next);
      const i = rows.findIndex((r) => r.kind === 'table' && r.table === a.table);
      if (i < 0) return { ...s, flash: { text: `no table ${a.table} in this ruleset`, level: 'error' } };
      return { ...next, chainsCursor: i, chainsScroll: scrollFor(i, i, s.viewport.chains, rows.length) };
    }
    case 'toggleTable': {
      const set = new Set(s.collapsed);
      if (set.has(a.table)) set.delete(a.table);
      else set.add(a.table);
      const next = { ...s, collapsed: set };
      const rows = chainRows(next);
      const i = rows.findIndex((r) => r.kind === 'table' && r.table === a.table);
      return { ...next, chainsCursor: Math.max(0, i), chainsScroll: scrollFor(Math.max(0, i), s.chainsScroll, s.viewport.chains, rows.length) };
    }
    case 'openOverlay':
      return { ...s, overlay: { kind: a.overlay, cursor: a.overlay === 'branches' && s.trace ? s.trace.outcome : 0, scroll: 0 } };
    case 'closeOverlay':
      return { ...s, overlay: null };
    case 'inputStart':
      return { ...s, input: { kind: a.kind, field: a.field, text: a.text ?? '' } };
    case 'inputChange':
      return s.input ? { ...s, input: { ...s.input, text: a.text } } : s;
    case 'inputEnd':
      return { ...s, input: null };
    case 'setForm':
      return { ...s, packet: a.form };
    case 'setField':
      return { ...s, packet: { ...s.packet, [a.field]: a.value } };
    case 'traced': {
      // The trace shown so far is counted for good; the new one counts along its followed branch.
      const count = a.count !== false;
      const committed = addCounts(s.simCommitted, currentTraceCounts(s));
      const outcome = a.keepOutcome !== undefined && a.keepOutcome < a.result.outcomes.length ? a.keepOutcome : 0;
      const trace: TraceState = { result: a.result, outcome, row: 0, scroll: 0, verbose: s.trace?.verbose ?? false, counted: count };
      const next: AppState = { ...s, simCommitted: committed, simPackets: s.simPackets + (count ? 1 : 0), trace, traceError: null };
      if (a.keepStep !== undefined) {
        // A re-trace after a reload: the cursor goes back on the same step, and the Rules pane
        // stays where the user is (the reload kept the view; it does not jump to the step).
        const o = a.result.outcomes[outcome];
        const rows = o ? traceRows(o, trace.verbose) : [];
        const r = rows.findIndex((row) => (row.kind === 'step' && row.step === a.keepStep) || (row.kind === 'fold' && row.from <= a.keepStep! && a.keepStep! <= row.to));
        return setTraceRow(next, r >= 0 ? r : firstRow(next), false);
      }
      return setTraceRow(next, firstRow(next));
    }
    case 'tracedAll': {
      let committed = addCounts(s.simCommitted, currentTraceCounts(s));
      for (const r of a.results) {
        const o = r.outcomes[0];
        if (o) committed = addCounts(committed, outcomeCounts(o, r.packet));
      }
      return { ...s, simCommitted: committed, simPackets: s.simPackets + a.results.length, trace: null, flash: { text: `traced ${a.results.length} scenario packets into the simulated counters`, level: 'info' } };
    }
    case 'traceFailed':
      return { ...s, traceError: a.message, flash: { text: a.message, level: 'error' } };
    case 'step':
      return stepBy(s, a.delta);
    case 'stepEdge': {
      if (!s.trace) return stepBy(s, 0);
      const outcome = currentOutcome(s)!;
      return a.edge === 'first' ? setTraceRow(s, firstRow(s)) : setTraceRow(s, traceRows(outcome, s.trace.verbose).length - 1);
    }
    case 'pickOutcome': {
      if (!s.trace) return s;
      const i = clamp(a.index, 0, s.trace.result.outcomes.length - 1);
      const next: AppState = { ...s, trace: { ...s.trace, outcome: i, row: 0, scroll: 0 } };
      return setTraceRow(next, firstRow(next));
    }
    case 'toggleVerbose': {
      if (!s.trace) return s;
      const cur = currentOutcome(s);
      const stepIdx = cur ? traceRows(cur, s.trace.verbose)[s.trace.row] : undefined;
      const verbose = !s.trace.verbose;
      const next: AppState = { ...s, trace: { ...s.trace, verbose } };
      if (!cur || !stepIdx) return next;
      // Keep the cursor on the same step across folding.
      const want = stepIdx.kind === 'step' ? stepIdx.step : stepIdx.kind === 'fold' ? stepIdx.to : -1;
      const rows = traceRows(cur, verbose);
      const r = rows.findIndex((row) => (row.kind === 'step' && row.step === want) || (row.kind === 'fold' && row.from <= want && want <= row.to));
      return setTraceRow(next, r < 0 ? firstRow(next) : r);
    }
    case 'resetCounters':
      // The trace on screen stops counting too: only traces run from now on count.
      return { ...s, simCommitted: new Map(), simPackets: 0, trace: s.trace ? { ...s.trace, counted: false } : null, flash: { text: 'simulated counters reset', level: 'info' } };
    case 'search': {
      if (!s.ruleset || a.query === '') return { ...s, search: null };
      const hits = searchHits(s.ruleset, a.query);
      if (hits.length === 0) return { ...s, search: { query: a.query, hits, index: -1 }, flash: { text: `no match for "${a.query}"`, level: 'info' } };
      return gotoHit({ ...s, search: { query: a.query, hits, index: 0 } }, hits[0]);
    }
    case 'searchNext': {
      const se = s.search;
      if (!se || se.hits.length === 0) return s;
      const i = (se.index + a.delta + se.hits.length) % se.hits.length;
      return gotoHit({ ...s, search: { ...se, index: i } }, se.hits[i]);
    }
    case 'sortByRate': {
      const rule = selectedRule(s);
      const next = { ...s, sortByRate: a.on };
      const chain = viewChain(next);
      if (!chain || !rule) return next;
      const row = ruleRow(next, chain, rule.position - 1);
      return { ...next, rulesCursor: row, rulesScroll: scrollFor(row, 0, s.viewport.rules, ruleRowCount(chain)) };
    }
    case 'openDiff':
      return { ...s, mode: 'diff', diff: { ...a.diff, cursor: 0, scroll: 0 }, overlay: null };
    case 'closeDiff':
      return { ...s, mode: 'explore', overlay: null };
    case 'openProbe':
      if (!s.diff?.probes?.[a.index]) return s;
      return { ...s, diff: { ...s.diff, probe: a.index }, overlay: { kind: 'probe', cursor: 0, scroll: 0 } };
    case 'flash':
      return { ...s, flash: a.flash };
    case 'quit':
      return { ...s, quit: true };
    default:
      return assertNever(a, 'action');
  }
}

