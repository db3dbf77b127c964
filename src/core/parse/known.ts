/**
 * What the parser knows about iptables syntax on its own, independent of the extension registry:
 * protocol names, verdicts, the names of iptables' target extensions, and the option arity of
 * common match/target modules (from the iptables-extensions man page).
 *
 * The extension registry (src/core/extensions) is always asked first; this table is the fallback
 * that keeps option attribution right for modules the registry does not (yet) hold, so the parse
 * result does not depend on which engine extensions exist. Modules in neither place are parsed
 * generically: an option takes the following words that do not look like options.
 */
import type { Family } from '../model.js';

/** Option arity of one module as the parser needs it. */
export interface OptionSpec {
  /** Every long option name (without dashes), canonical names only. */
  names: ReadonlySet<string>;
  /** Options taking no argument. */
  flags: ReadonlySet<string>;
  /** Options taking two arguments. */
  two: ReadonlySet<string>;
  /** Alternative long spellings → canonical name (`source-port` → `sport`). */
  aliases: Readonly<Record<string, string>>;
}

function spec(all: string, flags = '', two = '', aliases: Record<string, string> = {}): OptionSpec {
  const f = flags.split(' ').filter(Boolean);
  const t = two.split(' ').filter(Boolean);
  return {
    names: new Set([...all.split(' ').filter(Boolean), ...f, ...t]),
    flags: new Set(f),
    two: new Set(t),
    aliases,
  };
}

const PORT_ALIASES = { 'source-port': 'sport', 'destination-port': 'dport' };

/** Match modules (`-m NAME`) and their options. */
export const KNOWN_MATCHES: Readonly<Record<string, OptionSpec>> = {
  tcp: spec('sport dport tcp-option', 'syn', 'tcp-flags', PORT_ALIASES),
  udp: spec('sport dport', '', '', PORT_ALIASES),
  udplite: spec('sport dport', '', '', PORT_ALIASES),
  dccp: spec('sport dport dccp-types dccp-option', '', '', PORT_ALIASES),
  sctp: spec('sport dport', '', 'chunk-types', PORT_ALIASES),
  icmp: spec('icmp-type'),
  icmp6: spec('icmpv6-type'),
  comment: spec('comment'),
  conntrack: spec(
    'ctstate ctproto ctorigsrc ctorigdst ctreplsrc ctrepldst ctorigsrcport ctorigdstport ctreplsrcport ctrepldstport ctstatus ctexpire ctdir',
  ),
  state: spec('state'),
  multiport: spec('sports dports ports', '', '', {
    'source-ports': 'sports',
    'destination-ports': 'dports',
  }),
  mark: spec('mark'),
  connmark: spec('mark'),
  addrtype: spec('src-type dst-type', 'limit-iface-in limit-iface-out'),
  limit: spec('limit limit-burst'),
  recent: spec('name seconds hitcount mask', 'set rcheck update remove reap rttl rsource rdest'),
  statistic: spec('mode probability every packet'),
  owner: spec('uid-owner gid-owner', 'socket-exists suppl-groups'),
  iprange: spec('src-range dst-range'),
  mac: spec('mac-source'),
  set: spec(
    'packets-eq packets-lt packets-gt bytes-eq bytes-lt bytes-gt',
    'return-nomatch update-counters update-subcounters',
    'match-set',
    { set: 'match-set' },
  ),
  physdev: spec('physdev-in physdev-out', 'physdev-is-in physdev-is-out physdev-is-bridged'),
  hashlimit: spec(
    'hashlimit-upto hashlimit-above hashlimit-burst hashlimit-mode hashlimit-srcmask hashlimit-dstmask hashlimit-name hashlimit-htable-size hashlimit-htable-max hashlimit-htable-expire hashlimit-htable-gcinterval hashlimit-rate-interval hashlimit',
    'hashlimit-rate-match',
  ),
  length: spec('length'),
  ttl: spec('ttl-eq ttl-gt ttl-lt'),
  hl: spec('hl-eq hl-gt hl-lt'),
  pkttype: spec('pkt-type'),
  string: spec('algo from to string hex-string', 'icase'),
  nfacct: spec('nfacct-name'),
  rt: spec('rt-type rt-segsleft rt-len rt-0-addrs', 'rt-0-res rt-0-not-strict'),
  frag: spec('fragid fraglen', 'fragres fragfirst fragmore fraglast'),
  ipv6header: spec('header', 'soft'),
  socket: spec('', 'transparent nowildcard restore-skmark'),
  rpfilter: spec('', 'loose validmark accept-local invert'),
  devgroup: spec('src-group dst-group'),
  helper: spec('helper'),
  dscp: spec('dscp dscp-class'),
  tos: spec('tos'),
  u32: spec('u32'),
  time: spec('datestart datestop timestart timestop monthdays weekdays', 'kerneltz utc contiguous'),
  connlimit: spec('connlimit-upto connlimit-above connlimit-mask', 'connlimit-saddr connlimit-daddr'),
  policy: spec('dir pol reqid spi proto mode tunnel-src tunnel-dst', 'strict next'),
  cgroup: spec('path cgroup'),
  connbytes: spec('connbytes connbytes-dir connbytes-mode'),
  quota: spec('quota'),
  ecn: spec('ecn-ip-ect', 'ecn-tcp-cwr ecn-tcp-ece'),
  tcpmss: spec('mss'),
  esp: spec('espspi'),
  ah: spec('ahspi'),
  cpu: spec('cpu'),
  realm: spec('realm'),
  mh: spec('mh-type'),
  hbh: spec('hbh-len hbh-opts'),
  dst: spec('dst-len dst-opts'),
  eui64: spec(''),
  ipvs: spec('vproto vaddr vport vdir vmethod vportctl', 'ipvs'),
  bpf: spec('bytecode object-pinned'),
  condition: spec('condition'),
  connlabel: spec('label', 'set'),
  cluster: spec('cluster-total-nodes cluster-local-node cluster-local-nodemask cluster-hash-seed'),
};

