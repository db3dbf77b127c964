/** -j CLASSIFY --set-class MAJOR:MINOR: recorded in the trace, the packet continues (XT_CONTINUE; xt_CLASSIFY restricts hooks, not tables). */
import { arg, recordTarget } from './record.js';

/** The CLASSIFY target extension. */
export const classifyTarget = recordTarget('CLASSIFY', {
  options: ['set-class'],
  what: (v) => `priority (tc class) ${arg(v, "set-class")}`,
});
