/** -m ecn: ECN bits are not modelled → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The ecn match extension. */
export const ecnMatch = opaqueMatch('ecn', {
  options: ['ecn-tcp-cwr', 'ecn-tcp-ece', 'ecn-ip-ect'],
  flags: ['ecn-tcp-cwr', 'ecn-tcp-ece'],
  reason: 'ECN bits are not modelled',
});
