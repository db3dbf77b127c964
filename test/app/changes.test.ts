/**
 * The change summary of a reload (src/app/changes.ts): table-driven cases per chain and per
 * ruleset, the effects' SourceChanges built from it, and — with every rule's parsed parts
 * guarded — proof that neither the summary nor the explorer's load, first paint, scrolling and
 * reload build the structure of rules that are not on screen.
 */
import { describe, expect, it } from 'vitest';
import { computeChanges } from '../../src/app/changes.js';
import { diffSources } from '../../src/app/effects/changes.js';
import { createController } from '../../src/app/controller.js';
import { annotationOf, callersOf, chainRows, viewChain } from '../../src/app/selectors.js';
import { createStore } from '../../src/app/store.js';
import type { Rule, Ruleset } from '../../src/core/model.js';
import { parseRuleset } from '../../src/core/parse/index.js';
import { sourceCallbacks, toPayload } from '../../src/cli/tui.js';
import { generateKubeProxyDump } from '../../src/gen/kubeproxy.js';
import { sourceFromText } from '../../src/sources/directory.js';
import { renderChains } from '../../src/ui/views/chains.js';
import { renderRules } from '../../src/ui/views/rules.js';
import { guardRules } from './helpers.js';

/** A filter table whose user chain C holds `rules` (each a rule body after `-A C`). */
function chainDump(rules: string[], extra = ''): Ruleset {
  const lines = rules.map((r) => (r.startsWith('[') ? r.replace('] ', '] -A C ') : `-A C ${r}`));
  return parseRuleset(`*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:C - [0:0]\n${extra}${lines.join('\n')}\nCOMMIT\n`, { file: 't.rules' }).ruleset;
}

const show = (c: ReturnType<typeof computeChanges>[number]) =>
  `${c.kind} ${c.table} ${c.chain}${c.position !== null ? ' ' + c.position : ''}: ${c.text}${c.before !== undefined ? ` (was ${c.before})` : ''}`;

const R = (s: string) => `-s 10.0.0.${s}/32 -j ACCEPT`;
const C = (s: string) => `-A C ${R(s)}`;

describe('computeChanges within one chain', () => {
  const cases: { name: string; before: string[]; after: string[]; want: string[] }[] = [
    { name: 'nothing changed', before: [R('1'), R('2')], after: [R('1'), R('2')], want: [] },
    { name: 'only counters moved', before: [`[5:300] ${R('1')}`], after: [`[9:540] ${R('1')}`], want: [] },
    { name: 'spacing outside quotes', before: [R('1')], after: [`-s 10.0.0.1/32   -j  ACCEPT`], want: [] },
    { name: 'insert at the top is one addition (kube-proxy)', before: [R('1'), R('2'), R('3')], after: [R('0'), R('1'), R('2'), R('3')], want: [`added filter C 1: ${C('0')}`] },
    { name: 'append', before: [R('1'), R('2')], after: [R('1'), R('2'), R('3')], want: [`added filter C 3: ${C('3')}`] },
    { name: 'remove in the middle', before: [R('1'), R('2'), R('3')], after: [R('1'), R('3')], want: [`removed filter C 2: ${C('2')}`] },
    { name: 'edit in place', before: [R('1'), R('2'), R('3')], after: [R('1'), R('9'), R('3')], want: [`changed filter C 2: ${C('9')} (was ${C('2')})`] },
    {
      name: 'insert at the top and edit further down',
      before: [R('1'), R('2'), R('3'), R('4')],
      after: [R('0'), R('1'), R('2'), R('7'), R('4')],
      want: [`added filter C 1: ${C('0')}`, `changed filter C 4: ${C('7')} (was ${C('3')})`],
    },
    {
      name: 'every endpoint replaced',
      before: [R('1'), R('2')],
      after: [R('5'), R('6')],
      want: [`changed filter C 1: ${C('5')} (was ${C('1')})`, `changed filter C 2: ${C('6')} (was ${C('2')})`],
    },
    { name: 'a duplicate removed', before: [R('1'), R('1'), R('2')], after: [R('1'), R('2')], want: [`removed filter C 2: ${C('1')}`] },
    { name: 'a moved rule is not a change (content-matched)', before: [R('1'), R('2'), R('3')], after: [R('3'), R('1'), R('2')], want: [] },
    {
      name: 'insert at the top, remove at the end: not paired',
      before: [R('1'), R('2'), R('3')],
      after: [R('0'), R('1'), R('2')],
      want: [`added filter C 1: ${C('0')}`, `removed filter C 3: ${C('3')}`],
    },
    {
      name: 'a comment edited',
      before: ['-m comment --comment "ns/a:http" -j ACCEPT'],
      after: ['-m comment --comment "ns/a:https" -j ACCEPT'],
      want: ['changed filter C 1: -A C -m comment --comment "ns/a:https" -j ACCEPT (was -A C -m comment --comment "ns/a:http" -j ACCEPT)'],
    },
  ];
  it.each(cases)('$name', ({ before, after, want }) => {
    expect(computeChanges(chainDump(before), chainDump(after)).map(show)).toEqual(want);
  });
});

