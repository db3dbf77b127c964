/**
 * Overlays: help (generated from the keymap), diagnostics with code frames, callers, changes,
 * branches, presets, hot rules; and the diff view.
 */
import { computeChanges } from '../../app/changes.js';
import { COMMANDS } from '../../app/command.js';
import { humanRate } from '../../app/human.js';
import { overlayItems } from '../../app/overlays.js';
import type { OverlayItem } from '../../app/overlays.js';
import type { AppState, DiffLine, DiffState, RuleChange } from '../../app/state.js';
import type { Diagnostic } from '../../core/model.js';
import { KEYMAP } from '../keymap.js';
import { cell, fg, fit, segments, stripControls, truncate } from '../text.js';
import type { PaneContent } from './chains.js';
import { commentText } from './rule-text.js';
import { outcomeLines } from './trace.js';

/** The help text, generated from the keymap and the command list (plain lines, then tagged). */
export function helpLines(width: number): string[] {
  const out: string[] = [];
  const groups = [...new Set(KEYMAP.map((b) => b.group))];
  for (const g of groups) {
    out.push(fg('yellow,bold', cell(g, width)));
    for (const b of KEYMAP.filter((k) => k.group === g)) out.push(segments([['  ' + fit(b.label, 12), 'white,bold'], [b.help, '']], width));
    out.push('');
  }
  out.push(fg('yellow,bold', cell('Commands (:)', width)));
  for (const c of COMMANDS) out.push(segments([['  ' + c.syntax, 'white,bold']], width), segments([['      ' + c.help, 'gray']], width));
  out.push('');
  out.push(fg('gray', cell('Mouse: click a pane or a row to select it, wheel to scroll. Esc or ? closes this help.', width)));
  return out;
}

/** A code frame for a diagnostic: `file:line:col: message`, the source line, a caret. */
export function codeFrame(d: Diagnostic, sourceText: string): string[] {
  const lines = [`${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message} [${d.code}]`];
  const src = sourceText.split('\n')[d.line - 1];
  if (src !== undefined) {
    const clean = stripControls(src);
    lines.push(`${String(d.line).padStart(5)} | ${clean}`);
    lines.push(`${' '.repeat(5)} | ${' '.repeat(Math.max(0, Math.min(clean.length, d.column - 1)))}^`);
  }
  return lines;
}

function changeLine(c: RuleChange): [string, string][] {
  const sign = c.kind === 'added' || c.kind === 'chain-added' ? '+' : c.kind === 'removed' || c.kind === 'chain-removed' ? '-' : '~';
  const color = sign === '+' ? 'green' : sign === '-' ? 'red' : 'yellow';
  return [[`${sign} `, color + ',bold'], [`${c.table} ${c.chain}${c.position !== null ? ' #' + c.position : ''}  `, 'white'], [c.text, color]];
}

