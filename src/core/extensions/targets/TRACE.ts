/** -j TRACE: recorded in the trace, the packet continues (XT_CONTINUE). */
import { recordTarget } from './record.js';

/** The TRACE target extension. */
export const traceTarget = recordTarget('TRACE', {
  options: [],
  tables: ['raw'],
  what: () => "TRACE: the kernel logs every rule this packet traverses",
});
