/**
 * Probe packets for the behavioural diff: every destination (address, protocol, port) either
 * ruleset names — `-d`, `--dport`, `--dports`, DNAT `--to-destination`, node ports behind
 * `--dst-type LOCAL` — sent from a pod-like source, from outside and from the host itself.
 *
 * Destinations named by rules that changed (or that lead into changed chains) come first, so a
 * bounded run still covers what the structural diff says moved.
 *
 * Pure.
 */
import ipaddr from 'ipaddr.js';
import type { Cidr, Family, Rule, Ruleset, TableName } from '../model.js';
import type { HostContext, PacketSpec } from '../netfilter/types.js';
import type { Probe, StructuralDiff } from './types.js';

/**
 * The node assumed when the user gives no context: an uplink with the default route, a pod bridge
 * and forwarding on. Said in the output whenever it is used.
 */
export const GENERIC_NODE_CONTEXT: HostContext = {
  hostname: 'node',
  interfaces: [
    { name: 'lo', kind: 'loopback', addresses: ['127.0.0.1/8', '::1/128'] },
    { name: 'eth0', kind: 'ether', addresses: ['192.168.0.2/24', '2001:db8::2/64'] },
    { name: 'cni0', kind: 'bridge', addresses: ['10.244.0.1/24', 'fd00:10:244::1/64'] },
  ],
  routes: [
    { dst: 'default', dev: 'eth0', via: '192.168.0.1', src: '192.168.0.2' },
    { dst: '192.168.0.0/24', dev: 'eth0', src: '192.168.0.2' },
    { dst: '10.244.0.0/24', dev: 'cni0', src: '10.244.0.1' },
    { dst: '::/0', dev: 'eth0', via: '2001:db8::1', src: '2001:db8::2' },
    { dst: '2001:db8::/64', dev: 'eth0', src: '2001:db8::2' },
    { dst: 'fd00:10:244::/64', dev: 'cni0', src: 'fd00:10:244::1' },
  ],
  sysctl: { ipForward: true, ipv6Forward: true, bridgeNfCallIptables: true, bridgeNfCallIp6tables: true },
};

/** A one-line description of GENERIC_NODE_CONTEXT for output. */
export const GENERIC_NODE_TEXT =
  'no host context given: probing a generic node (eth0 192.168.0.2/24 + 2001:db8::2/64 with the default route, pod bridge cni0 10.244.0.1/24 + fd00:10:244::1/64, forwarding on)';

/** A destination a rule names. */
interface Dest {
  dst: string;
  proto: string;
  dport?: number;
  /** `nat:KUBE-SERVICES:12` on the side it came from. */
  from: string;
  priority: number;
}

/** Where probes start, for one family. */
interface Origins {
  pod?: { src: string; iif: string };
  outside?: { src: string; iif: string };
  host?: { src: string };
  /** The host's own address for node-port style destinations (`--dst-type LOCAL`). */
  local?: string;
}

const PORT_PROTOS = new Set(['tcp', 'udp', 'sctp', 'udplite', 'dccp']);
const POD_IFACE = /^(cni|cbr|docker|cali|flannel|kube-bridge|weave|br-|virbr|lxc|veth|azure|cilium_host)/;
const PROBE_SPORT = 40000;

/** Representative host address of a CIDR: itself for /32 (/128), else network + 1. */
function representative(c: Cidr): string | null {
  if (c.prefix === 0) return null;
  const bits = c.family === 'ipv4' ? 32 : 128;
  if (c.mask || c.prefix >= bits - 1) return c.addr.toString();
  const bytes = c.addr.toByteArray();
  let left = c.prefix;
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, left));
    bytes[i] &= (0xff << (8 - keep)) & 0xff;
    left -= 8;
  }
  bytes[bytes.length - 1] |= 1;
  return ipaddr.fromByteArray(bytes).toString();
}

/** Ports named by a `--dport 80`, `--dport 80:90`, `--dports 80,443,1000:2000` argument. */
function portsOf(arg: string): number[] {
  const out: number[] = [];
  for (const part of arg.split(',')) {
    const first = Number(part.split(':')[0]);
    if (Number.isInteger(first) && first > 0 && first < 65536) out.push(first);
  }
  return out;
}

