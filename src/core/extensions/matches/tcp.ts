/**
 * -m tcp (implicit with -p tcp): --sport, --dport (ranges, negation), --tcp-flags MASK COMP, --syn,
 * --tcp-option. Like xt_tcpudp.c tcp_mt: non-first fragments never match; ports are inclusive
 * ranges; flags test is `(flags & mask) == comp`, each option inverted on its own.
 */
import type { ExtensionBase } from '../types.js';
import type { Range } from '../util.js';
import { err, fmtRange, no, ok, opt, parsePortRange, parseUint, rangeCheck, unknown, unknownOption, yes, all } from '../util.js';
import { formatTcpFlags, parseTcpFlags, TCP_FLAGS } from '../../netfilter/proto.js';

/** Parsed tcp match. */
export interface TcpMatch {
  sport?: { range: Range; negated: boolean };
  dport?: { range: Range; negated: boolean };
  flags?: { mask: number; comp: number; negated: boolean };
  option?: { kind: number; negated: boolean };
}

const NAMES = ['sport', 'dport', 'source-port', 'destination-port', 'tcp-flags', 'syn', 'tcp-option'] as const;

/** The tcp match extension. */
export const tcpMatch: ExtensionBase<TcpMatch> = {
  name: 'tcp',
  optionNames: NAMES,
  flagOptions: ['syn'],
  twoArgOptions: ['tcp-flags'],
  parse(options) {
    const bad = unknownOption<TcpMatch>(options, NAMES, 'tcp');
    if (bad) return bad;
    const v: TcpMatch = {};
    for (const o of options) {
      if (o.name === 'sport' || o.name === 'source-port' || o.name === 'dport' || o.name === 'destination-port') {
        const r = parsePortRange(o.args[0] ?? '');
        if (!r) return err(`tcp: invalid port "${o.args[0] ?? ''}"`, o.name);
        if (o.name === 'sport' || o.name === 'source-port') v.sport = { range: r, negated: o.negated };
        else v.dport = { range: r, negated: o.negated };
      } else if (o.name === 'tcp-flags') {
        const mask = parseTcpFlags(o.args[0] ?? '');
        const comp = parseTcpFlags(o.args[1] ?? '');
        if (mask === null || comp === null) return err(`tcp: invalid --tcp-flags "${o.args.join(' ')}"`, o.name);
        v.flags = { mask, comp, negated: o.negated };
      } else if (o.name === 'syn') {
        v.flags = { mask: TCP_FLAGS.SYN! | TCP_FLAGS.RST! | TCP_FLAGS.ACK! | TCP_FLAGS.FIN!, comp: TCP_FLAGS.SYN!, negated: o.negated };
      } else if (o.name === 'tcp-option') {
        const k = parseUint(o.args[0], 255);
        if (k === null) return err(`tcp: invalid --tcp-option "${o.args[0] ?? ''}"`, o.name);
        v.option = { kind: k, negated: o.negated };
      }
    }
    return ok(v);
  },
  describe(v) {
    const p: string[] = ['tcp'];
    if (v.sport) p.push(`${v.sport.negated ? '!' : ''}spt:${fmtRange(v.sport.range)}`);
    if (v.dport) p.push(`${v.dport.negated ? '!' : ''}dpt:${fmtRange(v.dport.range)}`);
    if (v.flags) p.push(`${v.flags.negated ? '!' : ''}flags:${formatTcpFlags(v.flags.mask)}/${formatTcpFlags(v.flags.comp)}`);
    if (v.option) p.push(`${v.option.negated ? '!' : ''}option=${v.option.kind}`);
    return p.join(' ');
  },
  evaluate(v, ctx) {
    const pkt = ctx.packet;
    if (pkt.protoNum !== 6) return no(`tcp: packet is ${pkt.proto}, not tcp`);
    if (pkt.fragment) return no('tcp: non-first fragment has no tcp header');
    const rs = [];
    if (v.sport) rs.push(rangeCheck('sport', v.sport.range, v.sport.negated, pkt.sport, 'source port'));
    if (v.dport) rs.push(rangeCheck('dport', v.dport.range, v.dport.negated, pkt.dport, 'destination port'));
    if (v.flags) {
      const hit = (pkt.tcpFlags & v.flags.mask) === v.flags.comp;
      const spec = `${v.flags.negated ? '! ' : ''}--tcp-flags ${formatTcpFlags(v.flags.mask)} ${formatTcpFlags(v.flags.comp)}`;
      const detail = `${spec}: flags ${formatTcpFlags(pkt.tcpFlags)}`;
      rs.push(hit !== v.flags.negated ? yes(detail) : no(detail));
    }
    if (v.option) rs.push(unknown(`--tcp-option ${v.option.kind}: TCP options are not modelled`));
    return all(rs, 'tcp');
  },
};
