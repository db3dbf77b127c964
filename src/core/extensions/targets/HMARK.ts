/** -j HMARK: recorded in the trace, the packet continues (XT_CONTINUE). */
import { recordTarget } from './record.js';

/** The HMARK target extension. */
export const hmarkTarget = recordTarget('HMARK', {
  options: ['hmark-tuple', 'hmark-mod', 'hmark-offset', 'hmark-src-prefix', 'hmark-dst-prefix', 'hmark-sport-mask', 'hmark-dport-mask', 'hmark-spi-mask', 'hmark-proto-mask', 'hmark-rnd'],
  what: () => "HMARK: mark set from a hash of the tuple (value not modelled)",
});
