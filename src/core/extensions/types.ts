/**
 * The extension interface: each `-m` match module and each `-j` target is one file exporting one
 * of these, registered in ./index.ts. Adding a module touches one file plus the index.
 *
 * The parser calls `parse` to turn the generic options into the typed structure stored in
 * `Match.typed` / `Target.typed`; the engine calls `evaluate` / `apply` with that structure.
 * Evaluators return true | false | 'unknown' — never a guess.
 */
import type { Family, HookName, MatchOption, TableName } from '../model.js';
import type { CtDir, CtState, IpsetSpec, Tri } from '../netfilter/types.js';
import type { Ip } from '../netfilter/addr.js';

/** Result of parsing a module's options: the typed value, or an error naming the option. */
export type ExtParse<T> =
  | { ok: true; value: T }
  | { ok: false; message: string; option?: string };

/** Shared shape of match and target extensions. */
export interface ExtensionBase<T> {
  /** Module / target name as iptables spells it (`tcp`, `conntrack`, `DNAT`). */
  name: string;
  /** Families it exists in (icmp: ipv4 only; icmp6: ipv6 only). */
  families?: readonly Family[];
  /** Long option names (without dashes) the module accepts, for attributing options to modules. */
  optionNames: readonly string[];
  /** Options taking no argument (`syn`, `rsource`, `save-mark`…); all others take one unless listed in twoArgOptions. */
  flagOptions?: readonly string[];
  /** Options taking two arguments (`tcp-flags MASK COMP`). */
  twoArgOptions?: readonly string[];
  /** Short option aliases → long names (`y` → `syn` is not used by save; kept for restore input). */
  shortAliases?: Readonly<Record<string, string>>;
  parse(options: MatchOption[], family: Family): ExtParse<T>;
  /**
   * Options whose argument `parse` accepts whatever it is (`comment`): a rule giving this module
   * only such options cannot fail its typed parse, so the parser's check of a rule of an
   * already-seen shape skips it. Held to that by test/core/extensions/any-value.test.ts.
   */
  anyValue?: readonly string[];
  /**
   * `parse(options, family).ok` without building the value, for extensions whose arguments are
   * mostly distinct in big dumps (DNAT/SNAT addresses): the parser's check of a rule of an
   * already-seen shape calls it instead of `parse`. Must agree with `parse` exactly
   * (test/core/extensions/nat-check.test.ts).
   */
  check?(options: MatchOption[], family: Family): boolean;
  /** Short human text for views (`tcp dpt:80`, `ctstate NEW,ESTABLISHED`). */
  describe?(value: T): string;
  /** Matches: evaluate against the packet (engine). Absent: the engine reports unknown. */
  evaluate?(value: T, ctx: EvalContext): MatchResult;
  /**
   * Matches whose result for this value depends on nothing else (not the packet, the hook or the
   * host): that result — the very object `evaluate` returns for it —, else undefined. The engine
   * reads it once per rule instead of calling `evaluate` (comment; statistic --mode random).
   */
  constant?(value: T): MatchResult | undefined;
  /** Targets: apply to the packet (mutating ctx.packet) and return the verdict (engine). */
  apply?(value: T, ctx: EvalContext): TargetEffect;
  /** Tables a target is valid in (the kernel refuses it elsewhere), e.g. nat targets. */
  tables?: readonly TableName[];
  /** Hooks a target or match is valid in. */
  hooks?: readonly HookName[];
}

// ---------------------------------------------------------------------------------------------
// Evaluation interface (added by the engine): matches `evaluate`, targets `apply`. Both optional
// so that parse-only registrations stay valid; a match without `evaluate` is unknown to the engine.
// ---------------------------------------------------------------------------------------------

/** A conntrack tuple (one direction of a flow). */
export interface CtTuple {
  src: Ip;
  dst: Ip;
  sport?: number;
  dport?: number;
}

/**
 * The packet as matches see it and targets change it. The engine owns it; a target may mutate
 * the fields (mark, addresses, ports, ctMark, ttl …) and must describe each change in `changes`.
 */
