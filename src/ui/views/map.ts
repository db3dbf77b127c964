/**
 * The Map: netfilter's hooks and routing decisions as a picture, the tables at each hook, the
 * packet's current position highlighted and the hooks it went through marked.
 *
 *    in ─▶ PREROUTING ─▶ (route) ─▶ FORWARD ─▶ POSTROUTING ─▶ out
 *          raw mgl nat      │       mgl flt sec  mgl nat  ▲
 *                           ▼                             │
 *                         INPUT ─▶ local ─▶ OUTPUT ─▶ (route)
 *                         mgl flt sec nat   raw mgl nat flt sec
 *
 * (the kernel's own picture: net/netfilter/core.c and the iptables "packet flow" diagram.)
 */
import type { HookName, TableName } from '../../core/model.js';
import { TABLE_HOOKS, TABLE_NAMES } from '../../core/model.js';
import { currentOutcome, currentStep } from '../../app/selectors.js';
import type { AppState } from '../../app/state.js';
import { escapeTags } from '../text.js';
import type { PaneContent } from './chains.js';

const SHORT: Record<TableName, string> = { raw: 'raw', mangle: 'mgl', nat: 'nat', filter: 'flt', security: 'sec' };

/** Diagram rows; named regions are placed at fixed columns. */
const ROWS = [
  ' in ─▶ PREROUTING ─▶ (route) ─▶ FORWARD ─▶ POSTROUTING ─▶ out',
  '                        │                            ▲',
  '                        ▼                            │',
  '                      INPUT ─▶ local ─▶ OUTPUT ─▶ (route)',
  '',
];

type RegionId = HookName | 'in' | 'out' | 'local' | 'route1' | 'route2';
const REGIONS: Record<RegionId, { row: number; col: number; len: number }> = {
  in: { row: 0, col: 1, len: 2 },
  PREROUTING: { row: 0, col: 7, len: 10 },
  route1: { row: 0, col: 21, len: 7 },
  FORWARD: { row: 0, col: 32, len: 7 },
  POSTROUTING: { row: 0, col: 43, len: 11 },
  out: { row: 0, col: 58, len: 3 },
  INPUT: { row: 3, col: 22, len: 5 },
  local: { row: 3, col: 31, len: 5 },
  OUTPUT: { row: 3, col: 40, len: 6 },
  route2: { row: 3, col: 50, len: 7 },
};
/** Where each hook's table list is drawn (row, col). */
const TABLE_POS: Record<HookName, { row: number; col: number }> = {
  PREROUTING: { row: 1, col: 7 },
  FORWARD: { row: 1, col: 32 },
  POSTROUTING: { row: 1, col: 44 },
  INPUT: { row: 4, col: 22 },
  OUTPUT: { row: 4, col: 40 },
};

/** Tables that run at a hook, in priority order (raw, mangle, nat for DNAT, filter, security). */
export function tablesAt(hook: HookName): TableName[] {
  // Priorities: raw -300, mangle -150, nat DNAT -100, filter 0, security 50, nat SNAT 100.
  const order: TableName[] = hook === 'POSTROUTING' || hook === 'INPUT' ? ['mangle', 'filter', 'security', 'nat'] : ['raw', 'mangle', 'nat', 'filter', 'security'];
  return order.filter((t) => TABLE_NAMES.includes(t) && TABLE_HOOKS[t].includes(hook));
}

interface Paint {
  row: number;
  col: number;
  len: number;
  style: string;
}

/** The Map pane: the diagram with the packet's position. */
export function renderMap(state: AppState, width: number, height: number): PaneContent {
  const grid = ROWS.map((r) => Array.from(r.padEnd(64)));
  const paints: Paint[] = [];
  const present = new Set(state.ruleset ? [...state.ruleset.tables.keys()] : []);
  const outcome = currentOutcome(state);
  const cur = currentStep(state);
  const visited = new Set<HookName>();
  if (outcome && cur) for (let i = 0; i <= cur.index; i++) visited.add(outcome.steps[i].hook);
  // Table lists under each hook.
  for (const hook of Object.keys(TABLE_POS) as HookName[]) {
    const pos = TABLE_POS[hook];
    let col = pos.col;
    for (const t of tablesAt(hook)) {
      const label = SHORT[t];
      for (let k = 0; k < label.length; k++) grid[pos.row][col + k] = label[k];
      const isCur = cur && cur.step.hook === hook && cur.step.table === t;
      paints.push({ row: pos.row, col, len: label.length, style: isCur ? 'black,yellow-bg,bold' : present.has(t) ? 'yellow' : 'gray' });
      col += label.length + 1;
    }
  }
  for (const [id, r] of Object.entries(REGIONS) as [RegionId, { row: number; col: number; len: number }][]) {
    let style = 'white';
    if (id === 'route1' || id === 'route2' || id === 'local' || id === 'in' || id === 'out') style = 'cyan';
    else style = visited.has(id as HookName) ? 'green,bold' : 'white';
    if (cur) {
      const s = cur.step;
      const last = outcome && cur.index === outcome.steps.length - 1;
      if (s.kind === 'route' && ((id === 'route1' && s.hook !== 'OUTPUT') || (id === 'route2' && s.hook === 'OUTPUT'))) style = 'black,cyan-bg,bold';
      else if (s.kind !== 'route' && id === s.hook) style = outcome && last && outcome.verdict !== 'ACCEPT' ? 'white,red-bg,bold' : 'black,green-bg,bold';
      if (last && outcome) {
        const d = outcome.disposition.kind;
        if ((d === 'delivered' && id === 'local') || ((d === 'forwarded' || d === 'sent') && id === 'out')) style = 'black,green-bg,bold';
      }
      if (outcome && !outcome.steps[0]?.state.iif && id === 'local' && s.hook === 'OUTPUT' && cur.index === 0) style = 'black,cyan-bg';
    }
    paints.push({ ...r, style });
  }
  const lines: string[] = [];
  for (let row = 0; row < grid.length && row < height; row++) {
    const ps = paints.filter((p) => p.row === row).sort((a, b) => a.col - b.col);
    let out = '';
    let col = 0;
    const chars = grid[row];
    for (const p of ps) {
      if (p.col < col) continue;
      out += escapeTags(chars.slice(col, p.col).join(''));
      const txt = escapeTags(chars.slice(p.col, p.col + p.len).join(''));
      out += style(p.style, txt);
      col = p.col + p.len;
    }
    out += escapeTags(chars.slice(col, Math.max(col, width)).join('').trimEnd());
    lines.push(out);
  }
  if (height > grid.length) {
    const legend = cur ? `{gray-fg} now: ${escapeTags(cur.step.hook)}${cur.step.table ? ' · ' + cur.step.table : ''}  ·  green: hooks passed{/gray-fg}` : '{gray-fg} raw mgl=mangle nat flt=filter sec=security{/gray-fg}';
    lines.push(legend);
  }
  return { label: ` 5 Map ${state.focus === 'map' ? '● ' : ''}`, lines };
}

function style(spec: string, text: string): string {
  let open = '';
  let close = '';
  for (const s of spec.split(',')) {
    const tag = s === 'bold' || s.endsWith('-bg') ? s : `${s}-fg`;
    open += `{${tag}}`;
    close = `{/${tag}}` + close;
  }
  return open + text + close;
}
