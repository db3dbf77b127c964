/** -m connbytes: the flow's byte/packet counters (xt_connbytes.c) → unknown. */
import { opaqueMatch } from '../opaque.js';

/** The connbytes match extension. */
export const connbytesMatch = opaqueMatch('connbytes', {
  options: ['connbytes', 'connbytes-dir', 'connbytes-mode'],
  reason: "the flow's counters are not known",
});