/** Target extensions (`-j NAME`) and their options. */
export const KNOWN_TARGETS: Readonly<Record<string, OptionSpec>> = {
  LOG: spec('log-level log-prefix', 'log-tcp-sequence log-tcp-options log-ip-options log-uid log-macdecode'),
  NFLOG: spec('nflog-group nflog-prefix nflog-range nflog-size nflog-threshold'),
  ULOG: spec('ulog-nlgroup ulog-prefix ulog-cprange ulog-qthreshold'),
  REJECT: spec('reject-with'),
  DNAT: spec('to-destination', 'random persistent random-fully'),
  SNAT: spec('to-source', 'random persistent random-fully'),
  MASQUERADE: spec('to-ports', 'random random-fully'),
  REDIRECT: spec('to-ports', 'random'),
  NETMAP: spec('to'),
  MARK: spec('set-xmark set-mark and-mark or-mark xor-mark'),
  CONNMARK: spec('set-xmark set-mark and-mark or-mark xor-mark nfmask ctmask mask', 'save-mark restore-mark'),
  CT: spec('helper ctevents expevents zone zone-orig zone-reply timeout', 'notrack'),
  TPROXY: spec('on-port on-ip tproxy-mark'),
  CHECKSUM: spec('', 'checksum-fill'),
  TCPMSS: spec('set-mss', 'clamp-mss-to-pmtu'),
  DSCP: spec('set-dscp set-dscp-class'),
  TOS: spec('set-tos and-tos or-tos xor-tos'),
  TTL: spec('ttl-set ttl-dec ttl-inc'),
  HL: spec('hl-set hl-dec hl-inc'),
  CLASSIFY: spec('set-class'),
  NFQUEUE: spec('queue-num queue-balance', 'queue-bypass fail-open queue-cpu-fanout'),
  SET: spec('timeout', 'exist map-mark map-prio map-queue', 'add-set del-set map-set'),
  AUDIT: spec('type'),
  SECMARK: spec('selctx'),
  CONNSECMARK: spec('', 'save restore'),
  TEE: spec('gateway oif'),
  SYNPROXY: spec('wscale mss', 'sack-perm timestamp ecn'),
  IDLETIMER: spec('timeout label', 'alarm'),
  LED: spec('led-trigger-id led-delay', 'led-always-blink'),
  NOTRACK: spec(''),
  TRACE: spec(''),
  MIRROR: spec(''),
  SAME: spec('to', 'nodst random'),
  CLUSTERIP: spec('new hashmode clustermac total-nodes local-node hash-init', 'new'),
  ECN: spec('', 'ecn-tcp-remove'),
  TCPOPTSTRIP: spec('strip-options'),
  RATEEST: spec('rateest-name rateest-interval rateest-ewmalog'),
  DNPT: spec('src-pfx dst-pfx'),
  SNPT: spec('src-pfx dst-pfx'),
  HMARK: spec(
    'hmark-tuple hmark-mod hmark-offset hmark-src-prefix hmark-dst-prefix hmark-sport-mask hmark-dport-mask hmark-spi-mask hmark-proto-mask hmark-rnd hmark-ct',
  ),
};

/** The standard verdicts: `-j ACCEPT` etc. (QUEUE is the old userspace queue verdict). */
export const VERDICTS: ReadonlySet<string> = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);

