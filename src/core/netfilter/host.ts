/**
 * The host model compiled from a HostContext: local addresses, address types as xt_addrtype sees
 * them, routing (longest prefix, connected routes, default route, preferred source) and bridges.
 * Compiled once per context object and cached.
 *
 * Pure: no IO.
 */
import type { Family } from '../model.js';
import type { AddrType, EvalPacket, HostView } from '../extensions/types.js';
import {
  ipFromWords,
  ipKey,
  netContains,
  parseIp,
  parseNet,
  prefixMask,
  type Ip,
  type Net,
} from './addr.js';
import { DEFAULT_KEYS, UNKNOWN_DEV } from './context.js';
import type { HostContext, IpsetSpec } from './types.js';

/** An interface address. */
export interface IfAddr {
  ip: Ip;
  net: Net;
}

/** A compiled interface. */
export interface Iface {
  name: string;
  kind?: string;
  addrs: IfAddr[];
  mac?: string;
  ports: string[];
  isBridge: boolean;
  /** A bridge whose ports are in hairpin mode: a frame may leave by the port it came in on. */
  hairpin: boolean;
}

/** A compiled route. */
export interface Route {
  net: Net;
  dev: string;
  via?: Ip;
  src?: Ip;
  type: string;
  connected: boolean;
  text: string;
}

/** Result of a route lookup. */
export type RouteResult =
  | { kind: 'local'; dev: string; why: string }
  | { kind: 'broadcast'; dev?: string; why: string }
  | { kind: 'multicast'; why: string }
  | { kind: 'unicast'; dev: string | null; route: Route; why: string }
  | { kind: 'blackhole' | 'unreachable' | 'prohibit'; route: Route; why: string }
  | { kind: 'none'; why: string };

const ZERONET = parseNet('0.0.0.0/8')!;
const LBCAST = parseIp('255.255.255.255')!;
const MCAST4 = parseNet('224.0.0.0/4')!;
const MCAST6 = parseNet('ff00::/8')!;
const LOOP4 = parseNet('127.0.0.0/8')!;
const LINKLOCAL6 = parseNet('fe80::/10')!;

/** The compiled host. */
export class Host implements HostView {
  readonly ifaces = new Map<string, Iface>();
  /** Bridge port → bridge name. */
  readonly portToBridge = new Map<string, string>();
  readonly routes: Route[] = [];
  private readonly localKeys = new Map<string, string>();
  private readonly localNets: { net: Net; dev: string }[] = [];
  private readonly bcast = new Map<string, string>();
  private readonly ipsets = new Map<string, IpsetSpec>();
  /** Default sentences from resolveContext, and the ones a trace actually used. */
  readonly defaults: string[];

