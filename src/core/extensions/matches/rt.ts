/** -m rt (IPv6 routing header): false for packets without one (ip6t_rt.c). */
import { ipv6ExtMatch } from './ipv6ext.js';

/** The rt match extension. */
export const rtMatch = ipv6ExtMatch('rt', 'routing', ['rt-type', 'rt-segsleft', 'rt-len', 'rt-0-res', 'rt-0-addrs', 'rt-0-not-strict'], ['rt-0-res', 'rt-0-not-strict']);
