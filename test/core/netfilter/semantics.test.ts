/**
 * Engine semantics, one row per rule of the kernel the engine follows (hooks, tables, chains,
 * routing, conntrack, NAT, bridging, loopback). Rulesets are parsed from iptables-save text.
 */
import { describe, expect, it } from 'vitest';
import { resolveContext, trace } from '../../../src/core/netfilter/index.js';
import { expectPath, nodeContext, pathOf, rules, run, table } from './helpers.js';

const pod = { proto: 'tcp', src: '10.244.1.5', sport: 40000, iif: 'vethA' } as const;

describe('hooks and tables', () => {
  const all = rules(
    [
      table('raw', ['-A PREROUTING -j ACCEPT', '-A OUTPUT -j ACCEPT']),
      table('mangle', ['-A PREROUTING -j ACCEPT', '-A INPUT -j ACCEPT', '-A FORWARD -j ACCEPT', '-A OUTPUT -j ACCEPT', '-A POSTROUTING -j ACCEPT']),
      table('nat', ['-A PREROUTING -j ACCEPT', '-A INPUT -j ACCEPT', '-A OUTPUT -j ACCEPT', '-A POSTROUTING -j ACCEPT']),
      table('filter', ['-A INPUT -j ACCEPT', '-A FORWARD -j ACCEPT', '-A OUTPUT -j ACCEPT']),
      table('security', ['-A INPUT -j ACCEPT', '-A FORWARD -j ACCEPT', '-A OUTPUT -j ACCEPT']),
    ].join('\n'),
  );
  it.each([
    ['incoming, local', { ...pod, dst: '10.244.1.1', dport: 22 }, ['raw:PREROUTING:1', 'mangle:PREROUTING:1', 'nat:PREROUTING:1', 'mangle:INPUT:1', 'filter:INPUT:1', 'security:INPUT:1', 'nat:INPUT:1'], 'delivered locally'],
    ['incoming, forwarded', { ...pod, dst: '8.8.8.8', dport: 53 }, ['raw:PREROUTING:1', 'mangle:PREROUTING:1', 'nat:PREROUTING:1', 'mangle:FORWARD:1', 'filter:FORWARD:1', 'security:FORWARD:1', 'mangle:POSTROUTING:1', 'nat:POSTROUTING:1'], 'forwarded out eth0'],
    ['local out', { proto: 'tcp', src: '192.168.1.2', sport: 40000, dst: '8.8.8.8', dport: 53, local: true }, ['raw:OUTPUT:1', 'mangle:OUTPUT:1', 'nat:OUTPUT:1', 'filter:OUTPUT:1', 'security:OUTPUT:1', 'mangle:POSTROUTING:1', 'nat:POSTROUTING:1'], 'sent out eth0'],
  ])('%s: kernel priority order', (_n, pkt, path, disp) => {
    expectPath(all, pkt, path, disp);
  });

  it('visits only tables present; an empty builtin chain still yields a policy step', () => {
    const rs = rules(table('filter', [], { INPUT: 'DROP' }));
    const o = expectPath(rs, { ...pod, dst: '10.244.1.1', dport: 22 }, ['filter:INPUT:policy'], 'dropped by filter:INPUT policy DROP');
    expect(o.verdict).toBe('DROP');
    expect(o.steps.some((s) => s.table === 'nat')).toBe(false);
  });
});

describe('chains', () => {
  it.each([
    ['jump returns to the caller', ['-A INPUT -j C-A', '-A INPUT -j DROP', '-A C-A -j RETURN'], ['filter:INPUT:1', 'filter:C-A:1', 'filter:INPUT:2'], 'DROP'],
    ['implicit return at the end of a user chain', ['-A INPUT -j C-A', '-A INPUT -j DROP', '-A C-A -s 1.1.1.1/32 -j ACCEPT'], ['filter:INPUT:1', 'filter:INPUT:2'], 'DROP'],
    ['goto does not return to its caller (returns to the caller of the caller)', ['-A INPUT -j C-A', '-A INPUT -j DROP', '-A C-A -g C-B', '-A C-A -j ACCEPT', '-A C-B -j RETURN'], ['filter:INPUT:1', 'filter:C-A:1', 'filter:C-B:1', 'filter:INPUT:2'], 'DROP'],
    ['goto from the builtin chain: the end applies the policy', ['-A INPUT -g C-A', '-A INPUT -j ACCEPT', '-A C-A -s 1.1.1.1/32 -j ACCEPT'], ['filter:INPUT:1', 'filter:INPUT:policy'], 'DROP'],
    ['RETURN in the builtin chain applies the policy', ['-A INPUT -j RETURN', '-A INPUT -j ACCEPT'], ['filter:INPUT:1', 'filter:INPUT:policy'], 'DROP'],
    ['non-terminating targets continue', ['-A INPUT -j LOG --log-prefix "x "', '-A INPUT -j MARK --set-xmark 0x1/0xffffffff', '-A INPUT -m mark --mark 0x1 -j ACCEPT'], ['filter:INPUT:1', 'filter:INPUT:2', 'filter:INPUT:3'], 'ACCEPT'],
    ['a rule without a target only counts', ['-A INPUT -p tcp', '-A INPUT -j ACCEPT'], ['filter:INPUT:1', 'filter:INPUT:2'], 'ACCEPT'],
  ])('%s', (_n, lines, path, verdict) => {
    const rs = rules(table('filter', lines, { INPUT: 'DROP' }));
    const o = expectPath(rs, { ...pod, dst: '10.244.1.1', dport: 22 }, path);
    expect(o.verdict).toBe(verdict);
  });

  it('reports why a rule did not match', () => {
    const rs = rules(table('filter', ['-A INPUT -p tcp -m tcp --dport 80 -j DROP']));
    const o = run(rs, { ...pod, dst: '10.244.1.1', dport: 8080 }).outcomes[0]!;
    const st = o.steps.find((s) => s.kind === 'rule')!;
    expect(st.matched).toBe(false);
    expect(st.failed).toBe('--dport 80 ≠ 8080');
    expect(st.reasons).toContain('-p tcp = tcp');
  });
});

