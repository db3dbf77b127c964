/**
 * Match modules, table-driven: each row is a rule (parsed by the real parser from iptables-save
 * text) and a packet; the engine's verdict on that rule must be true / false / 'unknown', and the
 * detail must name the deciding condition when given.
 */
import { describe, expect, it } from 'vitest';
import type { PacketSpec } from '../../../src/core/netfilter/types.js';
import { nodeContext, rules, run, table } from '../netfilter/helpers.js';

type Row = [name: string, rule: string, packet: Partial<PacketSpec>, expected: true | false | 'unknown', detail?: string | RegExp];

const base: PacketSpec = { proto: 'tcp', src: '10.244.1.5', sport: 40000, dst: '10.244.1.1', dport: 80, iif: 'vethA' };

function evalRow(rule: string, packet: Partial<PacketSpec>, hookChain = 'INPUT', family?: 'ipv4' | 'ipv6', ctx = nodeContext()) {
  const rs = rules(table(hookChain === 'OUTPUT' || hookChain === 'POSTROUTING' ? (hookChain === 'POSTROUTING' ? 'mangle' : 'filter') : 'filter', [`-A ${hookChain} ${rule} -j ACCEPT`]), family);
  const pkt = { ...base, ...packet } as PacketSpec;
  const r = run(rs, pkt, ctx, { maxOutcomes: 4 });
  const step = r.outcomes[0]!.steps.find((s) => s.kind === 'rule')!;
  return step;
}

function check(rows: Row[], chain = 'INPUT', family?: 'ipv4' | 'ipv6') {
  it.each(rows)('%s', (_n, rule, packet, expected, detail) => {
    const step = evalRow(rule, packet, chain, family);
    expect(step.matched).toBe(expected);
    if (detail !== undefined) {
      const text = expected === true ? step.reasons.join(' | ') : step.failed ?? '';
      if (typeof detail === 'string') expect(text).toContain(detail);
      else expect(text).toMatch(detail);
    }
  });
}

describe('base match (-s -d -i -p -f)', () => {
  check([
    ['-s inside', '-s 10.244.0.0/16', {}, true],
    ['-s outside', '-s 10.0.0.0/16', {}, false, '-s 10.0.0.0/16 ∌ 10.244.1.5'],
    ['! -s', '! -s 10.244.0.0/16', {}, false],
    ['-d host', '-d 10.244.1.1/32', {}, true],
    ['-i bridge (port resolved to its bridge)', '-i cni0', {}, true],
    ['-i wildcard', '-i cni+', {}, true],
    ['-i other', '-i eth0', {}, false, '-i eth0 ≠ cni0'],
    ['-p by number', '-p 6', {}, true],
    ['-p udp vs tcp', '-p udp', {}, false, '-p udp ≠ tcp'],
    ['-p all', '-p all', {}, true],
    ['-f non-first fragment', '-f', { fragment: true, sport: undefined, dport: undefined, proto: 'gre' }, true],
    ['! -f', '! -f', {}, true],
  ]);
});

describe('tcp / udp / sctp / multiport', () => {
  check([
    ['tcp dport', '-p tcp -m tcp --dport 80', {}, true, '--dport 80 = 80'],
    ['tcp dport differs', '-p tcp -m tcp --dport 8080', {}, false, '--dport 8080 ≠ 80'],
    ['tcp dport range', '-p tcp -m tcp --dport 1:1024', {}, true],
    ['tcp ! dport', '-p tcp -m tcp ! --dport 80', {}, false],
    ['tcp sport', '-p tcp -m tcp --sport 40000', {}, true],
    ['tcp --syn on NEW', '-p tcp -m tcp --syn', {}, true],
    ['tcp --syn on an ACK', '-p tcp -m tcp --syn', { tcpFlags: ['ACK'] }, false],
    ['tcp-flags', '-p tcp -m tcp --tcp-flags SYN,ACK SYN,ACK', { tcpFlags: ['SYN', 'ACK'] }, true],
    ['tcp-option unknown', '-p tcp -m tcp --tcp-option 2', {}, 'unknown'],
    ['udp dport', '-p udp -m udp --dport 53', { proto: 'udp', dport: 53 }, true],
    ['sctp dport', '-p sctp -m sctp --dport 3868', { proto: 'sctp', dport: 3868 }, true],
    ['multiport dports list', '-p tcp -m multiport --dports 22,80,443', {}, true],
    ['multiport range', '-p tcp -m multiport --dports 1000:2000,3000', { dport: 1500 }, true],
    ['multiport miss', '-p tcp -m multiport --dports 22,443', {}, false, '∌ 80'],
    ['multiport ! dports', '-p tcp -m multiport ! --dports 22,443', {}, true],
    ['multiport --ports matches sport', '-p tcp -m multiport --ports 40000', {}, true],
  ]);
});

