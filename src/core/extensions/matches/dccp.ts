/** -m dccp: --sport / --dport like xt_dccp.c; --dccp-types / --dccp-option kept, unknown. */
import { portMatch } from './ports.js';

/** The dccp match extension. */
export const dccpMatch = portMatch('dccp', 33, { options: ['dccp-types', 'dccp-option'] });