describe('routing', () => {
  const empty = rules(table('filter', []));
  it.each([
    ['local address → INPUT', { ...pod, dst: '192.168.1.2', dport: 22 }, 'delivered locally'],
    ['connected subnet → forwarded out its interface', { proto: 'tcp', src: '192.168.1.50', sport: 1, dst: '10.244.1.7', dport: 80, iif: 'eth0' }, 'forwarded out cni0'],
    ['longest prefix wins over the default', { ...pod, dst: '10.244.2.9', dport: 80 }, 'forwarded out eth0'],
    ['subnet broadcast is local', { proto: 'udp', src: '10.244.1.5', sport: 68, dst: '10.244.1.255', dport: 67, iif: 'vethA' }, 'delivered locally'],
    ['127.0.0.0/8 from the wire is martian (route_localnet=0)', { proto: 'tcp', src: '192.168.1.50', sport: 1, dst: '127.0.0.1', dport: 80, iif: 'eth0' }, /martian destination 127\.0\.0\.1/],
  ])('%s', (_n, pkt, disp) => {
    const o = run(empty, pkt).outcomes[0]!;
    if (typeof disp === 'string') expect(o.disposition.text).toBe(disp);
    else expect(o.disposition.text).toMatch(disp);
  });

  it.each([
    ['TTL 1 expires before FORWARD', 1, 'DROP', /TTL exceeded in transit/],
    ['TTL 2 is forwarded and FORWARD sees 1', 2, 'ACCEPT', 'forwarded out eth0'],
  ] as const)('%s', (_n, ttl, verdict, disp) => {
    const rs = rules(table('filter', ['-A FORWARD -m ttl --ttl-eq 1 -j ACCEPT'], { FORWARD: 'DROP' }));
    const o = run(rs, { ...pod, dst: '8.8.8.8', dport: 53, ttl }).outcomes[0]!;
    expect(o.verdict).toBe(verdict);
    if (typeof disp === 'string') expect(o.disposition.text).toBe(disp);
    else expect(o.disposition.text).toMatch(disp);
  });

  it('a local source arriving from outside is a martian source', () => {
    const o = run(empty, { proto: 'udp', src: '192.168.1.2', sport: 1, dst: '192.168.1.2', dport: 9, iif: 'eth0' }).outcomes[0]!;
    expect(o.disposition.text).toMatch(/martian source 192\.168\.1\.2/);
  });

  it('a loopback source cannot leave after an OUTPUT DNAT (route_localnet=0)', () => {
    const rs = rules(table('nat', ['-A OUTPUT -d 127.0.0.1/32 -p tcp -m tcp --dport 30080 -j DNAT --to-destination 10.244.1.10:80']));
    const o = run(rs, { proto: 'tcp', src: '127.0.0.1', sport: 1, dst: '127.0.0.1', dport: 30080, local: true }).outcomes[0]!;
    expect(o.verdict).toBe('DROP');
    expect(o.disposition.text).toMatch(/loopback source 127\.0\.0\.1 out cni0/);
    const on = nodeContext({ sysctl: { ipForward: true, ipv6Forward: true, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true, routeLocalnet: true } });
    expect(run(rs, { proto: 'tcp', src: '127.0.0.1', sport: 1, dst: '127.0.0.1', dport: 30080, local: true }, on).outcomes[0]!.disposition.text).toBe('sent out cni0');
  });

  it('forwarding off: dropped with the reason', () => {
    const ctx = nodeContext({ sysctl: { ipForward: false, ipv6Forward: true, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true } });
    const o = run(empty, { ...pod, dst: '8.8.8.8', dport: 53 }, ctx).outcomes[0]!;
    expect(o.verdict).toBe('DROP');
    expect(o.disposition.text).toContain('net.ipv4.ip_forward=0');
    expect(o.steps.some((s) => s.hook === 'FORWARD')).toBe(false);
  });

  it('no route (routes given, none matches): no-route disposition', () => {
    const ctx = resolveContext({ interfaces: [{ name: 'eth0', addresses: ['192.168.1.2/24'] }], routes: [] }).context;
    const o = run(empty, { proto: 'tcp', src: '192.168.1.9', sport: 1, dst: '8.8.8.8', dport: 53, iif: 'eth0' }, ctx).outcomes[0]!;
    expect(o.disposition.kind).toBe('no-route');
  });

  it('bare dump defaults: only loopback local, forwarding on, output interface unknown — recorded', () => {
    const rs = rules(table('filter', ['-A FORWARD -o eth0 -j DROP']));
    const r = trace(rs, resolveContext().context, { proto: 'tcp', src: '10.0.0.1', sport: 1, dst: '10.0.0.2', dport: 80, iif: 'eth0' });
    // -o on an unknown output interface is unknown: both outcomes are explored.
    expect(r.outcomes.map((o) => o.verdict).sort()).toEqual(['ACCEPT', 'DROP']);
    expect(r.outcomes.every((o) => o.assumptions.length === 1)).toBe(true);
    expect(r.context.defaults.some((d) => d.startsWith('routes'))).toBe(true);
    expect(r.context.defaults.some((d) => d.startsWith('net.ipv4.ip_forward'))).toBe(true);
    expect(r.context.defaults.some((d) => d.startsWith('interfaces'))).toBe(true);
  });
});

