/** -j CONNSECMARK: recorded in the trace, the packet continues (XT_CONTINUE). */
import { recordTarget } from './record.js';

/** The CONNSECMARK target extension. */
export const connsecmarkTarget = recordTarget('CONNSECMARK', {
  options: ['save', 'restore'],
  flags: ['save', 'restore'],
  tables: ['mangle', 'security'],
  what: (v) => `connection security mark ${v.options.map((o) => o.name).join(",")}`,
});
