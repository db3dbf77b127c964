import { describe, expect, it } from 'vitest';
import { HISTORY, HOT_KEEP, hottest, simCounter } from '../../src/app/counters.js';
import { chainRows, currentStep, selectedRule, traceRows, viewChain } from '../../src/app/selectors.js';
import { ruleKey } from '../../src/app/state.js';
import { clusterIpTrace, DUMP, loadedStore, payload, reloadPayload, sampled } from './helpers.js';

const rowNames = (s: ReturnType<ReturnType<typeof loadedStore>['getState']>) =>
  chainRows(s).map((r) => (r.kind === 'table' ? `*${r.table}` : r.chain.name));

describe('loading', () => {
  it('shows tables in kernel order with builtin chains first in hook order, then user chains', () => {
    const s = loadedStore().getState();
    expect(rowNames(s)).toEqual([
      '*nat', 'PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'KUBE-SERVICES', 'KUBE-SVC-AAA', 'KUBE-SEP-1', 'KUBE-SEP-2', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING',
      '*filter', 'INPUT', 'FORWARD', 'OUTPUT', 'KUBE-FORWARD',
    ]);
  });
  it('opens on the first builtin chain that has rules, cursor on its row', () => {
    const s = loadedStore().getState();
    expect(s.view).toEqual({ table: 'nat', chain: 'PREROUTING' });
    expect(chainRows(s)[s.chainsCursor]).toMatchObject({ kind: 'chain', table: 'nat' });
    expect(s.diagnostics).toEqual([]);
    expect(s.loadedAt).toBe(1_000_000);
  });
});

describe('chains pane', () => {
  it('moving over the tree previews each chain in the Rules pane', () => {
    const store = loadedStore();
    store.dispatch({ type: 'moveEdge', edge: 'first' });
    store.dispatch({ type: 'move', delta: 5 });
    expect(store.getState().view).toEqual({ table: 'nat', chain: 'KUBE-SERVICES' });
    store.dispatch({ type: 'activate' });
    expect(store.getState().focus).toBe('rules');
  });
  it('Enter on a table folds and unfolds it', () => {
    const store = loadedStore();
    store.dispatch({ type: 'moveEdge', edge: 'first' });
    store.dispatch({ type: 'activate' });
    expect(rowNames(store.getState())).toEqual(['*nat', '*filter', 'INPUT', 'FORWARD', 'OUTPUT', 'KUBE-FORWARD']);
    store.dispatch({ type: 'activate' });
    expect(rowNames(store.getState()).length).toBe(16);
  });
  it('keeps the cursor visible when moving past the viewport (8 rows)', () => {
    const store = loadedStore();
    store.dispatch({ type: 'moveEdge', edge: 'last' });
    const s = store.getState();
    expect(s.chainsCursor).toBe(15);
    expect(s.chainsScroll).toBe(15 - 8 + 1);
  });
});

