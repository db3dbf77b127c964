/** -j DSCP: recorded in the trace, the packet continues (XT_CONTINUE). */
import { recordTarget } from './record.js';

/** The DSCP target extension. */
export const dscpTarget = recordTarget('DSCP', {
  options: ['set-dscp', 'set-dscp-class'],
  tables: ['mangle'],
  what: (v) => `DSCP ${v.options.map((o) => `--${o.name} ${o.args.join(" ")}`).join(" ")} (DSCP not modelled)`,
});
