/**
 * -j REJECT [--reject-with TYPE]: drops the packet and answers with an ICMP error or a TCP RST.
 * Like ipt_REJECT.c / ip6t_REJECT.c: default icmp-port-unreachable (IPv4) / icmp6-port-unreachable
 * (IPv6); valid in INPUT, FORWARD and OUTPUT; tcp-reset only for tcp.
 */
import type { ExtensionBase } from '../types.js';
import { err, ok, opt } from '../util.js';

const V4: Readonly<Record<string, string>> = {
  'icmp-net-unreachable': 'icmp-net-unreachable',
  'net-unreach': 'icmp-net-unreachable',
  'icmp-host-unreachable': 'icmp-host-unreachable',
  'host-unreach': 'icmp-host-unreachable',
  'icmp-port-unreachable': 'icmp-port-unreachable',
  'port-unreach': 'icmp-port-unreachable',
  'icmp-proto-unreachable': 'icmp-proto-unreachable',
  'proto-unreach': 'icmp-proto-unreachable',
  'icmp-net-prohibited': 'icmp-net-prohibited',
  'net-prohib': 'icmp-net-prohibited',
  'icmp-host-prohibited': 'icmp-host-prohibited',
  'host-prohib': 'icmp-host-prohibited',
  'icmp-admin-prohibited': 'icmp-admin-prohibited',
  'admin-prohib': 'icmp-admin-prohibited',
  'tcp-reset': 'tcp-reset',
};
const V6: Readonly<Record<string, string>> = {
  'icmp6-no-route': 'icmp6-no-route',
  'no-route': 'icmp6-no-route',
  'icmp6-adm-prohibited': 'icmp6-adm-prohibited',
  'adm-prohibited': 'icmp6-adm-prohibited',
  'icmp6-addr-unreachable': 'icmp6-addr-unreachable',
  'addr-unreach': 'icmp6-addr-unreachable',
  'icmp6-port-unreachable': 'icmp6-port-unreachable',
  'port-unreach': 'icmp6-port-unreachable',
  'icmp6-policy-fail': 'icmp6-policy-fail',
  'policy-fail': 'icmp6-policy-fail',
  'icmp6-reject-route': 'icmp6-reject-route',
  'reject-route': 'icmp6-reject-route',
  'tcp-reset': 'tcp-reset',
};

/** Parsed REJECT target. */
export interface RejectTarget {
  with: string;
}

/** The REJECT target extension. */
export const rejectTarget: ExtensionBase<RejectTarget> = {
  name: 'REJECT',
  optionNames: ['reject-with'],
  hooks: ['INPUT', 'FORWARD', 'OUTPUT'],
  parse(options, family) {
    const o = opt(options, 'reject-with');
    const table = family === 'ipv6' ? V6 : V4;
    if (!o) return ok({ with: family === 'ipv6' ? 'icmp6-port-unreachable' : 'icmp-port-unreachable' });
    const w = table[o.args[0] ?? ''];
    if (!w) return err(`REJECT: unknown --reject-with "${o.args[0] ?? ''}" for ${family}`, 'reject-with');
    return ok({ with: w });
  },
  describe: (v) => `reject-with ${v.with}`,
  apply(v, ctx) {
    if (v.with === 'tcp-reset' && ctx.packet.protoNum !== 6) {
      // ipt_REJECT checkentry refuses tcp-reset without -p tcp; a non-tcp packet gets nothing back.
      return { verdict: 'reject', changes: ['rejected (tcp-reset on a non-tcp packet: no reply is sent)'], rejectWith: v.with };
    }
    return { verdict: 'reject', changes: [`rejected with ${v.with}`], rejectWith: v.with };
  },
};
