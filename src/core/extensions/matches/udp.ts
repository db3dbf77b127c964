/** -m udp (implicit with -p udp): --sport / --dport; like xt_tcpudp.c udp_mt. */
import { portMatch } from './ports.js';

/** The udp match extension. */
export const udpMatch = portMatch('udp', 17);
