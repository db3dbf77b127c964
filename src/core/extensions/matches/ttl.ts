/** -m ttl (IPv4): --ttl-eq / --ttl-lt / --ttl-gt; like ipt_ttl.c. */
import { ttlLike } from './ttlhl.js';

/** The ttl match extension. */
export const ttlMatch = ttlLike('ttl', 'ipv4');
