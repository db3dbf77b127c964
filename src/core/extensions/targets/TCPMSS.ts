/** -j TCPMSS: recorded in the trace, the packet continues (XT_CONTINUE). */
import { arg, recordTarget } from './record.js';

/** The TCPMSS target extension. */
export const tcpmssTarget = recordTarget('TCPMSS', {
  options: ['set-mss', 'clamp-mss-to-pmtu'],
  flags: ['clamp-mss-to-pmtu'],
  what: (v) => `TCP MSS ${arg(v, "set-mss") || "clamped to path MTU"} (SYN packets)`,
});