/** `10.0.0.1:80`, `10.0.0.1-10.0.0.5:80-90`, `[fd00::1]:80`, `fd00::1` → address and port. */
function parseToDestination(arg: string, family: Family): { addr?: string; port?: number } {
  let addrPart = arg;
  let portPart: string | undefined;
  if (arg.startsWith('[')) {
    const close = arg.indexOf(']');
    addrPart = arg.slice(1, close);
    if (arg[close + 1] === ':') portPart = arg.slice(close + 2);
  } else if (family === 'ipv4' || arg.split(':').length === 2) {
    const k = arg.indexOf(':');
    if (k >= 0) {
      addrPart = arg.slice(0, k);
      portPart = arg.slice(k + 1);
    }
  }
  const first = addrPart.split('-')[0];
  const addr = first && ipaddr.isValid(first) ? ipaddr.parse(first).toString() : undefined;
  const port = portPart ? portsOf(portPart.split('-')[0])[0] : undefined;
  return { addr, port };
}

/** Destinations one rule names. */
function destsOfRule(rule: Rule, family: Family, local: string | undefined, from: string, priority: number): Dest[] {
  const out: Dest[] = [];
  const ip = rule.ip;
  const proto = ip.proto && !ip.proto.negated && ip.proto.value.name !== 'all' ? ip.proto.value.name : undefined;
  const ports: number[] = [];
  let dstLocal = false;
  for (const m of rule.matches) {
    for (const o of m.options) {
      if (o.negated || o.args.length === 0) continue;
      if ((o.name === 'dport' || o.name === 'destination-port') && PORT_PROTOS.has(m.module)) ports.push(...portsOf(o.args[0]));
      else if (m.module === 'multiport' && (o.name === 'dports' || o.name === 'ports' || o.name === 'destination-ports')) {
        ports.push(...portsOf(o.args[0]));
      } else if (m.module === 'addrtype' && o.name === 'dst-type' && o.args[0].split(',').includes('LOCAL')) dstLocal = true;
    }
  }
  const dsts: string[] = [];
  if (ip.dst && !ip.dst.negated) {
    const r = representative(ip.dst.value);
    if (r) dsts.push(r);
  } else if ((dstLocal || ports.length > 0) && local) dsts.push(local);
  const protoFor = (p: string | undefined) => p ?? (family === 'ipv4' ? 'icmp' : 'icmpv6');
  for (const d of dsts) {
    if (ports.length > 0 && proto && PORT_PROTOS.has(proto)) {
      for (const p of ports) out.push({ dst: d, proto, dport: p, from, priority });
    } else if (proto && PORT_PROTOS.has(proto)) out.push({ dst: d, proto, dport: 80, from, priority });
    else out.push({ dst: d, proto: protoFor(proto), from, priority });
  }
  const t = rule.target;
  if (t && t.name === 'DNAT') {
    const opt = t.options.find((o) => o.name === 'to-destination');
    if (opt && opt.args[0]) {
      const { addr, port } = parseToDestination(opt.args[0], family);
      if (addr) {
        const p = proto && PORT_PROTOS.has(proto) ? proto : port !== undefined ? 'tcp' : undefined;
        if (p) out.push({ dst: addr, proto: p, dport: port ?? ports[0] ?? 80, from, priority });
        else out.push({ dst: addr, proto: protoFor(proto), from, priority });
      }
    }
  }
  return out;
}

/** Chains of each table that changed, plus every chain leading into one (both sides). */
function changedChains(s: StructuralDiff | undefined): Map<TableName, Set<string>> {
  const out = new Map<TableName, Set<string>>();
  if (!s) return out;
  for (const t of s.tables) {
    const set = new Set<string>();
    for (const c of t.chains) {
      if (c.status === 'unchanged') continue;
      set.add(c.chain);
      if (c.oldName) set.add(c.oldName);
    }
    out.set(t.table, set);
  }
  return out;
}

