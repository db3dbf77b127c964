/** -m connlimit: counts existing connections (xt_connlimit.c) → unknown. */
import { opaqueMatch } from '../opaque.js';

/** The connlimit match extension. */
export const connlimitMatch = opaqueMatch('connlimit', {
  options: ['connlimit-upto', 'connlimit-above', 'connlimit-mask', 'connlimit-saddr', 'connlimit-daddr'],
  flags: ['connlimit-saddr', 'connlimit-daddr'],
  reason: 'number of existing connections not known',
});
