/** -j TOS: recorded in the trace, the packet continues (XT_CONTINUE). */
import { recordTarget } from './record.js';

/** The TOS target extension. */
export const tosTarget = recordTarget('TOS', {
  options: ['set-tos', 'and-tos', 'or-tos', 'xor-tos'],
  tables: ['mangle'],
  what: (v) => `TOS ${v.options.map((o) => `--${o.name} ${o.args.join(" ")}`).join(" ")} (TOS not modelled)`,
});