describe('computeChanges across chains and tables', () => {
  const base = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j ACCEPT\n-A B -j DROP\n-A B -j RETURN\nCOMMIT\n';
  const parse = (t: string) => parseRuleset(t, { file: 't.rules' }).ruleset;
  const cases: { name: string; after: string; want: string[] }[] = [
    {
      name: 'a chain added, with its rules',
      after: base.replace(':B - [0:0]\n', ':B - [0:0]\n:N - [0:0]\n').replace('COMMIT', '-A N -j LOG\nCOMMIT'),
      want: ['chain-added filter N: chain N added', 'added filter N 1: -A N -j LOG'],
    },
    {
      name: 'a chain removed, with its rules',
      after: base.replace(':B - [0:0]\n', '').replace('-A B -j DROP\n-A B -j RETURN\n', ''),
      want: ['chain-removed filter B: chain B removed', 'removed filter B 1: -A B -j DROP', 'removed filter B 2: -A B -j RETURN'],
    },
    { name: 'a policy changed', after: base.replace(':FORWARD DROP', ':FORWARD ACCEPT'), want: ['policy filter FORWARD: policy DROP → ACCEPT'] },
    {
      name: 'a table added',
      after: base + '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -j NOTRACK\nCOMMIT\n',
      want: ['chain-added raw PREROUTING: chain PREROUTING added', 'added raw PREROUTING 1: -A PREROUTING -j NOTRACK', 'chain-added raw OUTPUT: chain OUTPUT added'],
    },
    {
      name: 'changes in two chains, in table and chain order',
      after: base.replace('-A A -j ACCEPT', '-A A -j ACCEPT\n-A A -j LOG').replace('-A INPUT -j A', '-A INPUT -i lo -j A'),
      want: ['changed filter INPUT 1: -A INPUT -i lo -j A (was -A INPUT -j A)', 'added filter A 2: -A A -j LOG'],
    },
  ];
  it.each(cases)('$name', ({ after, want }) => {
    expect(computeChanges(parse(base), parse(after)).map(show)).toEqual(want);
  });
  it('a family that appeared or went: everything added / removed', () => {
    expect(computeChanges(undefined, parse(base)).filter((c) => c.kind === 'added')).toHaveLength(4);
    expect(computeChanges(parse(base), undefined).filter((c) => c.kind === 'removed')).toHaveLength(4);
  });
});

describe('the effects’ SourceChanges come from the same computation', () => {
  it('lists per family and the derived added/removed/changed', () => {
    const a = sourceFromText('*filter\n:INPUT ACCEPT [0:0]\n:X - [0:0]\n-A INPUT -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n', 'a.rules');
    const b = sourceFromText('*filter\n:INPUT DROP [0:0]\n:Y - [0:0]\n-A INPUT -s 1.2.3.4/32 -j ACCEPT\n-A INPUT -j ACCEPT\n-A INPUT -j REJECT\nCOMMIT\n', 'a.rules');
    const ch = diffSources(a, b);
    expect(ch.rules.ipv4!.map(show)).toEqual(computeChanges(a.rulesets.ipv4!.ruleset, b.rulesets.ipv4!.ruleset).map(show));
    expect(ch.added.map((r) => `${r.chain} ${r.position} ${r.text}`)).toEqual(['INPUT 1 -A INPUT -s 1.2.3.4/32 -j ACCEPT']);
    expect(ch.changed.map((r) => `${r.chain} ${r.position} ${r.text} ← ${r.oldPosition} ${r.before}`)).toEqual(['INPUT 3 -A INPUT -j REJECT ← 2 -A INPUT -j DROP']);
    expect(ch.removed).toEqual([]);
    expect(ch.chainsAdded).toEqual(['ipv4 filter Y']);
    expect(ch.chainsRemoved).toEqual(['ipv4 filter X']);
    expect(ch.policiesChanged).toEqual(['ipv4 filter INPUT: ACCEPT → DROP']);
    expect(ch.empty).toBe(false);
    expect(diffSources(a, sourceFromText(a.texts.ipv4!.replace('[0:0]', '[3:4]'), 'a.rules')).empty).toBe(true);
  });
});