/**
 * Options whose value iptables-save prints with xtables_save_string (quoted unless it consists only
 * of `[A-Za-z0-9_-]`), as `module/option` (targets by their upper-case name). Every other argument
 * is printed bare, as the extension's save function does (`-j CT --helper Q.931` stays bare, the
 * helper *match* quotes).
 */
export const SAVE_STRING_OPTIONS: ReadonlySet<string> = new Set([
  'comment/comment',
  'LOG/log-prefix',
  'NFLOG/nflog-prefix',
  'ULOG/ulog-prefix',
  'helper/helper',
]);

/** True when iptables-save prints this option's value with xtables_save_string. */
export function isSaveString(module: string, option: string): boolean {
  return SAVE_STRING_OPTIONS.has(module + '/' + option);
}

/**
 * Protocols by number with the name iptables-save prints (getprotobynumber, i.e. /etc/protocols
 * of a Debian system; iptables 1.8 prints `ipv6-icmp` for 58).
 */
const PROTOCOLS: ReadonlyArray<[number, string]> = [
  [1, 'icmp'],
  [2, 'igmp'],
  [3, 'ggp'],
  [4, 'ipencap'],
  [5, 'st'],
  [6, 'tcp'],
  [8, 'egp'],
  [9, 'igp'],
  [12, 'pup'],
  [17, 'udp'],
  [20, 'hmp'],
  [22, 'xns-idp'],
  [27, 'rdp'],
  [29, 'iso-tp4'],
  [33, 'dccp'],
  [36, 'xtp'],
  [37, 'ddp'],
  [38, 'idpr-cmtp'],
  [41, 'ipv6'],
  [43, 'ipv6-route'],
  [44, 'ipv6-frag'],
  [45, 'idrp'],
  [46, 'rsvp'],
  [47, 'gre'],
  [50, 'esp'],
  [51, 'ah'],
  [57, 'skip'],
  [58, 'ipv6-icmp'],
  [59, 'ipv6-nonxt'],
  [60, 'ipv6-opts'],
  [73, 'rspf'],
  [81, 'vmtp'],
  [88, 'eigrp'],
  [89, 'ospf'],
  [93, 'ax.25'],
  [94, 'ipip'],
  [97, 'etherip'],
  [98, 'encap'],
  [103, 'pim'],
  [108, 'ipcomp'],
  [112, 'vrrp'],
  [115, 'l2tp'],
  [124, 'isis'],
  [132, 'sctp'],
  [133, 'fc'],
  [135, 'mobility-header'],
  [136, 'udplite'],
  [137, 'mpls-in-ip'],
  [139, 'hip'],
  [140, 'shim6'],
  [141, 'wesp'],
  [142, 'rohc'],
  [143, 'ethernet'],
];

/** Protocol name (lower case) → number; includes iptables' own aliases. */
export const PROTOCOL_NUMBERS: ReadonlyMap<string, number> = new Map<string, number>([
  ...PROTOCOLS.map(([n, name]) => [name, n] as [string, number]),
  ['all', 0],
  ['ip', 0],
  ['icmpv6', 58],
  ['ipv6-icmp', 58],
  ['mh', 135],
  ['ipv6-mh', 135],
]);

/** Protocol number → the name iptables-save prints. */
export const PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map(PROTOCOLS);

/**
 * The match module iptables loads implicitly for `-p PROTO` when an option no loaded match knows
 * follows (`-p tcp --dport 80`): like xtables' `find_proto` / `load_proto`.
 */
export function implicitProtocolModule(protoNumber: number | null, protoName: string): string | null {
  switch (protoNumber) {
    case 6:
      return 'tcp';
    case 17:
      return 'udp';
    case 132:
      return 'sctp';
    case 136:
      return 'udplite';
    case 33:
      return 'dccp';
    case 1:
      return 'icmp';
    case 58:
      return 'icmp6';
    default:
      return protoNumber === null ? protoName : null;
  }
}

/** Match modules that exist only for one family (evidence for family auto-detection). */
export const FAMILY_ONLY_MATCHES: Readonly<Record<string, Family>> = {
  icmp6: 'ipv6',
  rt: 'ipv6',
  hl: 'ipv6',
  frag: 'ipv6',
  ipv6header: 'ipv6',
  mh: 'ipv6',
  hbh: 'ipv6',
  dst: 'ipv6',
  eui64: 'ipv6',
  icmp: 'ipv4',
  ttl: 'ipv4',
};

/** IFNAMSIZ - 1: the longest interface name the kernel accepts. */
export const MAX_IFNAME = 15;
/** XT_EXTENSION_MAXNAMELEN - 1: the longest chain name iptables accepts. */
export const MAX_CHAIN_NAME = 28;
