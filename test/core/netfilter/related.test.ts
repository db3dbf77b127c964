/**
 * ICMP / ICMPv6 errors RELATED to a flow (PacketSpec.related): conntrack relates the error to the
 * flow by its embedded header (icmp_error_message), the nat table is not traversed, and the flow's
 * bindings rewrite the outer and the embedded header at each NAT hook
 * (nf_nat_icmp_reply_translation). Kernel-confirmed by scenarios/k-related-v4 and -v6.
 */
import { describe, expect, it } from 'vitest';
import { validatePacket } from '../../../src/core/netfilter/index.js';
import type { Outcome, PacketSpec } from '../../../src/core/netfilter/types.js';
import { nodeContext, pathOf, rules, run, table } from './helpers.js';

const v4 = rules(
  [
    table('nat', [
      '-A PREROUTING -j KUBE-SERVICES',
      '-A POSTROUTING -s 10.244.0.0/16 -o eth0 -j MASQUERADE',
      '-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.244.1.10:5353',
      '-A KUBE-SERVICES -d 192.168.1.2/32 -p udp -m udp --dport 30053 -j DNAT --to-destination 192.168.1.2:5300',
      '-A KUBE-SERVICES -d 10.96.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.244.1.10:9999',
    ]),
    table('filter', [
      '-A INPUT -p icmp -m conntrack --ctstate INVALID',
      '-A FORWARD -m conntrack --ctstate RELATED --ctdir REPLY -j ACCEPT',
      '-A FORWARD -m conntrack --ctstate RELATED --ctdir ORIGINAL -j ACCEPT',
      '-A FORWARD -p udp -m udp --dport 9999 -j DROP',
      '-A FORWARD -m conntrack --ctstate NEW -j ACCEPT',
    ], { FORWARD: 'DROP' }),
  ].join('\n'),
);

const v6 = rules(
  [
    table('nat', [
      '-A PREROUTING -d fd00:96::10/128 -p udp -m udp --dport 53 -j DNAT --to-destination [fd00:244:1::10]:5353',
      '-A POSTROUTING -s fd00:244:1::/64 -o eth0 -j MASQUERADE',
    ]),
    table('filter', ['-A FORWARD -m state --state RELATED -j ACCEPT', '-A FORWARD -m conntrack --ctstate NEW -j ACCEPT'], { FORWARD: 'DROP' }),
  ].join('\n'),
  'ipv6',
);

const client = { proto: 'udp', src: '192.168.1.50', sport: 40000, iif: 'eth0' } as const;
const pod = { proto: 'udp', src: '10.244.1.5', sport: 40000, iif: 'vethA' } as const;

function only(spec: PacketSpec, rs = v4): Outcome {
  const r = run(rs, spec);
  expect(r.outcomes, r.outcomes.map((o) => o.disposition.text).join(' | ')).toHaveLength(1);
  return r.outcomes[0]!;
}

/** `src:sport → dst:dport` of the final embedded header and as it entered. */
function embedded(o: Outcome): { now: string; entered: string; outerEntered: string } {
  const e = o.packet.embedded!;
  expect(e).toBeDefined();
  return {
    now: `${e.src}:${e.sport} → ${e.dst}:${e.dport}`,
    entered: `${e.origSrc}:${e.origSport} → ${e.origDst}:${e.origDport}`,
    outerEntered: `${e.outerOrigSrc} → ${e.outerOrigDst}`,
  };
}

