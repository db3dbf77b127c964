/**
 * -m helper: [!] --helper NAME. Like xt_helper.c: false without a conntrack entry or without an
 * expectation master; which helper a flow uses is not modelled → unknown for RELATED packets,
 * false for others (only RELATED packets of an expectation have a helper master; an ICMP error
 * about a flow is RELATED to that flow, which has none).
 */
import type { ExtensionBase } from '../types.js';
import { err, no, ok, opt, unknown, yes } from '../util.js';

/** Parsed helper match. */
export interface HelperMatch {
  helper: string;
  negated: boolean;
}

/** The helper match extension. */
export const helperMatch: ExtensionBase<HelperMatch> = {
  name: 'helper',
  optionNames: ['helper'],
  parse(options) {
    const o = opt(options, 'helper');
    if (!o) return err('helper: --helper is required', 'helper');
    return ok({ helper: o.args[0] ?? '', negated: o.negated });
  },
  describe: (v) => `helper match ${v.negated ? '! ' : ''}"${v.helper}"`,
  evaluate(v, ctx) {
    const p = ctx.packet;
    const spec = `${v.negated ? '! ' : ''}--helper ${v.helper}`;
    // An ICMP error is RELATED to the flow itself (a flow traced from its NEW packet has no master).
    if (p.ctAttached && p.ctState === 'RELATED' && p.icmpErr === undefined) return unknown(`${spec}: the expectation's helper is not modelled`);
    // xt_helper.c: `if (!ct || !ct->master) return ret;` with ret = invert
    const d = `${spec}: the flow has no helper master`;
    return v.negated ? yes(d) : no(d);
  },
};
