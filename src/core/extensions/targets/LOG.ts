/** -j LOG: recorded in the trace, the packet continues (XT_CONTINUE). */
import { arg, recordTarget } from './record.js';

/** The LOG target extension. */
export const logTarget = recordTarget('LOG', {
  options: ['log-level', 'log-prefix', 'log-tcp-sequence', 'log-tcp-options', 'log-ip-options', 'log-uid', 'log-macdecode'],
  flags: ['log-tcp-sequence', 'log-tcp-options', 'log-ip-options', 'log-uid', 'log-macdecode'],
  what: (v) => `logged${arg(v, "log-prefix") ? ` "${arg(v, "log-prefix")}"` : ""} (kernel log)`,
});
