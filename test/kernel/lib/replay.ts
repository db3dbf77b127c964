/**
 * Replays a scenario's packets through the real kernel: one set of namespaces per scenario (built
 * from its context), its rules loaded with iptables-restore / ip6tables-restore in the node
 * namespace, and for each packet a fresh conntrack table, a trace selector for exactly that packet,
 * the packet itself (raw socket, or a real flow for ESTABLISHED / reply packets) and the path the
 * kernel reports.
 */
import ipaddr from 'ipaddr.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario, ScenarioPacket } from '../../../src/core/scenario.js';
import type { PacketSpec } from '../../../src/core/netfilter/types.js';
import { relatedIcmp } from '../../../src/core/netfilter/packet.js';

type Tuple4 = { src: string; dst: string; sport: number; dport: number };
import { LineProcess, nsRun, run } from './exec.js';
import {
  installTraceTable,
  readHandles,
  setTraceRule,
  TraceMonitor,
  waitMonitorReady,
  type HandleMap,
  type KernelPath,
} from './nfttrace.js';
import { buildTopology, destroyNamespaces, ensureAddress, type Topology } from './topology.js';

const PKT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'pkt.py');

/** Where a flow's listener must run: candidate final destinations `ip:port` (from expectations). */
export type FlowTargets = { addr: string; port: number }[];

function norm(a: string): string {
  return ipaddr.process(a.split('/')[0]!).toString();
}

/** Ports when the scenario gives none: the engine's defaults (src/core/netfilter/packet.ts). */
function portOf(spec: PacketSpec): number {
  return spec.sport ?? 40000;
}

const NFT_FLAGS = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg'];

/** nft selector for one packet direction. */
function selector(
  v6: boolean,
  proto: string,
  t: { src?: string; dst?: string; sport?: number; dport?: number },
  opts: { flags?: string[]; icmpType?: number; icmpId?: number },
): string {
  const l3 = v6 ? 'ip6' : 'ip';
  const parts: string[] = [];
  if (t.src) parts.push(`${l3} saddr ${t.src}`);
  if (t.dst) parts.push(`${l3} daddr ${t.dst}`);
  if (proto === 'tcp' || proto === 'udp' || proto === 'sctp') {
    parts.push(`meta l4proto ${proto}`);
    if (t.sport !== undefined) parts.push(`th sport ${t.sport}`);
    if (t.dport !== undefined) parts.push(`th dport ${t.dport}`);
    if (proto === 'tcp' && opts.flags) {
      const set = opts.flags.map((f) => f.toLowerCase()).filter((f) => NFT_FLAGS.includes(f));
      parts.push(`tcp flags & (${NFT_FLAGS.join(' | ')}) == ${set.length ? set.join(' | ') : '0x0'}`);
    }
  } else if (proto === 'icmp' || proto === 'icmpv6') {
    const p = v6 ? 'icmpv6' : 'icmp';
    parts.push(`meta l4proto ${v6 ? 'ipv6-icmp' : 'icmp'}`);
    if (opts.icmpType !== undefined) parts.push(`${p} type ${opts.icmpType}`);
    if (opts.icmpId !== undefined) parts.push(`${p} id ${opts.icmpId}`);
  } else {
    parts.push(`meta l4proto ${proto}`);
  }
  return parts.join(' ');
}

function protoName(p: string, v6: boolean): string {
  const s = p.toLowerCase();
  if (s === '6') return 'tcp';
  if (s === '17') return 'udp';
  if (s === '1' || s === 'icmp') return v6 ? 'icmpv6' : 'icmp';
  if (s === '58' || s === 'ipv6-icmp' || s === 'icmp6' || s === 'icmpv6') return 'icmpv6';
  return s;
}

/** One scenario's kernel replay session. */
export class KernelSession {
  topo!: Topology;
  mon!: TraceMonitor;
  handles!: HandleMap;
  readonly created: string[] = [];
  readonly procs: LineProcess[] = [];
  private v6: boolean;
  private bridgeTrace = false;

