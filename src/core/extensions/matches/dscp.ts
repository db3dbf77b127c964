/** -m dscp: the packet's DSCP is not modelled → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The dscp match extension. */
export const dscpMatch = opaqueMatch('dscp', {
  options: ['dscp', 'dscp-class'],
  reason: "the packet's DSCP is not modelled",
});
