/** -j RATEEST: recorded in the trace, the packet continues (XT_CONTINUE). */
import { arg, recordTarget } from './record.js';

/** The RATEEST target extension. */
export const rateestTarget = recordTarget('RATEEST', {
  options: ['rateest-name', 'rateest-interval', 'rateest-ewmalog'],
  what: (v) => `rate estimator ${arg(v, "rateest-name")} updated`,
});
