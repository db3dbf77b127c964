/** -m mh --mh-type (IPv6 mobility header): protocol checked, type unknown (ip6t_mh.c). */
import { protoHeaderMatch } from './ipsecproto.js';

/** The mh match extension. */
export const mhMatch = protoHeaderMatch('mh', 135, ['mh-type']);
