/** -j CHECKSUM: recorded in the trace, the packet continues (XT_CONTINUE). */
import { recordTarget } from './record.js';

/** The CHECKSUM target extension. */
export const checksumTarget = recordTarget('CHECKSUM', {
  options: ['checksum-fill'],
  flags: ['checksum-fill'],
  tables: ['mangle'],
  what: () => "checksum filled in",
});