describe('NAT and conntrack', () => {
  const kube = rules(
    [
      table('nat', [
        '-A PREROUTING -j KUBE-SERVICES',
        '-A OUTPUT -j KUBE-SERVICES',
        '-A POSTROUTING -j KUBE-POSTROUTING',
        '-A KUBE-SERVICES -d 10.96.0.100/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A',
        '-A KUBE-SVC-A -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-1',
        '-A KUBE-SVC-A -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-2',
        '-A KUBE-SVC-A -j KUBE-SEP-3',
        '-A KUBE-SEP-1 -s 10.244.1.10/32 -j KUBE-MARK-MASQ',
        '-A KUBE-SEP-1 -p tcp -m tcp -j DNAT --to-destination 10.244.1.10:8080',
        '-A KUBE-SEP-2 -p tcp -m tcp -j DNAT --to-destination 10.244.1.11:8080',
        '-A KUBE-SEP-3 -p tcp -m tcp -j DNAT --to-destination 10.244.2.12:8080',
        '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
        '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
        '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
        '-A KUBE-POSTROUTING -j MASQUERADE --random-fully',
      ]),
      table('filter', ['-A FORWARD -d 10.96.0.100/32 -j DROP', '-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT'], { FORWARD: 'DROP' }),
    ].join('\n'),
  );

  it('statistic random: each endpoint 1/n, filter sees the translated address', () => {
    const r = run(kube, { ...pod, dst: '10.96.0.100', dport: 80 });
    expect(r.outcomes).toHaveLength(3);
    for (const o of r.outcomes) expect(o.probability).toBeCloseTo(1 / 3, 6);
    const dsts = r.outcomes.map((o) => `${o.packet.dst}:${o.packet.dport}`).sort();
    expect(dsts).toEqual(['10.244.1.10:8080', '10.244.1.11:8080', '10.244.2.12:8080']);
    for (const o of r.outcomes) {
      const fwd = o.steps.filter((s) => s.hook === 'FORWARD' && s.kind === 'rule');
      expect(fwd[0]!.matched).toBe(false); // -d clusterIP is gone before any filter rule runs
      expect(fwd[1]!.matched).toBe(true); // --ctstate DNAT holds on the first packet
      expect(o.verdict).toBe('ACCEPT');
    }
    expect(r.outcomes.map((o) => o.branches.length)).toEqual([1, 2, 2]);
  });

  it('hairpin: KUBE-MARK-MASQ then MASQUERADE to the bridge address', () => {
    const r = run(kube, { proto: 'tcp', src: '10.244.1.10', sport: 40000, dst: '10.96.0.100', dport: 80, iif: 'vethA' });
    const self = r.outcomes.find((o) => o.packet.dst === '10.244.1.10')!;
    expect(self.packet.src).toBe('10.244.1.1');
    expect(self.packet.mark & 0x4000).toBe(0);
    expect(pathOf(self)).toContain('nat:KUBE-POSTROUTING:3');
    const other = r.outcomes.find((o) => o.packet.dst === '10.244.1.11')!;
    expect(other.packet.src).toBe('10.244.1.10');
  });

  it('hairpin with the bridge ports not in hairpin mode: dropped by the bridge after PREROUTING', () => {
    const noHairpin = nodeContext();
    noHairpin.interfaces = noHairpin.interfaces.map((i) => (i.name === 'cni0' ? { ...i, hairpin: false } : i));
    const r = run(kube, { proto: 'tcp', src: '10.244.1.10', sport: 40000, dst: '10.96.0.100', dport: 80, iif: 'vethA' }, noHairpin);
    const self = r.outcomes.find((o) => o.packet.dst === '10.244.1.10')!;
    expect(self.verdict).toBe('DROP');
    expect(self.disposition.text).toMatch(/hairpin mode off/);
    expect(self.steps.some((s) => s.hook === 'FORWARD')).toBe(false);
    // the other endpoint is an ordinary DNAT to another pod: still forwarded
    const other = r.outcomes.find((o) => o.packet.dst === '10.244.1.11')!;
    expect(other.verdict).toBe('ACCEPT');
  });

  it('OUTPUT DNAT re-routes; POSTROUTING nat still runs for the NEW packet', () => {
    const r = run(kube, { proto: 'tcp', src: '192.168.1.2', sport: 40000, dst: '10.96.0.100', dport: 80, local: true });
    const o = r.outcomes.find((x) => x.packet.dst === '10.244.1.10')!;
    expect(o.disposition.text).toBe('sent out cni0');
    expect(o.steps.some((s) => s.kind === 'route' && s.note?.startsWith('re-route after DNAT'))).toBe(true);
    expect(o.steps.some((s) => s.hook === 'POSTROUTING' && s.table === 'nat' && s.kind === 'rule')).toBe(true);
  });

  it('ESTABLISHED: nat skipped, the first packet’s translation applied (one flow per first-packet outcome)', () => {
    const r = run(kube, { ...pod, dst: '10.96.0.100', dport: 80, ctState: 'ESTABLISHED' });
    expect(r.outcomes).toHaveLength(3);
    for (const o of r.outcomes) {
      expect(o.steps.some((s) => s.table === 'nat' && s.kind === 'rule')).toBe(false);
      expect(o.steps.some((s) => s.kind === 'conntrack' && s.changes.some((c) => c.startsWith('DNAT (conntrack)')))).toBe(true);
      expect(o.packet.ctState).toBe('ESTABLISHED');
      expect(o.probability).toBeCloseTo(1 / 3, 6);
    }
    expect(r.outcomes.map((o) => o.packet.dst).sort()).toEqual(['10.244.1.10', '10.244.1.11', '10.244.2.12']);
  });

  it('ESTABLISHED with a given flow', () => {
    const r = run(kube, { ...pod, dst: '10.96.0.100', dport: 80, ctState: 'ESTABLISHED', flow: { dnatTo: '10.244.1.11', dnatPort: 8080 } });
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]!.packet.dst).toBe('10.244.1.11');
  });

  it('reply: src = endpoint, conntrack rewrites it back to the clusterIP', () => {
    const r = run(kube, { ...pod, dst: '10.96.0.100', dport: 80, reply: true });
    expect(r.outcomes).toHaveLength(3);
    for (const o of r.outcomes) {
      expect(o.packet.src).toBe('10.96.0.100');
      expect(o.packet.sport).toBe(80);
      expect(o.packet.dst).toBe('10.244.1.5');
      expect(o.packet.ctDir).toBe('REPLY');
    }
    const remote = r.outcomes.find((o) => o.steps[0]!.note?.includes('10.244.2.12'))!;
    expect(remote.steps.find((s) => s.kind === 'conntrack')!.state.iif).toBe('eth0');
  });

  it('locally generated to a local address: OUTPUT → POSTROUTING → lo → PREROUTING → INPUT, nat not consulted again', () => {
    const rs = rules(
      [
        table('nat', ['-A PREROUTING -j ACCEPT', '-A OUTPUT -p tcp -m tcp --dport 80 -j DNAT --to-destination 192.168.1.2:8080', '-A POSTROUTING -j ACCEPT', '-A INPUT -j ACCEPT']),
        table('filter', ['-A INPUT -i lo -p tcp -m tcp --dport 8080 -j ACCEPT'], { INPUT: 'DROP' }),
      ].join('\n'),
    );
    const o = expectPath(
      rs,
      { proto: 'tcp', src: '192.168.1.2', sport: 40000, dst: '192.168.1.2', dport: 80, local: true },
      ['nat:OUTPUT:1', 'filter:OUTPUT:policy', 'nat:POSTROUTING:1', 'filter:INPUT:1'],
      'delivered locally',
    );
    const skipped = o.steps.filter((s) => s.kind === 'conntrack' && s.note?.includes('not consulted'));
    expect(skipped.map((s) => s.hook)).toEqual(['PREROUTING', 'INPUT']);
    expect(o.steps.some((s) => s.hook === 'PREROUTING' && s.state.iif === 'lo')).toBe(true);
  });

  it.each([
    ['OUTPUT → 127.0.0.1', { proto: 'tcp', src: '192.168.1.2', sport: 4, dst: '1.2.3.4', dport: 80, local: true }, '127.0.0.1', 15001],
    ['PREROUTING → primary address of the incoming interface', { proto: 'tcp', src: '10.244.1.5', sport: 4, dst: '1.2.3.4', dport: 80, iif: 'vethA' }, '10.244.1.1', 15001],
  ])('REDIRECT in %s', (_n, pkt, addr, port) => {
    const rs = rules(table('nat', ['-A PREROUTING -p tcp -j REDIRECT --to-ports 15001', '-A OUTPUT -p tcp -j REDIRECT --to-ports 15001']));
    const o = run(rs, pkt).outcomes[0]!;
    expect(o.packet.dst).toBe(addr);
    expect(o.packet.dport).toBe(port);
    expect(o.disposition.text).toBe('delivered locally');
  });

  it.each([
    ['NOTRACK', '-A PREROUTING -j NOTRACK'],
    ['CT --notrack', '-A PREROUTING -j CT --notrack'],
  ])('%s → UNTRACKED, nat skipped', (_n, line) => {
    const rs = rules([table('raw', [line]), table('nat', ['-A PREROUTING -j DNAT --to-destination 10.244.1.9'])].join('\n'));
    const o = run(rs, { ...pod, dst: '10.96.0.1', dport: 80 }).outcomes[0]!;
    expect(o.packet.ctState).toBe('UNTRACKED');
    expect(o.packet.dst).toBe('10.96.0.1');
    expect(o.steps.some((s) => s.table === 'nat' && s.kind === 'rule')).toBe(false);
  });

  it('raw runs before conntrack: --ctstate sees INVALID there', () => {
    const rs = rules(table('raw', ['-A PREROUTING -m conntrack --ctstate INVALID -j ACCEPT']));
    const o = run(rs, { ...pod, dst: '10.244.1.1', dport: 22 }).outcomes[0]!;
    expect(o.steps.find((s) => s.kind === 'rule')!.matched).toBe(true);
  });

  it('CONNMARK save on the first packet, restore on the follow-up', () => {
    const rs = rules(
      table('mangle', [
        '-A PREROUTING -m conntrack --ctstate ESTABLISHED -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff',
        '-A PREROUTING -m conntrack --ctstate NEW -j MARK --set-xmark 0x7/0xffffffff',
        '-A PREROUTING -m conntrack --ctstate NEW -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff',
      ]),
    );
    const first = run(rs, { ...pod, dst: '10.244.1.1', dport: 22 }).outcomes[0]!;
    expect(first.packet.ctMark).toBe(7);
    const next = run(rs, { ...pod, dst: '10.244.1.1', dport: 22, ctState: 'ESTABLISHED' }).outcomes[0]!;
    expect(next.packet.mark).toBe(7);
    expect(next.steps.find((s) => s.kind === 'rule')!.changes[0]).toContain('restored from ctmark 0x7');
  });

  it.each(['RELATED', 'INVALID', 'UNTRACKED'] as const)('state %s can be set', (st) => {
    const rs = rules(table('filter', [`-A INPUT -m state --state ${st} -j DROP`]));
    const o = run(rs, { ...pod, dst: '10.244.1.1', dport: 22, ctState: st }).outcomes[0]!;
    expect(o.verdict).toBe('DROP');
  });
});

