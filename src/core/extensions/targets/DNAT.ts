/**
 * -j DNAT --to-destination [ADDR[-ADDR]][:PORT[-PORT]] [--random] [--persistent]: rewrites the
 * destination of the first packet of a flow and records the binding (IPS_DST_NAT) so that later
 * packets of the flow are translated by conntrack without consulting nat again. nat table,
 * PREROUTING and OUTPUT (xt_nat.c). Several --to-destination (old kernels) → the first is shown.
 */
import type { ExtensionBase } from '../types.js';
import { err, ok, opts } from '../util.js';
import { applyRange, natOptionsOk, parseNatRange, type NatRange } from './nat.js';

/** Parsed DNAT target. */
export interface DnatTarget {
  ranges: NatRange[];
  random: boolean;
  persistent: boolean;
}

/** The DNAT target extension. */
export const dnatTarget: ExtensionBase<DnatTarget> = {
  name: 'DNAT',
  optionNames: ['to-destination', 'random', 'persistent'],
  flagOptions: ['random', 'persistent'],
  tables: ['nat'],
  hooks: ['PREROUTING', 'OUTPUT'],
  check: (options, family) => natOptionsOk(options, 'to-destination', family),
  parse(options, family) {
    const ranges: NatRange[] = [];
    for (const o of opts(options, 'to-destination')) {
      const r = parseNatRange(o.args[0] ?? '', family);
      if (typeof r === 'string') return err(`DNAT: ${r}`, 'to-destination');
      ranges.push(r);
    }
    if (!ranges.length) return err('DNAT: --to-destination is required', 'to-destination');
    return ok({ ranges, random: options.some((o) => o.name === 'random'), persistent: options.some((o) => o.name === 'persistent') });
  },
  describe: (v) => `to:${v.ranges.map((r) => r.text).join(' ')}${v.random ? ' random' : ''}${v.persistent ? ' persistent' : ''}`,
  apply(v, ctx) {
    const change = applyRange(ctx.packet, 'dst', v.ranges[0]!, 'DNAT');
    ctx.packet.ctDnat = true;
    return { verdict: 'accept', changes: [change], nat: 'dst' };
  },
};
