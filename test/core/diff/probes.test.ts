import { describe, expect, it } from 'vitest';
import { parseRuleset } from '../../../src/core/parse/index.js';
import { deriveProbes, GENERIC_NODE_CONTEXT } from '../../../src/core/diff/probes.js';
import { diffStructural } from '../../../src/core/diff/structural.js';
import type { Ruleset } from '../../../src/core/model.js';

const parse = (text: string): Ruleset => parseRuleset(text, { file: 't.rules' }).ruleset;

const nat = (rules: string[], chains: string[] = []) =>
  `*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${chains.map((c) => `:${c} - [0:0]\n`).join('')}${rules.map((r) => r + '\n').join('')}COMMIT\n`;

/** `origin dst:port/proto` of each probe. */
const short = (r: Ruleset, b: Ruleset = r) =>
  deriveProbes(r, b, GENERIC_NODE_CONTEXT).map((p) => `${p.origin} ${p.packet.dst}${p.packet.dport !== undefined ? ':' + p.packet.dport : ''}/${p.packet.proto}`);

describe('deriveProbes: destinations named by rules', () => {
  it.each([
    { name: '-d with --dport', rule: '-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j ACCEPT', dests: ['10.96.0.10:80/tcp'] },
    { name: '-d network: its first host', rule: '-A PREROUTING -d 10.96.0.0/12 -p udp -m udp --dport 53 -j ACCEPT', dests: ['10.96.0.1:53/udp'] },
    { name: 'multiport --dports, a range by its first port', rule: '-A PREROUTING -d 10.0.0.5/32 -p tcp -m multiport --dports 80,443,8000:8080 -j ACCEPT', dests: ['10.0.0.5:80/tcp', '10.0.0.5:443/tcp', '10.0.0.5:8000/tcp'] },
    { name: 'address without protocol: icmp', rule: '-A PREROUTING -d 192.0.2.7/32 -j DROP', dests: ['192.0.2.7/icmp'] },
    { name: 'DNAT target: the translated destination', rule: '-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.1.5:8080', dests: ['10.96.0.10:80/tcp', '10.244.1.5:8080/tcp'] },
    { name: 'node port: the host address', rule: '-A PREROUTING -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 30080 -j ACCEPT', dests: ['192.168.0.2:30080/tcp'] },
    { name: 'negated destinations name nothing', rule: '-A PREROUTING ! -d 10.0.0.0/8 -p tcp -m tcp ! --dport 22 -j ACCEPT', dests: [] },
  ])('$name', ({ rule, dests }) => {
    const got = short(parse(nat([rule])));
    const unique = [...new Set(got.map((g) => g.split(' ')[1]))];
    expect(unique).toEqual(dests);
  });

  it('sends each destination from a pod, from outside and from the host', () => {
    const probes = deriveProbes(parse(nat(['-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j ACCEPT'])), parse(nat([])), GENERIC_NODE_CONTEXT);
    expect(probes.map((p) => p.packet)).toEqual([
      { proto: 'tcp', src: '10.244.0.10', dst: '10.96.0.10', sport: 40000, dport: 80, iif: 'cni0' },
      { proto: 'tcp', src: '203.0.113.10', dst: '10.96.0.10', sport: 40000, dport: 80, iif: 'eth0' },
      { proto: 'tcp', src: '192.168.0.2', dst: '10.96.0.10', sport: 40000, dport: 80, local: true },
    ]);
    expect(probes.map((p) => p.origin)).toEqual(['pod', 'outside', 'host']);
    expect(probes[0].from).toBe('old:nat:PREROUTING:1');
    expect(probes[0].label).toBe('pod 10.244.0.10 → 10.96.0.10:80/tcp');
  });

  it('IPv6 rules get IPv6 origins', () => {
    const r = parseRuleset('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -d 2001:db8:1::5/128 -p tcp -m tcp --dport 443 -j ACCEPT\nCOMMIT\n', { file: 'six', family: 'ipv6' }).ruleset;
    expect(deriveProbes(r, r, GENERIC_NODE_CONTEXT).map((p) => [p.origin, p.packet.src, p.packet.dst])).toEqual([
      ['pod', 'fd00:10:244::a', '2001:db8:1::5'],
      ['outside', '2001:db8:ffff::10', '2001:db8:1::5'],
      ['host', '2001:db8::2', '2001:db8:1::5'],
    ]);
  });

  it('destinations that reach changed chains come first', () => {
    const svc = (sep: string) =>
      nat(
        [
          '-A PREROUTING -j KUBE-SERVICES',
          '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-AAAAAAAAAAAAAAAA',
          '-A KUBE-SERVICES -d 10.96.0.2/32 -p tcp -m tcp --dport 53 -j KUBE-SVC-BBBBBBBBBBBBBBBB',
          '-A KUBE-SVC-AAAAAAAAAAAAAAAA -j DNAT --to-destination 10.244.0.20:6443 -p tcp',
          `-A KUBE-SVC-BBBBBBBBBBBBBBBB -p tcp -j DNAT --to-destination ${sep}:53`,
        ],
        ['KUBE-SERVICES', 'KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SVC-BBBBBBBBBBBBBBBB'],
      );
    const a = parse(svc('10.244.0.30'));
    const b = parse(svc('10.244.0.31'));
    const s = diffStructural(a, b);
    const order = deriveProbes(a, b, GENERIC_NODE_CONTEXT, s).filter((p) => p.origin === 'pod').map((p) => `${p.packet.dst}:${p.packet.dport}`);
    // The changed chain's DNAT targets and the service leading to it, before the unchanged one.
    expect(order.slice(0, 3).sort()).toEqual(['10.244.0.30:53', '10.244.0.31:53', '10.96.0.2:53']);
    expect(order.slice(3).sort()).toEqual(['10.244.0.20:6443', '10.96.0.1:443']);
  });
});

describe('deriveProbes: origins from the host context', () => {
  it('a context without routes: the uplink is the first non-pod interface, not the unknown default device', async () => {
    const { resolveContext } = await import('../../../src/core/netfilter/index.js');
    const ctx = resolveContext({ interfaces: [{ name: 'lo', kind: 'loopback', addresses: ['127.0.0.1/8'] }, { name: 'ens3', addresses: ['172.16.0.5/24'] }] }).context;
    const r = parse(nat(['-A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j ACCEPT']));
    expect(deriveProbes(r, r, ctx).map((p) => [p.origin, p.packet.src, p.packet.iif ?? 'local'])).toEqual([
      ['outside', '203.0.113.10', 'ens3'],
      ['host', '172.16.0.5', 'local'],
    ]);
  });
});
