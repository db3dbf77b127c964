/**
 * -m length: [!] --length N[:M]. Like xt_length.c: IPv4 total length (ntohs(iph->tot_len)),
 * IPv6 payload length + 40 (sizeof ipv6hdr); inclusive range.
 */
import type { ExtensionBase } from '../types.js';
import type { Range } from '../util.js';
import { err, ok, opt, parseNumRange, rangeCheck, unknownOption } from '../util.js';

/** Parsed length match. */
export interface LengthMatch {
  range: Range;
  negated: boolean;
}

/** The length match extension. */
export const lengthMatch: ExtensionBase<LengthMatch> = {
  name: 'length',
  optionNames: ['length'],
  parse(options) {
    const bad = unknownOption<LengthMatch>(options, ['length'], 'length');
    if (bad) return bad;
    const o = opt(options, 'length');
    const r = o ? parseNumRange(o.args[0] ?? '', 65535) : null;
    if (!o || !r) return err(`length: invalid --length "${o?.args[0] ?? ''}"`, 'length');
    return ok({ range: r, negated: o.negated });
  },
  describe: (v) => `length ${v.negated ? '!' : ''}${v.range.lo === v.range.hi ? v.range.lo : `${v.range.lo}:${v.range.hi}`}`,
  evaluate: (v, ctx) => rangeCheck('length', v.range, v.negated, ctx.packet.length, 'length'),
};
