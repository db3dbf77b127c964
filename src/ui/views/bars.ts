/**
 * The title bar (source, rules, diagnostics, last reload, demo banner, file gone, reload failed)
 * and the footer (the line being typed, a message, or key hints for the focused pane).
 */
import { grouped } from '../../app/human.js';
import { shownDiagnostics } from '../../app/overlays.js';
import { ruleCount } from '../../app/selectors.js';
import type { AppState } from '../../app/state.js';
import { CHANGE_HIGHLIGHT_MS } from '../../app/state.js';
import { keyHints } from '../keymap.js';
import { segments } from '../text.js';
import type { Segment } from './rule-text.js';

function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The title bar: source, size, diagnostics, load time, live/watch state, alarms. */
export function renderTitle(state: AppState, width: number, now: number): string {
  const segs: Segment[] = [[' iptscope', 'white,bold']];
  const src = state.source;
  // Alarms first, so a narrow terminal still shows them.
  if (state.gone) segs.push([' ', ''], [' FILE GONE — last good ruleset kept ', 'white,red-bg,bold']);
  if (state.reloadError) segs.push([' ', ''], [` RELOAD FAILED (D): ${state.reloadError} — last good ruleset kept `, 'white,red-bg,bold']);
  if (src?.demo) segs.push([' ', ''], [' DEMO ', 'black,yellow-bg,bold']);
  if (src) {
    segs.push([' · ', 'gray'], [src.label, 'cyan']);
    if (src.capturedAt) segs.push([` (captured ${src.capturedAt})`, 'gray']);
  }
  if (state.ruleset) {
    segs.push([' · ', 'gray'], [`${grouped(ruleCount(state.ruleset))} rules`, 'white'], [` ${state.family}`, 'gray']);
    const diags = shownDiagnostics(state);
    const errors = diags.filter((d) => d.severity === 'error').length;
    segs.push([' · ', 'gray'], [`${diags.length} diagnostic${diags.length === 1 ? '' : 's'}`, errors > 0 ? 'red,bold' : diags.length > 0 ? 'yellow' : 'white']);
    if (diags.length > 0) segs.push([' (D)', 'gray']);
  }
  if (state.changes.length > 0) {
    const fresh = state.changedAt !== null && now - state.changedAt < CHANGE_HIGHLIGHT_MS;
    segs.push([' · ', 'gray'], [`${state.changes.length} change${state.changes.length === 1 ? '' : 's'} (C)`, fresh ? 'black,yellow-bg' : 'yellow']);
  }
  if (state.loadedAt !== null) segs.push([' · ', 'gray'], [`loaded ${clock(state.loadedAt)}`, 'gray']);
  if (src?.watching) segs.push([' · ', 'gray'], ['watching', 'green']);
  if (state.rates) segs.push([' · ', 'gray'], ['live rates', 'yellow']);
  if (state.simPackets > 0) segs.push([' · ', 'gray'], [`sim ${state.simPackets} pkt${state.simPackets === 1 ? '' : 's'}`, 'magenta']);
  if (state.loading) segs.push([' · ', 'gray'], [state.loading, 'yellow']);
  return segments(segs, width);
}

/** A one-line demo banner under the title when the demo is shown (explains why). */
export function demoBanner(state: AppState): string | null {
  const src = state.source;
  if (!src?.demo) return null;
  return src.notes[0] ?? 'This is the built-in demo scenario, not your host.';
}

/** The bottom line: typed input, a message, the search position, or key hints. */
export function renderFooter(state: AppState, width: number): string {
  const input = state.input;
  if (input) {
    const prefix = input.kind === 'command' ? ':' : input.kind === 'search' ? '/' : `${input.field}: `;
    return segments([[prefix, 'yellow,bold'], [input.text, 'white'], ['█', 'white'], ['   Enter ok · Esc cancel', 'gray']], width);
  }
  if (state.flash) return segments([[' ' + state.flash.text, state.flash.level === 'error' ? 'red,bold' : 'yellow']], width);
  if (state.search && state.search.hits.length > 0) {
    const se = state.search;
    return segments([[` /${se.query}`, 'yellow'], [`  hit ${se.index + 1} of ${se.hits.length}  n/N next/prev · Esc clears`, 'gray']], width);
  }
  if (state.mode === 'diff') return segments([[' diff view · j/k move · d or Esc returns', 'gray']], width);
  return segments([[' ' + keyHints(state.focus, state.trace !== null), 'gray']], width);
}
