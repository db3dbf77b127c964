/** -m dst (IPv6 destination options header): false for packets without one (ip6t_hbh.c, dst variant). */
import { ipv6ExtMatch } from './ipv6ext.js';

/** The dst match extension. */
export const dstMatch = ipv6ExtMatch('dst', 'destination options', ['dst-len', 'dst-opts']);
