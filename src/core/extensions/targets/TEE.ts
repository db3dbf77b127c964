/** -j TEE: recorded in the trace, the packet continues (XT_CONTINUE). */
import { arg, recordTarget } from './record.js';

/** The TEE target extension. */
export const teeTarget = recordTarget('TEE', {
  options: ['gateway', 'oif'],
  tables: ['mangle'],
  what: (v) => `a copy is sent to ${arg(v, "gateway")}`,
});
