/**
 * Shared code of the IPv6 extension-header matches rt, hbh, dst, frag. The packets iptscope
 * describes carry no extension headers (except a fragment header when `fragment` is set): like
 * ip6t_rt.c / ip6t_hbh.c / ip6t_frag.c, `ipv6_find_hdr` fails with -ENOENT and the match is false.
 */
import type { MatchOption } from '../../model.js';
import type { ExtensionBase } from '../types.js';
import { keepOptions, no, optionsText, unknown } from '../util.js';

/** Kept options. */
export interface Ipv6ExtMatch {
  options: MatchOption[];
}

/** Build an extension-header match. `header` names the header for messages. */
export function ipv6ExtMatch(name: string, header: string, options: readonly string[], flags: readonly string[] = []): ExtensionBase<Ipv6ExtMatch> {
  return {
    name,
    families: ['ipv6'],
    optionNames: options,
    ...(flags.length ? { flagOptions: flags } : {}),
    parse: (opts) => keepOptions(opts),
    describe: (v) => `${name} ${optionsText(v.options)}`.trim(),
    evaluate(v, ctx) {
      const spec = `-m ${name} ${optionsText(v.options)}`.trim();
      if (name === 'frag' && ctx.packet.fragment) return unknown(`${spec}: fragment header fields are not modelled`);
      return no(`${spec}: the packet has no ${header} header`);
    },
  };
}