/** The rules a structural diff names as changed, per side: `table:chain:position`. */
function changedRules(s: StructuralDiff | undefined): { old: Set<string>; new: Set<string> } {
  const out = { old: new Set<string>(), new: new Set<string>() };
  if (!s) return out;
  for (const t of s.tables) {
    for (const c of t.chains) {
      for (const ch of c.changes) {
        if (ch.old) out.old.add(`${t.table}:${c.oldName ?? c.chain}:${ch.old.position}`);
        if (ch.new) out.new.add(`${t.table}:${c.chain}:${ch.new.position}`);
      }
    }
  }
  return out;
}

/** Upward closure of `changed` through the rules that jump/goto into them. */
function reachingChains(r: Ruleset, changed: Map<TableName, Set<string>>): Map<TableName, Set<string>> {
  const out = new Map<TableName, Set<string>>();
  for (const [name, table] of r.tables) {
    const set = new Set(changed.get(name) ?? []);
    const callers = new Map<string, Set<string>>();
    for (const c of table.chains.values()) {
      for (const rule of c.rules) {
        if (rule.target?.kind !== 'chain') continue;
        let s = callers.get(rule.target.name);
        if (!s) callers.set(rule.target.name, (s = new Set()));
        s.add(c.name);
      }
    }
    const todo = [...set];
    while (todo.length) {
      const n = todo.pop()!;
      for (const caller of callers.get(n) ?? []) {
        if (!set.has(caller)) {
          set.add(caller);
          todo.push(caller);
        }
      }
    }
    out.set(name, set);
  }
  return out;
}

function originsFor(ctx: HostContext, family: Family): Origins {
  const fam = (a: string) => (a.includes(':') ? 'ipv6' : 'ipv4');
  const addrs = (names: string[]) =>
    ctx.interfaces
      .filter((i) => names.includes(i.name))
      .flatMap((i) => i.addresses.map((a) => ({ iface: i.name, cidr: a })))
      .filter((x) => fam(x.cidr) === family && !x.cidr.toLowerCase().startsWith('fe80'));
  const nonLo = ctx.interfaces.filter((i) => i.kind !== 'loopback' && i.name !== 'lo');
  const podIf = nonLo.filter((i) => i.kind === 'bridge' || POD_IFACE.test(i.name)).map((i) => i.name);
  // The uplink: the default route's device when it is a known interface (a context without routes
  // gets a default route through an unknown device), else the first non-pod interface.
  const defaultRoute = ctx.routes.find(
    (r) =>
      ((r.dst === 'default' && (!r.via || fam(r.via) === family)) || r.dst === (family === 'ipv4' ? '0.0.0.0/0' : '::/0')) &&
      nonLo.some((i) => i.name === r.dev),
  );
  const uplink = defaultRoute?.dev ?? nonLo.find((i) => !podIf.includes(i.name))?.name;
  const o: Origins = {};
  const pod = addrs(podIf)[0];
  if (pod) {
    const c = ipaddr.parseCIDR(pod.cidr);
    const cidr: Cidr = { family, addr: c[0], prefix: c[1], text: pod.cidr };
    const net = representative(cidr);
    if (net) {
      // network + 10 (+2 in tiny subnets): a pod, not the bridge's own address (usually .1).
      const bytes = ipaddr.parse(net).toByteArray();
      const hostBits = (family === 'ipv4' ? 32 : 128) - c[1];
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] & 0xfe) + (hostBits >= 4 ? 10 : 2);
      const src = ipaddr.fromByteArray(bytes).toString();
      if (src !== c[0].toString()) o.pod = { src, iif: pod.iface };
    }
  }
  if (uplink) {
    o.outside = { src: family === 'ipv4' ? '203.0.113.10' : '2001:db8:ffff::10', iif: uplink };
    const up = addrs([uplink])[0];
    if (up) {
      const a = up.cidr.split('/')[0];
      o.host = { src: a };
      o.local = a;
    }
  }
  if (!o.host) {
    const any = addrs(nonLo.map((i) => i.name))[0];
    if (any) {
      o.host = { src: any.cidr.split('/')[0] };
      o.local = o.host.src;
    }
  }
  return o;
}

