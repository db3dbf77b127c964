/** -m icmpv6: the same match as icmp6, registered under the name some generators write. */
import { icmp6Named } from './icmp6.js';

/** The icmpv6 alias of the icmp6 match. */
export const icmpv6Match = icmp6Named('icmpv6');