describe('bridging (br_netfilter)', () => {
  const rs = rules(table('filter', ['-A FORWARD -i cni0 -o cni0 -m physdev --physdev-in vethA -j ACCEPT'], { FORWARD: 'DROP' }));
  it('two pods on the same bridge: PREROUTING → FORWARD → POSTROUTING with in = out = the bridge', () => {
    const o = run(rs, { ...pod, dst: '10.244.1.6', dport: 80 }).outcomes[0]!;
    expect(o.verdict).toBe('ACCEPT');
    expect(o.disposition.text).toBe('bridged out cni0');
    expect(pathOf(o)).toEqual(['filter:FORWARD:1']);
    expect(o.steps.some((s) => s.hook === 'INPUT')).toBe(false);
  });
  it('bridge-nf-call-iptables=0: iptables not consulted', () => {
    const ctx = nodeContext({ sysctl: { ipForward: true, ipv6Forward: true, bridgeNfCallIptables: false, bridgeNfCallIp6tables: false } });
    const o = run(rs, { ...pod, dst: '10.244.1.6', dport: 80 }, ctx).outcomes[0]!;
    expect(o.steps.filter((s) => s.kind === 'rule')).toHaveLength(0);
    expect(o.disposition.text).toContain('iptables not consulted');
  });
});

