/**
 * -j CT (raw table): --notrack, --helper NAME, --ctevents LIST, --expevents LIST, --zone-orig,
 * --zone-reply, --zone ID, --timeout NAME. Like xt_CT.c: --notrack makes the packet UNTRACKED
 * (nat skipped); the other options attach a template (helper, zone, timeouts) that the engine
 * records and continues (XT_CONTINUE).
 */
import type { MatchOption } from '../../model.js';
import type { ExtensionBase } from '../types.js';
import { ok, optionsText } from '../util.js';

/** Parsed CT target. */
export interface CtTarget {
  notrack: boolean;
  options: MatchOption[];
}

/** The CT target extension. */
export const ctTarget: ExtensionBase<CtTarget> = {
  name: 'CT',
  optionNames: ['notrack', 'helper', 'ctevents', 'expevents', 'zone-orig', 'zone-reply', 'zone', 'timeout'],
  flagOptions: ['notrack'],
  tables: ['raw'],
  parse: (options) => ok({ notrack: options.some((o) => o.name === 'notrack'), options }),
  describe: (v) => (v.notrack ? 'CT notrack' : `CT ${optionsText(v.options)}`),
  apply(v, ctx) {
    if (v.notrack) {
      ctx.packet.ctState = 'UNTRACKED';
      return { verdict: 'continue', changes: ['conntrack: UNTRACKED (nat will be skipped)'], notrack: true };
    }
    const text = `conntrack template: ${optionsText(v.options)}`;
    ctx.packet.notes.push(text);
    return { verdict: 'continue', changes: [text] };
  },
};
