/**
 * Builds the network namespaces of one scenario from its host context, so the kernel and the
 * engine see the same host:
 *
 * - a node namespace with the context's interfaces, addresses, routes and sysctls;
 * - a bridge interface (`kind: "bridge"`) gets one veth port per peer behind it, each peer in its
 *   own namespace (pods); the ports take the bridge's `ports` names when it lists one per peer (in
 *   the peers' order — the engine's Host.bridgePeer reads the same mapping to know which port an
 *   address sits behind), and are put in hairpin mode when the bridge says `hairpin: true`;
 * - any other non-loopback interface is one end of a veth pair whose far end (`eth0`) sits in a
 *   "link" namespace holding the addresses of every peer behind that interface (a client network,
 *   a gateway); without peers the far end still exists so packets can arrive on the interface.
 *   `kind: "dummy"` without peers is a dummy device.
 *
 * Names: `ipsc-<pid>-<n>-node`, `ipsc-<pid>-<n>-p<i>` (the pid of the test process, so a sweep can
 * tell stale namespaces of dead runs from live ones).
 */
import ipaddr from 'ipaddr.js';
import type { HostContext, InterfaceSpec, PeerSpec } from '../../../src/core/netfilter/types.js';
import { nsRun, run } from './exec.js';

export const NS_PREFIX = 'ipsc-';

export interface PeerNs {
  ns: string;
  /** Node interface it sits behind (the bridge for pods). */
  iface: string;
  /** For bridge peers: the node-side port name. */
  port?: string;
  /** Peer names living in this namespace. */
  names: string[];
  /** Addresses (without prefix) assigned in the namespace. */
  addresses: Set<string>;
}

export interface Topology {
  node: string;
  peers: PeerNs[];
  namespaces: string[];
  /** Node interface name → whether it is a bridge. */
  bridges: Set<string>;
  /** Node's own addresses (without prefix), lo included. */
  nodeAddresses: Set<string>;
}

function isV6(addr: string): boolean {
  return addr.includes(':');
}

function splitCidr(a: string): { addr: string; prefix: number | null } {
  const [addr, p] = a.split('/');
  return { addr: ipaddr.process(addr!).toString(), prefix: p === undefined ? null : Number(p) };
}

/** The node's address of the given family on an interface (first one), if any. */
function ifaceAddress(iface: InterfaceSpec | undefined, v6: boolean): string | undefined {
  for (const a of iface?.addresses ?? []) {
    const { addr } = splitCidr(a);
    if (isV6(addr) === v6 && !ipaddr.parse(addr).range().startsWith('linkLocal')) return addr;
  }
  return undefined;
}

/** Prefix for a peer address given without one: the node interface's subnet that contains it. */
function peerPrefix(addr: string, iface: InterfaceSpec | undefined): number {
  const parsed = ipaddr.parse(addr);
  for (const a of iface?.addresses ?? []) {
    const { addr: na, prefix } = splitCidr(a);
    if (prefix === null || isV6(na) !== isV6(addr)) continue;
    const net = ipaddr.parse(na);
    if (net.kind() === parsed.kind() && parsed.match(net, prefix)) return prefix;
  }
  return isV6(addr) ? 128 : 32;
}

function sysctlArgs(kv: Record<string, string | number>): string[] {
  return ['-q', '-w', ...Object.entries(kv).map(([k, v]) => `${k}=${v}`)];
}

async function batch(ns: string | null, cmds: string[]): Promise<void> {
  if (cmds.length === 0) return;
  const args = ns ? ['-n', ns, '-batch', '-'] : ['-batch', '-'];
  await run('ip', args, { input: cmds.join('\n') + '\n', timeoutMs: 20_000 });
}

/** Sysctls every namespace gets: no IPv6 duplicate address detection (addresses usable at once). */
const NO_DAD = {
  'net.ipv6.conf.all.accept_dad': 0,
  'net.ipv6.conf.default.accept_dad': 0,
  'net.ipv6.conf.all.dad_transmits': 0,
  'net.ipv6.conf.default.dad_transmits': 0,
};