describe('rules pane: follow jumps along a breadcrumb', () => {
  it('Enter follows the jump, Backspace returns to the same rule', () => {
    const store = loadedStore();
    store.dispatch({ type: 'showChain', chain: 'KUBE-SERVICES' });
    store.dispatch({ type: 'move', delta: 1 });
    store.dispatch({ type: 'activate' });
    let s = store.getState();
    expect(s.view).toEqual({ table: 'nat', chain: 'KUBE-SVC-AAA' });
    expect(s.breadcrumb.map((c) => c.chain)).toEqual(['KUBE-SERVICES']);
    store.dispatch({ type: 'activate' }); // rule 1 → KUBE-SEP-1
    expect(store.getState().breadcrumb.map((c) => c.chain)).toEqual(['KUBE-SERVICES', 'KUBE-SVC-AAA']);
    store.dispatch({ type: 'back' });
    store.dispatch({ type: 'back' });
    s = store.getState();
    expect(s.view?.chain).toBe('KUBE-SERVICES');
    expect(s.rulesCursor).toBe(1);
    expect(s.breadcrumb).toEqual([]);
  });
  it('Enter on a non-chain target says so and stays', () => {
    const store = loadedStore();
    store.dispatch({ type: 'showChain', chain: 'KUBE-SEP-1' });
    store.dispatch({ type: 'move', delta: 1 });
    store.dispatch({ type: 'activate' });
    const s = store.getState();
    expect(s.view?.chain).toBe('KUBE-SEP-1');
    expect(s.flash?.text).toMatch(/DNAT is not a chain/);
  });
  it('the footer row stands for the policy / end of chain', () => {
    const store = loadedStore();
    store.dispatch({ type: 'showChain', chain: 'PREROUTING', table: 'nat' });
    store.dispatch({ type: 'moveEdge', edge: 'last' });
    const s = store.getState();
    expect(s.rulesCursor).toBe(1);
    expect(selectedRule(s)).toBeUndefined();
  });
  it('callers list who jumps here and Enter goes to the caller', () => {
    const store = loadedStore();
    store.dispatch({ type: 'showChain', chain: 'KUBE-SVC-AAA' });
    store.dispatch({ type: 'openOverlay', overlay: 'callers' });
    store.dispatch({ type: 'move', delta: 1 });
    store.dispatch({ type: 'activate' });
    const s = store.getState();
    expect(s.overlay).toBeNull();
    expect(s.view?.chain).toBe('KUBE-SERVICES');
    expect(selectedRule(s)?.position).toBe(2);
    expect(s.breadcrumb.map((c) => c.chain)).toEqual(['KUBE-SVC-AAA']);
  });
});

describe('search', () => {
  it.each([
    ['kube-sep', ['nat KUBE-SEP-1#-', 'nat KUBE-SEP-2#-', 'nat KUBE-SVC-AAA#1']],
    ['10.96.0.100', ['nat KUBE-SERVICES#2']],
    ['{red-fg}', []],
  ])('"%s" finds chain names and rule text', (q, first) => {
    const store = loadedStore();
    store.dispatch({ type: 'search', query: q });
    const hits = store.getState().search!.hits.map((h) => `${h.table} ${h.chain}#${h.rule ?? '-'}`);
    for (const f of first) expect(hits).toContain(f);
    if (first.length === 0) expect(hits).toEqual([]);
  });
  it('n/N cycle the hits and move the view; Esc clears the search', () => {
    const store = loadedStore();
    store.dispatch({ type: 'search', query: 'DNAT' });
    expect(store.getState().view?.chain).toBe('KUBE-SEP-1');
    store.dispatch({ type: 'searchNext', delta: 1 });
    expect(store.getState().view?.chain).toBe('KUBE-SEP-2');
    store.dispatch({ type: 'searchNext', delta: 1 });
    expect(store.getState().view?.chain).toBe('KUBE-SEP-1');
    store.dispatch({ type: 'searchNext', delta: -1 });
    expect(store.getState().view?.chain).toBe('KUBE-SEP-2');
    store.dispatch({ type: 'back' });
    expect(store.getState().search).toBeNull();
  });
});