  constructor(
    readonly scenario: Scenario,
    readonly rulesText: string,
    readonly base: string,
  ) {
    this.v6 = scenario.family === 'ipv6';
  }

  get family(): 'ip' | 'ip6' {
    return this.v6 ? 'ip6' : 'ip';
  }

  async setup(): Promise<void> {
    this.topo = await buildTopology(this.scenario.context, this.base, this.created);
    const node = this.topo.node;
    // Bridged frames bypass the IP hooks when the bridge does not call ip(6)tables.
    const sc = this.scenario.context.sysctl;
    this.bridgeTrace = this.topo.bridges.size > 0 && (this.v6 ? sc?.bridgeNfCallIp6tables === false : sc?.bridgeNfCallIptables === false);
    await installTraceTable(node, this.bridgeTrace);
    this.mon = new TraceMonitor(node);
    for (const p of this.topo.peers) if (p.port) this.mon.bridgeOf.set(p.port, p.iface);
    // Canary: a packet from the node to its own loopback, before any scenario rule exists.
    const canaryDst = this.v6 ? '::1' : '127.0.0.1';
    const h = await setTraceRule(node, this.bridgeTrace, selector(this.v6, 'udp', { src: canaryDst, dst: canaryDst, sport: 9, dport: 9 }, {}));
    await waitMonitorReady(
      this.mon,
      async () => {
        await nsRun(node, 'python3', [PKT, 'send', '--proto', 'udp', '--src', canaryDst, '--dst', canaryDst, '--sport', '9', '--dport', '9']);
      },
      h,
    );
    await this.createIpsets();
    await this.startSockets();
    await this.joinGroups();
    await this.loadRules();
  }

  /** The context's interface multicast groups, joined by a process in the node for the session. */
  private async joinGroups(): Promise<void> {
    const groups: string[] = [];
    for (const i of this.scenario.context.interfaces ?? []) for (const g of i.multicast ?? []) groups.push(`${g}@${i.name}`);
    if (groups.length === 0) return;
    const p = new LineProcess('multicast memberships in the node', 'ip', ['netns', 'exec', this.topo.node, 'python3', PKT, 'join', ...groups]);
    this.procs.push(p);
    await p.waitLine((l) => l === 'ready', 5000);
  }

  /** The context's listening sockets (TPROXY, -m socket), as real listeners in the node. */
  private async startSockets(): Promise<void> {
    for (const sock of this.scenario.context.sockets ?? []) {
      const any = this.v6 ? '::' : '0.0.0.0';
      const bind = sock.addr && sock.addr !== '0.0.0.0' && sock.addr !== '::' ? norm(sock.addr) : any;
      const p = new LineProcess(`${sock.proto} socket ${bind}:${sock.port} in the node`, 'ip', [
        'netns', 'exec', this.topo.node, 'python3', PKT, 'server', '--proto', sock.proto, '--family', this.v6 ? '6' : '4',
        '--port', String(sock.port), '--bind', bind, '--life', '900', ...(sock.transparent ? ['--transparent'] : []),
      ]);
      this.procs.push(p);
      await p.waitLine((l) => l === 'ready', 5000);
    }
  }

  /** The context's ipsets (for -m set), created in the node namespace before the rules. */
  private async createIpsets(): Promise<void> {
    const sets = this.scenario.context.ipsets ?? [];
    if (sets.length === 0) return;
    const lines: string[] = [];
    for (const set of sets) {
      lines.push(`create ${set.name} ${set.type} family ${this.v6 ? 'inet6' : 'inet'}`);
      for (const m of set.members) lines.push(`add ${set.name} ${m}`);
    }
    await nsRun(this.topo.node, 'ipset', ['restore'], { input: lines.join('\n') + '\n' });
  }

  /**
   * Whether the rules keep state of their own between packets (nth counters, recent lists, limit
   * buckets, connlimit, quota, SET): then they are reloaded before every packet, so each packet
   * meets them fresh, as the engine assumes.
   */
  get statefulRules(): boolean {
    return /--mode nth|-m (limit|hashlimit|recent|connlimit|quota)\b|-j SET\b/.test(this.rulesText);
  }

