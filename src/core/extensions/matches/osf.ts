/** -m osf: passive OS fingerprinting is not modelled → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The osf match extension. */
export const osfMatch = opaqueMatch('osf', {
  options: ['genre', 'ttl', 'log'],
  reason: 'passive OS fingerprinting is not modelled',
});
