/** -m ah --ahspi/--ahlen/--ahres: protocol checked, fields unknown (ipt_ah.c / ip6t_ah.c). */
import { protoHeaderMatch } from './ipsecproto.js';

/** The ah match extension. */
export const ahMatch = protoHeaderMatch('ah', 51, ['ahspi', 'ahlen', 'ahres'], ['ahres']);
