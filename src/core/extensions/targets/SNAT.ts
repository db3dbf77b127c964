/**
 * -j SNAT --to-source [ADDR[-ADDR]][:PORT[-PORT]] [--random] [--random-fully] [--persistent]:
 * rewrites the source of the first packet and records the binding (IPS_SRC_NAT). nat table,
 * POSTROUTING and INPUT (xt_nat.c).
 */
import type { ExtensionBase } from '../types.js';
import { err, ok, opts } from '../util.js';
import { applyRange, natOptionsOk, parseNatRange, type NatRange } from './nat.js';

/** Parsed SNAT target. */
export interface SnatTarget {
  ranges: NatRange[];
  random: boolean;
  randomFully: boolean;
  persistent: boolean;
}

/** The SNAT target extension. */
export const snatTarget: ExtensionBase<SnatTarget> = {
  name: 'SNAT',
  optionNames: ['to-source', 'random', 'random-fully', 'persistent'],
  flagOptions: ['random', 'random-fully', 'persistent'],
  tables: ['nat'],
  hooks: ['POSTROUTING', 'INPUT'],
  check: (options, family) => natOptionsOk(options, 'to-source', family),
  parse(options, family) {
    const ranges: NatRange[] = [];
    for (const o of opts(options, 'to-source')) {
      const r = parseNatRange(o.args[0] ?? '', family);
      if (typeof r === 'string') return err(`SNAT: ${r}`, 'to-source');
      ranges.push(r);
    }
    if (!ranges.length) return err('SNAT: --to-source is required', 'to-source');
    return ok({
      ranges,
      random: options.some((o) => o.name === 'random'),
      randomFully: options.some((o) => o.name === 'random-fully'),
      persistent: options.some((o) => o.name === 'persistent'),
    });
  },
  describe: (v) => `to:${v.ranges.map((r) => r.text).join(' ')}${v.random ? ' random' : ''}${v.randomFully ? ' random-fully' : ''}${v.persistent ? ' persistent' : ''}`,
  apply(v, ctx) {
    let change = applyRange(ctx.packet, 'src', v.ranges[0]!, 'SNAT');
    if (v.randomFully || v.random) change += ' (source port randomised by the kernel; shown unchanged)';
    ctx.packet.ctSnat = true;
    return { verdict: 'accept', changes: [change], nat: 'src' };
  },
};
