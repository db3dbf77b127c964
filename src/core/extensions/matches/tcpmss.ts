/** -m tcpmss: TCP options (MSS) are not modelled → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The tcpmss match extension. */
export const tcpmssMatch = opaqueMatch('tcpmss', {
  options: ['mss'],
  reason: 'TCP options (MSS) are not modelled',
});