function itemLines(state: AppState, item: OverlayItem, width: number): string[] {
  switch (item.kind) {
    case 'diagnostic': {
      const [head, ...frame] = codeFrame(item.diag, state.reloadError ? state.reloadText : state.sourceText);
      const color = item.diag.severity === 'error' ? 'red' : item.diag.severity === 'warning' ? 'yellow' : 'gray';
      return [segments([[head, color]], width), ...frame.map((l) => segments([[l, 'white']], width))];
    }
    case 'caller': {
      const r = item.rule;
      const c = commentText(r);
      return [segments([[`${r.table} ${r.chain} #${r.position}  `, 'white,bold'], [r.target?.goto ? 'goto ' : 'jump ', 'gray'], [`line ${r.span.line}  `, 'gray'], [c ? `/* ${c} */` : r.raw, c ? 'green' : '']], width)];
    }
    case 'change':
      return [segments(changeLine(item.change), width)];
    case 'outcome': {
      const o = item.outcome;
      const lines = [
        segments(
          [
            [item.current ? '● ' : '  ', 'yellow'],
            [`${item.index + 1}. p ${o.probability.toFixed(3)}  `, 'white,bold'],
            [o.verdict + ' ', o.verdict === 'ACCEPT' ? 'green,bold' : 'red,bold'],
            [o.disposition.text, ''],
            [`  dst ${o.packet.dst}${o.packet.dport !== undefined ? ':' + o.packet.dport : ''}  src ${o.packet.src}`, 'gray'],
          ],
          width,
        ),
      ];
      const why = [
        ...o.branches.map((b) => `${b.table} ${b.chain} #${b.rule} statistic ${b.taken ? 'taken' : 'not taken'} (p ${b.probability.toFixed(3)})`),
        ...o.assumptions.map((a) => `${a.table} ${a.chain} #${a.rule} line ${a.line}: assumed ${a.choice === 'match' ? 'to match' : 'not to match'} — ${a.reason}`),
      ];
      lines.push(segments([['     ' + (why.join('; ') || 'no branch taken'), 'gray']], width));
      return lines;
    }
    case 'preset': {
      const p = item.preset;
      const pk = p.packet;
      const ep = (a: string, port?: number) => (port === undefined ? a : `${a}:${port}`);
      return [
        segments([[`${item.index + 1}. ${p.name}  `, 'white,bold'], [`${pk.proto} ${ep(pk.src, pk.sport)} -> ${ep(pk.dst, pk.dport)} ${pk.local ? 'local' : 'iif ' + (pk.iif ?? '?')}`, 'cyan']], width),
        segments([['     ' + (p.description ?? ''), 'gray']], width),
      ];
    }
    case 'entry':
      return [segments([[item.current ? '● ' : '  ', 'yellow'], [item.name, item.current ? 'white,bold' : 'white'], ['  ' + item.path, 'gray']], width)];
    case 'hot':
      return [segments([[fit(humanRate(item.pps) || '0/s', 9, 'right') + '  ', 'yellow,bold'], [sparkText(item.history) + '  ', 'green'], [item.key.replace(/:(\d+)$/, ' #$1'), 'white']], width)];
  }
}

const BARS = '▁▂▃▄▅▆▇█';
/** A text sparkline of a series (the overlay list; the hot view also draws blessed-contrib's). */
export function sparkText(series: number[]): string {
  const max = Math.max(0, ...series);
  return series.map((v) => (max <= 0 ? BARS[0] : BARS[Math.min(7, Math.floor((v / max) * 7.999))])).join('');
}

const TITLES: Record<string, string> = {
  help: 'Help — keys and commands',
  diagnostics: 'Diagnostics — Enter goes to the rule',
  callers: 'Callers — who jumps here (Enter goes there)',
  changes: 'Changed by the last reload (Enter goes there)',
  branches: 'Branches — outcomes of this packet (Enter follows one)',
  presets: 'Scenario packets (Enter traces one)',
  hot: 'Hottest rules by packets/s (Enter goes there)',
  entries: 'Dumps in this directory (Enter opens one)',
  probe: 'A packet that behaves differently — Enter steps through the new trace',
};

/** The open overlay's visible rows (the cursor row in inverse). */
export function renderOverlay(state: AppState, width: number, height: number): PaneContent {
  const o = state.overlay!;
  let title = TITLES[o.kind];
  if (o.kind === 'callers' && state.view) title = `Callers of ${state.view.table} ${state.view.chain} — Enter goes there`;
  const label = ` ${stripControls(title).replace(/[{}]/g, '')} · Esc closes `;
  if (o.kind === 'probe') {
    const p = state.diff?.probe !== undefined ? state.diff.probes?.[state.diff.probe] : undefined;
    if (!p) return { label, lines: [] };
    const side = (title: string, t: typeof p.oldTrace, color: string): string[] => {
      const n = t.outcomes.length;
      const head = segments([[title, color], [n > 1 ? ` (outcome 1 of ${n}, p ${t.outcomes[0].probability.toFixed(2)})` : '', 'gray']], width);
      return [head, ...(t.outcomes[0] ? outcomeLines(state, t.outcomes[0], width) : [fg('gray', cell(' no outcome', width))])];
    };
    const all = [segments([[p.label, 'magenta,bold']], width), ...side('Before (the ruleset before the reload)', p.oldTrace, 'red,bold'), '', ...side('After (Enter steps through it in the panes)', p.newTrace, 'green,bold')];
    return { label, lines: all.slice(o.scroll, o.scroll + height) };
  }
  if (o.kind === 'help') {
    const all = helpLines(width);
    return { label, lines: all.slice(o.scroll, o.scroll + height) };
  }
  const items = overlayItems(state, o.kind);
  if (items.length === 0) return { label, lines: [fg('gray', cell(o.kind === 'diagnostics' ? 'No diagnostics: the dump parsed cleanly.' : 'Nothing to list.', width))] };
  const per = itemLines(state, items[0], width).length;
  const fitCount = Math.max(1, Math.floor(height / per));
  let start = Math.min(o.scroll, o.cursor);
  if (o.cursor >= start + fitCount) start = o.cursor - fitCount + 1;
  const lines: string[] = [];
  for (let i = start; i < items.length && lines.length < height; i++) {
    const ls = itemLines(state, items[i], width);
    for (const l of ls) lines.push(i === o.cursor ? `{inverse}${l}{/inverse}` : l);
  }
  const count = fg('gray', ` ${o.cursor + 1}/${items.length}`);
  return { label: label + count + ' ', lines: lines.slice(0, height) };
}

