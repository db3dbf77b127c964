/**
 * A peer's test suite: Kubernetes' own packet-flow cases for its kube-proxy rules
 * (../shared/dumps/real/kube-proxy-*.flows.json, from pkg/proxy/iptables/proxier_test.go) run
 * through the engine on a host context like the one Kubernetes' harness assumes (node IPs local,
 * pods behind a bridge, external clients on the node's link).
 *
 * Kubernetes' harness is a deliberate simplification of iptables (nat PREROUTING only, filter
 * chains run directly, mark / ctstate / rcheck never match, …; the JSON describes it). This test
 * asserts what the LINUX KERNEL does. Every case has an entry in KERNEL below: where the kernel's
 * answer or the way it gets there differs from the harness, the entry says how and why, and the
 * test asserts the kernel-faithful answer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseRuleset } from '../../src/core/parse/index.js';
import { resolveContext, trace, validatePacket } from '../../src/core/netfilter/index.js';
import type { HostContext, Outcome, PacketSpec, TraceResult } from '../../src/core/netfilter/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const DUMPS = join(here, '../../../shared/dumps/real');
const FILES = ['kube-proxy-tracepacket.flows.json', 'kube-proxy-overall.flows.json'];
const present = existsSync(DUMPS) && FILES.every((f) => existsSync(join(DUMPS, f)));
if (!present) console.log(`peer suite skipped: ${DUMPS} is absent (Kubernetes kube-proxy packet-flow cases)`);

interface FlowCase {
  name: string;
  sourceIP: string;
  destIP: string;
  destPort: number;
  protocol: string;
  output: string;
  masq: boolean;
}

/**
 * The host Kubernetes' harness assumes, as a kernel would need it: the node IPs (testNodeIP,
 * testNodeIPAlt, testExternalIP and the IPv6 ones) are local, pods (10.0.0.0/8) sit behind a bridge,
 * external clients (203.0.113.0/24) and LB IPs are reached through eth0's default route.
 * route_localnet is 1 because kube-proxy sets it when localhost NodePorts are enabled (the
 * `-d 127.0.0.0/8` rules in KUBE-NODEPORTS exist only then).
 */
const CONTEXT: Partial<HostContext> = {
  hostname: 'testNode',
  interfaces: [
    { name: 'lo', kind: 'loopback', addresses: ['127.0.0.1/8', '::1/128'] },
    { name: 'eth0', kind: 'veth', addresses: ['192.168.0.2/24', '192.168.99.11/32', '2001:db8::1/64'] },
    { name: 'eth1', kind: 'veth', addresses: ['192.168.1.2/24', '2001:db8:1::2/64'] },
    { name: 'cbr0', kind: 'bridge', addresses: ['10.0.0.1/8'] },
  ],
  routes: [
    { dst: 'default', dev: 'eth0', via: '192.168.0.1', src: '192.168.0.2' },
    { dst: '192.168.0.0/24', dev: 'eth0', src: '192.168.0.2' },
    { dst: '192.168.1.0/24', dev: 'eth1', src: '192.168.1.2' },
    { dst: '10.0.0.0/8', dev: 'cbr0', src: '10.0.0.1' },
  ],
  sysctl: { ipForward: true, ipv6Forward: true, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true, routeLocalnet: true },
};

/**
 * kube-proxy-overall.rules is only kube-proxy's iptables-restore payload: the jumps from the
 * builtin chains are installed separately (EnsureRule in proxier.go's iptablesJumpChains, plus
 * kubelet's KUBE-FIREWALL jumps). A real node has them, so they are added here, quoted as
 * iptables-save prints them.
 */
const OVERALL_JUMPS: Record<'filter' | 'nat', string[]> = {
  filter: [
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A INPUT -j KUBE-FIREWALL',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -j KUBE-FIREWALL',
  ],
  nat: [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  ],
};

