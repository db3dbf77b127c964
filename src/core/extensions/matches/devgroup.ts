/** -m devgroup: interface groups are not in the context → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The devgroup match extension. */
export const devgroupMatch = opaqueMatch('devgroup', {
  options: ['src-group', 'dst-group'],
  reason: 'interface groups are not in the context',
});