  constructor(readonly ctx: HostContext) {
    this.defaults = ctx.defaults ?? [];
    for (const spec of ctx.interfaces) {
      const addrs: IfAddr[] = [];
      for (const a of spec.addresses) {
        const n = parseNet(a);
        const ip = parseIp(a.split('/')[0]!);
        if (!n || !ip) continue;
        addrs.push({ ip, net: n });
      }
      const ports = spec.ports ?? [];
      const iface: Iface = {
        name: spec.name,
        addrs,
        ports,
        isBridge: spec.kind === 'bridge' || ports.length > 0,
        hairpin: spec.hairpin === true,
        ...(spec.kind !== undefined ? { kind: spec.kind } : {}),
        ...(spec.mac !== undefined ? { mac: spec.mac } : {}),
      };
      this.ifaces.set(spec.name, iface);
      for (const p of ports) this.portToBridge.set(p, spec.name);
      for (const a of addrs) {
        this.localKeys.set(ipKey(a.ip), spec.name);
        // Connected route (proto kernel scope link src ADDR).
        if (a.net.prefix > 0) {
          this.routes.push({ net: a.net, dev: spec.name, src: a.ip, type: 'unicast', connected: true, text: `${a.net.text} dev ${spec.name} (connected)` });
        }
        // Subnet broadcast (fib_add_ifaddr adds it for prefixes shorter than /31).
        if (a.ip.family === 'ipv4' && a.net.prefix < 31) {
          const m = prefixMask('ipv4', a.net.prefix);
          const b = ipFromWords('ipv4', [((a.net.w[0]! | ~m[0]!) >>> 0)]);
          this.bcast.set(ipKey(b), spec.name);
        }
      }
    }
    // The kernel's `local 127.0.0.0/8 dev lo`.
    this.localNets.push({ net: LOOP4, dev: 'lo' });
    const explicit: Route[] = [];
    for (const r of ctx.routes) {
      const type = r.type ?? 'unicast';
      const table = r.table ?? 'main';
      const via = r.via ? parseIp(r.via) ?? undefined : undefined;
      const src = r.src ? parseIp(r.src) ?? undefined : undefined;
      const fams: Family[] = r.dst === 'default' ? (via ? [via.family] : src ? [src.family] : ['ipv4', 'ipv6']) : [];
      const nets: Net[] = r.dst === 'default' ? fams.map((f) => parseNet(f === 'ipv4' ? '0.0.0.0/0' : '::/0')!) : [parseNet(r.dst)].filter((x): x is Net => x !== null);
      for (const net of nets) {
        if (type === 'local' || table === 'local') {
          if (type === 'local') this.localNets.push({ net, dev: r.dev });
          else if (type === 'broadcast') this.bcast.set(ipKey(ipFromWords(net.family, net.w)), r.dev);
          continue;
        }
        if (table !== 'main' && table !== 'default') continue; // policy routing is not modelled
        const route: Route = { net, dev: r.dev, type, connected: false, text: `${r.dst} ${r.via ? `via ${r.via} ` : ''}dev ${r.dev}${r.src ? ` src ${r.src}` : ''}${type !== 'unicast' ? ` (${type})` : ''}` };
        if (via) route.via = via;
        if (src) route.src = src;
        explicit.push(route);
      }
    }
    // Longest prefix first; explicit routes before connected ones of the same length.
    const all = [...explicit, ...this.routes];
    all.sort((a, b) => b.net.prefix - a.net.prefix);
    this.routes.length = 0;
    this.routes.push(...all);
    for (const s of ctx.ipsets ?? []) this.ipsets.set(s.name, s);
    // What lookup() answers for each route (the answer depends on the route only): built once, so a
    // lookup allocates nothing. Results are read-only values.
    for (const r of this.routes) {
      this.routeResults.push(
        r.type === 'blackhole' || r.type === 'unreachable' || r.type === 'prohibit'
          ? { kind: r.type, route: r, why: `route ${r.text}` }
          : { kind: 'unicast', dev: r.dev === UNKNOWN_DEV ? null : r.dev, route: r, why: r.dev === UNKNOWN_DEV ? 'default route, output interface unknown' : `route ${r.text}` },
      );
    }
    // IPv4 local and broadcast addresses as numbers (the maps' final entries), for lookups without
    // a string key; only while they are few (else the maps answer).
    for (const [k, dev] of this.localKeys) {
      if (k.includes(':')) continue;
      this.local4W.push(Number(k));
      this.local4Dev.push(dev);
    }
    for (const [k, dev] of this.bcast) {
      if (k.includes(':')) continue;
      this.bcast4W.push(Number(k));
      this.bcast4Dev.push(dev);
    }
    this.small4 = this.local4W.length <= 16 && this.bcast4W.length <= 16;
  }

  private readonly routeResults: RouteResult[] = [];
  private readonly local4W: number[] = [];
  private readonly local4Dev: string[] = [];
  private readonly bcast4W: number[] = [];
  private readonly bcast4Dev: string[] = [];
  private small4 = false;

