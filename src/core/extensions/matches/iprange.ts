/**
 * -m iprange: --src-range A-B, --dst-range A-B (negatable). Like xt_iprange.c: inclusive,
 * numeric comparison per family; each option inverted on its own.
 */
import type { ExtensionBase } from '../types.js';
import { all, err, no, ok, unknownOption, yes } from '../util.js';
import { ipCompare, parseIp, type Ip } from '../../netfilter/addr.js';

/** One range. */
export interface IpRange {
  from: Ip;
  to: Ip;
  negated: boolean;
}

/** Parsed iprange match. */
export interface IprangeMatch {
  src?: IpRange;
  dst?: IpRange;
}

const NAMES = ['src-range', 'dst-range'] as const;

function parseRange(text: string, negated: boolean): IpRange | null {
  const [a, b] = text.split('-');
  const from = parseIp(a ?? '');
  const to = parseIp(b ?? a ?? '');
  if (!from || !to || from.family !== to.family) return null;
  return { from, to, negated };
}

/** The iprange match extension. */
export const iprangeMatch: ExtensionBase<IprangeMatch> = {
  name: 'iprange',
  optionNames: NAMES,
  parse(options) {
    const bad = unknownOption<IprangeMatch>(options, NAMES, 'iprange');
    if (bad) return bad;
    const v: IprangeMatch = {};
    for (const o of options) {
      const r = parseRange(o.args[0] ?? '', o.negated);
      if (!r) return err(`iprange: invalid range "${o.args[0] ?? ''}"`, o.name);
      if (o.name === 'src-range') v.src = r;
      else v.dst = r;
    }
    return ok(v);
  },
  describe(v) {
    const p = ['iprange'];
    if (v.src) p.push(`source IP range ${v.src.negated ? '! ' : ''}${v.src.from.text}-${v.src.to.text}`);
    if (v.dst) p.push(`destination IP range ${v.dst.negated ? '! ' : ''}${v.dst.from.text}-${v.dst.to.text}`);
    return p.join(' ');
  },
  evaluate(v, ctx) {
    const rs = [];
    for (const [label, r, ip] of [
      ['src-range', v.src, ctx.packet.src],
      ['dst-range', v.dst, ctx.packet.dst],
    ] as const) {
      if (!r) continue;
      const spec = `${r.negated ? '! ' : ''}--${label} ${r.from.text}-${r.to.text}`;
      const inside = ip.family === r.from.family && ipCompare(ip, r.from) >= 0 && ipCompare(ip, r.to) <= 0;
      const detail = `${spec} ${inside ? '∋' : '∌'} ${ip.text}`;
      rs.push(inside !== r.negated ? yes(detail) : no(detail));
    }
    return all(rs, 'iprange');
  },
};
