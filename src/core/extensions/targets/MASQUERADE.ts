/**
 * -j MASQUERADE [--to-ports P[-P]] [--random] [--random-fully]: SNAT to the address of the output
 * interface. Like nf_nat_masquerade.c nf_nat_masquerade_ipv4: the new source is
 * `inet_select_addr(out, rt_nexthop(rt, daddr), RT_SCOPE_UNIVERSE)` — the route's preferred source
 * when it has one, else the first address of the output interface (same family). nat POSTROUTING.
 */
import type { ExtensionBase } from '../types.js';
import { err, ok, opt } from '../util.js';
import { applyRange, parsePortSpan } from './nat.js';

/** Parsed MASQUERADE target. */
export interface MasqueradeTarget {
  portMin?: number;
  portMax?: number;
  random: boolean;
  randomFully: boolean;
}

/** The MASQUERADE target extension. */
export const masqueradeTarget: ExtensionBase<MasqueradeTarget> = {
  name: 'MASQUERADE',
  optionNames: ['to-ports', 'random', 'random-fully'],
  flagOptions: ['random', 'random-fully'],
  tables: ['nat'],
  hooks: ['POSTROUTING'],
  parse(options) {
    const v: MasqueradeTarget = { random: options.some((o) => o.name === 'random'), randomFully: options.some((o) => o.name === 'random-fully') };
    const p = opt(options, 'to-ports');
    if (p) {
      const r = parsePortSpan(p.args[0] ?? '');
      if (!r) return err(`MASQUERADE: invalid --to-ports "${p.args[0] ?? ''}"`, 'to-ports');
      [v.portMin, v.portMax] = r;
    }
    return ok(v);
  },
  describe: (v) => `masq${v.portMin !== undefined ? ` ports: ${v.portMin}${v.portMax !== v.portMin ? `-${v.portMax}` : ''}` : ''}${v.random ? ' random' : ''}${v.randomFully ? ' random-fully' : ''}`,
  apply(v, ctx) {
    const src = ctx.host.masqueradeSource(ctx.packet);
    ctx.packet.ctSnat = true;
    if ('drop' in src) return { verdict: 'drop', changes: [`MASQUERADE: ${src.drop}`] };
    if ('unknown' in src) {
      return { verdict: 'accept', changes: [`MASQUERADE → source address of the output interface (${src.unknown})`], nat: 'src' };
    }
    const range: { addrMin: typeof src.ip; portMin?: number; portMax?: number } = { addrMin: src.ip };
    if (v.portMin !== undefined) {
      range.portMin = v.portMin;
      range.portMax = v.portMax ?? v.portMin;
    }
    let change = applyRange(ctx.packet, 'src', range, 'MASQUERADE');
    change += ` [${src.how}]`;
    if (v.randomFully || v.random) change += ' (source port randomised by the kernel; shown unchanged)';
    return { verdict: 'accept', changes: [change], nat: 'src' };
  },
};
