/** -m sctp: --sport / --dport like xt_sctp.c; --chunk-types kept, unknown (chunks not modelled). */
import { portMatch } from './ports.js';

/** The sctp match extension. */
export const sctpMatch = portMatch('sctp', 132, { twoArgs: ['chunk-types'], options: ['chunk-types'] });