describe('nothing builds the structure of rules that are not shown', () => {
  const text = generateKubeProxyDump({ services: 200, endpoints: 3, seed: 3 });
  // One rule inserted at the top of KUBE-SERVICES, one endpoint rule edited.
  const firstSvc = text.indexOf('\n[0:0] -A KUBE-SERVICES ') + 1;
  const edited = (() => {
    const t = text.slice(0, firstSvc) + '[0:0] -A KUBE-SERVICES -d 10.255.0.1/32 -p tcp -m comment --comment "x/new:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ\n' + text.slice(firstSvc);
    const sep = t.indexOf('--to-destination ');
    return t.slice(0, sep) + '--to-destination 192.0.2.99:80' + t.slice(t.indexOf('\n', sep));
  })();

  it('the change summary of a reload reads raw lines only', () => {
    const before = sourceFromText(text, 'kp.rules');
    const after = sourceFromText(edited, 'kp.rules');
    const g1 = guardRules(before.rulesets.ipv4!.ruleset);
    const g2 = guardRules(after.rulesets.ipv4!.ruleset);
    const ch = diffSources(before, after);
    expect(g1.touched.size + g2.touched.size).toBe(0);
    const got = ch.rules.ipv4!.map((c) => `${c.kind} ${c.chain} ${c.position}`);
    expect(got).toHaveLength(2);
    expect(got).toEqual(expect.arrayContaining(['added KUBE-SERVICES 1', expect.stringMatching(/^changed KUBE-SEP-\w+ 2$/)]));
  });

  it('load, first paint, scrolling a chain and a reload build only the rules on screen', () => {
    const first = sourceFromText(text, 'kp.rules');
    const g = guardRules(first.rulesets.ipv4!.ruleset);
    const store = createStore();
    const controller = createController(store, null);
    store.dispatch({ type: 'resize', viewport: { chains: 36, rules: 36, trace: 10, overlay: 10, helpRows: 40 } });
    store.dispatch({ type: 'loaded', payload: toPayload(first, { watching: true }) });
    const paint = () => {
      const s = store.getState();
      renderChains(s, 40, 38, 0);
      renderRules(s, 100, 38, 0);
    };
    /** Rules built so far must all be in `chains`, and no more than `max`. */
    const onlyShown = (touched: Set<Rule>, chains: string[], max: number) => {
      const where = new Set([...touched].map((r) => `${r.table} ${r.chain}`));
      for (const w of where) expect(chains).toContain(w);
      expect(touched.size).toBeLessThanOrEqual(max);
    };
    paint();
    const v0 = viewChain(store.getState())!;
    // The callers index and Service names are built (first paint shows them) from raw lines.
    expect(callersOf(store.getState().ruleset!, 'nat', 'KUBE-SERVICES').length).toBe(2);
    expect(chainRows(store.getState()).length).toBeGreaterThan(600);
    for (const r of chainRows(store.getState())) if (r.kind === 'chain') annotationOf(store.getState().ruleset!, r.table, r.chain.name);
    onlyShown(g.touched, [`${v0.table} ${v0.name}`], 36);

    store.dispatch({ type: 'showChain', table: 'nat', chain: 'KUBE-SERVICES' });
    for (let i = 0; i < 60; i++) store.dispatch({ type: 'move', delta: 1 });
    paint();
    onlyShown(g.touched, [`${v0.table} ${v0.name}`, 'nat KUBE-SERVICES'], 36 + 36 + 60);

    // Enter follows the selected jump: that one rule's target is read.
    store.dispatch({ type: 'focus', pane: 'rules' });
    store.dispatch({ type: 'activate' });
    paint();
    const v1 = viewChain(store.getState())!;
    expect(v1.name).toMatch(/^KUBE-SVC-/);

    // A reload through the TUI's callbacks with the effect's change summary.
    const next = sourceFromText(edited, 'kp.rules');
    const g2 = guardRules(next.rulesets.ipv4!.ruleset);
    const cb = sourceCallbacks(store, controller, { family: () => 'ipv4', watching: true, demo: false });
    cb.onLoaded(next, diffSources(first, next));
    paint();
    const s = store.getState();
    expect(s.ruleset).toBe(next.rulesets.ipv4!.ruleset);
    expect(s.changes.map((c) => `${c.kind} ${c.chain} ${c.position}`)).toContain('added KUBE-SERVICES 1');
    expect(s.changes).toHaveLength(2);
    expect(viewChain(s)!.name).toBe(v1.name);
    onlyShown(g2.touched, [`nat ${v1.name}`], 36);
  });
});
