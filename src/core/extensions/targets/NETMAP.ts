/**
 * -j NETMAP --to ADDR/PREFIX: 1:1 mapping of a network, keeping the host part. Like xt_NETMAP.c:
 * new = (addr & ~mask) | (net & mask) — the destination in PREROUTING/OUTPUT, the source in
 * POSTROUTING/INPUT. nat table.
 */
import type { ExtensionBase } from '../types.js';
import { err, ok, opt } from '../util.js';
import { netmap, parseNet, type Net } from '../../netfilter/addr.js';

/** Parsed NETMAP target. */
export interface NetmapTarget {
  net: Net;
}

/** The NETMAP target extension. */
export const netmapTarget: ExtensionBase<NetmapTarget> = {
  name: 'NETMAP',
  optionNames: ['to'],
  tables: ['nat'],
  parse(options) {
    const o = opt(options, 'to');
    const n = o ? parseNet(o.args[0] ?? '') : null;
    if (!n) return err(`NETMAP: invalid --to "${o?.args[0] ?? ''}"`, 'to');
    return ok({ net: n });
  },
  describe: (v) => `to:${v.net.text}`,
  apply(v, ctx) {
    const p = ctx.packet;
    const dst = ctx.hook === 'PREROUTING' || ctx.hook === 'OUTPUT';
    const before = dst ? p.dst : p.src;
    const after = netmap(before, v.net);
    if (dst) {
      p.dst = after;
      p.ctDnat = true;
    } else {
      p.src = after;
      p.ctSnat = true;
    }
    return { verdict: 'accept', changes: [`NETMAP ${dst ? 'destination' : 'source'} ${before.text} → ${after.text}`], nat: dst ? 'dst' : 'src' };
  },
};