/** Create the namespaces of a context. On any error the caller must still call destroyTopology. */
export async function buildTopology(ctx: Partial<HostContext>, base: string, created: string[]): Promise<Topology> {
  const node = `${base}-node`;
  const interfaces = (ctx.interfaces ?? []).filter((i) => i.kind !== 'loopback' && i.name !== 'lo');
  const loIface = (ctx.interfaces ?? []).find((i) => i.kind === 'loopback' || i.name === 'lo');
  const peersSpec: PeerSpec[] = ctx.peers ?? [];
  const byName = new Map(interfaces.map((i) => [i.name, i]));
  for (const p of peersSpec) {
    if (!byName.has(p.iface)) throw new Error(`peer ${p.name}: interface ${p.iface} is not in the context's interfaces`);
  }
  const bridges = new Set(interfaces.filter((i) => i.kind === 'bridge').map((i) => i.name));

  // Plan the peer namespaces.
  const peers: PeerNs[] = [];
  let n = 0;
  for (const iface of interfaces) {
    const behind = peersSpec.filter((p) => p.iface === iface.name);
    if (bridges.has(iface.name)) {
      behind.forEach((p, i) => {
        const port = iface.ports && iface.ports.length === behind.length ? iface.ports[i]! : `veth${n}`;
        peers.push({ ns: `${base}-p${n++}`, iface: iface.name, port, names: [p.name], addresses: new Set() });
      });
    } else if (behind.length > 0 || iface.kind !== 'dummy') {
      peers.push({ ns: `${base}-p${n++}`, iface: iface.name, names: behind.map((p) => p.name), addresses: new Set() });
    }
  }

  for (const ns of [node, ...peers.map((p) => p.ns)]) {
    await run('ip', ['netns', 'add', ns]);
    created.push(ns);
  }
  await Promise.all(
    [node, ...peers.map((p) => p.ns)].map((ns) => nsRun(ns, 'sysctl', sysctlArgs(NO_DAD))),
  );

  // Links.
  const root: string[] = [];
  const nodeCmds: string[] = ['link set lo up'];
  for (const iface of interfaces) {
    if (bridges.has(iface.name)) {
      nodeCmds.push(`link add ${iface.name} type bridge`);
    } else if (iface.kind === 'dummy' && !peers.some((p) => p.iface === iface.name)) {
      nodeCmds.push(`link add ${iface.name} type dummy`);
    }
  }
  for (const p of peers) {
    const nodeEnd = p.port ?? p.iface;
    root.push(`link add ${nodeEnd} netns ${node} type veth peer name eth0 netns ${p.ns}`);
  }
  await batch(node, nodeCmds.filter((c) => c.startsWith('link add')));
  await batch(null, root);

  const nodeAddresses = new Set<string>(['127.0.0.1', '::1']);
  const up: string[] = [];
  for (const iface of interfaces) {
    if (iface.mac) up.push(`link set ${iface.name} address ${iface.mac}`);
    for (const a of iface.addresses) {
      up.push(`addr add ${a} dev ${iface.name}${isV6(a) ? ' nodad' : ''}`);
      nodeAddresses.add(splitCidr(a).addr);
    }
    up.push(`link set ${iface.name} up`);
  }
  for (const a of loIface?.addresses ?? []) {
    const { addr } = splitCidr(a);
    if (addr === '127.0.0.1' || addr === '::1') continue;
    up.push(`addr add ${a} dev lo`);
    nodeAddresses.add(addr);
  }
  for (const p of peers) {
    if (!p.port) continue;
    up.push(`link set ${p.port} master ${p.iface}`);
    up.push(`link set ${p.port} up`);
    if (byName.get(p.iface)?.hairpin) up.push(`link set ${p.port} type bridge_slave hairpin on`);
  }
  up.unshift('link set lo up');
  await batch(node, up);

  // Node sysctls (before routes: forwarding changes some route defaults).
  const sc = ctx.sysctl;
  const kv: Record<string, string | number> = {
    'net.ipv4.ip_forward': sc?.ipForward === false ? 0 : 1,
    'net.ipv6.conf.all.forwarding': sc?.ipv6Forward === false ? 0 : 1,
    'net.bridge.bridge-nf-call-iptables': sc?.bridgeNfCallIptables === false ? 0 : 1,
    'net.bridge.bridge-nf-call-ip6tables': sc?.bridgeNfCallIp6tables === false ? 0 : 1,
  };
  const rp = sc?.rpFilter ?? 0;
  const allIfaces = ['all', 'default', 'lo', ...interfaces.map((i) => i.name)].filter((i) => !i.includes('.'));
  // rp_filter: conf.all and conf.default from the context's rpFilter, each interface its own
  // rpFilterIface value (else 0, as in a fresh namespace); the kernel uses max(all, IFACE).
  for (const i of allIfaces) {
    kv[`net.ipv4.conf.${i}.rp_filter`] = i === 'all' || i === 'default' ? rp : (sc?.rpFilterIface?.[i] ?? 0);
    if (sc?.routeLocalnet !== undefined) kv[`net.ipv4.conf.${i}.route_localnet`] = sc.routeLocalnet ? 1 : 0;
    if (sc?.sendRedirects !== undefined) kv[`net.ipv4.conf.${i}.send_redirects`] = sc.sendRedirects ? 1 : 0;
  }
  await nsRun(node, 'sysctl', sysctlArgs(kv));

  // Routes.
  const routes: string[] = [];
  for (const r of ctx.routes ?? []) {
    const table = r.table && r.table !== 'main' ? ` table ${r.table}` : '';
    const type = r.type && r.type !== 'unicast' ? `${r.type} ` : '';
    if ((r.type === 'local' || r.table === 'local') && nodeAddresses.has(splitCidr(r.dst).addr)) continue;
    const fam = r.dst === 'default' ? (r.via && isV6(r.via) ? '-6 ' : r.src && isV6(r.src) ? '-6 ' : '') : '';
    const via = r.via ? ` via ${r.via}` : '';
    const src = r.src ? ` src ${r.src}` : '';
    const dev = type === '' || type === 'local ' ? ` dev ${r.dev}` : '';
    routes.push(`${fam}route replace ${type}${r.dst}${via}${dev}${src}${table}${r.via ? ' onlink' : ''}`);
  }
  for (const cmd of routes) {
    const args = cmd.split(' ');
    try {
      await run('ip', ['-n', node, ...args]);
    } catch (e) {
      throw new Error(`route from the context failed: ip ${cmd}: ${(e as Error).message}`);
    }
  }

  // Peers.
  for (const p of peers) {
    const iface = byName.get(p.iface);
    const cmds: string[] = ['link set lo up', 'link set eth0 up'];
    const specs = peersSpec.filter((s) => p.names.includes(s.name));
    const gw4 = specs.find((s) => s.gateway && !isV6(s.gateway))?.gateway ?? ifaceAddress(iface, false);
    const gw6 = specs.find((s) => s.gateway && isV6(s.gateway))?.gateway ?? ifaceAddress(iface, true);
    for (const s of specs) {
      for (const a of s.addresses) {
        const { addr, prefix } = splitCidr(a);
        const pl = prefix ?? peerPrefix(addr, iface);
        cmds.push(`addr add ${addr}/${pl} dev eth0${isV6(addr) ? ' nodad' : ''}`);
        p.addresses.add(addr);
      }
    }
    if (gw4) cmds.push(`route replace default via ${gw4} dev eth0 onlink`);
    if (gw6) cmds.push(`-6 route replace default via ${gw6} dev eth0 onlink`);
    // `ip -batch` does not take per-line -6; split the IPv6 route out.
    await batch(p.ns, cmds.filter((c) => !c.startsWith('-6 ')));
    for (const c of cmds.filter((c) => c.startsWith('-6 '))) await run('ip', ['-n', p.ns, ...c.split(' ')]);
  }

  return { node, peers, namespaces: [node, ...peers.map((p) => p.ns)], bridges, nodeAddresses };
}

