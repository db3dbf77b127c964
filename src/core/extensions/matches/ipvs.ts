/** -m ipvs: IPVS connections are not modelled → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The ipvs match extension. */
export const ipvsMatch = opaqueMatch('ipvs', {
  options: ['ipvs', 'vproto', 'vaddr', 'vport', 'vdir', 'vmethod', 'vportctl'],
  flags: ['ipvs'],
  reason: 'IPVS connections are not modelled',
});
