/** -j NFLOG: recorded in the trace, the packet continues (XT_CONTINUE). */
import { arg, recordTarget } from './record.js';

/** The NFLOG target extension. */
export const nflogTarget = recordTarget('NFLOG', {
  options: ['nflog-group', 'nflog-prefix', 'nflog-range', 'nflog-size', 'nflog-threshold'],
  what: (v) => `logged to nflog group ${arg(v, "nflog-group") || "0"}${arg(v, "nflog-prefix") ? ` "${arg(v, "nflog-prefix")}"` : ""}`,
});
