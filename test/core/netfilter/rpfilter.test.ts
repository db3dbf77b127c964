/**
 * Reverse path filtering (net.ipv4.conf.{all,IFACE}.rp_filter): fib_validate_source in the input
 * route lookup after PREROUTING, effective value max(all, IFACE). Kernel-confirmed by
 * scenarios/k-rpfilter-strict-v4 and k-rpfilter-loose-v4.
 */
import { describe, expect, it } from 'vitest';
import { resolveContext } from '../../../src/core/netfilter/index.js';
import type { HostContext, PacketSpec, SysctlSpec } from '../../../src/core/netfilter/types.js';
import { pathOf, rules, run, table } from './helpers.js';

const rs = rules([table('raw', ['-A PREROUTING -p udp']), table('filter', ['-A INPUT -p udp', '-A FORWARD -p udp'])].join('\n'));

function ctx(sysctl: Partial<SysctlSpec>, defaultRoute = true): HostContext {
  return resolveContext({
    interfaces: [
      { name: 'lo', kind: 'loopback', addresses: ['127.0.0.1/8'] },
      { name: 'eth0', addresses: ['192.168.10.1/24'] },
      { name: 'eth1', addresses: ['10.0.0.1/24'] },
      { name: 'eth2', addresses: ['172.16.0.1/24'] },
    ],
    routes: [
      ...(defaultRoute ? [{ dst: 'default', dev: 'eth1', via: '10.0.0.2' }] : []),
      { dst: '198.51.100.0/24', dev: 'lo', type: 'blackhole' },
    ],
    sysctl: { ipForward: true, ipv6Forward: true, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true, ...sysctl },
  }).context;
}

const udp = (src: string, dst: string, iif: string): PacketSpec => ({ proto: 'udp', src, dst, sport: 40000, dport: 7000, iif });

describe('rp_filter', () => {
  it.each([
    ['strict: source routed back by the input interface passes', { rpFilter: 1 }, udp('192.168.10.10', '192.168.10.1', 'eth0'), 'delivered locally'],
    ['strict: forwarded, legitimate source', { rpFilter: 1 }, udp('192.168.10.10', '172.16.0.10', 'eth0'), 'forwarded out eth2'],
    ['strict: source routed back by eth2, arriving on eth0', { rpFilter: 1 }, udp('172.16.0.50', '192.168.10.1', 'eth0'), /^dropped by the reverse path filter \(strict, rp_filter=1 on eth0\): the route back to 172\.16\.0\.50 leaves by eth2, not eth0$/],
    ['strict: a source routed back by the default route, to forward', { rpFilter: 1 }, udp('8.8.8.8', '172.16.0.10', 'eth0'), /leaves by eth1, not eth0/],
    ['strict: also for a broadcast destination', { rpFilter: 1 }, udp('172.16.0.50', '192.168.10.255', 'eth0'), /reverse path filter/],
    ['loose: any route back passes', { rpFilter: 2 }, udp('172.16.0.50', '192.168.10.1', 'eth0'), 'delivered locally'],
    ['loose: a blackhole route back drops', { rpFilter: 2 }, udp('198.51.100.7', '192.168.10.1', 'eth0'), /the route back to 198\.51\.100\.7 is blackhole/],
    ['per interface: max(all=0, eth0=1) is strict', { rpFilter: 0, rpFilterIface: { eth0: 1 } }, udp('172.16.0.50', '192.168.10.1', 'eth0'), /strict, rp_filter=1 on eth0/],
    ['per interface: another interface is not checked', { rpFilter: 0, rpFilterIface: { eth0: 1 } }, udp('192.168.10.50', '172.16.0.1', 'eth2'), 'delivered locally'],
    ['per interface: max(all=1, eth2=2) is loose', { rpFilter: 1, rpFilterIface: { eth2: 2 } }, udp('192.168.10.99', '172.16.0.1', 'eth2'), 'delivered locally'],
    ['off: nothing is checked', { rpFilter: 0 }, udp('172.16.0.50', '192.168.10.1', 'eth0'), 'delivered locally'],
    ['not for a packet nobody routes (forwarding off: the kernel checks no source there)', { rpFilter: 1, ipForward: false }, udp('8.8.8.8', '172.16.0.10', 'eth0'), /forwarding is off/],
  ] as const)('%s', (_n, sysctl, pkt, disp) => {
    const o = run(rs, pkt, ctx(sysctl as Partial<SysctlSpec>)).outcomes[0]!;
    if (typeof disp === 'string') expect(o.disposition.text).toBe(disp);
    else expect(o.disposition.text).toMatch(disp);
    if (o.verdict === 'DROP' && /reverse path/.test(o.disposition.text)) {
      // dropped in the input route lookup: after PREROUTING, before INPUT / FORWARD
      expect(pathOf(o)).toEqual(['raw:PREROUTING:1', 'raw:PREROUTING:policy']);
      expect(o.steps.at(-1)!.kind).toBe('route');
    }
  });

  it('loose: no route back at all drops', () => {
    const o = run(rs, udp('8.8.8.8', '192.168.10.1', 'eth0'), ctx({ rpFilter: 2 }, false)).outcomes[0]!;
    expect(o.disposition.text).toMatch(/there is no route back to 8\.8\.8\.8/);
  });

  it('IPv6 has no rp_filter', () => {
    const r6 = rules(table('filter', ['-A INPUT -p udp']), 'ipv6');
    const c = resolveContext({
      interfaces: [
        { name: 'eth0', addresses: ['2001:db8:10::1/64'] },
        { name: 'eth2', addresses: ['2001:db8:16::1/64'] },
      ],
      routes: [],
      sysctl: { ipForward: true, ipv6Forward: true, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true, rpFilter: 1 },
    }).context;
    const o = run(r6, udp('2001:db8:16::50', '2001:db8:10::1', 'eth0'), c).outcomes[0]!;
    expect(o.disposition.text).toBe('delivered locally');
  });

  it('the rp_filter=0 default is recorded only when a check would have dropped the packet', () => {
    const base = ctx({});
    expect(base.sysctl.rpFilter).toBe(0);
    const spoofed = run(rs, udp('172.16.0.50', '192.168.10.1', 'eth0'), base);
    expect(spoofed.outcomes[0]!.disposition.text).toBe('delivered locally');
    expect(spoofed.context.defaults).toContain('net.ipv4.conf.all.rp_filter=0 assumed (not given): reverse path filtering off');
    const legit = run(rs, udp('192.168.10.10', '192.168.10.1', 'eth0'), base);
    expect(legit.context.defaults.some((d) => d.includes('rp_filter'))).toBe(false);
    const given = run(rs, udp('172.16.0.50', '192.168.10.1', 'eth0'), ctx({ rpFilter: 0 }));
    expect(given.context.defaults.some((d) => d.includes('rp_filter'))).toBe(false);
  });

  it('rpFilterIface survives resolution', () => {
    expect(ctx({ rpFilter: 1, rpFilterIface: { eth2: 2 } }).sysctl.rpFilterIface).toEqual({ eth2: 2 });
  });
});