  /** (Re)load the scenario's rules and map their handles to positions. */
  async loadRules(): Promise<void> {
    const node = this.topo.node;
    const restore = this.v6 ? 'ip6tables-restore' : 'iptables-restore';
    try {
      await nsRun(node, restore, [], { input: this.rulesText, timeoutMs: 20_000 });
    } catch (e) {
      throw new Error(`${restore} rejected ${this.scenario.name}'s rules: ${(e as Error).message}`);
    }
    this.handles = await readHandles(node);
  }

  /** The namespace a packet is sent from. */
  senderNs(spec: PacketSpec): string {
    if (spec.local) return this.topo.node;
    if (!spec.iif) throw new Error('packet has neither iif nor local');
    const behind = this.topo.peers.filter((p) => p.iface === spec.iif);
    if (behind.length === 0) {
      throw new Error(`no namespace behind interface ${spec.iif} (add it to the context's interfaces, with a peer)`);
    }
    const src = norm(spec.src);
    const own = behind.find((p) => p.addresses.has(src));
    if (own) return own.ns;
    if (spec.physIn) {
      const byPort = behind.find((p) => p.port === spec.physIn);
      if (byPort) return byPort.ns;
    }
    return behind[0]!.ns;
  }

  /** MAC address of the node's interface a packet arrives on (the bridge itself for a bridge). */
  async nodeMac(iface: string): Promise<string> {
    const r = await run('ip', ['-n', this.topo.node, '-j', 'link', 'show', 'dev', iface]);
    return (JSON.parse(r.stdout) as { address: string }[])[0]!.address;
  }

  /** The namespace owning an address (the node, a peer), or null. */
  ownerNs(addr: string): string | null {
    const a = norm(addr);
    if (this.topo.nodeAddresses.has(a) || a.startsWith('127.')) return this.topo.node;
    return this.topo.peers.find((p) => p.addresses.has(a))?.ns ?? null;
  }

  /** `captureAt`: for an ICMP error (related), the address where the engine says it ends. */
  async replay(sp: ScenarioPacket, idx: number, targets: FlowTargets, captureAt?: string): Promise<KernelPath> {
    const spec = sp.packet;
    const v6 = this.v6;
    const proto = protoName(spec.proto, v6);
    if (spec.fragment) throw new Error('a non-first fragment (-f) cannot be replayed: conntrack reassembles fragments before any rule sees them; set kernelSkip');
    if (!spec.local && spec.mark) {
      throw new Error('packet.mark on a received packet cannot be reproduced: the kernel clears skb->mark when a packet crosses namespaces; set kernelSkip');
    }
    if (spec.ctState === 'RELATED' && !spec.related) throw new Error('ctState RELATED without `related` (an ICMP error about a flow) is not replayed by the harness; set kernelSkip');
    if (!spec.local && (spec.uid !== undefined || spec.gid !== undefined)) throw new Error('uid/gid need a local packet');
    const node = this.topo.node;
    if (idx > 0 && this.statefulRules) await this.loadRules();
    await nsRun(node, 'conntrack', ['-F'], { check: false });
    const from = this.mon.mark();
    const sender = this.senderNs(spec);
    let restoreMac: string | null = null;
    if (spec.srcMac && sender !== node) {
      const cur = await run('ip', ['-n', sender, '-j', 'link', 'show', 'eth0']);
      restoreMac = (JSON.parse(cur.stdout) as { address: string }[])[0]!.address;
      await run('ip', ['-n', sender, 'link', 'set', 'eth0', 'address', spec.srcMac]);
    }
    try {
      return await this.replayIn(sp, targets, sender, from, captureAt);
    } finally {
      if (restoreMac) await run('ip', ['-n', sender, 'link', 'set', 'eth0', 'address', restoreMac]);
    }
  }

