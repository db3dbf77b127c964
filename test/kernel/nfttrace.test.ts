/**
 * The kernel harness's readers of nft output, on lines captured from `nft -a monitor trace` and
 * `nft -a list ruleset` on this kernel (nftables 1.0.6). Runs everywhere (no root needed).
 */
import { describe, expect, it } from 'vitest';
import { handleKey, packetDst, packetIfaces, packetTtl, parseHandles, parseTraceLine } from './lib/nfttrace.js';
import { sideBySide } from './lib/report.js';

describe('parseTraceLine', () => {
  it.each([
    [
      'trace id 693a6402 ip nat PREROUTING rule ip daddr 10.96.0.100 tcp dport 80 counter packets 2 bytes 120 dnat to 10.244.1.10:8080 # handle 3 (verdict accept)',
      { kind: 'rule', id: '693a6402', family: 'ip', table: 'nat', chain: 'PREROUTING', handle: 3, verdict: 'accept' },
    ],
    [
      'trace id 693a6402 ip filter FORWARD rule counter packets 4 bytes 200 jump KUBE-FW # handle 5 (verdict jump KUBE-FW)',
      { kind: 'rule', chain: 'FORWARD', handle: 5, verdict: 'jump KUBE-FW' },
    ],
    // The monitor's cache predates rules loaded after it started.
    [
      'trace id 2494c0f9 ip nat KUBE-MARK-MASQ unknown rule handle 21 (verdict continue)',
      { kind: 'rule', table: 'nat', chain: 'KUBE-MARK-MASQ', handle: 21, verdict: 'continue' },
    ],
    // Changed packet metadata follows the verdict.
    ['trace id 2494c0f9 ip mangle FORWARD policy accept meta mark 0x00004000 ', { kind: 'policy', table: 'mangle', chain: 'FORWARD', policy: 'accept' }],
    ['trace id d0096b76 ip6 filter FORWARD policy drop ', { kind: 'policy', family: 'ip6', policy: 'drop' }],
    [
      'trace id 37c057c1 inet iptscope_trace inend packet: iif "eth0" ether saddr aa:28:dc:a1:74:db ip saddr 192.168.6.2 ip daddr 192.168.6.1 tcp sport 40001 tcp dport 22',
      { kind: 'packet', family: 'inet', table: 'iptscope_trace', chain: 'inend' },
    ],
  ])('%s', (line, want) => {
    expect(parseTraceLine(line)).toMatchObject(want);
  });

  it('ignores lines that are not trace events', () => {
    expect(parseTraceLine('')).toBeNull();
    expect(parseTraceLine('# Warning: table ip nat is managed by iptables-nft, do not touch!')).toBeNull();
  });
});

describe('parseHandles', () => {
  const listing = `# Warning: table ip filter is managed by iptables-nft, do not touch!
table ip filter { # handle 2
\tchain INPUT { # handle 1
\t\ttype filter hook input priority filter; policy accept;
\t}

\tchain FORWARD { # handle 2
\t\ttype filter hook forward priority filter; policy drop;
\t\tcounter packets 0 bytes 0 jump KUBE-FW # handle 5
\t\t counter packets 0 bytes 0 log # handle 6
\t\tip daddr 10.244.1.10 counter packets 0 bytes 0 accept # handle 7
\t}

\tchain KUBE-FW { # handle 4
\t\tip saddr 1.2.3.4 counter packets 0 bytes 0 drop # handle 8
\t}
}
table ip6 filter { # handle 3
\tchain FORWARD { # handle 1
\t\ttype filter hook forward priority filter; policy drop;
\t\tmeta l4proto ipv6-icmp counter packets 0 bytes 0 accept # handle 5
\t}
}
`;
  const map = parseHandles(listing);
  it.each([
    ['ip', 'filter', 'FORWARD', 5, 1],
    ['ip', 'filter', 'FORWARD', 6, 2],
    ['ip', 'filter', 'FORWARD', 7, 3],
    ['ip', 'filter', 'KUBE-FW', 8, 1],
    ['ip6', 'filter', 'FORWARD', 5, 1],
  ])('%s %s %s handle %i is rule %i', (family, table, chain, handle, pos) => {
    expect(map.get(handleKey(family, table, chain))?.get(handle)).toBe(pos);
  });
  it('knows empty chains and not the chain or table handles', () => {
    expect(map.get(handleKey('ip', 'filter', 'INPUT'))?.size).toBe(0);
    expect(map.get(handleKey('ip', 'filter', 'FORWARD'))?.has(2)).toBe(false);
  });
});

describe('packetDst', () => {
  it.each([
    ['iif "eth0" oif "cni0" ip saddr 192.168.6.2 ip daddr 10.244.1.10 ip ttl 63 tcp sport 40001 tcp dport 8080 tcp flags == syn', { addr: '10.244.1.10', port: 8080 }],
    ['iif "cni0" ip6 saddr fd00:244:1::10 ip6 daddr fd00:244:1::11 udp sport 1 udp dport 53', { addr: 'fd00:244:1::11', port: 53 }],
    ['oif "lo" ip saddr 127.0.0.1 ip daddr 127.0.0.1 icmp type echo-request', { addr: '127.0.0.1', port: undefined }],
  ])('%s', (info, want) => {
    expect(packetDst(info)).toEqual(want);
  });
});

// Packet lines captured on this kernel for a pod → clusterIP → pod frame bridged after DNAT.
describe('packetTtl / packetIfaces', () => {
  it.each([
    [
      'ip filter FORWARD packet: iif "cni0" oif "cni0" ether saddr 5e:e6:7a:df:da:2a ether daddr 8e:6c:33:3c:8f:5a ip saddr 10.244.1.10 ip daddr 10.244.1.11 ip dscp cs0 ip ecn not-ect ip ttl 5 ip id 4242 ip length 60 icmp type echo-request',
      5, { iif: 'cni0', oif: 'cni0' },
    ],
    [
      'ip6 nat POSTROUTING packet: oif "cni0" @ll,0,112 0xfaa2a34bbdabfaa2a34bbdab86dd ip6 saddr fd00:1::11 ip6 daddr fd00:1::11 ip6 hoplimit 5 ip6 flowlabel 0 ip6 length 20',
      5, { oif: 'cni0' },
    ],
    ['bridge iptscope_phys brforward packet: iif "vetha" oif "vethb" ether saddr 5e:e6:7a:df:da:2a ip saddr 10.244.1.10 ip ttl 64', 64, { iif: 'vetha', oif: 'vethb' }],
    ['inet iptscope_trace inend packet: iif "eth0" ip saddr 192.168.6.2 ip daddr 192.168.6.1 tcp sport 40001 tcp dport 22', undefined, { iif: 'eth0' }],
  ])('%s', (info, ttl, ifs) => {
    expect(packetTtl(info)).toBe(ttl);
    expect(packetIfaces(info)).toEqual(ifs);
  });
});

describe('sideBySide', () => {
  it('marks the rows that differ', () => {
    const text = sideBySide('kernel', ['a:B:1', 'a:B:2'], 'engine', ['a:B:1', 'a:B:3', 'a:B:policy']);
    const rows = text.split('\n');
    expect(rows[1]).toMatch(/^ {4}a:B:1\s+a:B:1$/);
    expect(rows[2]).toMatch(/^ {2}≠ a:B:2\s+a:B:3$/);
    expect(rows[3]).toMatch(/^ {2}≠ \s+a:B:policy$/);
  });
});
