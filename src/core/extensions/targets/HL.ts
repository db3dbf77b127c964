/** -j HL (IPv6, mangle): --hl-set / --hl-dec / --hl-inc (xt_HL.c). */
import { ttlTargetNamed } from './ttlhl.js';

/** The HL target extension. */
export const hlTarget = ttlTargetNamed('HL');
