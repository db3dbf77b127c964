/** -m cluster: depends on a hash of the source address → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The cluster match extension. */
export const clusterMatch = opaqueMatch('cluster', {
  options: ['cluster-total-nodes', 'cluster-local-node', 'cluster-local-nodemask', 'cluster-hash-seed'],
  reason: 'depends on a hash of the source address',
});