describe('unknowns and assumptions', () => {
  const rs = rules(table('filter', ['-A INPUT -m limit --limit 1/sec -j ACCEPT', '-A INPUT -j DROP']));
  const pkt = { ...pod, dst: '10.244.1.1', dport: 22 };
  it('explores both outcomes of an unknown match', () => {
    const r = run(rs, pkt);
    expect(r.outcomes).toHaveLength(2);
    expect(r.outcomes.map((o) => [o.assumptions[0]!.choice, o.verdict])).toEqual([
      ['match', 'ACCEPT'],
      ['nomatch', 'DROP'],
    ]);
    expect(r.outcomes[0]!.steps.find((s) => s.kind === 'rule')!.matched).toBe('unknown');
  });
  it.each([
    ['match', 'ACCEPT'],
    ['nomatch', 'DROP'],
  ] as const)('--assume LINE=%s chooses', (choice, verdict) => {
    const line = rs.tables.get('filter')!.chains.get('INPUT')!.rules[0]!.span.line;
    const r = run(rs, pkt, undefined, { assume: new Map([[line, choice]]) });
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]!.verdict).toBe(verdict);
    expect(r.outcomes[0]!.assumptions[0]!.chosen).toBe(true);
  });
  it('unknown target: continue and stop explored', () => {
    const rs2 = rules(table('filter', ['-A INPUT -j SYNPROXY --mss 1460 --wscale 7', '-A INPUT -j DROP']));
    const r = run(rs2, pkt);
    expect(r.outcomes.map((o) => o.assumptions[0]!.choice).sort()).toEqual(['continue', 'stop']);
  });
  it('maxOutcomes truncates', () => {
    const many = rules(table('filter', Array.from({ length: 6 }, () => '-A INPUT -m limit --limit 1/sec -j LOG')));
    const r = run(many, pkt, undefined, { maxOutcomes: 10 });
    expect(r.outcomes).toHaveLength(10);
    expect(r.truncated).toBe(true);
  });
});

describe('IPv6', () => {
  it('icmpv6 echo to a local address, MASQUERADE picks the global address', () => {
    const rs = rules(
      [table('filter', ['-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT'], { INPUT: 'DROP' }), table('nat', ['-A POSTROUTING -o eth0 -j MASQUERADE'])].join('\n'),
      'ipv6',
    );
    const a = run(rs, { proto: 'icmpv6', src: 'fd00:244:1::5', dst: 'fd00:244:1::1', iif: 'vethA' }).outcomes[0]!;
    expect(a.verdict).toBe('ACCEPT');
    const b = run(rs, { proto: 'tcp', src: 'fd00:244:1::5', sport: 1, dst: '2001:db8:9::9', dport: 443, iif: 'vethA' }).outcomes[0]!;
    expect(b.packet.src).toBe('2001:db8:1::2');
  });
});