  private async replayIn(sp: ScenarioPacket, targets: FlowTargets, sender: string, from: number, captureAt: string | undefined): Promise<KernelPath> {
    const spec = sp.packet;
    const v6 = this.v6;
    const proto = protoName(spec.proto, v6);
    const node = this.topo.node;
    const sport = portOf(spec);
    const dport = spec.dport ?? 0;
    const flow = spec.reply === true || spec.ctState === 'ESTABLISHED';
    const handleMap = async (): Promise<HandleMap> => this.handles;
    if (spec.related) return this.replayRelated(spec, proto, sender, sport, dport, targets, captureAt);

    if (!flow) {
      // INVALID: a TCP segment other than a SYN without a flow is INVALID once mid-stream pickup
      // is off (nf_conntrack_tcp_loose=0); other packets are sent as they are (an unsolicited
      // ICMP echo reply is INVALID to conntrack by itself).
      const invalid = spec.ctState === 'INVALID' && proto === 'tcp';
      if (invalid) await nsRun(node, 'sysctl', ['-q', '-w', 'net.netfilter.nf_conntrack_tcp_loose=0']);
      try {
        const flags = spec.tcpFlags ?? (invalid ? ['ACK'] : ['SYN']);
        const icmpType = spec.icmpType ?? (proto === 'icmp' ? 8 : proto === 'icmpv6' ? 128 : undefined);
        const sel = selector(v6, proto, { src: norm(spec.src), dst: norm(spec.dst), sport: ports(proto) ? sport : undefined, dport: ports(proto) ? dport : undefined }, {
          flags: proto === 'tcp' ? flags : undefined,
          icmpType,
        });
        // A loopback destination from a peer: its own routing would keep the packet; put the
        // frame on the link to the node's interface MAC instead.
        const l2Dst = !spec.local && isLoopback(spec.dst) ? await this.nodeMac(spec.iif!) : null;
        const rawArgs = (): string[] => {
          const args = [PKT, 'send', '--proto', proto, '--src', norm(spec.src), '--dst', norm(spec.dst)];
          if (ports(proto)) args.push('--sport', String(sport), '--dport', String(dport));
          if (proto === 'tcp') args.push('--flags', flags.join(','));
          if (icmpType !== undefined) args.push('--icmp-type', String(icmpType), '--icmp-code', String(spec.icmpCode ?? 0));
          if (spec.ttl !== undefined) args.push('--ttl', String(spec.ttl));
          if (spec.length !== undefined) args.push('--length', String(spec.length));
          if (spec.mark) args.push('--mark', String(spec.mark));
          if (l2Dst) args.push('--l2-dst', l2Dst, '--dev', 'eth0');
          return args;
        };
        if (spec.packetNumber && spec.packetNumber > 0) {
          // `-m statistic --mode nth` counts every packet reaching the rule: let packetNumber
          // identical packets through first (untraced, each the first of its flow), then the test one.
          await setTraceRule(node, this.bridgeTrace, 'meta l4proto 255');
          for (let w = 0; w < spec.packetNumber; w++) {
            await nsRun(node, 'conntrack', ['-F'], { check: false });
            await nsRun(sender, 'python3', rawArgs());
          }
          await nsRun(node, 'conntrack', ['-F'], { check: false });
        }
        const handles = await setTraceRule(node, this.bridgeTrace, sel);
        if (spec.uid !== undefined || spec.gid !== undefined) {
          if (proto !== 'tcp' && proto !== 'udp') throw new Error('uid/gid packets are sent from a socket: tcp or udp only');
          const args = [PKT, 'sock', '--proto', proto, '--src', norm(spec.src), '--dst', norm(spec.dst), '--sport', String(sport), '--dport', String(dport)];
          if (spec.uid !== undefined) args.push('--uid', String(spec.uid));
          if (spec.gid !== undefined) args.push('--gid', String(spec.gid));
          if (spec.ttl !== undefined) args.push('--ttl', String(spec.ttl));
          if (spec.length !== undefined) args.push('--length', String(spec.length));
          await nsRun(sender, 'python3', args);
        } else {
          await nsRun(sender, 'python3', rawArgs());
        }
        return await this.mon.collect(from, handles, handleMap, this.family);
      } finally {
        if (invalid) await nsRun(node, 'sysctl', ['-q', '-w', 'net.netfilter.nf_conntrack_tcp_loose=1']);
      }
    }
    return this.replayFlow(spec, proto, sender, sport, dport, targets);
  }

