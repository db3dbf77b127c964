/** -m esp --espspi: protocol checked, SPI unknown (xt_esp.c). */
import { protoHeaderMatch } from './ipsecproto.js';

/** The esp match extension. */
export const espMatch = protoHeaderMatch('esp', 50, ['espspi']);