/** Insert the builtin chains and their jump rules into each table block of the overall dump. */
function withJumps(text: string): string {
  const out: string[] = [];
  let table: string | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      out.push(line);
      const builtins = table === 'nat' ? ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'] : ['INPUT', 'FORWARD', 'OUTPUT'];
      for (const b of builtins) out.push(`:${b} ACCEPT [0:0]`);
      continue;
    }
    if (line === 'COMMIT' && (table === 'nat' || table === 'filter')) out.push(...OVERALL_JUMPS[table]);
    out.push(line);
  }
  return out.join('\n');
}

/** What the kernel does with a case, when it is not what the harness output literally says. */
interface KernelNote {
  /** Why the kernel's path (or answer) differs from the harness's; required for every case. */
  note: string;
  /** The kernel-faithful answer when it differs from the harness's (else the harness's holds). */
  override?: Partial<Expected>;
  /** The chain whose rule gives the verdict in the kernel (`filter:KUBE-EXTERNAL-SERVICES`), when a rule does. */
  by?: string;
}

/** Every case, by file and name: a note saying whether and how the kernel differs. */
const KERNEL: Record<string, Record<string, KernelNote>> = {
  'kube-proxy-tracepacket.flows.json': {
    'no match': {
      note: 'harness output "" (nothing terminal) is, in the kernel, the FORWARD policy ACCEPT: the pod-to-pod packet is bridged out cbr0 untranslated',
    },
    'single endpoint': { note: 'same answer; the kernel also runs filter FORWARD (KUBE-FORWARD, KUBE-SERVICES) after the DNAT, which the harness skips' },
    'multiple endpoints': {
      note: 'harness lists both endpoints ("one of these"); the kernel takes one per connection — two outcomes, each 1/2 (statistic --probability 0.5)',
    },
    'LOCAL, KUBE-MARK-MASQ': {
      note: 'the source 192.168.0.2 is the node itself, so the kernel starts at OUTPUT and the DNAT is done by nat OUTPUT (the harness uses nat PREROUTING for every packet); KUBE-SERVICES is the same chain, the DNAT and the mark are the same, and KUBE-POSTROUTING masquerades it',
      override: { entry: 'local' },
    },
    DROP: {
      note: 'the kernel reaches KUBE-EXTERNAL-SERVICES from filter FORWARD (NEW connections; 192.168.99.22 is not local), the harness runs the chain directly',
      by: 'filter:KUBE-EXTERNAL-SERVICES',
    },
    'ACCEPT (NodePortHealthCheck)': {
      note: 'node to its own address: the kernel goes OUTPUT → POSTROUTING → loopback → PREROUTING → INPUT, where filter INPUT jumps to KUBE-NODEPORTS and accepts port 30000; the harness runs filter KUBE-NODEPORTS directly',
      override: { entry: 'local' },
      by: 'filter:KUBE-NODEPORTS',
    },
    REJECT: { note: 'the kernel reaches filter KUBE-SERVICES from FORWARD (ctstate NEW) and rejects; same answer', by: 'filter:KUBE-SERVICES' },
  },
  'kube-proxy-overall.flows.json': {
    'no match': { note: 'harness "" is the FORWARD policy ACCEPT in the kernel (builtin jumps added as kube-proxy installs them)' },
    'single endpoint': { note: 'same answer' },
    'multiple endpoints': { note: 'two outcomes, 1/2 each, instead of the harness\'s list of both endpoints' },
    'LOCAL, KUBE-MARK-MASQ': {
      note: 'node-originated: nat OUTPUT, not PREROUTING, does the DNAT (same KUBE-SERVICES chain); masqueraded in POSTROUTING',
      override: { entry: 'local' },
    },
    DROP: { note: 'filter FORWARD → KUBE-EXTERNAL-SERVICES drops it; the harness runs that chain directly', by: 'filter:KUBE-EXTERNAL-SERVICES' },
    'ACCEPT (NodePortHealthCheck)': {
      note: 'OUTPUT → loopback → INPUT → filter KUBE-NODEPORTS accepts; the harness runs KUBE-NODEPORTS directly',
      override: { entry: 'local' },
      by: 'filter:KUBE-NODEPORTS',
    },
    REJECT: { note: 'filter FORWARD → KUBE-SERVICES rejects; same answer', by: 'filter:KUBE-SERVICES' },
    'external client in LoadBalancerSourceRanges to svc5 LB IP': {
      note: 'the harness says `-m recent --rcheck` never matches; the kernel\'s answer depends on the recent list, which a trace cannot know, so the engine explores both — both lead to the same endpoint (KUBE-SEP-I77PXRDZVX7PMWMN), so the set of destinations is the same',
    },
    'external client outside LoadBalancerSourceRanges to svc5 LB IP': {
      note: 'the kernel evaluates the comment-only rule of KUBE-FW (it matches and continues; the harness skips rules without -j), nothing is translated and filter FORWARD → KUBE-PROXY-FIREWALL drops it; the harness runs KUBE-PROXY-FIREWALL directly',
      by: 'filter:KUBE-PROXY-FIREWALL',
    },
    'external client to svc3 NodePort on node IP': {
      note: 'same answer; the kernel accepts the marked packet in KUBE-FORWARD (mark 0x4000), which the harness never matches',
      by: 'filter:KUBE-FORWARD',
    },
    'localhost to svc3 NodePort (nfacct rule)': {
      note: 'node-originated (127.0.0.1 → 127.0.0.1): nat OUTPUT, not PREROUTING; the DNAT to a pod needs route_localnet=1 (kube-proxy sets it for localhost NodePorts; without it the re-route after OUTPUT fails); masqueraded to the bridge address',
      override: { entry: 'local' },
    },
    'external client to svc2 NodePort (eTP=Local, no local endpoints)': {
      note: 'nothing is translated, the packet is for the node, so filter INPUT → KUBE-EXTERNAL-SERVICES (ctstate NEW) drops it',
      by: 'filter:KUBE-EXTERNAL-SERVICES',
    },
    'pod to svc2 external IP (pod traffic short-circuit)': { note: 'same answer' },
    'UDP to TCP-only cluster IP': { note: 'harness "" is the FORWARD policy ACCEPT: the UDP packet is routed out eth0 untranslated' },
  },
};

