/** -m socket: whether a local socket matches is not modelled → unknown (kept for display). */
import { opaqueMatch } from '../opaque.js';

/** The socket match extension. */
export const socketMatch = opaqueMatch('socket', {
  options: ['transparent', 'nowildcard', 'restore-skmark'],
  flags: ['transparent', 'nowildcard', 'restore-skmark'],
  reason: 'whether a local socket matches is not modelled',
});
