import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRuleset } from '../../../src/core/parse/index.js';
import { resolveContext } from '../../../src/core/netfilter/index.js';
import { diffBehaviour, GENERIC_NODE_CONTEXT } from '../../../src/core/diff/index.js';
import { diffStructural } from '../../../src/core/diff/structural.js';
import type { BehaviourChange, BehaviourDiff } from '../../../src/core/diff/types.js';
import type { Ruleset } from '../../../src/core/model.js';
import type { PacketSpec } from '../../../src/core/netfilter/types.js';
import { KUBE_TRACEPACKET, kubeTracepacketPresent, resync } from './resync.js';

function parse(text: string, file = 't.rules'): Ruleset {
  const r = parseRuleset(text, { file });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.ruleset;
}

const ctx = resolveContext(GENERIC_NODE_CONTEXT).context;

function behaviour(a: string, b: string, extra: PacketSpec[] = [], maxProbes?: number): BehaviourDiff {
  const ra = parse(a, 'old.rules');
  const rb = parse(b, 'new.rules');
  return diffBehaviour(ra, rb, ctx, ctx, extra, { structural: diffStructural(ra, rb), maxProbes });
}

const find = (d: BehaviourDiff, label: string): BehaviourChange => {
  const c = d.changes.find((x) => x.probe.label === label);
  if (!c) throw new Error(`no change for ${label}; changes: ${d.changes.map((x) => x.probe.label).join(', ')}`);
  return c;
};

const filter = (policy: string, rules: string[]) =>
  `*filter\n:INPUT ${policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules.map((r) => r + '\n').join('')}COMMIT\n`;
const nat = (rules: string[]) =>
  `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${rules.map((r) => r + '\n').join('')}COMMIT\n`;

describe('diffBehaviour: crafted pairs', () => {
  it('removing an ACCEPT under a DROP policy: ssh from outside is now dropped', () => {
    const ssh = '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT';
    const d = behaviour(filter('DROP', ['-A INPUT -i lo -j ACCEPT', ssh]), filter('DROP', ['-A INPUT -i lo -j ACCEPT']));
    const c = find(d, 'outside 203.0.113.10 → 192.168.0.2:22/tcp');
    expect(c.differences).toContain('verdict ACCEPT → DROP');
    expect(c.old.map((o) => [o.verdict, o.disposition])).toEqual([['ACCEPT', 'delivered']]);
    expect(c.new.map((o) => [o.verdict, o.disposition])).toEqual([['DROP', 'dropped']]);
    // Both traces are there, each with its steps.
    expect(c.oldTrace.outcomes[0].steps.some((s) => s.kind === 'rule' && s.matched === true && s.line === 6)).toBe(true);
    expect(c.newTrace.outcomes[0].disposition.kind).toBe('dropped');
    // The host's own packets leave through OUTPUT, untouched by INPUT: not listed.
    expect(d.changes.every((x) => x.probe.origin !== 'host')).toBe(true);
  });

  it('a new DNAT: the destination and its probability show', () => {
    const d = behaviour(nat([]), nat(['-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.0.20:8080']));
    const c = find(d, 'pod 10.244.0.10 → 10.96.0.10:80/tcp');
    expect(c.new[0].dnat).toBe('10.244.0.20:8080');
    expect(c.old[0].dnat).toBeUndefined();
    expect(c.differences).toContain('dnat none → 10.244.0.20:8080');
  });

  it('masquerade added for pod traffic leaving the node', () => {
    const masq = '-A POSTROUTING -s 10.244.0.0/16 -d 198.51.100.0/24 -o eth0 -j MASQUERADE';
    const d = behaviour(nat([]), nat([masq]));
    const c = find(d, 'pod 10.244.0.10 → 198.51.100.1/icmp');
    expect(c.old[0].masquerade).toBe(false);
    expect(c.new[0].masquerade).toBe(true);
    expect(c.differences).toContain('masquerade no → yes');
    // From outside, the source is not a pod: no difference.
    expect(d.changes.find((x) => x.probe.label.startsWith('outside'))).toBeUndefined();
  });

  it('identical rulesets: probes traced, nothing differs', () => {
    const r = filter('DROP', ['-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT']);
    const d = behaviour(r, r);
    expect(d.probesTraced).toBeGreaterThan(0);
    expect(d.changes).toEqual([]);
  });

  it('user packets are traced first and always, even when not derivable', () => {
    const user: PacketSpec = { proto: 'tcp', src: '203.0.113.77', sport: 5555, dst: '192.168.0.2', dport: 2222, iif: 'eth0' };
    const web = '-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT';
    const d = behaviour(filter('ACCEPT', [web]), filter('DROP', [web]), [user], 0);
    expect(d.probesTraced).toBe(1);
    expect(d.bounded).toMatch(/bounded: traced 0 of \d+ derived probes/);
    expect(d.changes.map((c) => [c.probe.origin, c.differences])).toEqual([['user', ['verdict ACCEPT → DROP', 'disposition delivered → dropped']]]);
  });

  it('bounds the derived probes and says so', () => {
    // Forwarded traffic to 50 addresses, allowed one by one under a DROP policy; one allowance removed.
    const rules = Array.from({ length: 50 }, (_, k) => `-A FORWARD -d 10.1.${k}.1/32 -p tcp -m tcp --dport 80 -j ACCEPT`);
    const fwd = (r: string[]) => filter('ACCEPT', r).replace(':FORWARD ACCEPT', ':FORWARD DROP');
    const d = behaviour(fwd(rules), fwd(rules.slice(1)), [], 10);
    expect(d.probesTraced).toBe(10);
    expect(d.probesDerived).toBe(150);
    expect(d.bounded).toContain('traced 10 of 150');
    // The removed rule's destination reaches a changed chain: it is among the traced ones.
    expect(d.changes.map((c) => c.probe.label)).toContain('outside 203.0.113.10 → 10.1.0.1:80/tcp');
  });
});