/** A case's expectation in kernel terms. */
interface Expected {
  /** DNAT destinations (`ip:port`) over all outcomes; empty when nothing is translated. */
  dnat: string[];
  masq: boolean;
  verdict: 'ACCEPT' | 'DROP' | 'REJECT';
  /** How the packet enters: from a network interface, or generated locally (OUTPUT). */
  entry: 'iif' | 'local';
}

/** The harness's answer read as an expectation (before kernel overrides). */
function fromHarness(c: FlowCase): Expected {
  const parts = c.output === '' ? [] : c.output.split(', ');
  const dnat = parts.filter((p) => p.includes(':'));
  const terminal = parts.find((p) => p === 'ACCEPT' || p === 'DROP' || p === 'REJECT') as Expected['verdict'] | undefined;
  return { dnat, masq: c.masq, verdict: terminal ?? 'ACCEPT', entry: 'iif' };
}

/** Where a packet from `src` comes in: pods on the bridge, everything else on eth0. */
function packetFor(c: FlowCase, entry: Expected['entry']): PacketSpec {
  const p: PacketSpec = { proto: c.protocol, src: c.sourceIP, dst: c.destIP, sport: 40000, dport: c.destPort };
  if (entry === 'local') p.local = true;
  else p.iif = c.sourceIP.startsWith('10.') ? 'cbr0' : 'eth0';
  return p;
}

/** Did KUBE-MARK-MASQ run on this outcome (mark 0x4000 set at some step)? */
function marked(o: Outcome): boolean {
  return o.steps.some((s) => (s.state.mark & 0x4000) !== 0);
}

function dnatTarget(o: Outcome): string | null {
  if (!o.packet.dnat) return null;
  return o.packet.dport !== undefined ? `${o.packet.dst}:${o.packet.dport}` : o.packet.dst;
}

