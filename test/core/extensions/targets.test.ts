/**
 * Target extensions, table-driven: each row applies one target to a packet and checks the verdict,
 * the packet after it and the change text.
 */
import { describe, expect, it } from 'vitest';
import { resolveContext } from '../../../src/core/netfilter/index.js';
import type { PacketSpec } from '../../../src/core/netfilter/types.js';
import { nodeContext, rules, run, table } from '../netfilter/helpers.js';

const fwd: PacketSpec = { proto: 'tcp', src: '10.244.1.5', sport: 40000, dst: '8.8.8.8', dport: 443, iif: 'vethA' };

type Row = [name: string, tableName: string, chain: string, target: string, pkt: Partial<PacketSpec>, expect: { verdict?: string; src?: string; dst?: string; sport?: number; dport?: number; mark?: number; ctMark?: number; change?: string | RegExp; disposition?: string | RegExp }];

const rows: Row[] = [
  ['ACCEPT', 'filter', 'FORWARD', 'ACCEPT', {}, { verdict: 'ACCEPT' }],
  ['DROP', 'filter', 'FORWARD', 'DROP', {}, { verdict: 'DROP', disposition: /^dropped by filter:FORWARD:1 \(line \d+\)$/ }],
  ['REJECT default type', 'filter', 'FORWARD', 'REJECT', {}, { verdict: 'REJECT', disposition: /rejected by filter:FORWARD:1 .* with icmp-port-unreachable/ }],
  ['REJECT tcp-reset', 'filter', 'FORWARD', 'REJECT --reject-with tcp-reset', {}, { verdict: 'REJECT', disposition: /with tcp-reset$/ }],
  ['LOG continues', 'filter', 'FORWARD', 'LOG --log-prefix "fwd: "', {}, { verdict: 'ACCEPT', change: 'logged "fwd: "' }],
  ['NFLOG continues', 'filter', 'FORWARD', 'NFLOG --nflog-group 5', {}, { verdict: 'ACCEPT', change: 'nflog group 5' }],
  ['NFQUEUE queues', 'filter', 'FORWARD', 'NFQUEUE --queue-num 3', {}, { disposition: /NFQUEUE 3/ }],
  ['MARK --set-xmark', 'mangle', 'FORWARD', 'MARK --set-xmark 0x4000/0x4000', { mark: 0x1 }, { mark: 0x4001, change: 'mark 0x1 → 0x4001' }],
  ['MARK --set-mark', 'mangle', 'FORWARD', 'MARK --set-mark 0x10', { mark: 0xff }, { mark: 0x10 }],
  ['MARK --and-mark', 'mangle', 'FORWARD', 'MARK --and-mark 0xf0', { mark: 0xff }, { mark: 0xf0 }],
  ['MARK --or-mark', 'mangle', 'FORWARD', 'MARK --or-mark 0x100', { mark: 0x1 }, { mark: 0x101 }],
  ['MARK --xor-mark', 'mangle', 'FORWARD', 'MARK --xor-mark 0x3', { mark: 0x1 }, { mark: 0x2 }],
  ['CONNMARK --set-xmark', 'mangle', 'FORWARD', 'CONNMARK --set-xmark 0x5/0xff', {}, { ctMark: 0x5 }],
  ['CONNMARK --save-mark with masks', 'mangle', 'FORWARD', 'CONNMARK --save-mark --nfmask 0xff --ctmask 0xff', { mark: 0x1234 }, { ctMark: 0x34 }],
  ['DNAT address:port', 'nat', 'PREROUTING', 'DNAT --to-destination 10.244.1.9:8443', {}, { dst: '10.244.1.9', dport: 8443, change: 'DNAT 8.8.8.8:443 → 10.244.1.9:8443' }],
  ['DNAT address only keeps the port', 'nat', 'PREROUTING', 'DNAT --to-destination 10.244.1.9', {}, { dst: '10.244.1.9', dport: 443 }],
  ['DNAT address range: first shown, recorded', 'nat', 'PREROUTING', 'DNAT --to-destination 10.244.1.9-10.244.1.12', {}, { dst: '10.244.1.9', change: /range 10\.244\.1\.9-10\.244\.1\.12/ }],
  ['DNAT port range keeps an in-range port', 'nat', 'PREROUTING', 'DNAT --to-destination 10.244.1.9:400-500', {}, { dport: 443 }],
  ['DNAT port range outside: first port', 'nat', 'PREROUTING', 'DNAT --to-destination 10.244.1.9:8000-8010', {}, { dport: 8000 }],
  ['SNAT', 'nat', 'POSTROUTING', 'SNAT --to-source 192.168.1.100', {}, { src: '192.168.1.100', sport: 40000 }],
  ['MASQUERADE picks the out interface address', 'nat', 'POSTROUTING', 'MASQUERADE', {}, { src: '192.168.1.2', change: /first ipv4 address of eth0/ }],
  ['MASQUERADE --to-ports', 'nat', 'POSTROUTING', 'MASQUERADE --to-ports 20000-30000', {}, { src: '192.168.1.2', sport: 20000 }],
  ['NETMAP in PREROUTING maps the destination', 'nat', 'PREROUTING', 'NETMAP --to 10.244.7.0/24', { dst: '8.8.8.8' }, { dst: '10.244.7.8' }],
  ['NETMAP in POSTROUTING maps the source', 'nat', 'POSTROUTING', 'NETMAP --to 172.16.0.0/16', {}, { src: '172.16.1.5' }],
  ['TTL --ttl-dec (FORWARD sees the TTL already decremented by forwarding)', 'mangle', 'FORWARD', 'TTL --ttl-dec 1', {}, { change: 'ttl 63 → 62' }],
  ['TCPMSS recorded', 'mangle', 'FORWARD', 'TCPMSS --clamp-mss-to-pmtu', {}, { change: /clamped to path MTU/ }],
  ['CLASSIFY recorded', 'mangle', 'POSTROUTING', 'CLASSIFY --set-class 1:10', {}, { change: 'priority (tc class) 1:10' }],
];

