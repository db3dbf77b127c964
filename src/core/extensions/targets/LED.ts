/** -j LED: recorded in the trace, the packet continues (XT_CONTINUE). */
import { arg, recordTarget } from './record.js';

/** The LED target extension. */
export const ledTarget = recordTarget('LED', {
  options: ['led-trigger-id', 'led-delay', 'led-always-blink'],
  flags: ['led-always-blink'],
  what: (v) => `LED ${arg(v, "led-trigger-id")} blinks`,
});
