/**
 * -j REDIRECT [--to-ports P[-P]] [--random]: DNAT to the host itself. Like nf_nat_redirect.c:
 * in OUTPUT the new destination is 127.0.0.1 (IPv6: ::1); in PREROUTING it is the primary address
 * of the incoming interface — when that interface has no address the packet is dropped (NF_DROP).
 * nat PREROUTING and OUTPUT.
 */
import type { ExtensionBase } from '../types.js';
import { err, ok, opt } from '../util.js';
import { applyRange, parsePortSpan } from './nat.js';
import { IPV4_LOOPBACK, IPV6_LOOPBACK } from '../../netfilter/addr.js';

/** Parsed REDIRECT target. */
export interface RedirectTarget {
  portMin?: number;
  portMax?: number;
  random: boolean;
}

/** The REDIRECT target extension. */
export const redirectTarget: ExtensionBase<RedirectTarget> = {
  name: 'REDIRECT',
  optionNames: ['to-ports', 'random'],
  flagOptions: ['random'],
  tables: ['nat'],
  hooks: ['PREROUTING', 'OUTPUT'],
  parse(options) {
    const v: RedirectTarget = { random: options.some((o) => o.name === 'random') };
    const p = opt(options, 'to-ports');
    if (p) {
      const r = parsePortSpan(p.args[0] ?? '');
      if (!r) return err(`REDIRECT: invalid --to-ports "${p.args[0] ?? ''}"`, 'to-ports');
      [v.portMin, v.portMax] = r;
    }
    return ok(v);
  },
  describe: (v) => `redir${v.portMin !== undefined ? ` ports ${v.portMin}${v.portMax !== v.portMin ? `-${v.portMax}` : ''}` : ''}${v.random ? ' random' : ''}`,
  apply(v, ctx) {
    const p = ctx.packet;
    let addr;
    let how: string;
    if (ctx.hook === 'OUTPUT') {
      addr = p.family === 'ipv6' ? IPV6_LOOPBACK : IPV4_LOOPBACK;
      how = 'locally generated → loopback';
    } else {
      addr = p.iif ? ctx.host.primaryAddress(p.iif, p.family) : undefined;
      if (!addr) return { verdict: 'drop', changes: [`REDIRECT: ${p.iif ?? 'the input interface'} has no ${p.family} address; the kernel drops the packet`] };
      how = `primary address of ${p.iif}`;
    }
    const range: { addrMin: typeof addr; portMin?: number; portMax?: number } = { addrMin: addr };
    if (v.portMin !== undefined) {
      // A REDIRECT port range is a mapping target: the kernel keeps the port only if inside it.
      range.portMin = v.portMin;
      range.portMax = v.portMax ?? v.portMin;
    }
    const change = applyRange(p, 'dst', range, 'REDIRECT');
    p.ctDnat = true;
    return { verdict: 'accept', changes: [`${change} [${how}]`], nat: 'dst' };
  },
};