  /** ESTABLISHED and reply packets: establish a real flow first, then trace one packet of it. */
  private async replayFlow(
    spec: PacketSpec,
    proto: string,
    sender: string,
    sport: number,
    dport: number,
    targets: FlowTargets,
  ): Promise<KernelPath> {
    const node = this.topo.node;
    const v6 = this.v6;
    const src = norm(spec.src);
    const dst = norm(spec.dst);
    const handleMap = async (): Promise<HandleMap> => this.handles;
    const flowProcs: LineProcess[] = [];
    const start = (ns: string, label: string, args: string[]): LineProcess => this.startPkt(flowProcs, ns, label, args);
    try {
      if (proto === 'icmp' || proto === 'icmpv6') {
        const echo = v6 ? 128 : 8;
        const echoReply = v6 ? 129 : 0;
        const id = sport;
        const send = (): Promise<unknown> =>
          nsRun(sender, 'python3', [PKT, 'send', '--proto', proto, '--src', src, '--dst', dst, '--icmp-type', String(echo), '--icmp-id', String(id)]);
        if (spec.reply) {
          const handles = await setTraceRule(node, this.bridgeTrace, selector(v6, proto, {}, { icmpType: echoReply, icmpId: id }));
          const from = this.mon.mark();
          await send();
          return await this.mon.collect(from, handles, handleMap, this.family);
        }
        await setTraceRule(node, this.bridgeTrace, 'meta l4proto 255');
        await send();
        await this.waitReplied('icmp', id);
        const handles = await setTraceRule(node, this.bridgeTrace, selector(v6, proto, { src, dst }, { icmpType: echo, icmpId: id }));
        const from2 = this.mon.mark();
        await send();
        return await this.mon.collect(from2, handles, handleMap, this.family);
      }
      if (proto !== 'tcp' && proto !== 'udp') throw new Error(`ESTABLISHED / reply packets are replayed for tcp, udp and icmp echo, not ${proto}`);

      await ensureAddress(this.topo, sender, src);
      // Listeners wherever the flow may end: the candidate final destinations (expectations,
      // engine), and wherever the kernel actually sent a first attempt (read back from conntrack).
      const servers: LineProcess[] = [];
      const seen = new Set<string>();
      const addServer = async (addr: string, port: number): Promise<boolean> => {
        const ns = this.ownerNs(addr);
        if (!ns) return false;
        const key = `${ns} ${port}`;
        if (seen.has(key)) return true;
        seen.add(key);
        const s = start(ns, `${proto} server ${addr}:${port}`, [
          'server', '--proto', proto, '--family', v6 ? '6' : '4', '--port', String(port),
          // UDP answers from the address the flow was sent to (conntrack must see the reply).
          ...(proto === 'udp' ? ['--bind', norm(addr)] : []),
        ]);
        servers.push(s);
        await s.waitLine((l) => l === 'ready', 3000);
        return true;
      };
      for (const t of targets) {
        // Never listen on the client's own address and port (a reversed tuple).
        if (norm(t.addr) === src && t.port === sport) continue;
        await addServer(t.addr, t.port);
      }
      await setTraceRule(node, this.bridgeTrace, 'meta l4proto 255');
      const anyServer = async (pred: (l: string) => boolean, ms: number): Promise<LineProcess | null> => {
        if (servers.length === 0) return null;
        try {
          return await Promise.any(servers.map((s) => s.waitLine(pred, ms).then((i) => (i < 0 ? Promise.reject(new Error('exited')) : s))));
        } catch {
          return null;
        }
      };
      let client: LineProcess | null = null;
      let server: LineProcess | null = null;
      const tried: string[] = [];
      for (let attempt = 0; attempt < 4 && !server; attempt++) {
        await nsRun(node, 'conntrack', ['-F'], { check: false });
        // Trace the flow's first packet: if it reaches no listener, the trace tells where the
        // kernel sent it (conntrack forgets a SYN answered only by a reset).
        const probe = await setTraceRule(node, this.bridgeTrace, selector(v6, proto, { src, dst, sport, dport }, { flags: proto === 'tcp' ? ['SYN'] : undefined }));
        const probeFrom = this.mon.mark();
        client = start(sender, `${proto} client`, ['client', '--proto', proto, '--src', src, '--sport', String(sport), '--dst', dst, '--dport', String(dport)]);
        if (proto === 'tcp') {
          const i = await client.waitLine((l) => l === 'connected' || l.startsWith('error'), 4000);
          if (i >= 0 && client.lines[i] === 'connected') server = await anyServer((l) => l === 'accepted', 4000);
        } else {
          await client.waitLine((l) => l === 'ready', 3000);
          client.write('send');
          server = await anyServer((l) => l === 'received', 2000);
        }
        const first = await this.mon.collect(probeFrom, probe, handleMap, this.family, { startMs: 3000, endMs: 3000 }).catch((e: Error) => {
          tried.push(e.message);
          return null;
        });
        await setTraceRule(node, this.bridgeTrace, 'meta l4proto 255');
        if (server) break;
        const to = first?.finalDst;
        tried.push(`${client.lines.join(' ')} (the kernel sent it to ${to ? `${to.addr}:${to.port}` : 'no known place'}${first ? `, ${first.end}` : ''})`);
        await client.stop();
        if (!to || to.port === undefined || !(await addServer(to.addr, to.port))) break;
      }
      if (!server || !client) {
        throw new Error(
          `could not establish the flow ${src}:${sport} → ${dst}:${dport} before the test packet: ${tried.join('; ')}; ` +
            `servers said ${JSON.stringify(servers.map((s) => `${s.label}: ${s.lines.join(' ')}`))}`,
        );
      }
      const flags = spec.tcpFlags ?? ['ACK'];
      const psh = flags.map((f) => f.toUpperCase()).includes('PSH');
      if (spec.reply) {
        const reply = await this.replyTuple(proto, src, sport);
        const handles = await setTraceRule(node, this.bridgeTrace, selector(v6, proto, reply, { flags: proto === 'tcp' ? flags : undefined }));
        const from2 = this.mon.mark();
        if (proto === 'udp' || psh) server.write('send');
        else client.write('send');
        return await this.mon.collect(from2, handles, handleMap, this.family);
      }
      if (proto === 'udp') {
        // The flow is ESTABLISHED once a reply was seen.
        server.write('send');
        await client.waitLine((l) => l === 'received', 3000);
      }
      const handles = await setTraceRule(node, this.bridgeTrace, selector(v6, proto, { src, dst, sport, dport }, { flags: proto === 'tcp' ? flags : undefined }));
      const from2 = this.mon.mark();
      if (proto === 'udp' || psh) client.write('send');
      else server.write('send'); // the client's kernel answers the data with a pure ACK
      return await this.mon.collect(from2, handles, handleMap, this.family);
    } finally {
      await Promise.all(flowProcs.map((p) => p.stop()));
    }
  }

