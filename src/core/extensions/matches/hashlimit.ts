/** -m hashlimit: per-flow token buckets (xt_hashlimit.c); their state is not known → unknown. */
import { opaqueMatch } from '../opaque.js';

/** The hashlimit match extension. */
export const hashlimitMatch = opaqueMatch('hashlimit', {
  options: [
    'hashlimit', 'hashlimit-upto', 'hashlimit-above', 'hashlimit-burst', 'hashlimit-mode', 'hashlimit-srcmask',
    'hashlimit-dstmask', 'hashlimit-name', 'hashlimit-htable-size', 'hashlimit-htable-max', 'hashlimit-htable-expire',
    'hashlimit-htable-gcinterval', 'hashlimit-rate-match', 'hashlimit-rate-interval',
  ],
  flags: ['hashlimit-rate-match'],
  reason: 'per-flow rate state not known',
});
