/** -j ECN: recorded in the trace, the packet continues (XT_CONTINUE). */
import { recordTarget } from './record.js';

/** The ECN target extension. */
export const ecnTarget = recordTarget('ECN', {
  options: ['ecn-tcp-remove'],
  flags: ['ecn-tcp-remove'],
  tables: ['mangle'],
  what: () => "ECN bits removed",
});