describe('icmp / icmp6', () => {
  check([
    ['echo-request by name', '-p icmp -m icmp --icmp-type echo-request', { proto: 'icmp', sport: undefined, dport: undefined }, true],
    ['echo-request by number', '-p icmp -m icmp --icmp-type 8', { proto: 'icmp', sport: undefined, dport: undefined }, true],
    ['type/code', '-p icmp -m icmp --icmp-type 3/3', { proto: 'icmp', sport: undefined, dport: undefined, icmpType: 3, icmpCode: 3 }, true],
    ['type/code miss', '-p icmp -m icmp --icmp-type 3/1', { proto: 'icmp', sport: undefined, dport: undefined, icmpType: 3, icmpCode: 3 }, false],
    ['any', '-p icmp -m icmp --icmp-type any', { proto: 'icmp', sport: undefined, dport: undefined, icmpType: 13 }, true],
  ]);
  check(
    [
      ['icmpv6 name', '-p ipv6-icmp -m icmp6 --icmpv6-type neighbour-solicitation', { proto: 'icmpv6', src: 'fd00:244:1::5', dst: 'fd00:244:1::1', sport: undefined, dport: undefined, icmpType: 135 }, true],
      ['icmpv6 number', '-p ipv6-icmp -m icmp6 --icmpv6-type 128', { proto: 'icmpv6', src: 'fd00:244:1::5', dst: 'fd00:244:1::1', sport: undefined, dport: undefined }, true],
      ['icmpv6 miss', '-p ipv6-icmp -m icmp6 --icmpv6-type 1/4', { proto: 'icmpv6', src: 'fd00:244:1::5', dst: 'fd00:244:1::1', sport: undefined, dport: undefined }, false],
    ],
    'INPUT',
    'ipv6',
  );
});

describe('addresses and types', () => {
  check([
    ['iprange src', '-m iprange --src-range 10.244.1.1-10.244.1.9', {}, true],
    ['iprange dst miss', '-m iprange --dst-range 10.244.1.2-10.244.1.9', {}, false],
    ['addrtype dst LOCAL', '-m addrtype --dst-type LOCAL', {}, true, 'is LOCAL'],
    ['addrtype src LOCAL (pod is UNICAST)', '-m addrtype --src-type LOCAL', {}, false, 'is UNICAST'],
    ['addrtype ! dst LOCAL', '-m addrtype ! --dst-type LOCAL', {}, false],
    ['addrtype BROADCAST', '-m addrtype --dst-type BROADCAST', { proto: 'udp', dst: '10.244.1.255' }, true],
    ['addrtype MULTICAST', '-m addrtype --dst-type MULTICAST', { proto: 'udp', dst: '224.0.0.1' }, true],
    ['addrtype limit-iface-in: address local on another interface', '-m addrtype --dst-type LOCAL --limit-iface-in', { dst: '192.168.1.2' }, false],
    ['addrtype limit-iface-in: local on the input interface', '-m addrtype --dst-type LOCAL --limit-iface-in', {}, true],
    ['addrtype 127/8 is LOCAL', '-m addrtype --dst-type LOCAL', { dst: '127.0.0.5', iif: 'lo' }, true],
  ]);
});

