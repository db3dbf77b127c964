/**
 * The registry of match and target extensions. One file per extension under ./matches and
 * ./targets, each exporting its definition; this index lists them. The parser asks it for
 * option arity and typed parsing; the engine asks it for evaluators.
 */
import type { ExtensionBase } from './types.js';

const matches = new Map<string, ExtensionBase<unknown>>();
const targets = new Map<string, ExtensionBase<unknown>>();

/** Register a match extension (module name is the key). */
export function registerMatch<T>(ext: ExtensionBase<T>): void {
  matches.set(ext.name, ext as ExtensionBase<unknown>);
}

/** Register a target extension (target name is the key). */
export function registerTarget<T>(ext: ExtensionBase<T>): void {
  targets.set(ext.name, ext as ExtensionBase<unknown>);
}

/** The match extension for a module name, if iptscope knows it. */
export function findMatch(name: string): ExtensionBase<unknown> | undefined {
  return matches.get(name);
}

/** The target extension for a target name, if iptscope knows it. */
export function findTarget(name: string): ExtensionBase<unknown> | undefined {
  return targets.get(name);
}

// ---------------------------------------------------------------------------------------------
// Registrations: one file per module under ./matches and ./targets.
// ---------------------------------------------------------------------------------------------
import { addrtypeMatch } from './matches/addrtype.js';
import { ahMatch } from './matches/ah.js';
import { bpfMatch } from './matches/bpf.js';
import { cgroupMatch } from './matches/cgroup.js';
import { clusterMatch } from './matches/cluster.js';
import { commentMatch } from './matches/comment.js';
import { connbytesMatch } from './matches/connbytes.js';
import { connlabelMatch } from './matches/connlabel.js';
import { connlimitMatch } from './matches/connlimit.js';
import { connmarkMatch } from './matches/connmark.js';
import { conntrackMatch } from './matches/conntrack.js';
import { cpuMatch } from './matches/cpu.js';
import { dccpMatch } from './matches/dccp.js';
import { devgroupMatch } from './matches/devgroup.js';
import { dscpMatch } from './matches/dscp.js';
import { dstMatch } from './matches/dst.js';
import { ecnMatch } from './matches/ecn.js';
import { espMatch } from './matches/esp.js';
import { fragMatch } from './matches/frag.js';
import { hashlimitMatch } from './matches/hashlimit.js';
import { hbhMatch } from './matches/hbh.js';
import { helperMatch } from './matches/helper.js';
import { hlMatch } from './matches/hl.js';
import { icmpMatch } from './matches/icmp.js';
import { icmp6Match } from './matches/icmp6.js';
import { icmpv6Match } from './matches/icmpv6.js';
import { iprangeMatch } from './matches/iprange.js';
import { ipv6headerMatch } from './matches/ipv6header.js';
import { ipvsMatch } from './matches/ipvs.js';
import { lengthMatch } from './matches/length.js';
import { limitMatch } from './matches/limit.js';
import { macMatch } from './matches/mac.js';
import { markMatch } from './matches/mark.js';
import { mhMatch } from './matches/mh.js';
import { multiportMatch } from './matches/multiport.js';
import { nfacctMatch } from './matches/nfacct.js';
import { osfMatch } from './matches/osf.js';
import { ownerMatch } from './matches/owner.js';
import { physdevMatch } from './matches/physdev.js';
import { pkttypeMatch } from './matches/pkttype.js';
import { policyMatch } from './matches/policy.js';
import { quotaMatch } from './matches/quota.js';
import { realmMatch } from './matches/realm.js';
import { recentMatch } from './matches/recent.js';
import { rpfilterMatch } from './matches/rpfilter.js';
import { rtMatch } from './matches/rt.js';
import { sctpMatch } from './matches/sctp.js';
import { setMatch } from './matches/set.js';
import { socketMatch } from './matches/socket.js';
import { stateMatch } from './matches/state.js';
import { statisticMatch } from './matches/statistic.js';
import { stringMatch } from './matches/string.js';
import { tcpMatch } from './matches/tcp.js';
import { tcpmssMatch } from './matches/tcpmss.js';
import { timeMatch } from './matches/time.js';
import { tosMatch } from './matches/tos.js';
import { ttlMatch } from './matches/ttl.js';
import { u32Match } from './matches/u32.js';
import { udpMatch } from './matches/udp.js';
import { udpliteMatch } from './matches/udplite.js';
import { auditTarget } from './targets/AUDIT.js';
import { checksumTarget } from './targets/CHECKSUM.js';
import { classifyTarget } from './targets/CLASSIFY.js';
import { connmarkTarget } from './targets/CONNMARK.js';
import { connsecmarkTarget } from './targets/CONNSECMARK.js';
import { ctTarget } from './targets/CT.js';
import { dnatTarget } from './targets/DNAT.js';
import { dscpTarget } from './targets/DSCP.js';
import { ecnTarget } from './targets/ECN.js';
import { hlTarget } from './targets/HL.js';
import { hmarkTarget } from './targets/HMARK.js';
import { idletimerTarget } from './targets/IDLETIMER.js';
import { ledTarget } from './targets/LED.js';
import { logTarget } from './targets/LOG.js';
import { markTarget } from './targets/MARK.js';
import { masqueradeTarget } from './targets/MASQUERADE.js';
import { netmapTarget } from './targets/NETMAP.js';
import { nflogTarget } from './targets/NFLOG.js';
import { nfqueueTarget } from './targets/NFQUEUE.js';
import { notrackTarget } from './targets/NOTRACK.js';
import { rateestTarget } from './targets/RATEEST.js';
import { redirectTarget } from './targets/REDIRECT.js';
import { rejectTarget } from './targets/REJECT.js';
import { secmarkTarget } from './targets/SECMARK.js';
import { setTarget } from './targets/SET.js';
import { snatTarget } from './targets/SNAT.js';
import { synproxyTarget } from './targets/SYNPROXY.js';
import { tcpmssTarget } from './targets/TCPMSS.js';
import { teeTarget } from './targets/TEE.js';
import { tosTarget } from './targets/TOS.js';
import { tproxyTarget } from './targets/TPROXY.js';
import { traceTarget } from './targets/TRACE.js';
import { ttlTarget } from './targets/TTL.js';
import { ulogTarget } from './targets/ULOG.js';

