/** -j SECMARK: recorded in the trace, the packet continues (XT_CONTINUE). */
import { arg, recordTarget } from './record.js';

/** The SECMARK target extension. */
export const secmarkTarget = recordTarget('SECMARK', {
  options: ['selctx'],
  tables: ['mangle', 'security'],
  what: (v) => `security mark ${arg(v, "selctx")}`,
});