describe('more kernel rules', () => {
  it('IPv6 forwarding off drops forwarded IPv6 with the IPv6 knob named', () => {
    const rs = rules(table('filter', []), 'ipv6');
    const ctx = nodeContext({ sysctl: { ipForward: true, ipv6Forward: false, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true } });
    const o = run(rs, { proto: 'tcp', src: 'fd00:244:1::5', sport: 1, dst: '2001:db8:9::9', dport: 443, iif: 'vethA' }, ctx).outcomes[0]!;
    expect(o.disposition.text).toContain('net.ipv6.conf.all.forwarding=0');
  });

  it('--limit-iface-out restricts LOCAL to the output device (POSTROUTING)', () => {
    const rs = rules(table('mangle', ['-A POSTROUTING -m addrtype --src-type LOCAL --limit-iface-out -j MARK --set-xmark 0x1/0xffffffff']));
    const a = run(rs, { proto: 'tcp', src: '192.168.1.2', sport: 1, dst: '8.8.8.8', dport: 53, local: true }).outcomes[0]!;
    expect(a.packet.mark).toBe(1); // 192.168.1.2 is local on eth0, the output device
    const b = run(rs, { proto: 'tcp', src: '10.244.1.1', sport: 1, dst: '8.8.8.8', dport: 53, local: true }).outcomes[0]!;
    expect(b.packet.mark).toBe(0); // local, but on cni0, not on eth0
  });

  it('physdev-out is known when the packet names the bridge port', () => {
    const rs = rules(table('filter', ['-A FORWARD -m physdev --physdev-out vethB -j DROP']));
    const known = run(rs, { ...pod, dst: '10.244.1.6', dport: 80, physOut: 'vethB' }).outcomes;
    expect(known.map((o) => o.verdict)).toEqual(['DROP']);
    const unknown = run(rs, { ...pod, dst: '10.244.1.6', dport: 80 }).outcomes;
    expect(unknown.map((o) => o.verdict).sort()).toEqual(['ACCEPT', 'DROP']);
  });

  it('REDIRECT in PREROUTING on an interface without an address drops (nf_nat_redirect)', () => {
    const rs = rules(table('nat', ['-A PREROUTING -p tcp -j REDIRECT --to-ports 15001']));
    const ctx = nodeContext({ interfaces: [...nodeContext().interfaces, { name: 'tun0', addresses: [] }] });
    const o = run(rs, { proto: 'tcp', src: '10.9.9.9', sport: 1, dst: '1.2.3.4', dport: 80, iif: 'tun0' }, ctx).outcomes[0]!;
    expect(o.verdict).toBe('DROP');
    expect(o.disposition.text).toMatch(/^dropped by nat:PREROUTING:1/);
  });

  it('MASQUERADE uses the route preferred source', () => {
    const rs = rules(table('nat', ['-A POSTROUTING -o eth0 -j MASQUERADE']));
    const ctx = nodeContext({ routes: [{ dst: 'default', dev: 'eth0', via: '192.168.1.1', src: '192.168.1.99' }] });
    const o = run(rs, { ...pod, dst: '8.8.8.8', dport: 53 }, ctx).outcomes[0]!;
    expect(o.packet.src).toBe('192.168.1.99');
  });

  it('a DNAT that leaves the bridge subnet turns a bridged packet into a routed one', () => {
    const rs = rules(table('nat', ['-A PREROUTING -d 10.244.1.50/32 -j DNAT --to-destination 8.8.8.8']));
    const o = run(rs, { ...pod, dst: '10.244.1.50', dport: 53 }).outcomes[0]!;
    expect(o.disposition.text).toBe('forwarded out eth0');
    expect(o.steps.some((s) => s.kind === 'route' && s.note?.includes('leaves the bridge path'))).toBe(true);
  });

  it.each([
    ['224.0.0.1 (all hosts) is always joined', '224.0.0.1', undefined, 'delivered locally'],
    ['a group nobody joined is dropped by the input route', '224.0.0.251', undefined, 'dropped: multicast group 224.0.0.251 not joined on eth0'],
    ['a group listed on the interface is delivered', '224.0.0.251', ['224.0.0.251'], 'delivered locally'],
  ] as const)('multicast: %s', (_n, dst, groups, disp) => {
    const base = nodeContext();
    const ctx = groups ? nodeContext({ interfaces: base.interfaces.map((i) => (i.name === 'eth0' ? { ...i, multicast: [...groups] } : i)) }) : base;
    const o = run(rules(table('filter', [])), { proto: 'udp', src: '192.168.1.50', sport: 1, dst, dport: 5353, iif: 'eth0' }, ctx).outcomes[0]!;
    expect(o.disposition.text).toBe(disp);
  });

  it('IPv6: the solicited-node group of an address is joined; a local source from outside is not martian', () => {
    const rs = rules(table('filter', []), 'ipv6');
    const ns = run(rs, { proto: 'icmpv6', icmpType: 135, src: 'fe80::5', dst: 'ff02::1:ff00:2', iif: 'eth0' }).outcomes[0]!;
    expect(ns.disposition.text).toBe('delivered locally');
    const self = run(rs, { proto: 'udp', src: '2001:db8:1::2', sport: 1, dst: '2001:db8:1::2', dport: 53, iif: 'eth0' }).outcomes[0]!;
    expect(self.disposition.text).toBe('delivered locally');
  });
});


