/** -m connlabel: conntrack labels are not modelled → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The connlabel match extension. */
export const connlabelMatch = opaqueMatch('connlabel', {
  options: ['label', 'set'],
  flags: ['set'],
  reason: 'conntrack labels are not modelled',
});
