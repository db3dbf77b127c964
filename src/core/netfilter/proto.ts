/**
 * Protocol names and numbers as iptables accepts them (/etc/protocols names plus iptables'
 * own aliases: `icmpv6`, `ipv6-icmp`, `icmp6`, `mh`, `ipv6-mh`, `all` = 0).
 *
 * Pure: no IO.
 */

const BY_NAME: Readonly<Record<string, number>> = {
  all: 0,
  ip: 0,
  icmp: 1,
  igmp: 2,
  ipencap: 4,
  tcp: 6,
  egp: 8,
  igp: 9,
  udp: 17,
  dccp: 33,
  ipv6: 41,
  'ipv6-route': 43,
  'ipv6-frag': 44,
  rsvp: 46,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  icmp6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  ospf: 89,
  ipip: 94,
  pim: 103,
  vrrp: 112,
  l2tp: 115,
  sctp: 132,
  mh: 135,
  'ipv6-mh': 135,
  udplite: 136,
};

const CANONICAL: Readonly<Record<number, string>> = {
  0: 'all',
  1: 'icmp',
  2: 'igmp',
  4: 'ipencap',
  6: 'tcp',
  8: 'egp',
  9: 'igp',
  17: 'udp',
  33: 'dccp',
  41: 'ipv6',
  43: 'ipv6-route',
  44: 'ipv6-frag',
  46: 'rsvp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'ipv6-icmp',
  59: 'ipv6-nonxt',
  60: 'ipv6-opts',
  89: 'ospf',
  94: 'ipip',
  103: 'pim',
  112: 'vrrp',
  115: 'l2tp',
  132: 'sctp',
  135: 'mh',
  136: 'udplite',
};

/** Protocol number for a name or a decimal number; null when unknown. */
export function protoNumber(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n <= 255 ? n : null;
  }
  const n = BY_NAME[t];
  return n === undefined ? null : n;
}

/** Canonical name for a protocol number (`tcp`), or the number as text. */
export function protoName(n: number): string {
  return CANONICAL[n] ?? String(n);
}

/** Protocols with 16-bit source/destination ports. */
export const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 33, 132, 136]);

/** TCP flag bits as the kernel numbers them (tcp_flag_word order). */
export const TCP_FLAGS: Readonly<Record<string, number>> = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  ALL: 0xff,
  NONE: 0,
};

/** `SYN,ACK` → bits; null on an unknown flag name. */
export function parseTcpFlags(text: string): number | null {
  let v = 0;
  for (const part of text.split(',')) {
    const f = TCP_FLAGS[part.trim().toUpperCase()];
    if (f === undefined) return null;
    v |= f;
  }
  return v;
}

/** Bits → `SYN,ACK` (or `NONE`). */
export function formatTcpFlags(bits: number): string {
  const names = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'].filter((n) => bits & TCP_FLAGS[n]!);
  return names.length ? names.join(',') : 'NONE';
}
