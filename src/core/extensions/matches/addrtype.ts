/**
 * -m addrtype: --src-type / --dst-type (comma lists, negatable), --limit-iface-in / --limit-iface-out.
 * Like xt_addrtype.c:
 * - IPv4 (addrtype_mt_v1 → inet_dev_addr_type): the address has exactly one type; the rule matches
 *   when that type is in the list. With --limit-iface-in/out the lookup is restricted to the in/out
 *   device (LOCAL only for addresses local to that device).
 * - IPv6 (match_type6): each listed class is a separate requirement — MULTICAST needs a multicast
 *   address, UNICAST a unicast one, UNSPEC `::`; LOCAL / ANYCAST / UNREACHABLE come from a route
 *   lookup and are OR-ed together.
 * The host context supplies local addresses, broadcast addresses and route types.
 */
import type { AddrType, EvalContext, ExtensionBase, MatchResult } from '../types.js';
import { all, err, no, ok, unknown, unknownOption, yes } from '../util.js';
import type { Ip } from '../../netfilter/addr.js';

const TYPES: readonly AddrType[] = [
  'UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE',
];

/** One side (src or dst). */
export interface AddrTypeSpec {
  types: AddrType[];
  negated: boolean;
}

/** Parsed addrtype match. */
export interface AddrtypeMatch {
  src?: AddrTypeSpec;
  dst?: AddrTypeSpec;
  limitIn: boolean;
  limitOut: boolean;
}

const NAMES = ['src-type', 'dst-type', 'limit-iface-in', 'limit-iface-out'] as const;

/** The addrtype match extension. */
export const addrtypeMatch: ExtensionBase<AddrtypeMatch> = {
  name: 'addrtype',
  optionNames: NAMES,
  flagOptions: ['limit-iface-in', 'limit-iface-out'],
  parse(options) {
    const bad = unknownOption<AddrtypeMatch>(options, NAMES, 'addrtype');
    if (bad) return bad;
    const v: AddrtypeMatch = { limitIn: false, limitOut: false };
    for (const o of options) {
      if (o.name === 'limit-iface-in') v.limitIn = true;
      else if (o.name === 'limit-iface-out') v.limitOut = true;
      else {
        const types: AddrType[] = [];
        for (const t of (o.args[0] ?? '').split(',')) {
          const u = t.trim().toUpperCase() as AddrType;
          if (!TYPES.includes(u)) return err(`addrtype: unknown address type "${t}"`, o.name);
          types.push(u);
        }
        if (o.name === 'src-type') v.src = { types, negated: o.negated };
        else v.dst = { types, negated: o.negated };
      }
    }
    if (v.limitIn && v.limitOut) return err('addrtype: --limit-iface-in and --limit-iface-out cannot both be given');
    return ok(v);
  },
  describe(v) {
    const p = ['ADDRTYPE match'];
    if (v.src) p.push(`src-type ${v.src.negated ? '!' : ''}${v.src.types.join(',')}`);
    if (v.dst) p.push(`dst-type ${v.dst.negated ? '!' : ''}${v.dst.types.join(',')}`);
    if (v.limitIn) p.push('limit-in');
    if (v.limitOut) p.push('limit-out');
    return p.join(' ');
  },
  evaluate(v, ctx) {
    let dev: string | undefined;
    if (v.limitIn) dev = ctx.packet.iif;
    else if (v.limitOut) {
      if (ctx.packet.oifUnknown) return unknown('--limit-iface-out: output interface unknown');
      dev = ctx.packet.oif;
    }
    const suffix = dev ? ` on ${dev}` : '';
    const rs: MatchResult[] = [];
    if (v.src) rs.push(side('src-type', v.src, ctx.packet.src, dev, suffix, ctx));
    if (v.dst) rs.push(side('dst-type', v.dst, ctx.packet.dst, dev, suffix, ctx));
    return all(rs, 'addrtype');
  },
};

function side(label: string, s: AddrTypeSpec, ip: Ip, dev: string | undefined, suffix: string, ctx: EvalContext): MatchResult {
  const spec = `${s.negated ? '! ' : ''}--${label} ${s.types.join(',')}`;
  const at = ctx.host.addrTypes(ip, dev);
  if ('unknown' in at) return unknown(`${spec}: ${at.unknown}`);
  const have = [...at.types].sort((a, b) => TYPES.indexOf(a) - TYPES.indexOf(b));
  let hit: boolean;
  if (ip.family === 'ipv4') {
    hit = s.types.some((t) => at.types.has(t));
  } else {
    // match_type6: MULTICAST / UNICAST / UNSPEC are requirements; LOCAL|ANYCAST|UNREACHABLE OR-ed.
    hit = true;
    if (s.types.includes('MULTICAST') && !at.types.has('MULTICAST')) hit = false;
    if (s.types.includes('UNICAST') && !at.types.has('UNICAST')) hit = false;
    if (s.types.includes('UNSPEC') && !at.types.has('UNSPEC')) hit = false;
    const routed: AddrType[] = ['LOCAL', 'ANYCAST', 'UNREACHABLE'];
    if (hit && s.types.some((t) => routed.includes(t))) hit = s.types.some((t) => routed.includes(t) && at.types.has(t));
  }
  const detail = `${spec}: ${ip.text} is ${have.join(',')}${suffix}`;
  return hit !== s.negated ? yes(detail) : no(detail);
}