describe('bridged DNAT (br_nf_pre_routing_finish: a DNAT back into the bridge the frame came in on)', () => {
  // Pods behind cni0: pod-a 10.244.1.10 on vethA, pod-b 10.244.1.11 on vethB (one port per peer).
  const peers = [
    { name: 'pod-a', iface: 'cni0', addresses: ['10.244.1.10/24', 'fd00:244:1::10/64'] },
    { name: 'pod-b', iface: 'cni0', addresses: ['10.244.1.11/24', 'fd00:244:1::11/64'] },
  ];
  const withCni0 = (over: { hairpin?: boolean; ports?: string[] }, sysctl: Partial<ReturnType<typeof nodeContext>['sysctl']> = {}) => {
    const base = nodeContext({ peers });
    return nodeContext({
      peers,
      interfaces: base.interfaces.map((i) => (i.name === 'cni0' ? { ...i, ...over } : i)),
      sysctl: { ...base.sysctl, ...sysctl },
    });
  };
  const v4 = rules(
    [
      table('nat', [
        '-A PREROUTING -d 10.96.0.100/32 -j DNAT --to-destination 10.244.1.11',
        '-A PREROUTING -d 10.96.0.200/32 -j DNAT --to-destination 10.244.2.12',
      ]),
      table('filter', ['-A FORWARD -m physdev --physdev-out vethB -j ACCEPT', '-A FORWARD -m physdev --physdev-out vethA -j ACCEPT', '-A FORWARD -o eth0 -j ACCEPT'], { FORWARD: 'DROP' }),
    ].join('\n'),
  );
  const v6 = rules(
    [
      table('nat', ['-A PREROUTING -d fd00:96::100/128 -j DNAT --to-destination fd00:244:1::11']),
      table('filter', ['-A FORWARD -m physdev --physdev-out vethB -j ACCEPT', '-A FORWARD -m physdev --physdev-out vethA -j ACCEPT'], { FORWARD: 'DROP' }),
    ].join('\n'),
    'ipv6',
  );
  const fromA = { proto: 'icmp', src: '10.244.1.10', dst: '10.96.0.100', iif: 'cni0', ttl: 5 } as const;
  const fromB = { ...fromA, src: '10.244.1.11' } as const;
  const fromA6 = { proto: 'icmpv6', src: 'fd00:244:1::10', dst: 'fd00:96::100', iif: 'cni0', ttl: 5 } as const;
  const fromB6 = { ...fromA6, src: 'fd00:244:1::11' } as const;
  type Row = [string, 'ipv4' | 'ipv6', object, ReturnType<typeof nodeContext>, string[], string, number | null];
  const rows: Row[] = [
    ['to another pod: bridged, FORWARD sees physdev-out, TTL unchanged', 'ipv4', fromA, withCni0({ hairpin: false }), ['nat:PREROUTING:1', 'filter:FORWARD:1', 'nat:POSTROUTING:policy'], 'forwarded out cni0 (bridged to port vethB)', 5],
    ['to another pod with ip_forward=0: the input route is an error route, dropped', 'ipv4', fromA, withCni0({ hairpin: false }, { ipForward: false }), ['nat:PREROUTING:1'], 'dropped: not for this host and forwarding is off (net.ipv4.ip_forward=0); a DNAT back into cni0 is bridged only with forwarding on', null],
    ['back to the sender, hairpin off: the bridge refuses the ingress port', 'ipv4', fromB, withCni0({ hairpin: false }), ['nat:PREROUTING:1'], 'dropped by bridge cni0: the frame would leave by the port it came in on (hairpin mode off)', null],
    ['back to the sender, hairpin on: bridged back out the same port', 'ipv4', fromB, withCni0({ hairpin: true }), ['nat:PREROUTING:1', 'filter:FORWARD:1', 'nat:POSTROUTING:policy'], 'forwarded out cni0 (bridged to port vethB)', 5],
    ['elsewhere: routed (ip_forward, TTL decremented)', 'ipv4', { ...fromA, dst: '10.96.0.200' }, withCni0({ hairpin: false }), ['nat:PREROUTING:2', 'filter:FORWARD:3', 'nat:POSTROUTING:policy'], 'forwarded out eth0', 4],
    ['TTL 1 to another pod: not routed, so it does not expire', 'ipv4', { ...fromA, ttl: 1 }, withCni0({ hairpin: false }), ['nat:PREROUTING:1', 'filter:FORWARD:1', 'nat:POSTROUTING:policy'], 'forwarded out cni0 (bridged to port vethB)', 1],
    ['IPv6 to another pod: bridged, hop limit unchanged', 'ipv6', fromA6, withCni0({ hairpin: false }), ['nat:PREROUTING:1', 'filter:FORWARD:1', 'nat:POSTROUTING:policy'], 'forwarded out cni0 (bridged to port vethB)', 5],
    ['IPv6 with forwarding off: ip6_route_input still finds cni0, bridged', 'ipv6', fromA6, withCni0({ hairpin: false }, { ipv6Forward: false }), ['nat:PREROUTING:1', 'filter:FORWARD:1', 'nat:POSTROUTING:policy'], 'forwarded out cni0 (bridged to port vethB)', 5],
    ['IPv6 back to the sender, hairpin off: dropped', 'ipv6', fromB6, withCni0({ hairpin: false }), ['nat:PREROUTING:1'], 'dropped by bridge cni0: the frame would leave by the port it came in on (hairpin mode off)', null],
    ['IPv6 back to the sender, hairpin on, forwarding off: bridged back', 'ipv6', fromB6, withCni0({ hairpin: true }, { ipv6Forward: false }), ['nat:PREROUTING:1', 'filter:FORWARD:1', 'nat:POSTROUTING:policy'], 'forwarded out cni0 (bridged to port vethB)', 5],
  ];
  it.each(rows)('%s', (_n, fam, pkt, ctx, path, disp, ttl) => {
    const o = expectPath(fam === 'ipv4' ? v4 : v6, pkt as never, path, disp, ctx);
    if (ttl !== null) expect(o.packet.ttl).toBe(ttl);
    const fwd = o.steps.filter((s) => s.hook === 'FORWARD');
    if (o.disposition.text.includes('(bridged')) {
      expect(o.packet.oif).toBe('cni0');
      expect(fwd.length).toBeGreaterThan(0);
      expect(fwd.every((s) => s.state.iif === 'cni0' && s.state.oif === 'cni0')).toBe(true);
      const note = o.steps.find((s) => s.kind === 'route')!.note!;
      expect(note).toMatch(/^bridged after DNAT: the new destination \S+ is behind cni0 port vethB/);
      expect(note).toContain(fam === 'ipv4' ? 'not routed, TTL unchanged' : 'not routed, hop limit unchanged');
    }
    if (o.verdict === 'DROP') expect(fwd).toEqual([]);
  });

  it('ports unknown (no peers): a DNAT to another address is bridged, physdev-out unknown; back to the sender is a hairpin', () => {
    const ctx = nodeContext();
    ctx.interfaces = ctx.interfaces.map((i) => (i.name === 'cni0' ? { ...i, hairpin: false } : i));
    const other = run(v4, fromA, ctx);
    // physdev-out unknown: both physdev rules are explored
    expect(other.outcomes.every((o) => o.packet.oif === 'cni0' && o.packet.ttl === 5)).toBe(true);
    expect(other.outcomes[0]!.steps.find((s) => s.kind === 'rule' && s.hook === 'FORWARD')!.matched).toBe('unknown');
    const self = run(v4, fromB, ctx).outcomes[0]!;
    expect(self.disposition.text).toMatch(/hairpin mode off/);
  });

  it('bridge-nf-call-iptables=0: the DNAT happens in the IP stack, the packet is routed (TTL decremented, no hairpin check)', () => {
    const ctx = withCni0({ hairpin: false }, { bridgeNfCallIptables: false });
    const rs = rules(table('nat', ['-A PREROUTING -d 10.96.0.100/32 -j DNAT --to-destination 10.244.1.11']));
    for (const pkt of [fromA, fromB]) {
      const o = run(rs, pkt, ctx).outcomes[0]!;
      expect(o.disposition.text).toBe('forwarded out cni0');
      expect(o.packet.ttl).toBe(4);
    }
    // and without br_netfilter the frame carries no bridge information: physdev does not match
    const phys = rules(table('filter', ['-A FORWARD -m physdev --physdev-is-in -j DROP']));
    expect(run(phys, { ...fromA, dst: '8.8.8.8' }, ctx).outcomes[0]!.verdict).toBe('ACCEPT');
    expect(run(phys, { ...fromA, dst: '8.8.8.8' }, withCni0({ hairpin: false })).outcomes[0]!.verdict).toBe('DROP');
  });

  it('the context names the ports: a plain bridged frame knows physdev-in/-out, a routed one physdev-in', () => {
    const rs = rules(table('filter', ['-A FORWARD -m physdev --physdev-in vethA --physdev-out vethB -j ACCEPT', '-A FORWARD -m physdev --physdev-in vethA ! --physdev-is-bridged -j ACCEPT'], { FORWARD: 'DROP' }));
    const ctx = withCni0({ hairpin: false });
    const bridged = expectPath(rs, { proto: 'icmp', src: '10.244.1.10', dst: '10.244.1.11', iif: 'cni0' }, ['filter:FORWARD:1'], 'bridged out cni0 (port vethB)', ctx);
    expect([bridged.packet.physIn, bridged.packet.physOut]).toEqual(['vethA', 'vethB']);
    const routed = expectPath(rs, { proto: 'icmp', src: '10.244.1.10', dst: '8.8.8.8', iif: 'cni0' }, ['filter:FORWARD:2'], 'forwarded out eth0', ctx);
    expect(routed.packet.physIn).toBeUndefined(); // only bridged packets carry the ports in their state
    // a port the packet names wins over the context
    const given = run(rs, { proto: 'icmp', src: '10.244.1.10', dst: '10.244.1.11', iif: 'cni0', physIn: 'vethX' }, ctx).outcomes[0]!;
    expect(given.verdict).toBe('DROP');
  });

  it('ESTABLISHED: conntrack re-applies the DNAT in PREROUTING, so the flow stays bridged', () => {
    const o = run(v4, { proto: 'tcp', src: '10.244.1.10', sport: 40000, dst: '10.96.0.100', dport: 80, iif: 'cni0', ctState: 'ESTABLISHED' }, withCni0({ hairpin: false })).outcomes[0]!;
    expect(o.disposition.text).toBe('forwarded out cni0 (bridged to port vethB)');
    expect(o.packet.ttl).toBe(64);
  });
});
