/**
 * The Chains pane: tables → chains (builtin first in hook order, then user chains), each with
 * policy, rule count, references and counters. Only the visible rows are built.
 */
import type { Chain } from '../../core/model.js';
import { liveCounters, simChainPackets } from '../../app/counters.js';
import { humanCount, humanRate } from '../../app/human.js';
import { annotationOf, callersOf, chainRows } from '../../app/selectors.js';
import type { AppState } from '../../app/state.js';
import { chainKey, CHANGE_HIGHLIGHT_MS } from '../../app/state.js';
import { cell, fg, fit, segments } from '../text.js';

/** What a view renders: the pane's label and its visible lines (blessed-tagged, exact width). */
export interface PaneContent {
  label: string;
  lines: string[];
}

/** Packets into a chain: the policy counter of a builtin chain, the callers' sum for a user chain. */
function chainPackets(state: AppState, chain: Chain): number | undefined {
  if (chain.builtin) return chain.counters?.packets;
  let n: number | undefined;
  for (const r of callersOf(state.ruleset!, chain.table, chain.name)) {
    const c = liveCounters(state.rates, r.table, r.chain, r.position) ?? r.counters;
    if (c) n = (n ?? 0) + c.packets;
  }
  return n;
}

const trafficCache = new WeakMap<object, boolean>();
function hasCounters(state: AppState): boolean {
  const rs = state.ruleset!;
  let v = trafficCache.get(rs);
  if (v === undefined) {
    v = false;
    outer: for (const t of rs.tables.values())
      for (const c of t.chains.values()) {
        if (c.counters && c.counters.packets > 0) {
          v = true;
          break outer;
        }
        for (const r of c.rules)
          if (r.counters && r.counters.packets > 0) {
            v = true;
            break outer;
          }
      }
    trafficCache.set(rs, v);
  }
  return v;
}

/** The Chains pane's visible rows. */
export function renderChains(state: AppState, width: number, height: number, now: number): PaneContent {
  const rows = chainRows(state);
  const lines: string[] = [];
  const w = width;
  const wideCols = w >= 38;
  // Counters column only when something counts (real counters, simulated or live).
  const hasTraffic = state.ruleset ? hasCounters(state) : false;
  const recent = state.changedAt !== null && now - state.changedAt < CHANGE_HIGHLIGHT_MS;
  const changed = recent ? new Set(state.changes.map((c) => `${c.table}:${c.chain}`)) : null;
  for (let i = state.chainsScroll; i < Math.min(rows.length, state.chainsScroll + height); i++) {
    const row = rows[i];
    const cursor = i === state.chainsCursor;
    let line: string;
    if (row.kind === 'table') {
      line = segments([[row.collapsed ? '▸ ' : '▾ ', 'gray'], [row.table, 'yellow,bold'], [`  ${row.chains} chains`, 'gray']], w);
    } else {
      const ch = row.chain;
      const viewing = state.view?.table === row.table && state.view.chain === ch.name;
      const ann = annotationOf(state.ruleset!, row.table, ch.name);
      // Tail columns: policy (builtin) or references (user chain), rule count, and on wider
      // panes packets in (real, or live rate, or simulated ⚑).
      const tail: [string, string?][] = [];
      const narrow = w < 30;
      if (ch.builtin) tail.push([narrow ? ' ' + fit(ch.policy === 'DROP' ? 'DROP' : 'ACC', 4) : fit(ch.policy ?? '', 6, 'right'), ch.policy === 'DROP' ? 'red' : 'green']);
      else tail.push([fit(ch.references > 0 ? `←${ch.references}` : '', narrow ? 5 : 6, 'right'), 'gray']);
      tail.push([fit(String(ch.rules.length), narrow ? 4 : 5, 'right'), 'white']);
      if (wideCols && (hasTraffic || state.simPackets > 0 || state.rates)) {
        const pk = chainPackets(state, ch);
        const rate = state.rates?.chains.get(chainKey(row.table, ch.name));
        const sim = simChainPackets(state, row.table, ch.name);
        const cnt = rate && rate.pps > 0 ? humanRate(rate.pps) : sim > 0 ? `${sim}⚑` : pk !== undefined && pk > 0 ? humanCount(pk) : '';
        tail.push([fit(cnt, 7, 'right'), rate && rate.pps > 0 ? 'yellow' : sim > 0 ? 'magenta' : 'gray']);
        // Bytes/s too when the pane is wide enough.
        if (state.rates && w >= 48) tail.push([fit(rate && rate.bps > 0 ? humanRate(rate.bps).replace('/s', 'B/s') : '', 8, 'right'), 'yellow']);
      }
      const tailW = tail.reduce((n, [t]) => n + t.length, 0);
      const nameW = Math.max(4, w - 3 - tailW);
      const name: [string, string][] = [[ch.name, ch.builtin ? 'white,bold' : 'white']];
      if (ann && nameW >= ch.name.length + 4) name.push([' ' + ann, 'gray']);
      else if (ann) {
        // A hashed kube-proxy name does not fit beside its Service: keep a prefix of the hash and
        // the Service (`ns/svc:port`, else `svc:port`), or just the name when even that is too long.
        for (const cand of [ann, ann.slice(ann.indexOf('/') + 1)]) {
          const keep = nameW - cand.length - 2;
          if (keep >= 9) {
            name[0] = [ch.name.length > keep + 1 ? ch.name.slice(0, keep) + '…' : ch.name, 'white'];
            name.push([' ' + cand, 'gray']);
            break;
          }
        }
      }
      const mark = changed?.has(`${row.table}:${ch.name}`) ? ['± ', 'yellow,bold'] as [string, string] : viewing ? ['▸ ', 'cyan'] as [string, string] : ['  '] as [string];
      line = segments([[' '], mark], 3) + segments(name, nameW) + segments(tail, tailW);
    }
    lines.push(cursor ? `{inverse}${line}{/inverse}` : line);
  }
  if (rows.length === 0) lines.push(cell(state.loading ?? 'no tables', w));
  const focusMark = state.focus === 'chains' ? '●' : '';
  return { label: ` 1 Chains ${focusMark}${rows.length > height ? fg('gray', ` ${state.chainsCursor + 1}/${rows.length}`) : ''} `, lines };
}
