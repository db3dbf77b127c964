/**
 * The trace formatters on a synthetic TraceResult (no engine): every step kind, assumptions,
 * branches, skipped-rule notes, truncation, colour, and the JSON's shape (no ruleRef, fixed key
 * order, sorted context keys, absent keys left out).
 */
import { describe, expect, it } from 'vitest';
import { formatTraceJson, formatTraceText, traceToJson } from '../../src/cli/format-trace.js';
import type { Outcome, PacketState, Step, TraceResult } from '../../src/core/netfilter/types.js';
import type { Rule } from '../../src/core/model.js';

const S: PacketState = {
  family: 'ipv4', proto: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', sport: 1000, dport: 22, iif: 'eth0', mark: 0, ctMark: 0,
  ctState: 'NEW', ctDir: 'ORIGINAL', origSrc: '10.0.0.1', origDst: '10.0.0.2', origSport: 1000, origDport: 22, snat: false, dnat: false, ttl: 64,
};
const RULE = { raw: '-A INPUT -p tcp -m tcp --dport 22 -m limit --limit 3/min -j ACCEPT' } as unknown as Rule;

function step(p: Partial<Step>): Step {
  return { kind: 'rule', hook: 'INPUT', table: 'filter', chain: 'INPUT', rule: 1, line: 5, matched: true, reasons: [], changes: [], state: S, ...p };
}

const outcome = (verdict: 'ACCEPT' | 'DROP', choice: 'match' | 'nomatch'): Outcome => ({
  probability: 1,
  verdict,
  disposition: verdict === 'ACCEPT' ? { kind: 'delivered', text: 'delivered locally' } : { kind: 'dropped', by: { table: 'filter', chain: 'INPUT', rule: null, line: 2 }, text: 'dropped by filter:INPUT policy DROP' },
  assumptions: [{ table: 'filter', chain: 'INPUT', rule: 2, line: 6, choice, reason: '-m limit: rate state not known', chosen: false }],
  branches: [{ table: 'filter', chain: 'INPUT', rule: 1, line: 5, taken: false, probability: 0.75 }],
  packet: { ...S, mark: 0x10 },
  steps: [
    step({ kind: 'conntrack', hook: 'PREROUTING', table: null, chain: null, rule: null, line: null, matched: false, note: 'conntrack: no entry — NEW flow' }),
    step({ kind: 'route', hook: 'PREROUTING', table: null, chain: null, rule: null, line: null, matched: false, note: 'route: 10.0.0.2 is local → INPUT' }),
    step({ rule: 1, matched: false, failed: '--dport 22 ≠ 23', ruleRef: RULE }),
    step({ kind: 'note', rule: null, line: null, matched: false, skipped: { from: 2, to: 40, count: 39, reason: '-d differs' } }),
    step({ rule: 41, line: 6, matched: 'unknown', failed: '-m limit: rate state not known', target: 'ACCEPT', ruleRef: RULE }),
    step({ rule: 42, line: 7, matched: true, reasons: ['-p tcp = tcp'], target: 'MARK', changes: ['mark 0x0 → 0x10'], ruleRef: RULE }),
    step({ kind: 'return', chain: 'USER', rule: null, line: null, matched: false, note: 'end of chain' }),
    step({ kind: 'policy', rule: null, line: 2, matched: false, policy: verdict === 'ACCEPT' ? 'ACCEPT' : 'DROP' }),
  ],
});

