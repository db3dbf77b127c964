/**
 * -m multiport: --sports / --dports / --ports (alias --source-ports, --destination-ports),
 * comma lists of ports and `a:b` ranges (up to 15 entries). Like xt_multiport.c ports_match_v1:
 * the first element that contains the port decides `true ^ invert`; none → `invert`. `--ports`
 * tests the source and the destination port. Only tcp/udp/udplite/sctp/dccp packets can match.
 */
import type { ExtensionBase } from '../types.js';
import type { Range } from '../util.js';
import { err, fmtRange, no, ok, parsePortRange, unknownOption, yes } from '../util.js';
import { PORT_PROTOCOLS } from '../../netfilter/proto.js';

/** Parsed multiport match. */
export interface MultiportMatch {
  which: 'src' | 'dst' | 'any';
  ranges: Range[];
  negated: boolean;
}

const NAMES = ['sports', 'dports', 'ports', 'source-ports', 'destination-ports'] as const;

/** The multiport match extension. */
export const multiportMatch: ExtensionBase<MultiportMatch> = {
  name: 'multiport',
  optionNames: NAMES,
  parse(options) {
    const bad = unknownOption<MultiportMatch>(options, NAMES, 'multiport');
    if (bad) return bad;
    if (options.length !== 1) return err('multiport: exactly one of --sports, --dports, --ports is required');
    const o = options[0]!;
    const ranges: Range[] = [];
    for (const part of (o.args[0] ?? '').split(',')) {
      const r = parsePortRange(part);
      if (!r) return err(`multiport: invalid port "${part}"`, o.name);
      ranges.push(r);
    }
    if (ranges.length > 15) return err('multiport: too many ports specified (max 15)', o.name);
    const which = o.name === 'sports' || o.name === 'source-ports' ? 'src' : o.name === 'ports' ? 'any' : 'dst';
    return ok({ which, ranges, negated: o.negated });
  },
  describe(v) {
    const w = v.which === 'src' ? 'sports' : v.which === 'dst' ? 'dports' : 'ports';
    return `multiport ${v.negated ? '! ' : ''}${w} ${v.ranges.map(fmtRange).join(',')}`;
  },
  evaluate(v, ctx) {
    const pkt = ctx.packet;
    const w = v.which === 'src' ? 'sports' : v.which === 'dst' ? 'dports' : 'ports';
    const spec = `${v.negated ? '! ' : ''}--${w} ${v.ranges.map(fmtRange).join(',')}`;
    if (!PORT_PROTOCOLS.has(pkt.protoNum)) return no(`${spec}: ${pkt.proto} has no ports`);
    if (pkt.fragment) return no(`${spec}: non-first fragment`);
    const ports = v.which === 'src' ? [pkt.sport] : v.which === 'dst' ? [pkt.dport] : [pkt.sport, pkt.dport];
    const inside = v.ranges.some((r) => ports.some((p) => p !== undefined && p >= r.lo && p <= r.hi));
    const shown = ports.filter((p) => p !== undefined).join('/');
    const detail = `${spec} ${inside ? '∋' : '∌'} ${shown || '(none)'}`;
    return inside !== v.negated ? yes(detail) : no(detail);
  },
};
