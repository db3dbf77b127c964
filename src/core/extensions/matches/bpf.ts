/** -m bpf: BPF programs are not evaluated → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The bpf match extension. */
export const bpfMatch = opaqueMatch('bpf', {
  options: ['bytecode', 'object-pinned'],
  reason: 'BPF programs are not evaluated',
});
