/** -m string: packet payload is not modelled → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The string match extension. */
export const stringMatch = opaqueMatch('string', {
  options: ['algo', 'from', 'to', 'string', 'hex-string', 'icase'],
  flags: ['icase'],
  reason: 'packet payload is not modelled',
});