describe('ICMP errors RELATED to a NATed flow', () => {
  it.each([
    [
      'an endpoint’s port unreachable for a clusterIP flow: un-DNAT at POSTROUTING',
      { ...client, dst: '10.96.0.10', dport: 53, related: {} },
      {
        path: ['filter:FORWARD:1'],
        disposition: 'forwarded out eth0',
        outer: '10.96.0.10 → 192.168.1.50',
        outerEntered: '10.244.1.10 → 192.168.1.50',
        now: '192.168.1.50:40000 → 10.96.0.10:53',
        entered: '192.168.1.50:40000 → 10.244.1.10:5353',
        dir: 'REPLY',
        icmp: [3, 3],
      },
    ],
    [
      'a gateway’s fragmentation needed for a masqueraded pod flow: un-SNAT at PREROUTING, routed to the pod',
      { ...pod, dst: '8.8.8.8', dport: 53, related: { icmpType: 3, icmpCode: 4, from: '192.168.1.1' } },
      {
        path: ['filter:FORWARD:1'],
        disposition: 'forwarded out cni0',
        outer: '192.168.1.1 → 10.244.1.5',
        outerEntered: '192.168.1.1 → 192.168.1.2',
        now: '10.244.1.5:40000 → 8.8.8.8:53',
        entered: '192.168.1.2:40000 → 8.8.8.8:53',
        dir: 'REPLY',
        icmp: [3, 4],
      },
    ],
    [
      'dir original: the client’s error about a reply, DNAT applied at PREROUTING',
      { ...client, dst: '10.96.0.10', dport: 53, related: { dir: 'original', icmpType: 3, icmpCode: 3 } },
      {
        path: ['filter:FORWARD:2'],
        disposition: 'forwarded out cni0',
        outer: '192.168.1.50 → 10.244.1.10',
        outerEntered: '192.168.1.50 → 10.96.0.10',
        now: '10.244.1.10:5353 → 192.168.1.50:40000',
        entered: '10.96.0.10:53 → 192.168.1.50:40000',
        dir: 'ORIGINAL',
        icmp: [3, 3],
      },
    ],
    [
      'time exceeded, locally generated for a flow DNATed to the host: OUTPUT, un-DNAT of the embedded port at POSTROUTING',
      { ...client, dst: '192.168.1.2', dport: 30053, related: { icmpType: 11, icmpCode: 0 } },
      {
        path: [],
        disposition: 'sent out eth0',
        outer: '192.168.1.2 → 192.168.1.50',
        outerEntered: '192.168.1.2 → 192.168.1.50',
        now: '192.168.1.50:40000 → 192.168.1.2:30053',
        entered: '192.168.1.50:40000 → 192.168.1.2:5300',
        dir: 'REPLY',
        icmp: [11, 0],
      },
    ],
  ] as const)('%s', (_n, spec, want) => {
    const o = only(spec as PacketSpec);
    expect(pathOf(o).filter((p) => !p.endsWith(':policy'))).toEqual(want.path);
    expect(o.disposition.text).toBe(want.disposition);
    expect(`${o.packet.src} → ${o.packet.dst}`).toBe(want.outer);
    expect(o.packet.proto).toBe('icmp');
    expect([o.packet.icmpType, o.packet.icmpCode]).toEqual(want.icmp);
    expect(o.packet.ctState).toBe('RELATED');
    expect(o.packet.ctDir).toBe(want.dir);
    const e = embedded(o);
    expect(e.now).toBe(want.now);
    expect(e.entered).toBe(want.entered);
    expect(e.outerEntered).toBe(want.outerEntered);
    // The nat table is never traversed by a RELATED ICMP packet (nf_nat_ipv4_fn).
    expect(o.steps.some((s) => s.table === 'nat' && s.kind === 'rule')).toBe(false);
    expect(o.steps.some((s) => s.kind === 'conntrack' && /RELATED$/.test(s.note ?? ''))).toBe(true);
  });

  it('the translation is shown where it happens, with both headers', () => {
    const o = only({ ...client, dst: '10.96.0.10', dport: 53, related: {} });
    const changes = o.steps.filter((s) => s.kind === 'conntrack').flatMap((s) => s.changes.map((c) => `${s.hook}: ${c}`));
    expect(changes).toEqual(['POSTROUTING: ICMP error (conntrack): outer src 10.244.1.10 → 10.96.0.10; embedded dst 10.244.1.10:5353 → 10.96.0.10:53']);
    // Before POSTROUTING the states still show the endpoint.
    const fwd = o.steps.find((s) => s.hook === 'FORWARD')!;
    expect(fwd.state.src).toBe('10.244.1.10');
    expect(fwd.state.embedded!.dst).toBe('10.244.1.10');
  });

  it('enters where the flow left: the endpoint’s bridge for a DNATed flow', () => {
    const o = only({ ...client, dst: '10.96.0.10', dport: 53, related: {} });
    expect(o.steps.find((s) => s.kind === 'conntrack')!.state.iif).toBe('cni0');
  });

  it('a flow that never got through has no entry: the error is INVALID, nat skipped, untranslated', () => {
    const o = only({ ...client, dst: '10.96.0.11', dport: 53, related: { dir: 'original' } });
    expect(o.packet.ctState).toBe('INVALID');
    expect(o.steps[0]!.note).toMatch(/NOT ESTABLISHABLE.*error is INVALID/);
    expect(o.packet.dst).toBe('10.96.0.11');
    expect(o.disposition.text).toBe('dropped by filter:FORWARD policy DROP');
    expect(o.steps.some((s) => s.table === 'nat' && s.kind === 'rule')).toBe(false);
  });

  it('a given flow (packet.flow) is used instead of tracing the first packet', () => {
    const o = only({ ...client, dst: '10.96.0.10', dport: 53, flow: { dnatTo: '10.244.1.77', dnatPort: 8053 }, related: {} });
    expect(o.steps[0]!.note).toContain('flow given');
    expect(embedded(o).entered).toBe('192.168.1.50:40000 → 10.244.1.77:8053');
    expect(o.packet.src).toBe('10.96.0.10');
  });

  it('one error per outcome of the flow’s first packet (statistic branches)', () => {
    const lb = rules(
      table('nat', [
        '-A PREROUTING -d 10.96.0.10/32 -p udp -m udp --dport 53 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.244.1.10:5353',
        '-A PREROUTING -d 10.96.0.10/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.244.1.11:5353',
      ]),
    );
    const r = run(lb, { ...client, dst: '10.96.0.10', dport: 53, related: {} });
    expect(r.outcomes.map((o) => o.packet.embedded!.origDst).sort()).toEqual(['10.244.1.10', '10.244.1.11']);
    for (const o of r.outcomes) {
      expect(o.probability).toBeCloseTo(0.5, 6);
      expect(o.packet.src).toBe('10.96.0.10');
    }
  });

  it('IPv6: port unreachable (1/4) from the endpoint, un-DNAT at POSTROUTING', () => {
    const o = only({ proto: 'udp', src: '2001:db8:1::50', sport: 40000, iif: 'eth0', dst: 'fd00:96::10', dport: 53, related: {} }, v6);
    expect(pathOf(o).filter((p) => !p.endsWith(':policy'))).toEqual(['filter:FORWARD:1']);
    expect([o.packet.proto, o.packet.icmpType, o.packet.icmpCode]).toEqual(['ipv6-icmp', 1, 4]);
    expect(`${o.packet.src} → ${o.packet.dst}`).toBe('fd00:96::10 → 2001:db8:1::50');
    expect(embedded(o).now).toBe('2001:db8:1::50:40000 → fd00:96::10:53');
  });

  it('IPv6: packet too big from a router for a masqueraded pod flow', () => {
    const o = only({ proto: 'udp', src: 'fd00:244:1::5', sport: 40000, iif: 'vethA', dst: '2001:db8:9::9', dport: 53, related: { icmpType: 2, icmpCode: 0, from: '2001:db8:1::1' } }, v6);
    expect(`${o.packet.src} → ${o.packet.dst}`).toBe('2001:db8:1::1 → fd00:244:1::5');
    expect(embedded(o).entered).toBe('2001:db8:1::2:40000 → 2001:db8:9::9:53');
    expect(o.disposition.text).toBe('forwarded out cni0');
  });

  it('RELATED ICMP without a flow still skips the nat table (nf_nat_ipv4_fn)', () => {
    const rs = rules(table('nat', ['-A PREROUTING -j DNAT --to-destination 10.244.1.9']));
    const icmp = only({ proto: 'icmp', src: '192.168.1.50', dst: '192.168.1.2', iif: 'eth0', icmpType: 3, icmpCode: 3, ctState: 'RELATED' }, rs);
    expect(icmp.steps.some((s) => s.table === 'nat' && s.kind === 'rule')).toBe(false);
    expect(icmp.packet.dst).toBe('192.168.1.2');
    // Any other RELATED packet (an expected connection) traverses nat as a new connection does.
    const tcp = only({ proto: 'tcp', src: '192.168.1.50', sport: 1, dst: '192.168.1.2', dport: 20, iif: 'eth0', ctState: 'RELATED' }, rs);
    expect(tcp.packet.dst).toBe('10.244.1.9');
  });

  it('-m helper does not match an ICMP error (its flow has no master)', () => {
    const rs = rules(table('filter', ['-A FORWARD -m helper --helper ftp -j DROP']));
    const o = only({ ...client, dst: '10.244.1.10', dport: 53, related: {} }, rs);
    const st = o.steps.find((s) => s.kind === 'rule')!;
    expect(st.matched).toBe(false);
  });

  it.each([
    [{ related: {}, reply: true }, 'related and reply cannot be combined'],
    [{ related: {}, ctState: 'ESTABLISHED' }, 'related describes a RELATED ICMP error, not ctState ESTABLISHED'],
    [{ related: { icmpType: 8 } }, 'related.icmpType 8 is not an ICMP error type conntrack relates to a flow (one of 3 destination unreachable, 11 time exceeded, 12 parameter problem)'],
    [{ related: { icmpType: 5 } }, 'related.icmpType 5 is not an ICMP error type'],
    [{ related: { icmpCode: 300 } }, 'related.icmpCode 300 is out of range (0-255)'],
    [{ related: { from: 'nope' } }, 'invalid related.from address "nope"'],
    [{ related: { from: '2001:db8::1' } }, 'related.from 2001:db8::1 is ipv6 but the packet is ipv4'],
    [{ related: { dir: 'sideways' } }, 'related.dir "sideways" must be reply or original'],
    [{ related: {}, proto: 'sctp' }, 'related: the flow must be tcp or udp (ICMP errors about sctp flows are not modelled)'],
    [{ related: {}, proto: 'icmp', dport: undefined, sport: undefined }, 'related: the flow must be tcp or udp (ICMP errors about icmp flows are not modelled)'],
  ])('validation: %j', (extra, msg) => {
    const errs = validatePacket({ ...client, dst: '10.96.0.10', dport: 53, ...(extra as object) } as PacketSpec, 'ipv4', nodeContext());
    expect(errs.some((e) => e.startsWith(msg)), errs.join(' | ')).toBe(true);
  });

  it('validation: IPv6 error types', () => {
    const spec = { proto: 'udp', src: '2001:db8:1::50', dst: 'fd00:96::10', dport: 53, iif: 'eth0' };
    expect(validatePacket({ ...spec, related: { icmpType: 2 } }, 'ipv6', nodeContext())).toEqual([]);
    expect(validatePacket({ ...spec, related: { icmpType: 3 } }, 'ipv6', nodeContext())).toEqual([]);
    expect(validatePacket({ ...spec, related: { icmpType: 128 } }, 'ipv6', nodeContext())[0]).toMatch(/related.icmpType 128 is not an ICMPv6 error type/);
  });
});
