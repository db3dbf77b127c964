/** -m tos: the packet's TOS byte is not modelled → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The tos match extension. */
export const tosMatch = opaqueMatch('tos', {
  options: ['tos'],
  reason: "the packet's TOS byte is not modelled",
});
