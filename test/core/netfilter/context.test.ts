/**
 * Host context resolution, packet validation and the host model (address types, routing,
 * MASQUERADE source).
 */
import { describe, expect, it } from 'vitest';
import { packetFamily, resolveContext, validatePacket } from '../../../src/core/netfilter/index.js';
import { compileHost } from '../../../src/core/netfilter/host.js';
import { parseIp } from '../../../src/core/netfilter/addr.js';
import { nodeContext } from './helpers.js';

describe('resolveContext', () => {
  it('bare: only loopback, unknown default route, sysctl defaults — all recorded', () => {
    const { context, defaults } = resolveContext();
    expect(context.interfaces.map((i) => i.name)).toEqual(['lo']);
    expect(context.routes).toEqual([{ dst: 'default', dev: '*' }]);
    expect(context.sysctl.ipForward).toBe(true);
    expect(defaults.some((d) => d.startsWith('interfaces: none given'))).toBe(true);
    expect(defaults.some((d) => d.startsWith('routes: none given'))).toBe(true);
    expect(defaults.some((d) => d.startsWith('net.ipv4.ip_forward=1'))).toBe(true);
  });
  it('adds lo to a list without it, keeps given parts, is idempotent', () => {
    const a = resolveContext({ interfaces: [{ name: 'eth0', addresses: ['10.0.0.2/24'] }], routes: [], sysctl: { ipForward: false, ipv6Forward: false, bridgeNfCallIptables: false, bridgeNfCallIp6tables: false } });
    expect(a.context.interfaces.map((i) => i.name)).toEqual(['lo', 'eth0']);
    expect(a.context.routes).toEqual([]);
    expect(a.defaults.some((d) => d.startsWith('net.ipv4.ip_forward'))).toBe(false);
    const b = resolveContext(a.context);
    expect(b.defaults).toEqual(a.defaults);
    expect(b.context.interfaces).toEqual(a.context.interfaces);
  });
});

describe('validatePacket / packetFamily', () => {
  const ctx = nodeContext();
  const ok = { proto: 'tcp', src: '10.244.1.5', dst: '10.96.0.1', sport: 1, dport: 80, iif: 'vethA' };
  it.each([
    ['valid', ok, 'ipv4', []],
    ['invalid address', { ...ok, src: '10.0.0.300' }, 'ipv4', ['invalid source address "10.0.0.300"']],
    ['family mix', { ...ok, dst: '2001:db8::1' }, 'ipv4', ['source 10.244.1.5 is ipv4 but destination 2001:db8::1 is ipv6']],
    ['ruleset family', ok, 'ipv6', ['the packet is ipv4 but the ruleset is ipv6']],
    ['port out of range', { ...ok, dport: 70000 }, 'ipv4', ['destination port 70000 is out of range (0-65535)']],
    ['ports with icmp', { ...ok, proto: 'icmp' }, 'ipv4', ['source port given but icmp has no ports', 'destination port given but icmp has no ports']],
    ['unknown interface', { ...ok, iif: 'wlan0' }, 'ipv4', ['unknown interface "wlan0" (the context lists lo, eth0, cni0)']],
    ['no entry point', { ...ok, iif: undefined }, 'ipv4', ['give the input interface (--iif IFACE) or --local for a locally generated packet']],
    ['unknown protocol', { ...ok, proto: 'bogus', sport: undefined, dport: undefined }, 'ipv4', ['unknown protocol "bogus"']],
  ] as const)('%s', (_n, spec, family, errs) => {
    expect(validatePacket(spec as never, family, ctx)).toEqual(errs);
  });
  it('bare context: any interface name is accepted', () => {
    expect(validatePacket({ ...ok, iif: 'wlan0' }, 'ipv4', resolveContext().context)).toEqual([]);
  });
  it.each([
    [{ proto: 'tcp', src: '1.2.3.4', dst: '5.6.7.8' }, 'ipv4'],
    [{ proto: 'tcp', src: '::1', dst: '2001:db8::1' }, 'ipv6'],
    [{ proto: 'tcp', src: '1.2.3.4', dst: '::1' }, null],
    [{ proto: 'tcp', src: 'x', dst: '::1' }, null],
  ] as const)('packetFamily %j → %s', (spec, fam) => {
    expect(packetFamily(spec)).toBe(fam);
  });
});

describe('host model', () => {
  const host = compileHost(nodeContext({ routes: [{ dst: 'default', dev: 'eth0', via: '192.168.1.1' }, { dst: '10.9.0.0/16', dev: 'eth0', src: '192.168.1.77' }, { dst: '10.66.0.0/16', dev: 'lo', type: 'blackhole' }] }));
  it.each([
    ['192.168.1.2', undefined, 'LOCAL'],
    ['127.1.2.3', undefined, 'LOCAL'],
    ['192.168.1.2', 'cni0', 'UNICAST'],
    ['192.168.1.2', 'eth0', 'LOCAL'],
    ['192.168.1.255', undefined, 'BROADCAST'],
    ['255.255.255.255', undefined, 'BROADCAST'],
    ['0.0.0.0', undefined, 'BROADCAST'],
    ['239.1.1.1', undefined, 'MULTICAST'],
    ['8.8.8.8', undefined, 'UNICAST'],
    ['10.66.1.1', undefined, 'BLACKHOLE'],
  ])('addrtype of %s (dev %s) is %s', (ip, dev, t) => {
    const r = host.addrTypes(parseIp(ip)!, dev);
    expect('types' in r && [...r.types]).toEqual([t]);
  });
  it.each([
    ['fd00:244:1::1', ['UNICAST', 'LOCAL']],
    ['ff02::1', ['MULTICAST']],
    ['::', ['UNSPEC']],
    ['2001:db8:1::', ['UNICAST', 'ANYCAST']],
  ])('IPv6 addrtype of %s', (ip, types) => {
    const r = host.addrTypes(parseIp(ip)!);
    expect('types' in r && [...r.types].sort()).toEqual([...types].sort());
  });
  it.each([
    ['8.8.8.8', 'unicast', 'eth0'],
    ['10.244.1.9', 'unicast', 'cni0'],
    ['10.9.1.1', 'unicast', 'eth0'],
    ['192.168.1.2', 'local', 'eth0'],
    ['10.66.0.1', 'blackhole', undefined],
  ])('route to %s: %s via %s', (ip, kind, dev) => {
    const r = host.lookup(parseIp(ip)!);
    expect(r.kind).toBe(kind);
    if (dev !== undefined) expect('dev' in r ? r.dev : undefined).toBe(dev);
  });
  it('MASQUERADE source: the route preferred src, else the first address of the out interface', () => {
    const mk = (dst: string) => ({ family: 'ipv4', dst: parseIp(dst)!, oif: 'eth0', oifUnknown: false }) as never;
    const a = host.masqueradeSource(mk('10.9.3.3'));
    expect('ip' in a && a.ip.text).toBe('192.168.1.77');
    const b = host.masqueradeSource(mk('8.8.8.8'));
    expect('ip' in b && b.ip.text).toBe('192.168.1.2');
  });
});
