/**
 * -m cgroup: --path PATH / --cgroup ID (negatable). Like xt_cgroup.c: needs the packet's local
 * socket; packets without one (forwarded, or before socket lookup) do not match.
 */
import type { MatchOption } from '../../model.js';
import type { ExtensionBase } from '../types.js';
import { keepOptions, no, optionsText, unknown } from '../util.js';

/** Kept options. */
export interface CgroupMatch {
  options: MatchOption[];
}

/** The cgroup match extension. */
export const cgroupMatch: ExtensionBase<CgroupMatch> = {
  name: 'cgroup',
  optionNames: ['path', 'cgroup'],
  parse: (options) => keepOptions(options),
  describe: (v) => `cgroup ${optionsText(v.options)}`,
  evaluate(v, ctx) {
    const spec = `-m cgroup ${optionsText(v.options)}`;
    if (!ctx.packet.local && ctx.hook !== 'INPUT') return no(`${spec}: the packet has no local socket`);
    return unknown(`${spec}: the socket's cgroup is not modelled`);
  },
};
