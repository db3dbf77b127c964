/**
 * The rows of the list overlays (diagnostics, callers, changes, branches, presets, hot rules), as
 * data. Views render them; the reducer and controller act on the selected row.
 */
import type { Diagnostic, Rule, TableName } from '../core/model.js';
import type { Outcome } from '../core/netfilter/types.js';
import type { ScenarioPacket } from '../core/scenario.js';
import { hottest } from './counters.js';
import { callersOf, traceRows } from './selectors.js';
import type { AppState, OverlayKind, RuleChange } from './state.js';

/** One selectable row of a list overlay. */
export type OverlayItem =
  | { kind: 'diagnostic'; diag: Diagnostic }
  | { kind: 'caller'; rule: Rule }
  | { kind: 'change'; change: RuleChange }
  | { kind: 'outcome'; index: number; outcome: Outcome; current: boolean }
  | { kind: 'preset'; index: number; preset: ScenarioPacket }
  | { kind: 'hot'; key: string; pps: number; history: number[] }
  | { kind: 'entry'; name: string; path: string; current: boolean };

/** Diagnostics on show: those of a failed reload when there is one, else the loaded ruleset's. */
export function shownDiagnostics(state: AppState): Diagnostic[] {
  return state.reloadError ? state.reloadDiagnostics : state.diagnostics;
}

/** The items of an overlay (the help overlay has none: it is text from the keymap). */
export function overlayItems(state: AppState, kind: OverlayKind): OverlayItem[] {
  switch (kind) {
    case 'help':
      return [];
    case 'diagnostics':
      return shownDiagnostics(state).map((diag) => ({ kind: 'diagnostic', diag }));
    case 'callers':
      if (!state.ruleset || !state.view) return [];
      return callersOf(state.ruleset, state.view.table, state.view.chain).map((rule) => ({ kind: 'caller', rule }));
    case 'changes':
      return state.changes.map((change) => ({ kind: 'change', change }));
    case 'branches':
      return (state.trace?.result.outcomes ?? []).map((outcome, index) => ({ kind: 'outcome', index, outcome, current: index === state.trace?.outcome }));
    case 'presets':
      return state.presets.map((preset, index) => ({ kind: 'preset', index, preset }));
    case 'probe':
      return [];
    case 'entries':
      return (state.source?.entries ?? []).map((e) => ({ kind: 'entry', name: e.name, path: e.path, current: e.path === state.source?.path }));
    case 'hot':
      return state.rates ? hottest(state.rates, 12).map((h) => ({ kind: 'hot', ...h })) : [];
  }
}

/** Number of rows an overlay scrolls over. */
export function overlayRowCount(state: AppState, kind: OverlayKind): number {
  if (kind === 'help') return state.viewport.helpRows;
  if (kind === 'probe') return probeRowCount(state);
  return overlayItems(state, kind).length;
}

/** Rows of the probe overlay: a title and the rows of both traces' first outcome. */
export function probeRowCount(state: AppState): number {
  const p = state.diff?.probe !== undefined ? state.diff.probes?.[state.diff.probe] : undefined;
  if (!p) return 0;
  const rows = (t: typeof p.oldTrace) => (t.outcomes[0] ? traceRows(t.outcomes[0], false).length : 1);
  return 4 + rows(p.oldTrace) + rows(p.newTrace);
}

/** Split a counter key back into its parts. */
export function parseKey(key: string): { table: TableName; chain: string; rule: number | 'policy' } {
  const first = key.indexOf(':');
  const last = key.lastIndexOf(':');
  const r = key.slice(last + 1);
  return { table: key.slice(0, first) as TableName, chain: key.slice(first + 1, last), rule: r === 'policy' ? 'policy' : Number(r) };
}