for (const file of FILES) {
  describe.skipIf(!present)(`Kubernetes packet-flow cases: ${file}`, () => {
    const data = present ? (JSON.parse(readFileSync(join(DUMPS, file), 'utf8')) as { dump: string; cases: FlowCase[] }) : { dump: '', cases: [] };
    const rulesText = present ? readFileSync(join(DUMPS, data.dump), 'utf8') : '';
    const text = data.dump === 'kube-proxy-overall.rules' ? withJumps(rulesText) : rulesText;
    const { ruleset } = present ? parseRuleset(text, { file: data.dump, family: 'ipv4' }) : ({} as ReturnType<typeof parseRuleset>);
    const { context } = resolveContext(CONTEXT);
    const notes = KERNEL[file] ?? {};

    it('every upstream case has a kernel note (a new case needs a decision)', () => {
      const missing = data.cases.map((c) => c.name).filter((n) => !(n in notes));
      expect(missing).toEqual([]);
    });

    it.each(data.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const note = notes[c.name];
      expect(note?.note, 'per-case kernel note').toBeTruthy();
      const want: Expected = { ...fromHarness(c), ...note.override };
      const packet = packetFor(c, want.entry);
      expect(validatePacket(packet, 'ipv4', context)).toEqual([]);
      const result: TraceResult = trace(ruleset, context, packet);
      expect(result.outcomes.length).toBeGreaterThan(0);
      // DNAT destinations: the set over all outcomes (statistic branches, explored unknowns).
      const targets = [...new Set(result.outcomes.map(dnatTarget).filter((t): t is string => t !== null))].sort();
      expect(targets, `DNAT destinations (${note.note})`).toEqual([...want.dnat].sort());
      if (want.dnat.length > 0) {
        // Every outcome is translated: there is no path on which the packet escapes the Service.
        expect(result.outcomes.every((o) => o.packet.dnat)).toBe(true);
        // Probabilities are shares of statistic branches: they add up to 1 within each set of
        // assumptions taken at unknown matches (an explored unknown is not a probability).
        const byAssumptions = new Map<string, number>();
        for (const o of result.outcomes) {
          const key = o.assumptions.map((a) => `${a.line}=${a.choice}`).join(',');
          byAssumptions.set(key, (byAssumptions.get(key) ?? 0) + o.probability);
        }
        for (const total of byAssumptions.values()) expect(total).toBeCloseTo(1, 6);
      }
      for (const o of result.outcomes) {
        expect(o.verdict, `verdict (${note.note})`).toBe(want.verdict);
        expect(marked(o), `KUBE-MARK-MASQ → mark 0x4000 (${note.note})`).toBe(want.masq);
        if (want.masq && o.verdict === 'ACCEPT' && o.disposition.kind !== 'delivered') {
          // KUBE-POSTROUTING masquerades the marked packet (and clears the mark bit again).
          expect(o.packet.snat, 'masqueraded in POSTROUTING').toBe(true);
          expect(o.packet.mark & 0x4000).toBe(0);
        }
        if (!want.masq) expect(o.packet.snat).toBe(false);
      }
      // The hook that translates: nat PREROUTING for arriving packets, nat OUTPUT for the node's own.
      for (const o of result.outcomes) {
        const dnatStep = o.steps.find((s) => s.kind === 'rule' && s.matched === true && s.target === 'DNAT');
        if (want.dnat.length) expect(dnatStep?.hook, 'the hook of the DNAT').toBe(want.entry === 'local' ? 'OUTPUT' : 'PREROUTING');
        if (note.by) {
          const decisive = [...o.steps].reverse().find((s) => s.kind === 'rule' && s.matched === true && ['ACCEPT', 'DROP', 'REJECT'].includes(s.target ?? ''));
          expect(`${decisive?.table}:${decisive?.chain}`, `the rule that decides (${note.note})`).toBe(note.by);
        }
      }
      if (c.name === 'multiple endpoints') {
        for (const o of result.outcomes) expect(o.probability).toBeCloseTo(0.5, 6);
      }
    });
  });
}
