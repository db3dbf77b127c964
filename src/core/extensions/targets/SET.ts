/** -j SET: recorded in the trace, the packet continues (XT_CONTINUE). */
import { recordTarget } from './record.js';

/** The SET target extension. */
export const setTarget = recordTarget('SET', {
  twoArgs: ['add-set', 'del-set', 'map-set'],
  options: ['add-set', 'del-set', 'map-set', 'exist', 'timeout', 'map-mark', 'map-prio', 'map-queue'],
  flags: ['exist', 'map-mark', 'map-prio', 'map-queue'],
  what: (v) => `ipset ${v.options.filter((o) => o.name.endsWith("-set")).map((o) => `--${o.name} ${o.args.join(" ")}`).join(" ")} (set contents change; not tracked)`,
});
