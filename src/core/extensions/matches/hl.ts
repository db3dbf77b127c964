/** -m hl (IPv6): --hl-eq / --hl-lt / --hl-gt; like ip6t_hl.c. */
import { ttlLike } from './ttlhl.js';

/** The hl match extension. */
export const hlMatch = ttlLike('hl', 'ipv6');
