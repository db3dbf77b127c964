/** -j CLASSIFY: recorded in the trace, the packet continues (XT_CONTINUE). */
import { arg, recordTarget } from './record.js';

/** The CLASSIFY target extension. */
export const classifyTarget = recordTarget('CLASSIFY', {
  options: ['set-class'],
  tables: ['mangle'],
  what: (v) => `priority (tc class) ${arg(v, "set-class")}`,
});
