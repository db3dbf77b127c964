/**
 * Test helpers for the engine: build rulesets from iptables-save text with the real parser, a
 * typical node context, and one-line path assertions.
 */
import { expect } from 'vitest';
import type { Ruleset } from '../../../src/core/model.js';
import { parseRuleset } from '../../../src/core/parse/index.js';
import { resolveContext, trace } from '../../../src/core/netfilter/index.js';
import { targetNames } from '../../../src/core/extensions/index.js';

const STANDARD = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);
import type { HostContext, Outcome, PacketSpec, TraceOptions, TraceResult } from '../../../src/core/netfilter/types.js';

/** Parse iptables-save text (tables separated as usual); fails the test on parse errors. */
export function rules(text: string, family?: 'ipv4' | 'ipv6'): Ruleset {
  const body = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join('\n');
  const r = parseRuleset(body + '\n', family ? { file: 'test.rules', family } : { file: 'test.rules' });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  expect(errors, errors.map((e) => `${e.line}: ${e.message}`).join('\n')).toEqual([]);
  return r.ruleset;
}

/** A single-table ruleset: `filter('-A INPUT -s 1.2.3.4 -j DROP')`. Chains named in rules are declared. */
export function table(name: string, lines: string[], policies: Record<string, string> = {}): string {
  const builtin: Record<string, string[]> = {
    raw: ['PREROUTING', 'OUTPUT'],
    mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
    nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
    filter: ['INPUT', 'FORWARD', 'OUTPUT'],
    security: ['INPUT', 'FORWARD', 'OUTPUT'],
  };
  const chains = new Set<string>();
  for (const l of lines) {
    const m = /^-A (\S+)/.exec(l);
    if (m && !builtin[name]!.includes(m[1]!)) chains.add(m[1]!);
    const j = / -[jg] (\S+)/.exec(l);
    if (j && !STANDARD.has(j[1]!) && !targetNames().includes(j[1]!)) chains.add(j[1]!);
  }
  const out = [`*${name}`];
  for (const b of builtin[name]!) out.push(`:${b} ${policies[b] ?? 'ACCEPT'} [0:0]`);
  for (const c of chains) out.push(`:${c} - [0:0]`);
  out.push(...lines, 'COMMIT');
  return out.join('\n');
}

/** A Kubernetes-like node: eth0 192.168.1.2/24 (default via .1), cni0 bridge 10.244.1.1/24 with two veth ports in hairpin mode. */
export function nodeContext(extra: Partial<HostContext> = {}): HostContext {
  return resolveContext({
    interfaces: [
      { name: 'lo', kind: 'loopback', addresses: ['127.0.0.1/8', '::1/128'] },
      { name: 'eth0', kind: 'ether', addresses: ['192.168.1.2/24', '2001:db8:1::2/64'], mac: '52:54:00:00:00:02' },
      // hairpin mode on, as kubelet / the bridge CNI plugin set it on a Kubernetes node
      { name: 'cni0', kind: 'bridge', addresses: ['10.244.1.1/24', 'fd00:244:1::1/64'], ports: ['vethA', 'vethB'], hairpin: true },
    ],
    routes: [
      { dst: 'default', dev: 'eth0', via: '192.168.1.1' },
      { dst: 'default', dev: 'eth0', via: '2001:db8:1::1' },
      { dst: '10.244.2.0/24', dev: 'eth0', via: '192.168.1.3' },
    ],
    sysctl: { ipForward: true, ipv6Forward: true, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true },
    ipsets: [],
    ...extra,
  }).context;
}

/** Trace with the node context by default. */
export function run(rs: Ruleset, packet: PacketSpec, ctx: HostContext = nodeContext(), opts?: TraceOptions): TraceResult {
  return trace(rs, ctx, packet, opts);
}

/** The decisive path of an outcome: matched rules `table:CHAIN:N` and policies `table:CHAIN:policy`. */
export function pathOf(o: Outcome): string[] {
  const out: string[] = [];
  for (const s of o.steps) {
    if (s.kind === 'rule' && s.matched === true) out.push(`${s.table}:${s.chain}:${s.rule}`);
    else if (s.kind === 'rule' && s.matched === 'unknown' && s.changes.some((c) => c.includes('to match'))) out.push(`${s.table}:${s.chain}:${s.rule}?`);
    else if (s.kind === 'policy') out.push(`${s.table}:${s.chain}:policy`);
  }
  return out;
}

/** Assert the single outcome's path (and optionally its disposition text). */
export function expectPath(rs: Ruleset, packet: PacketSpec, path: string[], disposition?: string | RegExp, ctx?: HostContext): Outcome {
  const r = run(rs, packet, ctx);
  expect(r.outcomes.length, r.outcomes.map((o) => o.disposition.text).join(' | ')).toBe(1);
  const o = r.outcomes[0]!;
  expect(pathOf(o)).toEqual(path);
  if (disposition !== undefined) {
    if (typeof disposition === 'string') expect(o.disposition.text).toBe(disposition);
    else expect(o.disposition.text).toMatch(disposition);
  }
  return o;
}

/** The evaluated rule step for a line of a one-rule ruleset. */
export function ruleStep(o: Outcome, line: number) {
  return o.steps.find((s) => s.kind === 'rule' && s.line === line);
}