describe('trace stepping', () => {
  it('starts on the first step, folds nothing when runs are single', () => {
    const store = loadedStore();
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    const s = store.getState();
    expect(currentStep(s)?.index).toBe(0);
    expect(s.view).toEqual({ table: 'nat', chain: 'PREROUTING' });
    expect(s.rulesCursor).toBe(0);
  });
  it('stepping moves the Rules pane through the chains the packet visits, with the call stack as breadcrumb', () => {
    const store = loadedStore();
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      store.dispatch({ type: 'step', delta: 1 });
      const s = store.getState();
      seen.push(`${s.view!.chain}:${s.rulesCursor + 1}:${s.breadcrumb.map((c) => c.chain).join('>')}`);
    }
    expect(seen).toEqual([
      'KUBE-SERVICES:1:PREROUTING',
      'KUBE-SERVICES:2:PREROUTING',
      'KUBE-SVC-AAA:1:PREROUTING>KUBE-SERVICES',
      'KUBE-SEP-1:1:PREROUTING>KUBE-SERVICES>KUBE-SVC-AAA',
      'KUBE-SEP-1:2:PREROUTING>KUBE-SERVICES>KUBE-SVC-AAA',
      // the route step keeps the last chain on screen
      'KUBE-SEP-1:2:PREROUTING>KUBE-SERVICES>KUBE-SVC-AAA',
    ]);
    store.dispatch({ type: 'step', delta: 1 });
    expect(store.getState().view).toEqual({ table: 'filter', chain: 'FORWARD' });
    expect(store.getState().breadcrumb).toEqual([]);
    store.dispatch({ type: 'step', delta: -1 });
    expect(currentStep(store.getState())?.step.kind).toBe('route');
  });
  it('a policy or return step highlights the chain footer row', () => {
    const store = loadedStore();
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    for (let i = 0; i < 10; i++) store.dispatch({ type: 'step', delta: 1 });
    const s = store.getState();
    expect(currentStep(s)?.step.kind).toBe('policy');
    expect(s.view?.chain).toBe('FORWARD');
    expect(s.rulesCursor).toBe(viewChain(s)!.rules.length);
  });
  it('the last step is the verdict row and stepping past it stays', () => {
    const store = loadedStore();
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    store.dispatch({ type: 'stepEdge', edge: 'last' });
    const row = store.getState().trace!.row;
    store.dispatch({ type: 'step', delta: 1 });
    expect(store.getState().trace!.row).toBe(row);
    const rows = traceRows(clusterIpTrace().outcomes[0], false);
    expect(rows[rows.length - 1].kind).toBe('verdict');
    expect(rows.filter((r) => r.kind === 'hook').map((r) => (r as { hook: string }).hook)).toEqual(['PREROUTING', 'FORWARD', 'POSTROUTING']);
  });
  it('folds runs of non-matching rules unless verbose', () => {
    const r = clusterIpTrace();
    const o = r.outcomes[0];
    // three misses in a row in one chain fold into one row
    o.steps.splice(1, 1, { ...o.steps[1] }, { ...o.steps[1], rule: 1 }, { ...o.steps[1], rule: 1 });
    const folded = traceRows(o, false).filter((x) => x.kind === 'fold');
    expect(folded).toEqual([{ kind: 'fold', from: 1, to: 3 }]);
    expect(traceRows(o, true).filter((x) => x.kind === 'fold')).toEqual([]);
  });
  it('without a trace, stepping explains how to get one', () => {
    const store = loadedStore();
    store.dispatch({ type: 'step', delta: 1 });
    expect(store.getState().flash?.text).toMatch(/no trace yet/);
  });
});

describe('branches and simulated counters', () => {
  it('picking another outcome follows its path', () => {
    const store = loadedStore();
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    store.dispatch({ type: 'openOverlay', overlay: 'branches' });
    store.dispatch({ type: 'move', delta: 1 });
    store.dispatch({ type: 'activate' });
    store.dispatch({ type: 'stepEdge', edge: 'last' });
    const s = store.getState();
    expect(s.trace!.outcome).toBe(1);
    expect(s.view?.chain).toBe('KUBE-SEP-2');
  });
  it('count matched rules and deciding policies along the followed branch, accumulate, reset', () => {
    const store = loadedStore();
    const k1 = ruleKey('nat', 'KUBE-SVC-AAA', 1);
    const k2 = ruleKey('nat', 'KUBE-SVC-AAA', 2);
    const pol = ruleKey('filter', 'FORWARD', 'policy');
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    expect(simCounter(store.getState(), k1)).toEqual({ packets: 1, bytes: 60 });
    expect(simCounter(store.getState(), pol)).toEqual({ packets: 1, bytes: 60 });
    expect(simCounter(store.getState(), ruleKey('nat', 'KUBE-SERVICES', 1))).toBeUndefined();
    store.dispatch({ type: 'pickOutcome', index: 1 });
    expect(simCounter(store.getState(), k1)).toBeUndefined();
    expect(simCounter(store.getState(), k2)).toEqual({ packets: 1, bytes: 60 });
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    expect(simCounter(store.getState(), k2)).toEqual({ packets: 1, bytes: 60 });
    expect(simCounter(store.getState(), k1)).toEqual({ packets: 1, bytes: 60 });
    expect(simCounter(store.getState(), ruleKey('nat', 'PREROUTING', 1))).toEqual({ packets: 2, bytes: 120 });
    expect(store.getState().simPackets).toBe(2);
    store.dispatch({ type: 'tracedAll', results: [clusterIpTrace(), clusterIpTrace()] });
    expect(simCounter(store.getState(), ruleKey('nat', 'PREROUTING', 1))).toEqual({ packets: 4, bytes: 240 });
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    store.dispatch({ type: 'resetCounters' });
    expect(simCounter(store.getState(), ruleKey('nat', 'PREROUTING', 1))).toBeUndefined();
    expect(store.getState().simPackets).toBe(0);
    // switching branches after a reset does not bring counts back
    store.dispatch({ type: 'pickOutcome', index: 1 });
    expect(simCounter(store.getState(), k2)).toBeUndefined();
  });
});

