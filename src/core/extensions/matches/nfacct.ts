/**
 * -m nfacct --nfacct-name NAME. xt_nfacct.c nfacct_mt updates the accounting object's counters and
 * returns `overquota == NFACCT_UNDERQUOTA ? false : true`: an object without a quota
 * (NFACCT_NO_QUOTA) always matches; one with a quota matches only once it is over quota.
 * The engine assumes the common case (no quota) and says so in the detail.
 */
import type { ExtensionBase } from '../types.js';
import { err, ok, opt, yes } from '../util.js';

/** Parsed nfacct match. */
export interface NfacctMatch {
  name: string;
}

/** The nfacct match extension. */
export const nfacctMatch: ExtensionBase<NfacctMatch> = {
  name: 'nfacct',
  optionNames: ['nfacct-name'],
  parse(options) {
    const o = opt(options, 'nfacct-name');
    if (!o || !o.args[0]) return err('nfacct: --nfacct-name is required', 'nfacct-name');
    return ok({ name: o.args[0] });
  },
  describe: (v) => `nfacct-name ${v.name}`,
  evaluate: (v) => yes(`nfacct ${v.name}: counts and matches (an accounting object with a quota would match only when over quota)`),
};