  /**
   * An ICMP / ICMPv6 error about a flow (PacketSpec.related): the flow's first packet goes through
   * the node (to listeners where it may end, so no endpoint answers with an error of its own);
   * then the error is crafted from the flow's tuples as the node's conntrack recorded them — or,
   * when the flow got no entry (its first packet was dropped), from the packet's own tuple — and
   * sent from the host that owns its source: the quoted packet is the inverse of the tuple of
   * the error's direction, the outer destination that tuple's destination (icmp_error_message).
   */
  private async replayRelated(
    spec: PacketSpec,
    proto: string,
    sender: string,
    sport: number,
    dport: number,
    targets: FlowTargets,
    captureAt: string | undefined,
  ): Promise<KernelPath> {
    const node = this.topo.node;
    const v6 = this.v6;
    const src = norm(spec.src);
    const dst = norm(spec.dst);
    const rel = spec.related!;
    const handleMap = async (): Promise<HandleMap> => this.handles;
    if (proto !== 'tcp' && proto !== 'udp') throw new Error(`a related ICMP error is replayed for a tcp or udp flow, not ${proto}`);
    const flowProcs: LineProcess[] = [];
    const start = (ns: string, label: string, args: string[]): LineProcess => this.startPkt(flowProcs, ns, label, args);
    try {
      await ensureAddress(this.topo, sender, src);
      const servers: LineProcess[] = [];
      const seen = new Set<string>();
      for (const t of targets) {
        const ns = this.ownerNs(t.addr);
        if (!ns || (norm(t.addr) === src && t.port === sport)) continue;
        const key = `${ns} ${t.port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const sv = start(ns, `${proto} server ${t.addr}:${t.port}`, [
          'server', '--proto', proto, '--family', v6 ? '6' : '4', '--port', String(t.port), ...(proto === 'udp' ? ['--bind', norm(t.addr)] : []),
        ]);
        servers.push(sv);
        await sv.waitLine((l) => l === 'ready', 3000);
      }
      await setTraceRule(node, this.bridgeTrace, 'meta l4proto 255');
      const client = start(sender, `${proto} client`, ['client', '--proto', proto, '--src', src, '--sport', String(sport), '--dst', dst, '--dport', String(dport)]);
      const anyServer = async (pred: (l: string) => boolean, ms: number): Promise<boolean> => {
        if (servers.length === 0) return false;
        try {
          await Promise.any(servers.map((sv) => sv.waitLine(pred, ms).then((i) => (i < 0 ? Promise.reject(new Error('exited')) : sv))));
          return true;
        } catch {
          return false;
        }
      };
      if (proto === 'tcp') {
        const i = await client.waitLine((l) => l === 'connected' || l.startsWith('error'), 4000);
        if (i >= 0 && client.lines[i] === 'connected') await anyServer((l) => l === 'accepted', 2000);
      } else {
        await client.waitLine((l) => l === 'ready', 3000);
        client.write('send');
        await anyServer((l) => l === 'received', 1500);
      }
      const tuples = await this.flowTuples(proto, src, sport);
      const orig = tuples?.orig ?? { src, dst, sport, dport };
      const reply = tuples?.reply ?? { src: dst, dst: src, sport: dport, dport: sport };
      const replyDir = rel.dir !== 'original';
      const t = replyDir ? reply : orig;
      const outerSrc = rel.from !== undefined ? norm(rel.from) : t.src;
      const outerDst = t.dst;
      const from = this.ownerNs(outerSrc) ?? (replyDir ? null : sender);
      if (!from) throw new Error(`no namespace owns the error's source ${outerSrc} (give related.from a peer's address)`);
      const { type, code } = relatedIcmp(spec, v6 ? 'ipv6' : 'ipv4');
      const icmp = v6 ? 'icmpv6' : 'icmp';
      const quoted = Math.min(spec.length ?? 60, v6 ? 1280 - 48 : 576 - 28);
      // The error's receiver (where the engine says it ends) reads what arrives: the quoted
      // packet after the kernel's translation.
      const capNs = captureAt ? this.ownerNs(captureAt) : null;
      let cap: LineProcess | null = null;
      if (capNs) {
        cap = start(capNs, `ICMP error capture at ${captureAt}`, ['errcap', '--family', v6 ? '6' : '4', '--type', String(type), '--life', '30']);
        await cap.waitLine((l) => l === 'ready', 3000);
      }
      const handles = await setTraceRule(node, this.bridgeTrace, selector(v6, icmp, { src: outerSrc, dst: outerDst }, { icmpType: type }));
      const mark = this.mon.mark();
      await nsRun(from, 'python3', [
        PKT, 'send', '--proto', icmp, '--src', outerSrc, '--dst', outerDst, '--icmp-type', String(type), '--icmp-code', String(code),
        '--inner-proto', proto, '--inner-src', t.dst, '--inner-dst', t.src, '--inner-sport', String(t.dport), '--inner-dport', String(t.sport),
        '--inner-length', String(quoted),
      ]);
      const k = await this.mon.collect(mark, handles, handleMap, this.family);
      if (cap) {
        const i = await cap.waitLine((l) => l.startsWith('error '), 1000);
        if (i < 0) k.received = null;
        else {
          const [, rsrc, , , isrc, idst, isport, idport] = cap.lines[i]!.split(' ');
          k.received = { src: norm(rsrc!), inner: { src: norm(isrc!), dst: norm(idst!), sport: Number(isport), dport: Number(idport) } };
        }
      }
      return k;
    } finally {
      await Promise.all(flowProcs.map((p) => p.stop()));
    }
  }

  /** Both tuples of the flow from src:sport as the node's conntrack records them; null without an entry. */
  /** Start pkt.py in namespace `ns` for a flow, kept in this replay's and the flow's process lists. */
  private startPkt(flowProcs: LineProcess[], ns: string, label: string, args: string[]): LineProcess {
    const p = new LineProcess(`${label} in ${ns}`, 'ip', ['netns', 'exec', ns, 'python3', PKT, ...args]);
    this.procs.push(p);
    flowProcs.push(p);
    return p;
  }

  private async flowTuples(proto: string, src: string, sport: number): Promise<{ orig: Tuple4; reply: Tuple4 } | null> {
    const r = await nsRun(this.topo.node, 'conntrack', ['-L', '-p', proto, '-f', this.v6 ? 'ipv6' : 'ipv4', '--orig-src', src, '--orig-port-src', String(sport)], { check: false });
    const line = r.stdout.split('\n').find((l) => l.includes(`sport=${sport}`));
    if (!line) return null;
    const all = [...line.matchAll(/src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/g)].map((m) => ({ src: norm(m[1]!), dst: norm(m[2]!), sport: Number(m[3]), dport: Number(m[4]) }));
    if (all.length < 2) throw new Error(`cannot read the flow's tuples from: ${line}`);
    return { orig: all[0]!, reply: all[1]! };
  }

  /** The reply direction's tuple of the flow from src:sport, as conntrack in the node records it. */
  private async replyTuple(proto: string, src: string, sport: number): Promise<{ src: string; dst: string; sport: number; dport: number }> {
    const r = await nsRun(this.topo.node, 'conntrack', ['-L', '-p', proto, '-f', this.v6 ? 'ipv6' : 'ipv4', '--orig-src', src, '--orig-port-src', String(sport)], { check: false });
    const line = r.stdout.split('\n').find((l) => l.includes(`sport=${sport}`));
    if (!line) throw new Error(`no conntrack entry for ${src}:${sport} in the node: ${r.stdout} ${r.stderr}`);
    const all = [...line.matchAll(/src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/g)];
    const rep = all[1];
    if (!rep) throw new Error(`cannot read the reply tuple from: ${line}`);
    return { src: rep[1]!, dst: rep[2]!, sport: Number(rep[3]), dport: Number(rep[4]) };
  }

  /** Wait until the node's conntrack entry of an ICMP echo flow has seen the reply. */
  private async waitReplied(_proto: 'icmp', id: number): Promise<void> {
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const r = await nsRun(this.topo.node, 'conntrack', ['-L', '-p', this.v6 ? 'icmpv6' : 'icmp', '-f', this.v6 ? 'ipv6' : 'ipv4'], { check: false });
      const line = r.stdout.split('\n').find((l) => l.includes(`id=${id}`));
      if (line && !line.includes('UNREPLIED')) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`the echo request with id ${id} got no reply through the node within 3 s`);
  }

  async teardown(): Promise<string[]> {
    const errs: string[] = [];
    await Promise.all(this.procs.map((p) => p.stop()));
    if (this.mon) await this.mon.stop();
    errs.push(...(await destroyNamespaces(this.created)));
    return errs;
  }
}

function isLoopback(addr: string): boolean {
  const a = ipaddr.process(addr);
  return a.range() === 'loopback';
}

function ports(proto: string): boolean {
  return proto === 'tcp' || proto === 'udp' || proto === 'sctp';
}