describe('reloads, failures, a file that goes away', () => {
  const edited = DUMP.replace(
    '[0:0] -A KUBE-SERVICES -d 10.96.0.9/32',
    '[0:0] -A KUBE-SERVICES -d 10.96.0.50/32 -p udp -m udp --dport 53 -j KUBE-SVC-AAA\n[0:0] -A KUBE-SERVICES -d 10.96.0.9/32',
  ).replace('[0:0] -A KUBE-SEP-2 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.12:80', '[0:0] -A KUBE-SEP-2 -p tcp -m tcp -j DNAT --to-destination 10.244.1.13:80');

  it('keeps table, chain and rule, and lists what changed (content-matched)', () => {
    const store = loadedStore();
    store.dispatch({ type: 'showChain', chain: 'KUBE-SERVICES' });
    store.dispatch({ type: 'move', delta: 1 });
    store.dispatch({ type: 'loaded', payload: reloadPayload(store, edited, 'test.rules', 2_000_000) });
    const s = store.getState();
    expect(s.view).toEqual({ table: 'nat', chain: 'KUBE-SERVICES' });
    expect(s.rulesCursor).toBe(1);
    expect(s.changes.map((c) => `${c.kind} ${c.chain} ${c.position}`)).toEqual(['added KUBE-SERVICES 1', 'changed KUBE-SEP-2 1']);
    expect(s.changedAt).toBe(2_000_000);
    expect(s.previous?.ruleset).not.toBe(s.ruleset);
  });
  it('only counters changing is no change', () => {
    const store = loadedStore();
    store.dispatch({ type: 'loaded', payload: reloadPayload(store, DUMP.replace('[7:420]', '[9:540]'), 'test.rules', 2_000_000) });
    expect(store.getState().changes).toEqual([]);
  });
  it('falls back to the default view when the chain disappeared', () => {
    const store = loadedStore();
    store.dispatch({ type: 'showChain', chain: 'KUBE-FORWARD' });
    const without = DUMP.replace(':KUBE-FORWARD - [0:0]\n', '').replace(/.*KUBE-FORWARD.*\n/g, '');
    store.dispatch({ type: 'loaded', payload: reloadPayload(store, without, 'test.rules', 2_000_000) });
    const s = store.getState();
    expect(s.view).toEqual({ table: 'nat', chain: 'PREROUTING' });
    expect(s.changes.some((c) => c.kind === 'chain-removed' && c.chain === 'KUBE-FORWARD')).toBe(true);
  });
  it('a failed reload keeps the last good ruleset and shows its diagnostics; a new good load clears it', () => {
    const store = loadedStore();
    const good = store.getState().ruleset;
    const diag = { severity: 'error' as const, code: 'x', file: 'test.rules', line: 3, column: 1, message: 'bad', text: 'oops' };
    store.dispatch({ type: 'reloadFailed', message: 'test.rules:3:1: bad', diagnostics: [diag] });
    let s = store.getState();
    expect(s.ruleset).toBe(good);
    expect(s.reloadError).toMatch(/bad/);
    store.dispatch({ type: 'gone', path: 'test.rules' });
    expect(store.getState().gone).toBe('test.rules');
    store.dispatch({ type: 'loaded', payload: payload(DUMP, 'test.rules', 3_000_000) });
    s = store.getState();
    expect(s.reloadError).toBeNull();
    expect(s.gone).toBeNull();
  });
});

