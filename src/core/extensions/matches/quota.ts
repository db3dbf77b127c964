/** -m quota: quota counter state not known → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The quota match extension. */
export const quotaMatch = opaqueMatch('quota', {
  options: ['quota'],
  reason: 'quota counter state not known',
});
