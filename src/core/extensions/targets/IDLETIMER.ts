/** -j IDLETIMER: recorded in the trace, the packet continues (XT_CONTINUE). */
import { arg, recordTarget } from './record.js';

/** The IDLETIMER target extension. */
export const idletimerTarget = recordTarget('IDLETIMER', {
  options: ['timeout', 'label', 'alarm'],
  flags: ['alarm'],
  what: (v) => `idle timer ${arg(v, "label")} reset`,
});
