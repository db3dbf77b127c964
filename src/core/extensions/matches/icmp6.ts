/**
 * -m icmp6 (implicit with -p ipv6-icmp / icmpv6): --icmpv6-type name | N | N/M. Like ip6_tables.c
 * icmp6_type_code_match: `(type == t && min <= code <= max) ^ invert` (no `any` wildcard).
 */
import type { ExtensionBase } from '../types.js';
import { err, no, ok, unknownOption } from '../util.js';
import { icmpCompare } from './icmp.js';
import { fmtIcmp, ICMP6_NAMES, parseIcmpType, type IcmpTypeCode } from './icmp-types.js';

/** Parsed icmp6 match. */
export interface Icmp6Match {
  type: IcmpTypeCode;
  negated: boolean;
}

/** Build the icmp6 match under a module name (`icmp6`; `icmpv6` as some tools spell it). */
export function icmp6Named(name: string): ExtensionBase<Icmp6Match> {
  return {
    name,
    families: ['ipv6'],
    optionNames: ['icmpv6-type'],
    parse(options) {
      const bad = unknownOption<Icmp6Match>(options, ['icmpv6-type'], name);
      if (bad) return bad;
      const o = options[0];
      if (!o) return err(`${name}: --icmpv6-type is required`);
      const ty = parseIcmpType(o.args[0] ?? '', ICMP6_NAMES);
      if (!ty) return err(`${name}: invalid ICMPv6 type "${o.args[0] ?? ''}"`, o.name);
      return ok({ type: ty, negated: o.negated });
    },
    describe: (v) => `ipv6-icmp ${v.negated ? '!' : ''}type ${fmtIcmp(v.type)}`,
    evaluate(v, ctx) {
      const pkt = ctx.packet;
      const spec = `${v.negated ? '! ' : ''}--icmpv6-type ${fmtIcmp(v.type)}`;
      if (pkt.protoNum !== 58) return no(`${spec}: packet is ${pkt.proto}, not ipv6-icmp`);
      return icmpCompare(spec, v.type, v.negated, pkt.icmpType ?? 128, pkt.icmpCode ?? 0, false);
    },
  };
}

/** The icmp6 match extension. */
export const icmp6Match = icmp6Named('icmp6');
