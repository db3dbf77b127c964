import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createController } from '../../src/app/controller.js';
import type { PaneId } from '../../src/app/state.js';
import { PANES } from '../../src/app/state.js';
import { createStore } from '../../src/app/store.js';
import { parseRuleset } from '../../src/core/parse/index.js';
import { KEYMAP, lookupKey } from '../../src/ui/keymap.js';
import { computeLayout } from '../../src/ui/layout.js';
import type { Rect } from '../../src/ui/layout.js';
import { startScreen } from '../../src/ui/screen.js';
import { textWidth, untag } from '../../src/ui/text.js';
import { renderChains } from '../../src/ui/views/chains.js';
import { helpLines, renderOverlay } from '../../src/ui/views/overlays.js';
import { renderMap } from '../../src/ui/views/map.js';
import { renderRules } from '../../src/ui/views/rules.js';
import { renderState, renderTrace } from '../../src/ui/views/trace.js';
import { clusterIpTrace, loadedStore, payload, sampled } from '../app/helpers.js';

const ESC = '\u001b';
/** A dump whose comments and chain names try to take over the terminal. */
const HOSTILE = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:{red-fg}EVIL - [0:0]
-A INPUT -m comment --comment "${ESC}]0;pwned${'\u0007'}{red-fg}RED{/red-fg}${ESC}[2J${ESC}[10;10Hmoved" -j {red-fg}EVIL
-A {red-fg}EVIL -m comment --comment "${ESC}]52;c;ZWNobyBoaQ==${ESC}\\\\ {bold}x" -j ACCEPT
COMMIT
`;

describe('hostile comments and chain names', () => {
  const store = createStore();
  store.dispatch({ type: 'resize', viewport: { chains: 10, rules: 10, trace: 10, overlay: 10, helpRows: 10 } });
  store.dispatch({ type: 'loaded', payload: payload(HOSTILE, 'hostile.rules') });
  it('parses (the comment is data)', () => {
    expect(store.getState().ruleset?.tables.get('filter')?.chains.has('{red-fg}EVIL')).toBe(true);
  });
  it.each([
    ['rules', () => renderRules(store.getState(), 100, 10, 0)],
    ['chains', () => renderChains(store.getState(), 40, 10, 0)],
  ])('the %s pane carries no escape and no tag from the dump', (_n, render) => {
    const c = render();
    const text = [c.label, ...c.lines].join('\n');
    expect(text).not.toContain(ESC);
    expect(text).not.toContain('\u0007');
    expect(text).not.toMatch(/\{red-fg\}RED|\{bold\}x|\{red-fg\}EVIL/);
    expect(untag(text)).toMatch(/\{red-fg\}EVIL/);
  });
  it('the screen output holds none of the comment\'s sequences', async () => {
    const output = new PassThrough();
    const input = new PassThrough();
    let written = '';
    output.on('data', (d: Buffer) => (written += d.toString('utf8')));
    Object.assign(output, { columns: 120, rows: 30, isTTY: true });
    const ui = startScreen(store, createController(store, null), { input, output, terminal: 'xterm-256color' });
    // follow the jump into the hostile chain too
    store.dispatch({ type: 'focus', pane: 'rules' });
    store.dispatch({ type: 'activate' });
    ui.render();
    ui.destroy();
    await ui.done;
    expect(written.length).toBeGreaterThan(1000);
    expect(written).not.toContain(`${ESC}]0;pwned`);
    expect(written).not.toContain(`${ESC}]52`);
    expect(written).not.toContain(`${ESC}[10;10Hmoved`);
    expect(written).toContain('{red-fg}EVIL');
  });
});

describe('layout', () => {
  const inside = (r: Rect, w: number, h: number) => r.left >= 0 && r.top >= 0 && r.left + r.width <= w && r.top + r.height <= h;
  const overlap = (a: Rect, b: Rect) => a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;
  it.each([
    [80, 24],
    [100, 30],
    [140, 40],
    [200, 60],
  ])('%i×%i: panes inside the screen, not overlapping, the focused one always shown', (w, h) => {
    for (const focus of PANES) {
      const l = computeLayout(w, h, focus);
      const shown = (['chains', 'rules', 'packet', 'trace', 'map', 'state', 'title', 'footer'] as const).map((k) => l[k]).filter((r): r is Rect => r !== null);
      for (const r of shown) expect(inside(r, w, h)).toBe(true);
      for (let i = 0; i < shown.length; i++) for (let j = i + 1; j < shown.length; j++) expect(overlap(shown[i], shown[j])).toBe(false);
      expect(l[focus as PaneId]).not.toBeNull();
      expect(l.chains!.height).toBeGreaterThanOrEqual(8);
      expect(l.rules!.height).toBeGreaterThanOrEqual(8);
    }
  });
  it('140×40 shows all six panes at once', () => {
    const l = computeLayout(140, 40, 'chains');
    for (const k of ['chains', 'rules', 'packet', 'trace', 'map', 'state'] as const) expect(l[k]).not.toBeNull();
  });
});

describe('keymap and help', () => {
  it('no key is bound twice', () => {
    const seen = new Map<string, string>();
    for (const b of KEYMAP) for (const k of b.keys) {
      expect(seen.has(k), `${k} bound to ${seen.get(k)} and ${b.help}`).toBe(false);
      seen.set(k, b.help);
    }
  });
  it('help is generated from every binding', () => {
    const text = untag(helpLines(100).join('\n'));
    for (const b of KEYMAP) expect(text).toContain(b.help);
    expect(text).toContain(':chain [TABLE] NAME');
  });
  it.each([
    ['S-g', 'G', 'edge'],
    ['enter', '\r', 'enter'],
    [':', ':', 'command'],
    ['?', '?', 'help'],
    ['S-tab', undefined, 'focusCycle'],
  ])('%s → %s', (full, ch, id) => expect(lookupKey(full, ch)?.id).toBe(id));
});

describe('trace views', () => {
  it('trace rows are grouped by hook with the cursor on the current step', () => {
    const store = loadedStore();
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    store.dispatch({ type: 'step', delta: 2 });
    const t = renderTrace(store.getState(), 70, 20);
    const lines = t.lines.map(untag);
    expect(lines[0].trim()).toBe('PREROUTING');
    expect(lines.find((l) => l.startsWith('▶'))).toMatch(/KUBE-SERVICES #2 ✓ → KUBE-SVC-AAA/);
    expect(lines.some((l) => l.trim() === 'FORWARD')).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/= ACCEPT: forwarded out cni0/);
    expect(untag(t.label)).toMatch(/step 3\/14 · outcome 1 of 2 \(p 0\.50\)/);
    for (const l of t.lines) expect(textWidth(untag(l))).toBe(70);
  });
  it('the state box shows mark in hex and original → translated addresses', () => {
    const store = loadedStore();
    const r = clusterIpTrace();
    r.outcomes[0].steps[5].state.mark = 0x4000;
    store.dispatch({ type: 'traced', result: r });
    store.dispatch({ type: 'step', delta: 5 });
    const text = renderState(store.getState(), 70, 10).lines.map(untag).join('\n');
    expect(text).toMatch(/PREROUTING · nat · KUBE-SEP-1 #2/);
    expect(text).toMatch(/mark 0x4000/);
    expect(text).toMatch(/dst 10\.96\.0\.100:80 → 10\.244\.1\.11:80 \(DNAT\)/);
    expect(text).toMatch(/changes: DNAT → 10\.244\.1\.11:80/);
  });
  it('the map highlights the current hook and table', () => {
    const store = loadedStore();
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    const lines = renderMap(store.getState(), 64, 7).lines;
    expect(lines[0]).toMatch(/\{black-fg\}\{green-bg\}\{bold\}PREROUTING/);
    expect(lines[1]).toMatch(/\{black-fg\}\{yellow-bg\}\{bold\}nat/);
    expect(untag(lines[3])).toMatch(/INPUT ─▶ local ─▶ OUTPUT ─▶ \(route\)/);
  });
  it('the rules pane marks the step row and shows simulated counters', () => {
    const store = loadedStore();
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    store.dispatch({ type: 'step', delta: 2 });
    const c = renderRules(store.getState(), 150, 8, 0);
    const lines = c.lines.map(untag);
    expect(lines[0]).toMatch(/#\s+pkts\s+bytes\s+sim\s+bytes\s+match/);
    expect(lines.find((l) => l.startsWith('▶'))).toMatch(/▶\s+2\s+7\s+420\s+1\s+60 -d 10\.96\.0\.100\/32 -p tcp --dport 80 \/\* default\/web:http cluster IP \*\/\s+→ KUBE-SVC-AAA/);
    expect(untag(c.label)).toMatch(/nat › PREROUTING › KUBE-SERVICES/);
  });
  it('the branches overlay lists outcomes with probabilities', () => {
    const store = loadedStore();
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    store.dispatch({ type: 'openOverlay', overlay: 'branches' });
    const text = renderOverlay(store.getState(), 100, 10).lines.map(untag).join('\n');
    expect(text).toMatch(/1\. p 0\.500 {2}ACCEPT forwarded out cni0/);
    expect(text).toMatch(/KUBE-SVC-AAA #1 statistic taken \(p 0\.500\)/);
    expect(text).toMatch(/KUBE-SVC-AAA #1 statistic not taken/);
  });
  it('the diagnostics overlay shows code frames with line numbers', () => {
    const store = createStore();
    store.dispatch({ type: 'loaded', payload: payload('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT --bogus-option 1 -j ACCEPT\nCOMMIT\n', 'bad.rules') });
    expect(store.getState().diagnostics.length).toBeGreaterThan(0);
    store.dispatch({ type: 'openOverlay', overlay: 'diagnostics' });
    const text = renderOverlay(store.getState(), 100, 10).lines.map(untag).join('\n');
    expect(text).toMatch(/bad\.rules:3:\d+: error/);
    expect(text).toMatch(/ {4}3 \| -A INPUT --bogus-option 1 -j ACCEPT/);
    expect(text).toMatch(/\| +\^/);
  });
});

it('parses the hostile dump without diagnostics about the comment', () => {
  const r = parseRuleset(HOSTILE, { file: 'h' });
  expect(r.ruleset.tables.get('filter')?.chains.get('INPUT')?.rules.length).toBe(1);
});

describe('headless screen', () => {
  function headless(store: ReturnType<typeof loadedStore>) {
    const output = new PassThrough();
    let written = '';
    output.on('data', (d: Buffer) => (written += d.toString('utf8')));
    Object.assign(output, { columns: 140, rows: 40, isTTY: true });
    const ui = startScreen(store, createController(store, null), { input: new PassThrough(), output, terminal: 'xterm-256color' });
    return { ui, text: () => written };
  }
  it('draws blessed-contrib sparklines for the hottest rules', async () => {
    const store = loadedStore();
    const { ui, text } = headless(store);
    for (let i = 0; i < 5; i++) {
      store.dispatch(
        sampled(
          i * 2000,
          [
            ['nat:KUBE-SERVICES:2', { pps: 10 + i * 10, bps: 600 }],
            ['nat:PREROUTING:1', { pps: 3, bps: 180 }],
          ],
          [['nat:KUBE-SERVICES', { pps: 50, bps: 3000 }]],
        ),
      );
    }
    ui.key('H', 'S-h');
    ui.render();
    expect(store.getState().overlay?.kind).toBe('hot');
    // What blessed holds on screen (its cell buffer), row by row.
    const cells = (ui.screen as unknown as { lines: [unknown, string][][] }).lines.map((l) => l.map((c) => c[1]).join('')).join('\n');
    expect(cells).toMatch(/Hottest rules/);
    expect(cells).toMatch(/50\/s\s+nat KUBE-SERVICES #2/);
    expect(cells).toMatch(/[▁▂▃▄▅▆▇█]{3,}/);
    ui.key(undefined, 'enter');
    ui.render();
    expect(store.getState().view?.chain).toBe('KUBE-SERVICES');
    ui.destroy();
    await ui.done;
    expect(text().length).toBeGreaterThan(1000);
  });
  it('live rates show as packets/s and bytes/s per rule and per chain', () => {
    const store = loadedStore();
    store.dispatch({ type: 'showChain', chain: 'KUBE-SERVICES' });
    store.dispatch(sampled(1, [['nat:KUBE-SERVICES:2', { pps: 1500, bps: 90_000 }]], [['nat:KUBE-SERVICES', { pps: 1500, bps: 90_000 }]]));
    const rules = renderRules(store.getState(), 150, 6, 0).lines.map(untag);
    expect(rules[0]).toMatch(/pkt\/s\s+B\/s/);
    expect(rules[2]).toMatch(/1\.5K\/s\s+90KB\/s/);
    const chains = renderChains(store.getState(), 50, 12, 0).lines.map(untag);
    expect(chains.find((l) => l.includes('KUBE-SERVICES'))).toMatch(/1\.5K\/s\s+90KB\/s/);
  });
  it('a mouse click selects the row under the pointer; the wheel scrolls', () => {
    const store = loadedStore();
    store.dispatch({ type: 'clickRow', pane: 'chains', row: 5 });
    expect(store.getState().focus).toBe('chains');
    expect(store.getState().view?.chain).toBe('KUBE-SERVICES');
    store.dispatch({ type: 'clickRow', pane: 'rules', row: 1 });
    expect(store.getState().focus).toBe('rules');
    expect(store.getState().rulesCursor).toBe(1);
    store.dispatch({ type: 'scroll', pane: 'chains', delta: 3 });
    expect(store.getState().chainsScroll).toBe(3);
  });
  it('q destroys the screen and resolves done', async () => {
    const store = loadedStore();
    const { ui } = headless(store);
    ui.key('q', 'q');
    await ui.done;
    expect(store.getState().quit).toBe(true);
  });
});

describe('chains pane names', () => {
  const dump = '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SVC-LOLE4ISW44XBNF3G - [0:0]\n-A PREROUTING -m comment --comment "default/web:http cluster IP" -j KUBE-SVC-LOLE4ISW44XBNF3G\nCOMMIT\n';
  it.each([
    [60, /KUBE-SVC-LOLE4ISW44XBNF3G default\/web:http/],
    [34, /KUBE-SVC-L… web:http/],
    [24, /KUBE-SVC-LO…\s+←1/],
  ])('at %i columns a hashed chain shows %s', (w, re) => {
    const store = loadedStore(dump);
    const line = renderChains(store.getState(), w, 10, 0).lines.map(untag).find((l) => l.includes('KUBE-SVC'))!;
    expect(line).toMatch(re);
    expect(textWidth(line)).toBe(w);
  });
});

describe('diff probe overlay', () => {
  it('shows the trace before and after', () => {
    const store = loadedStore();
    const r = clusterIpTrace();
    const before = { ...r, outcomes: [{ ...r.outcomes[1], verdict: 'DROP' as const, disposition: { kind: 'dropped' as const, text: 'dropped by filter:FORWARD:policy' } }] };
    store.dispatch({ type: 'loaded', payload: payload(store.getState().sourceText.replace('10.96.0.9/32', '10.96.0.8/32'), 'test.rules', 5_000_000) });
    store.dispatch({ type: 'openDiff', diff: { before: store.getState().previous!, after: { label: 'now', ruleset: store.getState().ruleset! }, lines: [{ text: '! pod → svc', probe: 0 }], probes: [{ label: 'pod → svc', oldTrace: before, newTrace: r }] } });
    store.dispatch({ type: 'openProbe', index: 0 });
    const text = renderOverlay(store.getState(), 100, 60).lines.map(untag).join('\n');
    expect(text).toMatch(/pod → svc/);
    expect(text).toMatch(/Before[\s\S]*= DROP: dropped by filter:FORWARD:policy[\s\S]*After \(Enter steps through it in the panes\) \(outcome 1 of 2, p 0\.50\)[\s\S]*= ACCEPT: forwarded out cni0/);
  });
});
