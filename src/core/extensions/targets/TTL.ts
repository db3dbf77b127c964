/** -j TTL (IPv4, mangle): --ttl-set / --ttl-dec / --ttl-inc (xt_HL.c). */
import { ttlTargetNamed } from './ttlhl.js';

/** The TTL target extension. */
export const ttlTarget = ttlTargetNamed('TTL');
