/** -m udplite: --sport / --dport (xt_tcpudp.c registers udp_mt for IPPROTO_UDPLITE too). */
import { portMatch } from './ports.js';

/** The udplite match extension. */
export const udpliteMatch = portMatch('udplite', 136);