describe('marks and conntrack', () => {
  check([
    ['mark', '-m mark --mark 0x4000/0x4000', { mark: 0x4001 }, true],
    ['mark miss', '-m mark --mark 0x4000/0x4000', { mark: 1 }, false, '--mark 0x4000/0x4000 ≠ 0x1'],
    ['! mark', '-m mark ! --mark 0x4000/0x4000', { mark: 1 }, true],
    ['connmark (entry present)', '-m connmark --mark 0x1', { ctState: 'ESTABLISHED', ctMark: 1 }, true],
    ['connmark on UNTRACKED', '-m connmark --mark 0x0', { ctState: 'UNTRACKED' }, false, 'no conntrack entry'],
    ['ctstate NEW', '-m conntrack --ctstate NEW', {}, true],
    ['ctstate ESTABLISHED on NEW', '-m conntrack --ctstate RELATED,ESTABLISHED', {}, false, '∌ NEW'],
    ['! ctstate INVALID', '-m conntrack ! --ctstate INVALID', {}, true],
    ['ctproto', '-m conntrack --ctproto tcp', {}, true],
    ['ctorigdst', '-m conntrack --ctorigdst 10.244.1.1', {}, true],
    ['ctorigsrcport', '-m conntrack --ctorigsrcport 40000', {}, true],
    ['ctrepldst', '-m conntrack --ctrepldst 10.244.1.5', {}, true],
    ['ctdir ORIGINAL', '-m conntrack --ctdir ORIGINAL', {}, true],
    ['ctstatus CONFIRMED on NEW', '-m conntrack --ctstatus CONFIRMED', {}, false],
    ['ctstatus NONE never matches (empty mask)', '-m conntrack --ctstatus NONE', {}, false, 'empty mask'],
    ['! ctstatus NONE always matches', '-m conntrack ! --ctstatus NONE', {}, true, 'empty mask'],
    ['ctexpire unknown', '-m conntrack --ctexpire 10:20', {}, 'unknown'],
    ['state', '-m state --state NEW,ESTABLISHED', {}, true],
    ['state UNTRACKED', '-m state --state UNTRACKED', { ctState: 'UNTRACKED' }, true],
    // xt_conntrack without an entry: a matched --ctstate decides alone; without --ctstate, no match
    ['no entry: matched ctstate ignores ctorigsrc', '-m conntrack --ctstate UNTRACKED --ctorigsrc 10.99.0.0/16', { ctState: 'UNTRACKED' }, true, 'not checked'],
    ['no entry: ctorigsrc alone never matches', '-m conntrack --ctorigsrc 10.0.0.0/8', { ctState: 'UNTRACKED' }, false, 'no conntrack entry'],
    ['no entry: unmatched ctstate', '-m conntrack --ctstate NEW --ctorigsrc 10.0.0.0/8', { ctState: 'UNTRACKED' }, false, '∌ UNTRACKED'],
  ]);
});

describe('other decidable modules', () => {
  check([
    ['comment', '-m comment --comment "hello world"', {}, true, 'hello world'],
    ['statistic nth: packets 0, 3, 6… match (--packet 0)', '-m statistic --mode nth --every 3 --packet 0', { packetNumber: 3 }, true],
    ['statistic nth: --packet 1 picks packet 1', '-m statistic --mode nth --every 3 --packet 1', { packetNumber: 1 }, true],
    ['statistic nth: packet 2 is not picked', '-m statistic --mode nth --every 3 --packet 0', { packetNumber: 2 }, false],
    ['statistic nth: the first packet matches', '-m statistic --mode nth --every 3 --packet 0', { packetNumber: 0 }, true],
    ['mac', '-m mac --mac-source AA:BB:CC:DD:EE:FF', { srcMac: 'aa:bb:cc:dd:ee:ff' }, true],
    ['mac not given → unknown', '-m mac --mac-source AA:BB:CC:DD:EE:FF', {}, 'unknown'],
    // xt_mac returns false on a non-Ethernet device before applying `!`
    ['mac on lo never matches', '-m mac --mac-source 00:00:00:00:00:00', { iif: 'lo', dst: '127.0.0.1' }, false, 'not an Ethernet device'],
    ['! mac on lo never matches either', '-m mac ! --mac-source 02:00:00:00:00:99', { iif: 'lo', dst: '127.0.0.1' }, false, 'not an Ethernet device'],
    ['physdev-in', '-m physdev --physdev-in vethA', {}, true],
    ['physdev-is-bridged on a routed packet', '-m physdev --physdev-is-bridged', {}, false],
    ['physdev ! is-bridged', '-m physdev ! --physdev-is-bridged', {}, true],
    ['length', '-m length --length 40:100', {}, true],
    ['length miss', '-m length --length 1000:2000', {}, false],
    ['ttl-gt', '-m ttl --ttl-gt 10', {}, true],
    ['ttl-lt', '-m ttl --ttl-lt 10', {}, false],
    ['set: contents unknown', '-m set --match-set ALLOWED src', {}, 'unknown'],
    ['recent --set always matches', '-m recent --set --name SSH --mask 255.255.255.255 --rsource', {}, true],
    ['nfacct counts and matches', '-m nfacct --nfacct-name ct', {}, true],
    ['policy none (no IPsec)', '-m policy --dir in --pol none', {}, true],
    ['policy ipsec', '-m policy --dir in --pol ipsec', {}, false],
    ['pkttype unicast', '-m pkttype --pkt-type unicast', {}, true],
    ['pkttype broadcast', '-m pkttype --pkt-type broadcast', {}, false],
    ['helper without a master', '-m helper --helper ftp', {}, false],
    ['esp on tcp', '-m esp --espspi 5', {}, false],
  ]);
});