describe('simulated counters across a reload stay on their rules', () => {
  const top = '[0:0] -A KUBE-SERVICES -d 10.96.0.50/32 -p udp -m udp --dport 53 -j KUBE-SVC-AAA\n';
  const cases: { name: string; text: string; want: [string, number | null][] }[] = [
    {
      name: 'a rule inserted above moves the count with its rule',
      text: DUMP.replace('[0:0] -A KUBE-SERVICES -d 10.96.0.9/32', top + '[0:0] -A KUBE-SERVICES -d 10.96.0.9/32'),
      want: [[ruleKey('nat', 'KUBE-SERVICES', 3), 1], [ruleKey('nat', 'KUBE-SERVICES', 2), null], [ruleKey('nat', 'KUBE-SVC-AAA', 1), 1], [ruleKey('filter', 'FORWARD', 'policy'), 1]],
    },
    {
      name: 'only counters changed: every count where it was',
      text: DUMP.replace('[7:420]', '[9:540]'),
      want: [[ruleKey('nat', 'KUBE-SERVICES', 2), 1], [ruleKey('nat', 'KUBE-SEP-1', 2), 1], [ruleKey('nat', 'PREROUTING', 1), 1]],
    },
    {
      name: 'a counted rule removed: its count goes with it',
      text: DUMP.replace('[0:0] -A KUBE-SEP-1 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.11:80\n', ''),
      want: [[ruleKey('nat', 'KUBE-SEP-1', 2), null], [ruleKey('nat', 'KUBE-SEP-1', 1), null], [ruleKey('nat', 'KUBE-SVC-AAA', 1), 1]],
    },
    {
      name: 'a counted chain removed: its counts go',
      text: DUMP.replace(':KUBE-FORWARD - [0:0]\n', '').replace(/.*KUBE-FORWARD.*\n/g, ''),
      want: [[ruleKey('filter', 'FORWARD', 1), null], [ruleKey('filter', 'FORWARD', 'policy'), 1]],
    },
  ];
  it.each(cases)('$name', ({ text, want }) => {
    const store = loadedStore();
    store.dispatch({ type: 'traced', result: clusterIpTrace() });
    store.dispatch({ type: 'loaded', payload: reloadPayload(store, text) });
    const s = store.getState();
    expect(s.trace).toBeNull(); // the controller re-traces (not counted); the counts are committed
    for (const [key, packets] of want) expect([key, simCounter(s, key)?.packets ?? null]).toEqual([key, packets]);
  });
});

describe('live rates', () => {
  it('records rates and history; sort by rate reorders the Rules pane keeping the selected rule', () => {
    const store = loadedStore();
    store.dispatch({ type: 'showChain', chain: 'KUBE-SERVICES' });
    const rules: [string, { pps: number; bps: number }][] = [
      ['nat:KUBE-SERVICES:1', { pps: 1, bps: 60 }],
      ['nat:KUBE-SERVICES:2', { pps: 50, bps: 3000 }],
    ];
    store.dispatch(sampled(1, rules, [['nat:KUBE-SERVICES', { pps: 51, bps: 3060 }]]));
    store.dispatch(sampled(2, rules));
    const s0 = store.getState();
    expect(s0.rates!.history.get('nat:KUBE-SERVICES:2')).toEqual([50, 50]);
    expect(selectedRule(s0)?.position).toBe(1);
    store.dispatch({ type: 'sortByRate', on: true });
    const s = store.getState();
    expect(s.rulesCursor).toBe(1);
    expect(selectedRule(s)?.position).toBe(1);
    store.dispatch({ type: 'moveEdge', edge: 'first' });
    expect(selectedRule(store.getState())?.position).toBe(2);
  });
});

