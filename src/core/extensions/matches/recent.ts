/**
 * -m recent: --name, --set, --rcheck, --update, --remove, --seconds, --reap, --hitcount, --rttl,
 * --mask, --rsource, --rdest. Like xt_recent.c recent_mt: `--set` adds the address and always
 * matches (`ret = !ret`, so `! --set` never matches); --rcheck / --update / --remove depend on the
 * list's history → unknown.
 */
import type { MatchOption } from '../../model.js';
import type { ExtensionBase } from '../types.js';
import { keepOptions, no, optionsText, unknown, yes } from '../util.js';

/** Kept options. */
export interface RecentMatch {
  options: MatchOption[];
}

/** The recent match extension. */
export const recentMatch: ExtensionBase<RecentMatch> = {
  name: 'recent',
  optionNames: ['name', 'set', 'rcheck', 'update', 'remove', 'seconds', 'reap', 'hitcount', 'rttl', 'mask', 'rsource', 'rdest'],
  flagOptions: ['set', 'rcheck', 'update', 'remove', 'reap', 'rttl', 'rsource', 'rdest'],
  parse: (options) => keepOptions(options),
  describe: (v) => `recent: ${optionsText(v.options)}`,
  evaluate(v) {
    const set = v.options.find((o) => o.name === 'set');
    if (set) {
      const d = `recent ${optionsText(v.options)}: --set adds the address and matches`;
      return set.negated ? no(d) : yes(d);
    }
    return unknown(`recent ${optionsText(v.options)}: the list's history is not known`);
  },
};
