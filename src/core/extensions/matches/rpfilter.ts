/**
 * -m rpfilter: --loose, --validmark, --accept-local, --invert (raw/mangle PREROUTING). Like
 * xt_rpfilter.c: a reverse route lookup of the source address; strict mode needs the route's
 * device to be the input device, --loose any route; --accept-local accepts local sources;
 * loopback input always passes. Decided from the context's routes; unknown when they are unknown.
 */
import type { ExtensionBase } from '../types.js';
import { no, ok, unknown, yes } from '../util.js';

/** Parsed rpfilter match. */
export interface RpfilterMatch {
  loose: boolean;
  validmark: boolean;
  acceptLocal: boolean;
  invert: boolean;
}

/** The rpfilter match extension. */
export const rpfilterMatch: ExtensionBase<RpfilterMatch> = {
  name: 'rpfilter',
  optionNames: ['loose', 'validmark', 'accept-local', 'invert'],
  flagOptions: ['loose', 'validmark', 'accept-local', 'invert'],
  hooks: ['PREROUTING'],
  parse: (o) =>
    ok({
      loose: o.some((x) => x.name === 'loose'),
      validmark: o.some((x) => x.name === 'validmark'),
      acceptLocal: o.some((x) => x.name === 'accept-local'),
      invert: o.some((x) => x.name === 'invert'),
    }),
  describe: (v) => `rpfilter${v.loose ? ' loose' : ''}${v.validmark ? ' validmark' : ''}${v.acceptLocal ? ' accept-local' : ''}${v.invert ? ' invert' : ''}`,
  evaluate(v, ctx) {
    const p = ctx.packet;
    const spec = `rpfilter${v.loose ? ' --loose' : ''}${v.acceptLocal ? ' --accept-local' : ''}${v.invert ? ' --invert' : ''}`;
    const out = (pass: boolean, why: string) => (pass !== v.invert ? yes(`${spec}: ${why}`) : no(`${spec}: ${why}`));
    if (p.iif === 'lo' || p.local) return out(true, 'loopback');
    const at = ctx.host.addrTypes(p.src);
    if (!('unknown' in at) && at.types.has('LOCAL')) return out(v.acceptLocal, `source ${p.src.text} is local`);
    const r = ctx.host.routeDev(p.src);
    if ('unknown' in r) return unknown(`${spec}: ${r.unknown}`);
    if (r.dev === null) return out(false, `no route back to ${p.src.text}`);
    if (v.loose) return out(true, `route back to ${p.src.text} via ${r.dev}`);
    return out(r.dev === p.iif, `route back to ${p.src.text} via ${r.dev}${r.dev === p.iif ? '' : `, not ${p.iif ?? '?'}`}`);
  },
};
