/**
 * -m ipv6header: [!] --header LIST [--soft]. Like ip6t_ipv6header.c: the set of headers the packet
 * carries is compared with LIST — exactly (default) or any-of (`--soft`). Packets described here
 * carry only their upper-layer protocol (`prot`), `esp`/`auth` for those protocols, `none` for
 * ipv6-nonxt, plus `frag` when `fragment` is set.
 */
import type { ExtensionBase } from '../types.js';
import { err, no, ok, opt, yes } from '../util.js';

const HEADERS: Readonly<Record<string, string>> = {
  hop: 'hop', 'hop-by-hop': 'hop', '0': 'hop',
  dst: 'dst', '60': 'dst', 'ipv6-opts': 'dst',
  route: 'route', 'ipv6-route': 'route', '43': 'route',
  frag: 'frag', 'ipv6-frag': 'frag', '44': 'frag',
  auth: 'auth', ah: 'auth', '51': 'auth',
  esp: 'esp', '50': 'esp',
  none: 'none', 'ipv6-nonxt': 'none', '59': 'none',
  prot: 'prot', protocol: 'prot', '255': 'prot',
};

/** Parsed ipv6header match. */
export interface Ipv6headerMatch {
  headers: string[];
  soft: boolean;
  negated: boolean;
}

/** The ipv6header match extension. */
export const ipv6headerMatch: ExtensionBase<Ipv6headerMatch> = {
  name: 'ipv6header',
  families: ['ipv6'],
  optionNames: ['header', 'soft'],
  flagOptions: ['soft'],
  parse(options) {
    const o = opt(options, 'header');
    if (!o) return err('ipv6header: --header is required', 'header');
    const headers: string[] = [];
    for (const h of (o.args[0] ?? '').split(',')) {
      const n = HEADERS[h.trim().toLowerCase()];
      if (!n) return err(`ipv6header: unknown header "${h}"`, 'header');
      headers.push(n);
    }
    return ok({ headers, soft: options.some((x) => x.name === 'soft'), negated: o.negated });
  },
  describe: (v) => `ipv6header ${v.negated ? '! ' : ''}${v.headers.join(',')}${v.soft ? ' soft' : ''}`,
  evaluate(v, ctx) {
    const p = ctx.packet;
    const have = new Set<string>();
    if (p.fragment) have.add('frag');
    if (p.protoNum === 50) have.add('esp');
    else if (p.protoNum === 51) have.add('auth');
    else if (p.protoNum === 59) have.add('none');
    else have.add('prot');
    const want = new Set(v.headers);
    const hit = v.soft ? [...want].some((h) => have.has(h)) : want.size === have.size && [...want].every((h) => have.has(h));
    const d = `${v.negated ? '! ' : ''}--header ${v.headers.join(',')}${v.soft ? ' --soft' : ''}: packet has ${[...have].join(',')}`;
    return hit !== v.negated ? yes(d) : no(d);
  },
};
