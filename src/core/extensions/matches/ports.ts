/**
 * Shared code for the port matches of udp, sctp, dccp and udplite (xt_tcpudp.c udp_mt,
 * xt_sctp.c, xt_dccp.c): --sport / --dport inclusive ranges with negation; non-first fragments
 * never match. Extra module-specific options (sctp --chunk-types, dccp --dccp-types) are kept and
 * evaluate to unknown (chunk and header contents are not modelled).
 */
import type { MatchOption } from '../../model.js';
import type { ExtensionBase } from '../types.js';
import type { Range } from '../util.js';
import { all, err, fmtRange, no, ok, optionsText, parsePortRange, rangeCheck, unknown, unknownOption } from '../util.js';

/** Parsed port match. */
export interface PortMatch {
  sport?: { range: Range; negated: boolean };
  dport?: { range: Range; negated: boolean };
  extra: MatchOption[];
}

/** Build a port-match extension for a protocol. */
export function portMatch(
  name: string,
  protoNum: number,
  extra: { options?: readonly string[]; flags?: readonly string[]; twoArgs?: readonly string[] } = {},
): ExtensionBase<PortMatch> {
  const names = ['sport', 'dport', 'source-port', 'destination-port', ...(extra.options ?? [])];
  return {
    name,
    optionNames: names,
    ...(extra.flags ? { flagOptions: extra.flags } : {}),
    ...(extra.twoArgs ? { twoArgOptions: extra.twoArgs } : {}),
    parse(options) {
      const bad = unknownOption<PortMatch>(options, names, name);
      if (bad) return bad;
      const v: PortMatch = { extra: [] };
      for (const o of options) {
        if (['sport', 'source-port', 'dport', 'destination-port'].includes(o.name)) {
          const r = parsePortRange(o.args[0] ?? '');
          if (!r) return err(`${name}: invalid port "${o.args[0] ?? ''}"`, o.name);
          if (o.name === 'sport' || o.name === 'source-port') v.sport = { range: r, negated: o.negated };
          else v.dport = { range: r, negated: o.negated };
        } else v.extra.push(o);
      }
      return ok(v);
    },
    describe(v) {
      const p: string[] = [name];
      if (v.sport) p.push(`${v.sport.negated ? '!' : ''}spt:${fmtRange(v.sport.range)}`);
      if (v.dport) p.push(`${v.dport.negated ? '!' : ''}dpt:${fmtRange(v.dport.range)}`);
      if (v.extra.length) p.push(optionsText(v.extra));
      return p.join(' ');
    },
    evaluate(v, ctx) {
      const pkt = ctx.packet;
      if (pkt.protoNum !== protoNum) return no(`${name}: packet is ${pkt.proto}, not ${name}`);
      if (pkt.fragment) return no(`${name}: non-first fragment has no ${name} header`);
      const rs = [];
      if (v.sport) rs.push(rangeCheck('sport', v.sport.range, v.sport.negated, pkt.sport, 'source port'));
      if (v.dport) rs.push(rangeCheck('dport', v.dport.range, v.dport.negated, pkt.dport, 'destination port'));
      if (v.extra.length) rs.push(unknown(`${optionsText(v.extra)}: ${name} header contents are not modelled`));
      return all(rs, name);
    },
  };
}