export interface EvalPacket {
  family: Family;
  /** Canonical protocol name (`tcp`, `udp`, `icmp`, `ipv6-icmp`, …) and number. */
  proto: string;
  protoNum: number;
  src: Ip;
  dst: Ip;
  sport?: number;
  dport?: number;
  icmpType?: number;
  icmpCode?: number;
  /** TCP flag bits: FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128. */
  tcpFlags: number;
  /** In / out device at this hook; absent when the hook has none (OUTPUT has no in device). */
  iif?: string;
  oif?: string;
  /** True when the output interface exists but is not known (no routes in the context). */
  oifUnknown: boolean;
  physIn?: string;
  physOut?: string;
  /** True when the packet is bridged (br_netfilter), not routed. */
  bridged: boolean;
  mark: number;
  /** Conntrack: false before the conntrack lookup of the first hook (raw runs before it). */
  ctAttached: boolean;
  ctMark: number;
  ctState: CtState;
  ctDir: CtDir;
  /** Conntrack status bits. */
  ctSnat: boolean;
  ctDnat: boolean;
  /** Tuples of the flow: original direction and reply direction (as the kernel stores them). */
  ctOrig: CtTuple;
  ctReply: CtTuple;
  ttl: number;
  length: number;
  srcMac?: string;
  uid?: number;
  gid?: number;
  fragment: boolean;
  packetNumber?: number;
  /** Locally generated (entered at OUTPUT, or re-entering through lo after OUTPUT). */
  local: boolean;
  /** Set by TPROXY: the packet is assigned to a local transparent socket. */
  tproxy?: boolean;
  /** Recorded, informational (TOS/DSCP/CLASSIFY/TCPMSS …). */
  notes: string[];
  /**
   * An ICMP / ICMPv6 error about a flow (PacketSpec.related): its embedded header. Immutable: a
   * NAT translation replaces the object. Undefined for every other packet.
   */
  icmpErr: IcmpErrInfo | undefined;
}

/** The embedded header of an ICMP error (current, and as the error entered). */
export interface IcmpErrInfo {
  proto: string;
  inner: CtTuple;
  innerIn: CtTuple;
  outerSrcIn: Ip;
  outerDstIn: Ip;
}

/** Address type as xt_addrtype / inet_dev_addr_type sees it. */
export type AddrType =
  | 'UNSPEC'
  | 'UNICAST'
  | 'LOCAL'
  | 'BROADCAST'
  | 'ANYCAST'
  | 'MULTICAST'
  | 'BLACKHOLE'
  | 'UNREACHABLE'
  | 'PROHIBIT'
  | 'THROW'
  | 'NAT'
  | 'XRESOLVE';

/** What extensions may ask the host model (compiled from the HostContext). */
export interface HostView {
  /**
   * The address types of an address, optionally limited to a device (`--limit-iface-in/out`).
   * `unknown` with a reason when the context cannot say.
   */
  addrTypes(ip: Ip, dev?: string): { types: Set<AddrType> } | { unknown: string };
  /** An ipset by name, when the context provides its contents. */
  ipset(name: string): IpsetSpec | undefined;
  /** The source MASQUERADE picks for this packet (route's preferred src, else first address of oif). */
  masqueradeSource(pkt: EvalPacket): { ip: Ip; how: string } | { unknown: string } | { drop: string };
  /** The primary (first) address of an interface in a family (REDIRECT in PREROUTING). */
  primaryAddress(iface: string, family: Family): Ip | undefined;
  /** Route lookup for rpfilter: the output device for an address, or unknown. */
  routeDev(ip: Ip): { dev: string | null } | { unknown: string };
  /** The MAC of a local interface, when known. */
  ifaceMac(iface: string): string | undefined;
  /** A listening socket for proto/address/port (wildcard-bound sockets match any address). */
  findSocket(proto: number, ip: Ip, port: number): { transparent: boolean } | null;
}

/** Where a match or target runs. */
export interface EvalContext {
  packet: EvalPacket;
  hook: HookName;
  table: TableName;
  chain: string;
  family: Family;
  host: HostView;
}

/** Result of a match: tri-state and a human detail (why it matched / which condition failed). */
export interface MatchResult {
  result: Tri;
  detail: string;
  /**
   * Set with `result: 'unknown'` when the match is random with a known probability of matching
   * (statistic --mode random): the engine explores both branches with these weights.
   */
  probability?: number;
}

/** Verdict of a target (XT_CONTINUE is `continue`). */
export type TargetVerdict = 'continue' | 'accept' | 'drop' | 'reject' | 'queue' | 'stolen' | 'unknown';

/** What a target did. */
export interface TargetEffect {
  verdict: TargetVerdict;
  /** Human-readable changes (`mark 0x0 → 0x4000`, `DNAT → 10.244.1.10:8080`). */
  changes: string[];
  /** REJECT's reply type. */
  rejectWith?: string;
  /** Why the verdict is unknown, or a remark (`NFQUEUE 3: verdict decided in userspace`). */
  reason?: string;
  /** NAT targets: which manip they set up for the flow. */
  nat?: 'src' | 'dst';
  /** NOTRACK / CT --notrack: the packet becomes UNTRACKED. */
  notrack?: boolean;
}

/** A registered extension (alias kept for readability in extension files). */
export type Extension<T> = ExtensionBase<T>;
