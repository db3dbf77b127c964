/**
 * The host context: defaults for a bare dump and the documented resolution of a partial context.
 *
 * Defaults (each one the trace relies on is reported in `TraceResult.context.defaults`):
 * - interfaces: none given → only loopback (`lo`, 127.0.0.1/8 and ::1/128) is local; `lo` is added
 *   to a given list that lacks it (the kernel always has it).
 * - routes: none given → connected routes of the interfaces plus a default route through an
 *   unknown interface (`dev: "*"`): forwarded/sent packets have an unknown output interface, and
 *   `-o` tests on them are unknown.
 * - sysctl: ip_forward=1, IPv6 forwarding=1, bridge-nf-call-iptables/ip6tables=1,
 *   route_localnet=0, rp_filter=0 (conf.all and every interface, as in a fresh namespace).
 * - ipsets: none → `-m set` matches are unknown.
 * - sockets: none → no listening sockets: TPROXY drops (as the kernel does without a socket),
 *   `-m socket` does not match.
 *
 * Pure: no IO.
 */
import type { HostContext, InterfaceSpec, RouteSpec, SysctlSpec } from './types.js';

/** The loopback interface as the kernel creates it. */
export const LOOPBACK: InterfaceSpec = { name: 'lo', kind: 'loopback', addresses: ['127.0.0.1/8', '::1/128'] };

/** Keys of default sentences (each sentence starts with its key). */
export const DEFAULT_KEYS = {
  interfaces: 'interfaces',
  lo: 'interface lo',
  routes: 'routes',
  ipForward: 'net.ipv4.ip_forward',
  ipv6Forward: 'net.ipv6.conf.all.forwarding',
  bridge: 'net.bridge.bridge-nf-call-iptables',
  bridge6: 'net.bridge.bridge-nf-call-ip6tables',
  routeLocalnet: 'net.ipv4.conf.all.route_localnet',
  rpFilter: 'net.ipv4.conf.all.rp_filter',
  ipsets: 'ipsets',
  sockets: 'sockets',
} as const;

/** The route that stands for "default route, output interface unknown". */
export const UNKNOWN_DEV = '*';

/**
 * Fill a partial context with defaults. Idempotent: resolving a resolved context adds nothing.
 * Returns the context (with `defaults` set on it) and the default sentences.
 */
export function resolveContext(partial?: Partial<HostContext>): { context: HostContext; defaults: string[] } {
  const defaults: string[] = [...(partial?.defaults ?? [])];
  const add = (s: string) => {
    if (!defaults.includes(s)) defaults.push(s);
  };
  let interfaces: InterfaceSpec[];
  if (!partial?.interfaces || partial.interfaces.length === 0) {
    interfaces = [LOOPBACK];
    add(`${DEFAULT_KEYS.interfaces}: none given — only loopback (lo 127.0.0.1/8, ::1/128) is local`);
  } else if (!partial.interfaces.some((i) => i.name === 'lo' || i.kind === 'loopback')) {
    interfaces = [LOOPBACK, ...partial.interfaces];
    add(`${DEFAULT_KEYS.lo}: not listed — added with 127.0.0.1/8 and ::1/128`);
  } else {
    interfaces = partial.interfaces.map((i) =>
      i.name === 'lo' && i.addresses.length === 0 ? { ...i, addresses: LOOPBACK.addresses.slice() } : i,
    );
  }
  let routes: RouteSpec[];
  if (!partial?.routes) {
    routes = [{ dst: 'default', dev: UNKNOWN_DEV }];
    add(`${DEFAULT_KEYS.routes}: none given — destinations outside the interfaces' subnets leave through an unknown interface`);
  } else routes = partial.routes;
  const given: Partial<SysctlSpec> = partial?.sysctl ?? {};
  const sysctl: SysctlSpec = {
    ipForward: given.ipForward ?? true,
    ipv6Forward: given.ipv6Forward ?? true,
    bridgeNfCallIptables: given.bridgeNfCallIptables ?? true,
    bridgeNfCallIp6tables: given.bridgeNfCallIp6tables ?? true,
    routeLocalnet: given.routeLocalnet ?? false,
    rpFilter: given.rpFilter ?? 0,
    ...(given.rpFilterIface ? { rpFilterIface: { ...given.rpFilterIface } } : {}),
  };
  if (given.ipForward === undefined) add(`${DEFAULT_KEYS.ipForward}=1 assumed (not given)`);
  if (given.ipv6Forward === undefined) add(`${DEFAULT_KEYS.ipv6Forward}=1 assumed (not given)`);
  if (given.bridgeNfCallIptables === undefined) add(`${DEFAULT_KEYS.bridge}=1 assumed (not given)`);
  if (given.bridgeNfCallIp6tables === undefined) add(`${DEFAULT_KEYS.bridge6}=1 assumed (not given)`);
  if (given.routeLocalnet === undefined) add(`${DEFAULT_KEYS.routeLocalnet}=0 assumed (not given)`);
  // Recorded on a trace only when the packet's fate depends on it (a reverse-path check would drop it).
  if (given.rpFilter === undefined) add(`${DEFAULT_KEYS.rpFilter}=0 assumed (not given): reverse path filtering off`);
  if (!partial?.ipsets) add(`${DEFAULT_KEYS.ipsets}: none given — -m set matches are unknown`);
  if (!partial?.sockets) add(`${DEFAULT_KEYS.sockets}: none given — no listening sockets (TPROXY drops, -m socket does not match)`);
  const context: HostContext = {
    ...(partial?.hostname !== undefined ? { hostname: partial.hostname } : {}),
    interfaces,
    routes,
    sysctl,
    ipsets: partial?.ipsets ?? [],
    ...(partial?.peers ? { peers: partial.peers } : {}),
    sockets: partial?.sockets ?? [],
    defaults,
  };
  return { context, defaults };
}
