/** -m realm: routing realms are not in the context → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The realm match extension. */
export const realmMatch = opaqueMatch('realm', {
  options: ['realm'],
  reason: 'routing realms are not in the context',
});
