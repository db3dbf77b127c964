/**
 * -j SYNPROXY --mss N --wscale N [--sack-perm] [--timestamp] [--ecn]: answers SYNs itself and
 * only lets validated connections through (xt_SYNPROXY / ipt_SYNPROXY.c consume SYNs with NF_STOLEN
 * and drop invalid ACKs). Whether a given packet passes depends on the handshake state → unknown.
 */
import type { MatchOption } from '../../model.js';
import type { ExtensionBase } from '../types.js';
import { keepOptions, optionsText } from '../util.js';

/** Kept options. */
export interface SynproxyTarget {
  options: MatchOption[];
}

/** The SYNPROXY target extension. */
export const synproxyTarget: ExtensionBase<SynproxyTarget> = {
  name: 'SYNPROXY',
  optionNames: ['mss', 'wscale', 'sack-perm', 'timestamp', 'ecn'],
  flagOptions: ['sack-perm', 'timestamp', 'ecn'],
  parse: (o) => keepOptions(o),
  describe: (v) => `SYNPROXY ${optionsText(v.options)}`,
  apply: () => ({ verdict: 'unknown', changes: [], reason: 'SYNPROXY: the outcome depends on the TCP handshake state' }),
};
