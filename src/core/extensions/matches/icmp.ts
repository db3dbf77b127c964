/**
 * -m icmp (implicit with -p icmp): --icmp-type TYPE[/CODE] or a name. Like ip_tables.c
 * icmp_match / icmp_type_code_match: `(type == t && min <= code <= max) ^ invert`; type 255
 * (`any`) matches every type; non-first fragments never match.
 */
import type { ExtensionBase, MatchResult } from '../types.js';
import { err, no, ok, unknownOption, yes } from '../util.js';
import { fmtIcmp, ICMP_NAMES, parseIcmpType, type IcmpTypeCode } from './icmp-types.js';

/** Parsed icmp match. */
export interface IcmpMatch {
  type: IcmpTypeCode;
  negated: boolean;
}

/** The icmp match extension. */
export const icmpMatch: ExtensionBase<IcmpMatch> = {
  name: 'icmp',
  families: ['ipv4'],
  optionNames: ['icmp-type'],
  parse(options) {
    const bad = unknownOption<IcmpMatch>(options, ['icmp-type'], 'icmp');
    if (bad) return bad;
    const o = options[0];
    if (!o) return ok({ type: { type: 255, codeMin: 0, codeMax: 255 }, negated: false });
    const ty = parseIcmpType(o.args[0] ?? '', ICMP_NAMES);
    if (!ty) return err(`icmp: invalid ICMP type "${o.args[0] ?? ''}"`, o.name);
    return ok({ type: ty, negated: o.negated });
  },
  describe: (v) => `icmp ${v.negated ? '!' : ''}type ${fmtIcmp(v.type)}`,
  evaluate(v, ctx) {
    const pkt = ctx.packet;
    const spec = `${v.negated ? '! ' : ''}--icmp-type ${fmtIcmp(v.type)}`;
    if (pkt.protoNum !== 1) return no(`${spec}: packet is ${pkt.proto}, not icmp`);
    if (pkt.fragment) return no(`${spec}: non-first fragment`);
    return icmpCompare(spec, v.type, v.negated, pkt.icmpType ?? 8, pkt.icmpCode ?? 0, true);
  },
};

/** Shared comparison (icmp and icmp6). `anyType`: type 255 is a wildcard (IPv4 only). */
export function icmpCompare(spec: string, t: IcmpTypeCode, negated: boolean, type: number, code: number, anyType: boolean): MatchResult {
  const hit = (anyType && t.type === 255) || (t.type === type && code >= t.codeMin && code <= t.codeMax);
  const detail = `${spec} ${hit ? '=' : '≠'} ${type}/${code}`;
  return hit !== negated ? yes(detail) : no(detail);
}
