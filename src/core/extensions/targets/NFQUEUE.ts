/**
 * -j NFQUEUE --queue-num N | --queue-balance A:B [--queue-bypass] [--queue-cpu-fanout]: the packet
 * is handed to a userspace program, which decides its verdict (xt_NFQUEUE.c returns NF_QUEUE).
 * The trace ends there with disposition `queued`.
 */
import type { ExtensionBase } from '../types.js';
import type { MatchOption } from '../../model.js';
import { keepOptions, opt, optionsText } from '../util.js';

/** Kept options. */
export interface NfqueueTarget {
  options: MatchOption[];
}

/** The NFQUEUE target extension. */
export const nfqueueTarget: ExtensionBase<NfqueueTarget> = {
  name: 'NFQUEUE',
  optionNames: ['queue-num', 'queue-balance', 'queue-bypass', 'queue-cpu-fanout', 'fail-open'],
  flagOptions: ['queue-bypass', 'queue-cpu-fanout', 'fail-open'],
  parse: (o) => keepOptions(o),
  describe: (v) => `NFQUEUE ${optionsText(v.options)}`.trim(),
  apply(v) {
    const q = opt(v.options, 'queue-num')?.args[0] ?? opt(v.options, 'queue-balance')?.args[0] ?? '0';
    const bypass = v.options.some((o) => o.name === 'queue-bypass');
    return {
      verdict: 'queue',
      changes: [`queued to userspace (queue ${q})`],
      reason: `NFQUEUE ${q}: the verdict is decided by the userspace program${bypass ? ' (--queue-bypass: accepted if none listens)' : ''}`,
    };
  },
};
