/**
 * Test helpers for the explorer's state: a store loaded with a dump, and trace results built
 * from short step descriptions (the reducer only reads the Trace structure, so tests describe
 * the steps they need instead of depending on the engine).
 */
import type { Action, LoadPayload } from '../../src/app/actions.js';
import type { ChainLive } from '../../src/app/state.js';
import { computeChanges } from '../../src/app/changes.js';
import { createStore } from '../../src/app/store.js';
import type { Store } from '../../src/app/store.js';
import type { HookName, Rule, Ruleset, TableName } from '../../src/core/model.js';
import type { Outcome, PacketState, Step, TraceResult } from '../../src/core/netfilter/types.js';
import { parseRuleset } from '../../src/core/parse/index.js';
import type { ScenarioPacket } from '../../src/core/scenario.js';

/** A small kube-proxy-like dump with a jump chain, a statistic split and a hostile comment. */
export const DUMP = `*nat
:PREROUTING ACCEPT [5:300]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-AAA - [0:0]
:KUBE-SEP-1 - [0:0]
:KUBE-SEP-2 - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
[10:600] -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
[0:0] -A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
[0:0] -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
[0:0] -A KUBE-SERVICES -d 10.96.0.9/32 -p tcp -m comment --comment "default/other:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAA
[7:420] -A KUBE-SERVICES -d 10.96.0.100/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAA
[0:0] -A KUBE-SVC-AAA -m comment --comment "default/web:http -> 10.244.1.11:80" -m statistic --mode random --probability 0.5 -j KUBE-SEP-1
[0:0] -A KUBE-SVC-AAA -m comment --comment "default/web:http -> 10.244.1.12:80" -j KUBE-SEP-2
[0:0] -A KUBE-SEP-1 -s 10.244.1.11/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
[0:0] -A KUBE-SEP-1 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.11:80
[0:0] -A KUBE-SEP-2 -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.12:80
[0:0] -A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
[0:0] -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
[0:0] -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [100:6000]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
[0:0] -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
[0:0] -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
[0:0] -A INPUT -s 192.0.2.0/24 -i eth0 -p udp -m udp --dport 53 -m conntrack --ctstate NEW -j ACCEPT
COMMIT
`;

export const PRESETS: ScenarioPacket[] = [
  { name: 'pod-to-clusterip', packet: { proto: 'tcp', src: '10.244.1.10', sport: 40000, dst: '10.96.0.100', dport: 80, iif: 'cni0' }, expect: {} },
  { name: 'host-to-clusterip', packet: { proto: 'tcp', src: '10.0.2.15', sport: 40001, dst: '10.96.0.100', dport: 80, local: true }, expect: {} },
];

export function payload(text = DUMP, label = 'test.rules', at = 1_000_000): LoadPayload {
  return {
    info: { kind: 'file', label, path: label, notes: [], demo: false, watching: true },
    family: 'ipv4',
    parse: parseRuleset(text, { file: label }),
    text,
    context: {},
    presets: PRESETS,
    at,
  };
}

/**
 * The payload of a reload of the source `store` shows, as the source effects deliver it: with
 * the change summary computed once from the rulesets before and after (the reducer does not
 * compare rulesets itself).
 */
export function reloadPayload(store: Store, text: string, label = 'test.rules', at = 2_000_000): LoadPayload {
  const p = payload(text, label, at);
  return { ...p, changes: computeChanges(store.getState().ruleset ?? undefined, p.parse.ruleset) };
}

/** A store with DUMP loaded and a roomy viewport. */
export function loadedStore(text = DUMP): Store {
  const store = createStore();
  store.dispatch({ type: 'resize', viewport: { chains: 8, rules: 5, trace: 6, overlay: 6, helpRows: 40 } });
  store.dispatch({ type: 'loaded', payload: payload(text) });
  return store;
}

function pstate(over: Partial<PacketState> = {}): PacketState {
  return {
    family: 'ipv4',
    proto: 'tcp',
    src: '10.244.1.10',
    dst: '10.96.0.100',
    sport: 40000,
    dport: 80,
    iif: 'cni0',
    mark: 0,
    ctMark: 0,
    ctState: 'NEW',
    ctDir: 'ORIGINAL',
    origSrc: '10.244.1.10',
    origDst: '10.96.0.100',
    origSport: 40000,
    origDport: 80,
    snat: false,
    dnat: false,
    ttl: 64,
    ...over,
  };
}

/** `hook table chain rule matched [target]` → a Step; rule `P` = policy, `R` = return, `route` = route step. */
export function step(desc: string, over: Partial<Step> = {}, state: Partial<PacketState> = {}): Step {
  const [hook, table, chain, rule, matched, target] = desc.split(' ');
  if (table === 'route') {
    return { kind: 'route', hook: hook as HookName, table: null, chain: null, rule: null, line: null, matched: true, reasons: [], changes: [], note: 'route', state: pstate(state), ...over };
  }
  const kind = rule === 'P' ? 'policy' : rule === 'R' ? 'return' : 'rule';
  return {
    kind,
    hook: hook as HookName,
    table: table as TableName,
    chain,
    rule: kind === 'rule' ? Number(rule) : null,
    line: null,
    matched: matched === 'y' ? true : matched === '?' ? 'unknown' : false,
    reasons: matched === 'y' ? ['cond'] : [],
    failed: matched === 'n' ? 'cond failed' : undefined,
    target: target,
    policy: kind === 'policy' ? 'ACCEPT' : undefined,
    changes: [],
    state: pstate(state),
    ...over,
  };
}