describe('sparkline histories on a big host', () => {
  it('start for the hottest rules of a sample and go on while they have traffic', () => {
    const store = loadedStore();
    // 300 rules with 1…300 packets/s in one chain.
    const many = (f: (i: number) => number): [string, { pps: number; bps: number }][] =>
      Array.from({ length: 300 }, (_, i) => [`nat:BIG:${i + 1}`, { pps: f(i), bps: 0 }] as [string, { pps: number; bps: number }]);
    store.dispatch(sampled(1, many((i) => i + 1)));
    let s = store.getState();
    expect(s.rates!.history.size).toBe(HOT_KEEP);
    expect(hottest(s.rates!, 12).map((h) => h.pps)).toEqual(Array.from({ length: 12 }, (_, i) => 300 - i));
    expect(s.rates!.history.has('nat:BIG:300')).toBe(true);
    expect(s.rates!.history.has(`nat:BIG:${300 - HOT_KEEP}`)).toBe(false);
    // Next sample: the order turns round; the old hot rules keep their history while they have
    // traffic, the new hottest start one.
    store.dispatch(sampled(2, many((i) => 300 - i)));
    s = store.getState();
    expect(s.rates!.history.get('nat:BIG:300')).toEqual([300, 1]);
    expect(s.rates!.history.get('nat:BIG:1')).toEqual([300]);
    expect(hottest(s.rates!, 3).map((h) => h.key)).toEqual(['nat:BIG:1', 'nat:BIG:2', 'nat:BIG:3']);
    // No traffic for a whole window: the histories go.
    for (let k = 0; k < HISTORY; k++) store.dispatch(sampled(3 + k, many(() => 0)));
    expect(store.getState().rates!.history.size).toBe(0);
  });
});

describe('a 10k-rule chain', () => {
  const big = (() => {
    const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', '-A PREROUTING -j KUBE-SERVICES'];
    for (let i = 0; i < 10_000; i++) lines.push(`-A KUBE-SERVICES -d 10.96.${i >> 8}.${i & 255}/32 -p tcp -m tcp --dport 80 -j ACCEPT`);
    lines.push('COMMIT', '');
    return lines.join('\n');
  })();
  it.each([
    [[{ type: 'page', delta: 1 }], 4, 0],
    [[{ type: 'page', delta: 1 }, { type: 'page', delta: 1 }], 8, 4],
    [[{ type: 'moveEdge', edge: 'last' }], 10_000, 9_996],
    [[{ type: 'moveEdge', edge: 'last' }, { type: 'page', delta: -1 }], 9_996, 9_996],
  ] as const)('paging %j puts the cursor at %i with scroll %i', (actions, cursor, scroll) => {
    const store = loadedStore(big);
    store.dispatch({ type: 'showChain', chain: 'KUBE-SERVICES' });
    for (const a of actions) store.dispatch(a as never);
    const s = store.getState();
    expect(s.rulesCursor).toBe(cursor);
    expect(s.rulesScroll).toBe(scroll);
  });
});

describe('help overlay', () => {
  it('scrolls directly with j/k/PgDn and stops at the end', () => {
    const store = loadedStore();
    store.dispatch({ type: 'openOverlay', overlay: 'help' });
    store.dispatch({ type: 'move', delta: 1 });
    expect(store.getState().overlay?.scroll).toBe(1);
    store.dispatch({ type: 'moveEdge', edge: 'last' });
    expect(store.getState().overlay?.scroll).toBe(40 - 6);
    store.dispatch({ type: 'back' });
    expect(store.getState().overlay).toBeNull();
  });
});

describe('packet form defaults', () => {
  it('an empty form starts as the first scenario packet', () => {
    const s = loadedStore().getState();
    expect(s.packet).toMatchObject({ proto: 'tcp', src: '10.244.1.10', sport: '40000', dst: '10.96.0.100', dport: '80', iif: 'cni0' });
  });
});