  /** The default sentence for a key, if that part was defaulted. */
  defaultFor(key: string): string | undefined {
    // Asked at every run for the same few keys: answered once per key.
    const memo = this.defaultMemo;
    if (memo.has(key)) return memo.get(key);
    const d = this.defaults.find((x) => x.startsWith(key));
    memo.set(key, d);
    return d;
  }

  private readonly defaultMemo = new Map<string, string | undefined>();

  /** Is the address local (assigned to an interface, or in a local route such as 127.0.0.0/8)? */
  isLocal(ip: Ip): boolean {
    return this.localDev(ip) !== undefined;
  }

  /** The interface owning a local address. */
  localDev(ip: Ip): string | undefined {
    if (ip.family === 'ipv4' && this.small4) {
      const x = ip.w[0];
      const ws = this.local4W;
      for (let i = 0; i < ws.length; i++) if (ws[i] === x) return this.local4Dev[i];
    } else {
      const d = this.localKeys.get(ipKey(ip));
      if (d !== undefined) return d;
    }
    for (const l of this.localNets) if (netContains(l.net, ip)) return l.dev;
    if (ip.family === 'ipv6' && ip.text === '::1') return 'lo';
    return undefined;
  }

  /** Is the address a broadcast address (limited broadcast or an interface's subnet broadcast)? */
  broadcastDev(ip: Ip): string | undefined | null {
    if (ip.family !== 'ipv4') return null;
    if (ip.w[0] === LBCAST.w[0]) return undefined;
    if (this.small4) {
      const x = ip.w[0];
      const ws = this.bcast4W;
      for (let i = 0; i < ws.length; i++) if (ws[i] === x) return this.bcast4Dev[i]!;
      return null;
    }
    const d = this.bcast.get(ipKey(ip));
    return d === undefined ? null : d;
  }

  /** Longest-prefix route lookup (main table), after the local and broadcast checks. */
  lookup(ip: Ip): RouteResult {
    const ld = this.localDev(ip);
    if (ld !== undefined) return { kind: 'local', dev: ld, why: `${ip.text} is a local address${ld !== 'lo' ? ` (on ${ld})` : ''}` };
    const bd = this.broadcastDev(ip);
    if (bd !== null) return bd === undefined ? { kind: 'broadcast', why: `${ip.text} is the limited broadcast` } : { kind: 'broadcast', dev: bd, why: `${ip.text} is the broadcast address of ${bd}` };
    if (netContains(ip.family === 'ipv4' ? MCAST4 : MCAST6, ip)) return { kind: 'multicast', why: `${ip.text} is multicast` };
    const routes = this.routes;
    for (let i = 0; i < routes.length; i++) if (netContains(routes[i]!.net, ip)) return this.routeResults[i]!;
    return { kind: 'none', why: `no route to ${ip.text}` };
  }

  /** Was routing defaulted (no routes given)? */
  routingDefaulted(): boolean {
    return this.defaultFor(DEFAULT_KEYS.routes) !== undefined;
  }

