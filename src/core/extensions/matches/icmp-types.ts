/**
 * ICMP and ICMPv6 type names as iptables (libxt_icmp.c / libip6t_icmp6.c) knows them:
 * name → type and code range. Shared by the icmp and icmp6 matches and REJECT.
 */

/** A type with an optional code range (absent: every code). */
export interface IcmpTypeCode {
  type: number;
  codeMin: number;
  codeMax: number;
}

const t = (type: number, code?: number): IcmpTypeCode =>
  code === undefined ? { type, codeMin: 0, codeMax: 255 } : { type, codeMin: code, codeMax: code };

/** ICMP (IPv4) names. `any` is type 255 (matches every type). */
export const ICMP_NAMES: Readonly<Record<string, IcmpTypeCode>> = {
  any: t(255),
  'echo-reply': t(0),
  pong: t(0),
  'destination-unreachable': t(3),
  'network-unreachable': t(3, 0),
  'host-unreachable': t(3, 1),
  'protocol-unreachable': t(3, 2),
  'port-unreachable': t(3, 3),
  'fragmentation-needed': t(3, 4),
  'source-route-failed': t(3, 5),
  'network-unknown': t(3, 6),
  'host-unknown': t(3, 7),
  'network-prohibited': t(3, 9),
  'host-prohibited': t(3, 10),
  'TOS-network-unreachable': t(3, 11),
  'TOS-host-unreachable': t(3, 12),
  'communication-prohibited': t(3, 13),
  'host-precedence-violation': t(3, 14),
  'precedence-cutoff': t(3, 15),
  'source-quench': t(4),
  redirect: t(5),
  'network-redirect': t(5, 0),
  'host-redirect': t(5, 1),
  'TOS-network-redirect': t(5, 2),
  'TOS-host-redirect': t(5, 3),
  'echo-request': t(8),
  ping: t(8),
  'router-advertisement': t(9),
  'router-solicitation': t(10),
  'time-exceeded': t(11),
  'ttl-exceeded': t(11),
  'ttl-zero-during-transit': t(11, 0),
  'ttl-zero-during-reassembly': t(11, 1),
  'parameter-problem': t(12),
  'ip-header-bad': t(12, 0),
  'required-option-missing': t(12, 1),
  'timestamp-request': t(13),
  'timestamp-reply': t(14),
  'address-mask-request': t(17),
  'address-mask-reply': t(18),
};

/** ICMPv6 names. */
export const ICMP6_NAMES: Readonly<Record<string, IcmpTypeCode>> = {
  'destination-unreachable': t(1),
  'no-route': t(1, 0),
  'communication-prohibited': t(1, 1),
  'beyond-scope': t(1, 2),
  'address-unreachable': t(1, 3),
  'port-unreachable': t(1, 4),
  'failed-policy': t(1, 5),
  'reject-route': t(1, 6),
  'packet-too-big': t(2),
  'time-exceeded': t(3),
  'ttl-exceeded': t(3),
  'ttl-zero-during-transit': t(3, 0),
  'ttl-zero-during-reassembly': t(3, 1),
  'parameter-problem': t(4),
  'bad-header': t(4, 0),
  'unknown-header-type': t(4, 1),
  'unknown-option': t(4, 2),
  'echo-request': t(128),
  ping: t(128),
  'echo-reply': t(129),
  pong: t(129),
  'group-membership-query': t(130),
  'mld-listener-query': t(130),
  'group-membership-report': t(131),
  'mld-listener-report': t(131),
  'group-membership-reduction': t(132),
  'mld-listener-done': t(132),
  'router-solicitation': t(133),
  'router-advertisement': t(134),
  'neighbour-solicitation': t(135),
  'neighbor-solicitation': t(135),
  'neighbour-advertisement': t(136),
  'neighbor-advertisement': t(136),
  redirect: t(137),
  'mld2-listener-report': t(143),
};

/** Parse `name`, `N`, or `N/M` against a name table. */
export function parseIcmpType(text: string, names: Readonly<Record<string, IcmpTypeCode>>): IcmpTypeCode | null {
  const s = text.trim();
  const named = names[s] ?? names[s.toLowerCase()];
  if (named) return named;
  const m = /^(\d+)(?:\/(\d+))?$/.exec(s);
  if (!m) return null;
  const type = Number(m[1]);
  if (type > 255) return null;
  if (m[2] === undefined) return t(type);
  const code = Number(m[2]);
  return code > 255 ? null : t(type, code);
}

/** `8`, `3/3`. */
export function fmtIcmp(v: IcmpTypeCode): string {
  if (v.type === 255 && v.codeMin === 0 && v.codeMax === 255) return 'any';
  return v.codeMin === 0 && v.codeMax === 255 ? String(v.type) : `${v.type}/${v.codeMin}`;
}
