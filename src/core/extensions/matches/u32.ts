/** -m u32: packet payload tests are not modelled → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The u32 match extension. */
export const u32Match = opaqueMatch('u32', {
  options: ['u32'],
  reason: 'packet payload tests are not modelled',
});