  addrTypes(ip: Ip, dev?: string): { types: Set<AddrType> } | { unknown: string } {
    if (ip.family === 'ipv4') {
      // __inet_dev_addr_type: zeronet and limited broadcast first, then multicast, then the
      // local table lookup (restricted to dev when given), else UNICAST.
      if (netContains(ZERONET, ip) || ip.w[0] === LBCAST.w[0]) return { types: new Set(['BROADCAST']) };
      if (netContains(MCAST4, ip)) return { types: new Set(['MULTICAST']) };
      const ld = this.localDev(ip);
      if (ld !== undefined) return { types: new Set([dev === undefined || dev === ld ? 'LOCAL' : 'UNICAST']) };
      const bd = this.broadcastDev(ip);
      if (bd !== null) return { types: new Set([dev === undefined || bd === undefined || dev === bd ? 'BROADCAST' : 'UNICAST']) };
      for (const r of this.routes) {
        if (!netContains(r.net, ip)) continue;
        if (r.type === 'blackhole' || r.type === 'unreachable' || r.type === 'prohibit') {
          const t = r.type.toUpperCase() as AddrType;
          return { types: new Set([dev === undefined || dev === r.dev ? t : 'UNICAST']) };
        }
        break;
      }
      return { types: new Set(['UNICAST']) };
    }
    // IPv6 (xt_addrtype match_type6 / match_lookup_rt6)
    const types = new Set<AddrType>();
    const isAny = ip.w.every((x) => x === 0);
    if (isAny) types.add('UNSPEC');
    else if (netContains(MCAST6, ip)) types.add('MULTICAST');
    else types.add('UNICAST');
    if (dev !== undefined) {
      const owner = this.localKeys.get(ipKey(ip));
      if (owner === dev || (dev === 'lo' && ip.text === '::1')) types.add('LOCAL');
    } else if (this.isLocal(ip)) types.add('LOCAL');
    if (!types.has('LOCAL') && !isAny) {
      const r = this.lookup(ip);
      if (r.kind === 'none' || r.kind === 'unreachable' || r.kind === 'prohibit' || r.kind === 'blackhole') types.add('UNREACHABLE');
      // Subnet-router anycast: the all-zero host address of a local prefix.
      for (const i of this.ifaces.values()) {
        for (const a of i.addrs) {
          if (a.ip.family === 'ipv6' && a.net.prefix < 127 && a.net.w.every((x, k) => x === ip.w[k])) types.add('ANYCAST');
        }
      }
    }
    return { types };
  }

  ipset(name: string): IpsetSpec | undefined {
    return this.ipsets.get(name);
  }

  masqueradeSource(pkt: EvalPacket): { ip: Ip; how: string } | { unknown: string } | { drop: string } {
    if (pkt.oifUnknown || pkt.oif === undefined) return { unknown: 'output interface unknown: no routes in the context' };
    const r = this.lookup(pkt.dst);
    if (r.kind === 'unicast' && r.route.src && r.route.src.family === pkt.family && r.dev === pkt.oif) {
      return { ip: r.route.src, how: `preferred source of route ${r.route.text}` };
    }
    const iface = this.ifaces.get(pkt.oif);
    if (!iface) return { unknown: `interface ${pkt.oif} is not in the context` };
    const cands = iface.addrs.filter((a) => a.ip.family === pkt.family);
    const pick = pkt.family === 'ipv6' ? cands.find((a) => !netContains(LINKLOCAL6, a.ip)) ?? cands[0] : cands[0];
    if (!pick) return { drop: `${pkt.oif} has no ${pkt.family} address (the kernel drops: "ate my IP address")` };
    return { ip: pick.ip, how: `first ${pkt.family} address of ${pkt.oif}` };
  }

  primaryAddress(iface: string, family: Family): Ip | undefined {
    const i = this.ifaces.get(iface);
    if (!i) return undefined;
    const cands = i.addrs.filter((a) => a.ip.family === family);
    const pick = family === 'ipv6' ? cands.find((a) => !netContains(LINKLOCAL6, a.ip)) ?? cands[0] : cands[0];
    return pick?.ip;
  }

  routeDev(ip: Ip): { dev: string | null } | { unknown: string } {
    const r = this.lookup(ip);
    if (r.kind === 'local') return { dev: r.dev };
    if (r.kind === 'unicast') return r.dev === null ? { unknown: 'output interface unknown: no routes in the context' } : { dev: r.dev };
    if (r.kind === 'broadcast') return { dev: r.dev ?? null };
    return { dev: null };
  }