function label(origin: string, spec: PacketSpec): string {
  const dst = spec.dst.includes(':') ? `[${spec.dst}]` : spec.dst;
  const port = spec.dport !== undefined ? `:${spec.dport}` : '';
  return `${origin} ${spec.src} → ${dst}${port}/${spec.proto}`;
}

/** Probes derived from two rulesets, most relevant first; `total` before any bounding. */
export function deriveProbes(
  a: Ruleset,
  b: Ruleset,
  ctx: HostContext,
  structural?: StructuralDiff,
): Probe[] {
  const family = b.family;
  const origins = originsFor(ctx, family);
  const changed = changedChains(structural);
  const changedRule = changedRules(structural);
  const dests: Dest[] = [];
  const sides: Array<[string, Ruleset]> = [
    ['new', b],
    ['old', a],
  ];
  for (const [side, r] of sides) {
    const reaching = structural ? reachingChains(r, changed) : new Map<TableName, Set<string>>();
    for (const [tname, table] of r.tables) {
      const ch = changed.get(tname);
      const reach = reaching.get(tname);
      for (const c of table.chains.values()) {
        for (const rule of c.rules) {
          // 0: a changed rule; 1: in a changed chain, or jumping into a chain that leads to one;
          // 2: the rest.
          const where = `${tname}:${c.name}:${rule.position}`;
          const relevant =
            (ch?.has(c.name) ?? false) || (rule.target?.kind === 'chain' && (reach?.has(rule.target.name) ?? false));
          const priority = (side === 'old' ? changedRule.old : changedRule.new).has(where) ? 0 : relevant ? 1 : 2;
          dests.push(...destsOfRule(rule, family, origins.local, `${side}:${where}`, priority));
        }
      }
    }
  }
  // Dedupe (keeping the best priority and the first source), order by priority then derivation.
  const byKey = new Map<string, Dest>();
  for (const d of dests) {
    const k = `${d.proto} ${d.dst} ${d.dport ?? ''}`;
    const prev = byKey.get(k);
    if (!prev) byKey.set(k, d);
    else if (d.priority < prev.priority) byKey.set(k, { ...prev, priority: d.priority });
  }
  const ordered = [...byKey.values()].sort((x, y) => x.priority - y.priority);
  const probes: Probe[] = [];
  for (const d of ordered) {
    const base = (src: string): PacketSpec => {
      const p: PacketSpec = { proto: d.proto, src, dst: d.dst };
      if (d.dport !== undefined) {
        p.sport = PROBE_SPORT;
        p.dport = d.dport;
      }
      return p;
    };
    if (origins.pod && origins.pod.src !== d.dst) {
      const p = { ...base(origins.pod.src), iif: origins.pod.iif };
      probes.push({ label: label('pod', p), origin: 'pod', packet: p, from: d.from });
    }
    if (origins.outside) {
      const p = { ...base(origins.outside.src), iif: origins.outside.iif };
      probes.push({ label: label('outside', p), origin: 'outside', packet: p, from: d.from });
    }
    if (origins.host && origins.host.src !== d.dst) {
      const p = { ...base(origins.host.src), local: true };
      probes.push({ label: label('host', p), origin: 'host', packet: p, from: d.from });
    }
  }
  return probes;
}

/** A packet the user passed, optionally named (a scenario's packet name). */
export type UserPacket = PacketSpec | { name: string; packet: PacketSpec };

/** A probe for a packet the user passed. */
export function userProbe(u: UserPacket): Probe {
  const named = 'packet' in u && typeof u.packet === 'object' ? (u as { name: string; packet: PacketSpec }) : null;
  const p = named ? named.packet : (u as PacketSpec);
  const origin = p.local ? 'host' : p.iif ? `in ${p.iif}` : 'user';
  const who = named ? `user "${named.name}" (${origin})` : `user (${origin})`;
  return { label: label(who, p), origin: 'user', packet: p, from: named ? `user: ${named.name}` : 'user' };
}
