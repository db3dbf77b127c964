/**
 * The scenario checker (pure): outcome paths, field comparison, outcome sets matched in any order,
 * probabilities to 1e-6, and scenario.json validation. Synthetic outcomes: no engine involved.
 */
import { describe, expect, it } from 'vitest';
import type { Outcome, PacketState, Step, TraceResult } from '../../src/core/netfilter/types.js';
import type { ExpectedOutcome } from '../../src/core/scenario.js';
import { checkPacket, formatMismatches, outcomePath, parseEndpoint } from '../../src/core/scenario-check.js';
import { validateScenario } from '../../src/core/scenario-validate.js';

const STATE: PacketState = {
  family: 'ipv4', proto: 'tcp', src: '10.244.1.10', dst: '10.244.1.11', sport: 40000, dport: 80, mark: 0, ctMark: 0,
  ctState: 'NEW', ctDir: 'ORIGINAL', origSrc: '10.244.1.10', origDst: '10.96.0.100', origSport: 40000, origDport: 80,
  snat: false, dnat: true, ttl: 64,
};

function step(p: Partial<Step>): Step {
  return { kind: 'rule', hook: 'PREROUTING', table: 'nat', chain: 'PREROUTING', rule: 1, line: 1, matched: true, reasons: [], changes: [], state: STATE, ...p };
}

function outcome(p: Partial<Outcome> & { dst?: string; dport?: number }): Outcome {
  const { dst, dport, ...rest } = p;
  return {
    probability: 1,
    verdict: 'ACCEPT',
    disposition: { kind: 'forwarded', iface: 'cni0', text: 'forwarded out cni0' },
    assumptions: [],
    branches: [],
    packet: { ...STATE, dst: dst ?? STATE.dst, dport: dport ?? STATE.dport },
    steps: [
      step({ kind: 'policy', table: 'mangle', chain: 'PREROUTING', rule: null, matched: false, policy: 'ACCEPT' }),
      step({ rule: 1, target: 'KUBE-SERVICES' }),
      step({ chain: 'KUBE-SERVICES', rule: 1, matched: false }),
      step({ chain: 'KUBE-SERVICES', rule: 2, target: 'DNAT' }),
      step({ kind: 'route', table: null, chain: null, rule: null, matched: false, note: 'forward' }),
      step({ kind: 'return', hook: 'FORWARD', table: 'filter', chain: 'KUBE-FORWARD', rule: null, matched: false }),
      step({ kind: 'policy', hook: 'FORWARD', table: 'filter', chain: 'FORWARD', rule: null, matched: false, policy: 'ACCEPT' }),
    ],
    ...rest,
  };
}

function result(outcomes: Outcome[]): TraceResult {
  return { outcomes, context: { defaults: [], context: { interfaces: [], routes: [], sysctl: { ipForward: true, ipv6Forward: true, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true } } }, packet: { proto: 'tcp', src: '10.244.1.10', dst: '10.96.0.100', dport: 80, iif: 'cni0' } };
}

describe('outcomePath', () => {
  it('lists matched rules and policies, not misses, returns or routing', () => {
    expect(outcomePath(outcome({}))).toEqual(['mangle:PREROUTING:policy', 'nat:PREROUTING:1', 'nat:KUBE-SERVICES:2', 'filter:FORWARD:policy']);
  });
  it('includes an unknown match only when the outcome assumed it matched', () => {
    const steps = [step({ chain: 'X', rule: 3, line: 9, matched: 'unknown' })];
    const a = { table: 'nat' as const, chain: 'X', rule: 3, line: 9, reason: 'limit', chosen: false };
    expect(outcomePath(outcome({ steps, assumptions: [{ ...a, choice: 'match' }] }))).toEqual(['nat:X:3']);
    expect(outcomePath(outcome({ steps, assumptions: [{ ...a, choice: 'nomatch' }] }))).toEqual([]);
  });
});

describe('parseEndpoint', () => {
  it.each([
    ['10.0.0.1', { addr: '10.0.0.1', port: undefined }],
    ['10.0.0.1:80', { addr: '10.0.0.1', port: 80 }],
    ['[2001:db8::1]:443', { addr: '2001:db8:0:0:0:0:0:1', port: 443 }],
    ['2001:db8::1', { addr: '2001:db8:0:0:0:0:0:1', port: undefined }],
    ['nonsense', null],
    ['10.0.0.1:http', null],
  ])('%s', (text, want) => {
    expect(parseEndpoint(text)).toEqual(want);
  });
});