/** Every match module iptscope knows (module name → extension). */
export const MATCH_EXTENSIONS: readonly ExtensionBase<any>[] = [
  addrtypeMatch,
  ahMatch,
  bpfMatch,
  cgroupMatch,
  clusterMatch,
  commentMatch,
  connbytesMatch,
  connlabelMatch,
  connlimitMatch,
  connmarkMatch,
  conntrackMatch,
  cpuMatch,
  dccpMatch,
  devgroupMatch,
  dscpMatch,
  dstMatch,
  ecnMatch,
  espMatch,
  fragMatch,
  hashlimitMatch,
  hbhMatch,
  helperMatch,
  hlMatch,
  icmpMatch,
  icmp6Match,
  icmpv6Match,
  iprangeMatch,
  ipv6headerMatch,
  ipvsMatch,
  lengthMatch,
  limitMatch,
  macMatch,
  markMatch,
  mhMatch,
  multiportMatch,
  nfacctMatch,
  osfMatch,
  ownerMatch,
  physdevMatch,
  pkttypeMatch,
  policyMatch,
  quotaMatch,
  realmMatch,
  recentMatch,
  rpfilterMatch,
  rtMatch,
  sctpMatch,
  setMatch,
  socketMatch,
  stateMatch,
  statisticMatch,
  stringMatch,
  tcpMatch,
  tcpmssMatch,
  timeMatch,
  tosMatch,
  ttlMatch,
  u32Match,
  udpMatch,
  udpliteMatch,
];

/** Every target iptscope knows besides the standard verdicts (ACCEPT, DROP, RETURN, QUEUE). */
export const TARGET_EXTENSIONS: readonly ExtensionBase<any>[] = [
  auditTarget,
  checksumTarget,
  classifyTarget,
  connmarkTarget,
  connsecmarkTarget,
  ctTarget,
  dnatTarget,
  dscpTarget,
  ecnTarget,
  hlTarget,
  hmarkTarget,
  idletimerTarget,
  ledTarget,
  logTarget,
  markTarget,
  masqueradeTarget,
  netmapTarget,
  nflogTarget,
  nfqueueTarget,
  notrackTarget,
  rateestTarget,
  redirectTarget,
  rejectTarget,
  secmarkTarget,
  setTarget,
  snatTarget,
  synproxyTarget,
  tcpmssTarget,
  teeTarget,
  tosTarget,
  tproxyTarget,
  traceTarget,
  ttlTarget,
  ulogTarget,
];

for (const m of MATCH_EXTENSIONS) registerMatch(m);
for (const t of TARGET_EXTENSIONS) registerTarget(t);

/** Names of registered matches, sorted (for docs and tests). */
export function matchNames(): string[] {
  return [...matches.keys()].sort();
}

/** Names of registered targets, sorted (for docs and tests). */
export function targetNames(): string[] {
  return [...targets.keys()].sort();
}
