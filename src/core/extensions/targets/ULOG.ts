/** -j ULOG: recorded in the trace, the packet continues (XT_CONTINUE). */
import { arg, recordTarget } from './record.js';

/** The ULOG target extension. */
export const ulogTarget = recordTarget('ULOG', {
  options: ['ulog-nlgroup', 'ulog-prefix', 'ulog-cprange', 'ulog-qthreshold'],
  what: (v) => `logged to ulog group ${arg(v, "ulog-nlgroup") || "1"}`,
});
