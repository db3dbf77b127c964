/**
 * -j NOTRACK (raw table): the packet is not tracked — state UNTRACKED, nat is never consulted
 * (nf_nat only handles tracked packets). Same as `-j CT --notrack` (xt_CT.c notrack_tg).
 */
import type { ExtensionBase } from '../types.js';
import { ok } from '../util.js';

/** The NOTRACK target extension. */
export const notrackTarget: ExtensionBase<Record<string, never>> = {
  name: 'NOTRACK',
  optionNames: [],
  tables: ['raw'],
  parse: () => ok({}),
  describe: () => 'NOTRACK',
  apply(_v, ctx) {
    ctx.packet.ctState = 'UNTRACKED';
    return { verdict: 'continue', changes: ['conntrack: UNTRACKED (nat will be skipped)'], notrack: true };
  },
};