const RESULT: TraceResult = {
  outcomes: [outcome('ACCEPT', 'match'), outcome('DROP', 'nomatch')],
  context: { defaults: ['interfaces: none given — only loopback is local'], context: { sysctl: { ipForward: true, ipv6Forward: true, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true }, routes: [], interfaces: [{ name: 'lo', addresses: ['127.0.0.1/8'] }] } },
  packet: { proto: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', dport: 22, iif: 'eth0' },
  truncated: true,
};

describe('formatTraceText', () => {
  const text = formatTraceText(RESULT, { color: false });
  it.each([
    ['header', /^packet {3}tcp 10\.0\.0\.1 → 10\.0\.0\.2:22 {2}in eth0 {2}ct NEW\n/],
    ['ports the engine filled in', /not given, the trace used source port 1000/],
    ['defaults', /defaults the engine relied on:\n {2}- interfaces: none given/],
    ['outcome count and truncation', /outcomes 2 .*truncated: more outcomes exist/],
    ['outcome heading', /── outcome 1 of 2 · p 1 · ACCEPT · delivered locally/],
    ['assumption', /filter:INPUT:2 \(line 6\) assumed match \(explored\) — -m limit: rate state not known/],
    ['branch', /filter:INPUT:1 \(line 5\) statistic not taken \(p 0\.75\)/],
    ['hook then table grouping', /\n PREROUTING\n {3}conntrack no entry — NEW flow\n {3}route {5}10\.0\.0\.2 is local → INPUT\n INPUT\n {3}filter\n/],
    ['a rule that failed', /✗ INPUT #1 {2}\(line 5\) {2}-A INPUT -p tcp.*\n {9}failed: --dport 22 ≠ 23/],
    ['skipped rules', /⋯ INPUT #2–#40: 39 rule\(s\) skipped by the index \(-d differs\)/],
    ['an unknown match', /\? INPUT #41 .*\n {9}unknown: -m limit: rate state not known \(target ACCEPT\)/],
    ['a matched rule with its change', /✓ INPUT #42 .*\n {9}matched: -p tcp = tcp → MARK\n {7}⇒ mark 0x0 → 0x10/],
    ['implicit return', /↩ end of USER: return \(end of chain\)/],
    ['policy', /■ INPUT policy ACCEPT {2}\(line 2\)/],
    ['result', /result {2}DROP · dropped by filter:INPUT policy DROP/],
    ['final state', /leaves {2}tcp 10\.0\.0\.1:1000 → 10\.0\.0\.2:22 {2}in eth0 {2}mark 0x10 {2}ct NEW/],
  ])('%s', (_n, re) => {
    expect(text).toMatch(re);
  });
  it('no colour codes unless asked; colour when asked', () => {
    expect(text).not.toMatch(/\x1b\[/);
    expect(formatTraceText(RESULT, { color: true })).toMatch(/\x1b\[32m✓\x1b\[0m/);
  });
  it('--only-matched leaves out rules that did not match', () => {
    const only = formatTraceText(RESULT, { color: false, onlyMatched: true });
    expect(only).not.toMatch(/INPUT #1 /);
    expect(only).toMatch(/INPUT #42/);
  });
});

describe('traceToJson', () => {
  const j = traceToJson(RESULT) as { outcomes: { steps: Record<string, unknown>[] }[]; context: { context: Record<string, unknown> }; truncated?: boolean };
  it('fixed top-level and step key order; ruleRef stripped, the rule text kept', () => {
    expect(Object.keys(j)).toEqual(['outcomes', 'context', 'packet', 'truncated']);
    const s = j.outcomes[0].steps[5];
    expect(Object.keys(s)).toEqual(['kind', 'hook', 'table', 'chain', 'rule', 'line', 'matched', 'target', 'reasons', 'changes', 'text', 'state']);
    expect(s).not.toHaveProperty('ruleRef');
    expect(s.text).toBe(RULE.raw);
  });
  it('policy steps: rule null and the policy; non-rule steps: table and chain null', () => {
    expect(j.outcomes[0].steps[7]).toMatchObject({ kind: 'policy', rule: null, policy: 'ACCEPT' });
    expect(j.outcomes[0].steps[0]).toMatchObject({ kind: 'conntrack', table: null, chain: null, rule: null });
    expect(j.outcomes[0].steps[3]).toMatchObject({ skipped: { from: 2, to: 40, count: 39 } });
  });
  it('context keys sorted, deterministic text', () => {
    expect(Object.keys(j.context.context)).toEqual(['interfaces', 'routes', 'sysctl']);
    expect(formatTraceJson(RESULT)).toBe(formatTraceJson(structuredClone(RESULT)));
    expect(JSON.parse(formatTraceJson(RESULT))).toEqual(JSON.parse(JSON.stringify(j)));
  });
});