describe('targets', () => {
  it.each(rows)('%s', (_n, tableName, chain, target, pkt, exp) => {
    const rs = rules(table(tableName, [`-A ${chain} -p tcp -j ${target}`]));
    const r = run(rs, { ...fwd, ...pkt } as PacketSpec, nodeContext());
    const o = r.outcomes[0]!;
    if (exp.verdict) expect(o.verdict).toBe(exp.verdict);
    if (exp.src) expect(o.packet.src).toBe(exp.src);
    if (exp.dst) expect(o.packet.dst).toBe(exp.dst);
    if (exp.sport !== undefined) expect(o.packet.sport).toBe(exp.sport);
    if (exp.dport !== undefined) expect(o.packet.dport).toBe(exp.dport);
    if (exp.mark !== undefined) expect(o.packet.mark).toBe(exp.mark);
    if (exp.ctMark !== undefined) expect(o.packet.ctMark).toBe(exp.ctMark);
    const step = o.steps.find((s) => s.kind === 'rule' && s.matched === true)!;
    if (exp.change !== undefined) {
      const text = step.changes.join(' | ');
      if (typeof exp.change === 'string') expect(text).toContain(exp.change);
      else expect(text).toMatch(exp.change);
    }
    if (exp.disposition !== undefined) {
      if (typeof exp.disposition === 'string') expect(o.disposition.text).toBe(exp.disposition);
      else expect(o.disposition.text).toMatch(exp.disposition);
    }
  });

  it('REJECT records the reply type in the disposition', () => {
    const rs = rules(table('filter', ['-A INPUT -p tcp -j REJECT --reject-with icmp-host-prohibited']));
    const o = run(rs, { ...fwd, dst: '10.244.1.1' }).outcomes[0]!;
    expect(o.disposition.kind).toBe('rejected');
    expect(o.disposition.rejectWith).toBe('icmp-host-prohibited');
    expect(o.disposition.by?.chain).toBe('INPUT');
  });

  it('a NAT target outside the nat table is an unknown target (the kernel refuses it)', () => {
    const rs = rules(table('filter', ['-A FORWARD -p tcp -j DNAT --to-destination 1.2.3.4']));
    const r = run(rs, fwd);
    expect(r.outcomes.map((o) => o.assumptions[0]?.choice).sort()).toEqual(['continue', 'stop']);
  });

  it('MASQUERADE with an unknown output interface says so', () => {
    const rs = rules(table('nat', ['-A POSTROUTING -j MASQUERADE']));
    const ctx = nodeContext();
    const bare = resolveContext({ interfaces: ctx.interfaces }).context;
    const o = run(rs, { ...fwd, dst: '8.8.8.8', iif: 'eth0', src: '192.168.1.50' }, bare).outcomes[0]!;
    expect(o.steps.find((s) => s.kind === 'rule')!.changes[0]).toMatch(/output interface unknown/);
  });

  it.each([
    ['no socket listening: dropped', undefined, 'DROP', /no socket listens on 127\.0\.0\.1:3129/],
    ['a non-transparent socket: dropped', [{ proto: 'tcp', addr: '127.0.0.1', port: 3129 }], 'DROP', /not transparent/],
    ['a transparent listener: delivered locally with the mark', [{ proto: 'tcp', port: 3129, transparent: true }], 'ACCEPT', /assigned to the transparent socket/],
  ] as const)('TPROXY: %s', (_n, sockets, verdict, change) => {
    const rs = rules(table('mangle', ['-A PREROUTING -p tcp -m tcp --dport 3128 -j TPROXY --on-port 3129 --on-ip 127.0.0.1 --tproxy-mark 0x1/0x1']));
    const ctx = nodeContext(sockets ? { sockets: sockets.map((x) => ({ ...x })) } : {});
    const o = run(rs, { ...fwd, dst: '93.184.216.34', dport: 3128 }, ctx).outcomes[0]!;
    expect(o.verdict).toBe(verdict);
    expect(o.steps.find((s) => s.kind === 'rule')!.changes.join(' ')).toMatch(change);
    if (verdict === 'ACCEPT') {
      expect(o.disposition.text).toBe('delivered locally (transparent socket)');
      expect(o.packet.mark).toBe(1);
    }
  });

  it('-m socket --transparent uses the context sockets', () => {
    const rs = rules(table('mangle', ['-A PREROUTING -p tcp -m socket --transparent -j MARK --set-xmark 0x1/0x1']));
    const yes = run(rs, { ...fwd, dst: '10.244.1.1', dport: 15006 }, nodeContext({ sockets: [{ proto: 'tcp', port: 15006, transparent: true }] })).outcomes[0]!;
    expect(yes.packet.mark).toBe(1);
    const no = run(rs, { ...fwd, dst: '10.244.1.1', dport: 15006 }, nodeContext()).outcomes[0]!;
    expect(no.packet.mark).toBe(0);
  });
});