const diffCache = new WeakMap<DiffState, RuleChange[]>();

/** Colour of a unified-diff line by its first character. */
function diffColor(text: string): string {
  if (text.startsWith('+++') || text.startsWith('---')) return 'white,bold';
  if (text.startsWith('+')) return 'green';
  if (text.startsWith('-')) return 'red';
  if (text.startsWith('@@')) return 'cyan';
  if (text.startsWith('!')) return 'magenta,bold';
  if (text.startsWith('#')) return 'yellow';
  return '';
}

function renderDiffLines(d: DiffState, lines: DiffLine[], width: number, height: number): PaneContent {
  const cursor = Math.min(d.cursor, Math.max(0, lines.length - 1));
  const start = Math.max(0, Math.min(cursor - Math.floor(height / 2), lines.length - height));
  const out: string[] = [];
  for (let i = start; i < Math.min(lines.length, start + height); i++) {
    const l = segments([[lines[i].text, diffColor(lines[i].text)]], width);
    out.push(i === cursor ? `{inverse}${l}{/inverse}` : l);
  }
  if (lines.length === 0) out.push(fg('gray', cell('No difference.', width)));
  const label = ` Diff · ${truncate(stripControls(d.before.label), 30)} → ${truncate(stripControls(d.after.label), 30)} · ${cursor + 1}/${lines.length} · Enter on ! shows the trace · d/Esc back `.replace(/[{}]/g, '');
  return { label, lines: out };
}

/** The diff view: the rules changed between the two snapshots, as a unified list. */
export function renderDiff(state: AppState, width: number, height: number): PaneContent {
  const d = state.diff!;
  if (d.lines) return renderDiffLines(d, d.lines, width, height);
  let changes = diffCache.get(d);
  if (!changes) {
    // The last reload's changes when the view compares exactly those two loads (computed once, by
    // the source effect); otherwise compared now, on demand (raw lines only).
    const lastReload = state.previous?.ruleset === d.before.ruleset && state.ruleset === d.after.ruleset;
    changes = lastReload ? state.changes : computeChanges(d.before.ruleset, d.after.ruleset);
    diffCache.set(d, changes);
  }
  const label = ` Diff · ${truncate(stripControls(d.before.label), 30)} → ${truncate(stripControls(d.after.label), 30)} · ${changes.length} change${changes.length === 1 ? '' : 's'} `.replace(/[{}]/g, '');
  const lines: string[] = [];
  const cursor = Math.min(d.cursor, Math.max(0, changes.length - 1));
  const start = Math.max(0, cursor - height + 1);
  for (let i = start; i < Math.min(changes.length, start + height); i++) {
    const l = segments(changeLine(changes[i]), width);
    lines.push(i === cursor ? `{inverse}${l}{/inverse}` : l);
  }
  if (changes.length === 0) lines.push(fg('gray', cell('No rule changed (counters are not part of identity).', width)));
  return { label, lines };
}
