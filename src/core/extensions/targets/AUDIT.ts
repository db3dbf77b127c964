/** -j AUDIT: recorded in the trace, the packet continues (XT_CONTINUE). */
import { arg, recordTarget } from './record.js';

/** The AUDIT target extension. */
export const auditTarget = recordTarget('AUDIT', {
  options: ['type'],
  what: (v) => `audit record (${arg(v, "type") || "accept"})`,
});
