/** -m cpu: depends on the CPU handling the packet → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The cpu match extension. */
export const cpuMatch = opaqueMatch('cpu', {
  options: ['cpu'],
  reason: 'depends on the CPU handling the packet',
});