  findSocket(proto: number, ip: Ip, port: number): { transparent: boolean } | null {
    for (const sk of this.ctx.sockets ?? []) {
      if ((sk.proto === 'tcp' ? 6 : 17) !== proto || sk.port !== port) continue;
      const a = sk.addr ? parseIp(sk.addr) : null;
      const wildcard = !a || a.w.every((x) => x === 0);
      if (!wildcard && (a!.family !== ip.family || a!.w.some((x, i) => x !== ip.w[i]))) continue;
      return { transparent: sk.transparent === true };
    }
    return null;
  }

  ifaceMac(iface: string): string | undefined {
    return this.ifaces.get(iface)?.mac;
  }

  /**
   * Has the host joined this multicast group on the interface? (ip_check_mc_rcu /
   * ipv6_chk_mcast_addr: a group nobody joined is dropped by the input route.)
   */
  joined(iface: string, group: Ip): boolean {
    if (iface === 'lo') return true;
    const i = this.ifaces.get(iface);
    const spec = this.ctx.interfaces.find((x) => x.name === iface);
    for (const g of spec?.multicast ?? []) {
      const gi = parseIp(g);
      if (gi && gi.family === group.family && gi.w.every((x, k) => x === group.w[k])) return true;
    }
    if (group.family === 'ipv4') return group.text === '224.0.0.1';
    if (group.text === 'ff02::1' || group.text === 'ff01::1') return true;
    if (group.text === 'ff02::2' && this.ctx.sysctl.ipv6Forward) return true;
    // Solicited-node groups ff02::1:ffXX:XXXX of the interface's addresses.
    if (group.w[0] === 0xff020000 && group.w[1] === 0 && group.w[2] === 1 && (group.w[3]! >>> 24) === 0xff) {
      for (const a of i?.addrs ?? []) {
        if (a.ip.family === 'ipv6' && (a.ip.w[3]! & 0xffffff) === (group.w[3]! & 0xffffff)) return true;
      }
    }
    return false;
  }

  /**
   * Which bridge port a host behind the bridge sits on, as far as the context says: the peer
   * (`context.peers`, behind `bridge`) that owns the address, and its port's name when the bridge
   * lists exactly one port per peer (the i-th peer behind the bridge on the i-th port — the kernel
   * harness names the veths that way). `peer` identifies the port even without a name.
   */
  bridgePeer(bridge: string, ip: Ip): { peer: string; port?: string } | undefined {
    if (this.ctx.peers === undefined || this.ctx.peers.length === 0) return undefined;
    let peers = this.bridgePeers.get(bridge);
    if (peers === undefined) {
      // Compiled once per bridge: the peers behind it with their parsed addresses.
      const behind = (this.ctx.peers ?? []).filter((x) => x.iface === bridge);
      const ports = this.ifaces.get(bridge)?.ports ?? [];
      peers = behind.map((peer, i) => ({
        found: ports.length === behind.length ? { peer: peer.name, port: ports[i]! } : { peer: peer.name },
        keys: new Set(peer.addresses.map((a) => parseIp(a.split('/')[0]!)).filter((x): x is Ip => x !== null).map((x) => ipKey(x))),
      }));
      this.bridgePeers.set(bridge, peers);
    }
    if (peers.length === 0) return undefined;
    const k = ipKey(ip);
    for (const x of peers) if (x.keys.has(k)) return x.found;
    return undefined;
  }

  private readonly bridgePeers = new Map<string, { found: { peer: string; port?: string }; keys: Set<string> }[]>();

  /** Is the address inside a connected subnet of this interface (and not its own address)? */
  onLink(iface: string, ip: Ip): boolean {
    const i = this.ifaces.get(iface);
    if (!i) return false;
    return i.addrs.some((a) => a.net.prefix > 0 && netContains(a.net, ip));
  }
}

const cache = new WeakMap<HostContext, Host>();

/** The compiled host for a context (cached per context object). */
export function compileHost(ctx: HostContext): Host {
  let h = cache.get(ctx);
  if (!h) {
    h = new Host(ctx);
    cache.set(ctx, h);
  }
  return h;
}