describe('stateful and opaque modules are unknown with a reason', () => {
  check([
    ['limit', '-m limit --limit 5/min --limit-burst 10', {}, 'unknown', 'rate-limit state'],
    ['hashlimit', '-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name h', {}, 'unknown'],
    ['recent --rcheck', '-m recent --rcheck --seconds 60 --hitcount 4 --name SSH --mask 255.255.255.255 --rsource', {}, 'unknown'],
    ['connlimit', '-m connlimit --connlimit-above 10 --connlimit-mask 32 --connlimit-saddr', {}, 'unknown'],
    ['connbytes', '-m connbytes --connbytes 10000: --connbytes-mode bytes --connbytes-dir both', {}, 'unknown'],
    ['time', '-m time --timestart 09:00:00 --timestop 17:00:00', {}, 'unknown'],
    ['string', '-m string --string "GET /" --algo bm --to 65535', {}, 'unknown'],
    ['u32', '-m u32 --u32 "0>>22&0x3C@4>>16=0x1"', {}, 'unknown'],
    ['tos', '-m tos --tos 0x10/0x3f', {}, 'unknown'],
    ['unknown module', '-m frobnicate --frob 1', {}, 'unknown', 'not known'],
  ]);
});

describe('owner (OUTPUT only, local packets)', () => {
  it.each([
    ['uid matches', '-m owner --uid-owner 0', { uid: 0 }, true],
    ['uid differs', '-m owner --uid-owner 1000', { uid: 0 }, false],
    ['uid not given', '-m owner --uid-owner 1000', {}, 'unknown'],
  ] as const)('%s', (_n, rule, pkt, expected) => {
    const step = evalRow(rule, { ...pkt, iif: undefined, local: true, src: '192.168.1.2', dst: '8.8.8.8' }, 'OUTPUT');
    expect(step.matched).toBe(expected);
  });
  it('forwarded packets have no socket: only all-negated owner rules match', () => {
    const ctx = nodeContext();
    const rs = rules(table('mangle', ['-A POSTROUTING -m owner --uid-owner 0 -j ACCEPT', '-A POSTROUTING -m owner ! --uid-owner 0 -j ACCEPT']));
    const o = run(rs, { ...base, dst: '8.8.8.8' }, ctx).outcomes[0]!;
    const steps = o.steps.filter((s) => s.kind === 'rule');
    expect(steps.map((s) => s.matched)).toEqual([false, true]);
  });
});

describe('ipset contents from the context', () => {
  const ctx = nodeContext({
    ipsets: [
      { name: 'NETS', type: 'hash:net', members: ['10.244.0.0/16', '192.168.0.0/16 nomatch'] },
      { name: 'SVC', type: 'hash:ip,port', members: ['10.244.1.1,tcp:80', '10.244.1.1,udp:53'] },
      { name: 'PORTS', type: 'bitmap:port', members: ['80', '443'] },
    ],
  });
  it.each([
    ['hash:net src', '-m set --match-set NETS src', true],
    ['hash:net dst', '-m set --match-set NETS dst', true],
    ['hash:ip,port dst,dst', '-m set --match-set SVC dst,dst', true],
    ['hash:ip,port src,dst', '-m set --match-set SVC src,dst', false],
    ['bitmap:port', '-m set --match-set PORTS dst', true],
    ['! set', '-m set ! --match-set PORTS dst', false],
  ] as const)('%s', (_n, rule, expected) => {
    expect(evalRow(rule, {}, 'INPUT', undefined, ctx).matched).toBe(expected);
  });
});