if (!kubeTracepacketPresent) console.warn(`[diff] ${KUBE_TRACEPACKET} not found: real kube-proxy behaviour test skipped`);

describe.skipIf(!kubeTracepacketPresent)('diffBehaviour: real kube-proxy resync (kube-proxy-tracepacket.rules)', () => {
  it('endpoint added to ns1/svc1 and removed from ns4/svc4: their cluster IPs now balance differently', () => {
    const old = readFileSync(KUBE_TRACEPACKET, 'utf8');
    const d = behaviour(old, resync(old));
    const svc1 = find(d, 'pod 10.244.0.10 → 172.30.0.41:80/tcp');
    expect(svc1.old.map((o) => [o.dnat, o.probability])).toEqual([['10.180.0.1:80', 1]]);
    expect(svc1.new.map((o) => [o.dnat, o.probability]).sort()).toEqual([
      ['10.180.0.1:80', 0.5],
      ['10.180.0.9:80', 0.5],
    ]);
    const svc4 = find(d, 'pod 10.244.0.10 → 172.30.0.44:80/tcp');
    expect(svc4.old.map((o) => o.dnat).sort()).toEqual(['10.180.0.4:80', '10.180.0.5:80']);
    expect(svc4.new.map((o) => [o.dnat, o.probability])).toEqual([['10.180.0.4:80', 1]]);
    // Services the resync did not touch behave the same.
    for (const ip of ['172.30.0.42', '172.30.0.43', '172.30.0.45', '172.30.0.46']) {
      expect(d.changes.filter((c) => c.probe.packet.dst === ip)).toEqual([]);
    }
  });
});

describe('diffBehaviour: the untouched-chains shortcut never hides a change', () => {
  it('same result as tracing every probe on both sides (real kube-proxy resync and crafted pairs)', () => {
    const pairs: Array<[string, string]> = [
      [filter('DROP', ['-A INPUT -i lo -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT']), filter('DROP', ['-A INPUT -i lo -j ACCEPT'])],
      [nat([]), nat(['-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.0.20:8080'])],
    ];
    if (kubeTracepacketPresent) {
      const old = readFileSync(KUBE_TRACEPACKET, 'utf8');
      pairs.push([old, resync(old)]);
    }
    for (const [x, y] of pairs) {
      const a = parse(x);
      const b = parse(y);
      const s = diffStructural(a, b);
      const fast = diffBehaviour(a, b, ctx, ctx, [], { structural: s });
      // Exhaustive: no shortcut, every probe traced on both sides.
      const full = diffBehaviour(a, b, ctx, ctx, [], { exhaustive: true });
      const labels = (d: BehaviourDiff) => d.changes.map((c) => `${c.probe.label} ${c.differences.join('; ')}`).sort();
      expect(labels(fast)).toEqual(labels(full));
      expect(fast.probesTraced).toBe(full.probesTraced);
    }
  });
});

describe('diffBehaviour: bounded outcomes', () => {
  it('says the comparison is partial when a trace was cut at maxOutcomes', () => {
    const svc = (eps: string[]) =>
      nat(eps.map((ep, k) => `-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80${k < eps.length - 1 ? ` -m statistic --mode random --probability ${(1 / (eps.length - k)).toFixed(11)}` : ''} -j DNAT --to-destination ${ep}:80`));
    const a = parse(svc(['10.244.0.21', '10.244.0.22', '10.244.0.23', '10.244.0.24']));
    const b = parse(svc(['10.244.0.21', '10.244.0.22', '10.244.0.23']));
    const d = diffBehaviour(a, b, ctx, ctx, [], { maxOutcomes: 2 });
    const c = find(d, 'pod 10.244.0.10 → 10.96.0.10:80/tcp');
    expect(c.differences[c.differences.length - 1]).toBe('(outcomes cut at 2 on both sides: the comparison is partial)');
  });
});