describe('checkPacket', () => {
  const three = [
    outcome({ probability: 1 / 3, dst: '10.244.1.11' }),
    outcome({ probability: 1 / 3, dst: '10.244.1.12' }),
    outcome({ probability: 1 / 3, dst: '10.244.1.13' }),
  ];
  const want = (dst: string, p = 1 / 3): ExpectedOutcome => ({ probability: p, verdict: 'ACCEPT', dst: `${dst}:80` });

  const rows: [string, TraceResult, ExpectedOutcome | { outcomes: ExpectedOutcome[] }, string[]][] = [
    ['single outcome, all fields agree', result([outcome({})]), { verdict: 'ACCEPT', disposition: 'forwarded', iface: 'cni0', dst: '10.244.1.11:80', src: '10.244.1.10:40000', mark: 0 }, []],
    ['verdict differs', result([outcome({})]), { verdict: 'DROP' }, ['verdict']],
    ['interface differs', result([outcome({})]), { iface: 'eth0' }, ['iface']],
    ['port differs', result([outcome({})]), { dst: '10.244.1.11:8080' }, ['dst']],
    ['address without port ignores the port', result([outcome({})]), { dst: '10.244.1.11' }, []],
    ['mark differs', result([outcome({})]), { mark: 0x4000 }, ['mark']],
    ['path differs', result([outcome({})]), { path: ['nat:PREROUTING:1'] }, ['path']],
    ['path agrees', result([outcome({})]), { path: ['mangle:PREROUTING:policy', 'nat:PREROUTING:1', 'nat:KUBE-SERVICES:2', 'filter:FORWARD:policy'] }, []],
    ['outcome set in another order', result(three), { outcomes: [want('10.244.1.13'), want('10.244.1.11'), want('10.244.1.12')] }, []],
    ['probability within 1e-6', result(three), { outcomes: [want('10.244.1.13', 0.3333335), want('10.244.1.11', 0.3333328), want('10.244.1.12')] }, []],
    ['probability off by more than 1e-6', result(three), { outcomes: [want('10.244.1.13', 0.334), want('10.244.1.11'), want('10.244.1.12')] }, ['probability']],
    ['one endpoint missing', result(three), { outcomes: [want('10.244.1.11', 0.5), want('10.244.1.12', 0.5)] }, ['count', 'probability', 'probability']],
    ['one endpoint missing, no probabilities given', result(three), { outcomes: [{ dst: '10.244.1.11:80' }, { dst: '10.244.1.12:80' }] }, ['count']],
    ['a wrong endpoint', result(three), { outcomes: [want('10.244.1.11'), want('10.244.1.12'), want('10.244.1.99')] }, ['dst']],
    ['single expectation but several outcomes', result(three), { verdict: 'ACCEPT' }, ['count']],
    ['two expectations may not share one outcome', result([outcome({ probability: 0.5 }), outcome({ probability: 0.5, dst: '10.244.1.12' })]), { outcomes: [want('10.244.1.11', 0.5), want('10.244.1.11', 0.5)] }, ['dst']],
  ];
  it.each(rows)('%s', (_name, res, expect_, fields) => {
    const m = checkPacket(res, expect_);
    expect(m.map((x) => x.field)).toEqual(fields);
    if (fields.length) expect(formatMismatches(m)).not.toBe('');
  });

  it('prints paths side by side', () => {
    const m = checkPacket(result([outcome({})]), { path: ['mangle:PREROUTING:policy', 'nat:PREROUTING:2'] });
    const text = formatMismatches(m);
    expect(text).toContain('expected');
    expect(text).toMatch(/≠ nat:PREROUTING:2\s+nat:PREROUTING:1/);
  });
});

describe('validateScenario', () => {
  const good = {
    name: 'x', description: 'd', family: 'ipv4', rules: 'r', context: {},
    packets: [{ name: 'p', packet: { proto: 'tcp', src: '1.1.1.1', dst: '2.2.2.2', iif: 'eth0' }, expect: { verdict: 'ACCEPT' } }],
  };
  it('accepts a valid scenario', () => {
    expect(validateScenario(good, 'f').errors).toEqual([]);
  });
  const bad: [string, unknown, RegExp][] = [
    ['a misspelt expectation key', { ...good, packets: [{ ...good.packets[0], expect: { verdic: 'ACCEPT' } }] }, /unknown key "verdic"/],
    ['an unknown verdict', { ...good, packets: [{ ...good.packets[0], expect: { verdict: 'ALLOW' } }] }, /verdict: "ALLOW"/],
    ['a bad path step', { ...good, packets: [{ ...good.packets[0], expect: { path: ['nat-PREROUTING-1'] } }] }, /path\[0\]/],
    ['duplicate packet names', { ...good, packets: [good.packets[0], good.packets[0]] }, /duplicate packet name/],
    ['probabilities not summing to 1', { ...good, packets: [{ ...good.packets[0], expect: { outcomes: [{ probability: 0.5 }, { probability: 0.4 }] } }] }, /sum to 0.9/],
    ['a bad family', { ...good, family: 'inet' }, /family/],
    ['no packets', { ...good, packets: [] }, /non-empty/],
    ['a bad assume', { ...good, packets: [{ ...good.packets[0], assume: { '12': 'yes' } }] }, /assume/],
    ['a peer behind a missing interface', { ...good, context: { interfaces: [{ name: 'eth0', addresses: [] }], peers: [{ name: 'pod', iface: 'cni0', addresses: ['10.0.0.2/24'] }] } }, /behind "cni0", which is not one of the interfaces/],
    ['duplicate interfaces', { ...good, context: { interfaces: [{ name: 'eth0', addresses: [] }, { name: 'eth0', addresses: [] }] } }, /duplicate interface "eth0"/],
    ['an unknown packet field', { ...good, packets: [{ ...good.packets[0], packet: { ...good.packets[0].packet, dprot: 80 } }] }, /unknown key "dprot"/],
  ];
  it.each(bad)('rejects %s', (_n, raw, re) => {
    const r = validateScenario(raw, 'f');
    expect(r.scenario).toBeUndefined();
    expect(r.errors.join('\n')).toMatch(re);
  });
});
