/** -m limit: --limit RATE, --limit-burst N. Token bucket state (xt_limit.c) is not known → unknown. */
import { opaqueMatch } from '../opaque.js';

/** The limit match extension. */
export const limitMatch = opaqueMatch('limit', {
  options: ['limit', 'limit-burst'],
  reason: 'rate-limit state (token bucket) not known',
});