export function outcome(steps: Step[], probability = 1): Outcome {
  const last = steps[steps.length - 1];
  return {
    probability,
    verdict: 'ACCEPT',
    disposition: { kind: 'forwarded', iface: 'cni0', text: 'forwarded out cni0' },
    assumptions: [],
    branches: [],
    packet: last.state,
    steps,
  };
}

export function result(outcomes: Outcome[]): TraceResult {
  return {
    outcomes,
    context: { defaults: [], context: { interfaces: [], routes: [], sysctl: { ipForward: true, ipv6Forward: false, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true } } },
    packet: { proto: 'tcp', src: '10.244.1.10', sport: 40000, dst: '10.96.0.100', dport: 80, iif: 'cni0' },
  };
}

/** The clusterIP trace of DUMP through endpoint 1 (the statistic branch taken). */
export function clusterIpTrace(): TraceResult {
  const o1 = outcome([
    step('PREROUTING nat PREROUTING 1 y KUBE-SERVICES'),
    step('PREROUTING nat KUBE-SERVICES 1 n'),
    step('PREROUTING nat KUBE-SERVICES 2 y KUBE-SVC-AAA'),
    step('PREROUTING nat KUBE-SVC-AAA 1 y KUBE-SEP-1'),
    step('PREROUTING nat KUBE-SEP-1 1 n'),
    step('PREROUTING nat KUBE-SEP-1 2 y DNAT', { changes: ['DNAT → 10.244.1.11:80'] }, { dst: '10.244.1.11', dnat: true }),
    step('PREROUTING route', {}, { dst: '10.244.1.11', dnat: true }),
    step('FORWARD filter FORWARD 1 y KUBE-FORWARD', {}, { dst: '10.244.1.11' }),
    step('FORWARD filter KUBE-FORWARD 1 n', {}, { dst: '10.244.1.11' }),
    step('FORWARD filter KUBE-FORWARD R n', {}, { dst: '10.244.1.11' }),
    step('FORWARD filter FORWARD P y', {}, { dst: '10.244.1.11' }),
    step('POSTROUTING nat POSTROUTING 1 y KUBE-POSTROUTING', {}, { dst: '10.244.1.11' }),
    step('POSTROUTING nat KUBE-POSTROUTING 1 y RETURN', {}, { dst: '10.244.1.11' }),
    step('POSTROUTING nat POSTROUTING P y', {}, { dst: '10.244.1.11' }),
  ], 0.5);
  const o2 = outcome([
    step('PREROUTING nat PREROUTING 1 y KUBE-SERVICES'),
    step('PREROUTING nat KUBE-SERVICES 1 n'),
    step('PREROUTING nat KUBE-SERVICES 2 y KUBE-SVC-AAA'),
    step('PREROUTING nat KUBE-SVC-AAA 1 n'),
    step('PREROUTING nat KUBE-SVC-AAA 2 y KUBE-SEP-2'),
    step('PREROUTING nat KUBE-SEP-2 1 y DNAT', { changes: ['DNAT → 10.244.1.12:80'] }, { dst: '10.244.1.12', dnat: true }),
  ], 0.5);
  o1.branches = [{ table: 'nat', chain: 'KUBE-SVC-AAA', rule: 1, line: 17, taken: true, probability: 0.5 }];
  o2.branches = [{ table: 'nat', chain: 'KUBE-SVC-AAA', rule: 1, line: 17, taken: false, probability: 0.5 }];
  return result([o1, o2]);
}

/**
 * Watch which rules have their parsed parts (`ip`, `matches`, `target`) read: the parser builds
 * them lazily, so code that runs over all rules must not read them. Each rule's parts are taken
 * once here and served by getters that record the rule.
 */
export function guardRules(ruleset: Ruleset): { touched: Set<Rule> } {
  const touched = new Set<Rule>();
  for (const t of ruleset.tables.values()) {
    for (const c of t.chains.values()) {
      for (const r of c.rules) {
        const body = { ip: r.ip, matches: r.matches, target: r.target };
        for (const k of ['ip', 'matches', 'target'] as const) {
          Object.defineProperty(r, k, {
            configurable: true,
            enumerable: true,
            get() {
              touched.add(r);
              return body[k];
            },
          });
        }
      }
    }
  }
  return { touched };
}

/**
 * A `countersSampled` action from rates per rule key (`table:chain:N`) and per chain
 * (`table:chain`), as the TUI's callbacks build it from a live sample (rules per chain, by
 * position; positions not given have no rate yet and zero counters).
 */
export function sampled(at: number, rules: [string, { pps: number; bps: number; packets?: number }][], chains: [string, { pps: number; bps: number }][] = []): Action {
  const byChain = new Map<string, ChainLive>();
  for (const [key, r] of rules) {
    const k = key.lastIndexOf(':');
    const ck = key.slice(0, k);
    const i = Number(key.slice(k + 1)) - 1;
    let c = byChain.get(ck);
    if (!c) byChain.set(ck, (c = { packets: [], bytes: [], pps: [], bps: [] }));
    while (c.packets.length <= i) {
      c.packets.push(0);
      c.bytes.push(0);
      c.pps.push(null);
      c.bps.push(null);
    }
    c.pps[i] = r.pps;
    c.bps[i] = r.bps;
    c.packets[i] = r.packets ?? 0;
  }
  return { type: 'countersSampled', at, rules: byChain, chains: new Map(chains) };
}
