/** -m frag (IPv6 fragment header): false for unfragmented packets, unknown for fragments (ip6t_frag.c). */
import { ipv6ExtMatch } from './ipv6ext.js';

/** The frag match extension. */
export const fragMatch = ipv6ExtMatch('frag', 'fragment', ['fragid', 'fraglen', 'fragres', 'fragfirst', 'fragmore', 'fraglast'], ['fragres', 'fragfirst', 'fragmore', 'fraglast']);