/** Add an address (host prefix) to a namespace's eth0 (or lo for the node) if it is not there. */
export async function ensureAddress(topo: Topology, ns: string, addr: string): Promise<void> {
  const a = ipaddr.process(addr).toString();
  if (ns === topo.node) {
    if (topo.nodeAddresses.has(a)) return;
    throw new Error(`the node has no address ${a}: a local packet's source must be a node address in the context`);
  }
  const p = topo.peers.find((x) => x.ns === ns)!;
  if (p.addresses.has(a)) return;
  await run('ip', ['-n', ns, 'addr', 'add', `${a}/${isV6(a) ? 128 : 32}`, 'dev', 'eth0', ...(isV6(a) ? ['nodad'] : [])]);
  p.addresses.add(a);
}

/** Delete namespaces (each one: kill what still runs inside it, by pid, then delete). */
export async function destroyNamespaces(names: string[]): Promise<string[]> {
  const errors: string[] = [];
  for (const ns of names) {
    try {
      const pids = await run('ip', ['netns', 'pids', ns], { check: false, timeoutMs: 5000 });
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      const r = await run('ip', ['netns', 'del', ns], { check: false, timeoutMs: 5000 });
      if (r.code !== 0 && !/No such file/.test(r.stderr)) errors.push(`${ns}: ${r.stderr.trim()}`);
    } catch (e) {
      errors.push(`${ns}: ${(e as Error).message}`);
    }
  }
  return errors;
}

/** Remove namespaces of earlier runs of this harness whose test process is gone. */
export async function sweepStale(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { check: false });
  const stale: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^ipsc-(\d+)-/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) stale.push(name);
  }
  await destroyNamespaces(stale);
  return stale;
}

/** Remove every namespace of this process (normally already removed by each scenario's teardown). */
export async function sweepOwn(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { check: false });
  const own = r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`ipsc-${process.pid}-`));
  await destroyNamespaces(own);
  return own;
}
