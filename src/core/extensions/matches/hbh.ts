/** -m hbh (IPv6 hop-by-hop options header): false for packets without one (ip6t_hbh.c). */
import { ipv6ExtMatch } from './ipv6ext.js';

/** The hbh match extension. */
export const hbhMatch = ipv6ExtMatch('hbh', 'hop-by-hop options', ['hbh-len', 'hbh-opts']);
