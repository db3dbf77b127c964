/**
 * -m policy: --dir in|out, --pol none|ipsec, --strict, --reqid, --spi, --proto, --mode,
 * --tunnel-src, --tunnel-dst, --next. Like xt_policy.c: `--pol none` matches packets that were not
 * (in) / will not be (out) transformed by IPsec, `--pol ipsec` those that were. The context models
 * no IPsec SAs or policies, so every packet is plain: `none` matches, `ipsec` does not.
 */
import type { MatchOption } from '../../model.js';
import type { ExtensionBase } from '../types.js';
import { err, no, ok, opt, optionsText, yes } from '../util.js';

/** Parsed policy match. */
export interface PolicyMatch {
  pol: 'none' | 'ipsec';
  dir: 'in' | 'out';
  options: MatchOption[];
}

/** The policy match extension. */
export const policyMatch: ExtensionBase<PolicyMatch> = {
  name: 'policy',
  optionNames: ['dir', 'pol', 'strict', 'reqid', 'spi', 'proto', 'mode', 'tunnel-src', 'tunnel-dst', 'next'],
  flagOptions: ['strict', 'next'],
  parse(options) {
    const pol = opt(options, 'pol')?.args[0];
    const dir = opt(options, 'dir')?.args[0];
    if (pol !== 'none' && pol !== 'ipsec') return err(`policy: --pol must be none or ipsec`, 'pol');
    if (dir !== 'in' && dir !== 'out') return err(`policy: --dir must be in or out`, 'dir');
    return ok({ pol, dir, options });
  },
  describe: (v) => `policy match dir ${v.dir} pol ${v.pol}`,
  evaluate(v) {
    const d = `policy ${optionsText(v.options)}: no IPsec in the context (plain packet)`;
    return v.pol === 'none' ? yes(d) : no(d);
  },
};
