/** -m mark: [!] --mark VALUE[/MASK]. Like xt_mark.c mark_mt: `((skb->mark & mask) == mark) ^ invert`. */
import type { ExtensionBase } from '../types.js';
import type { ValueMask } from '../util.js';
import { err, fmtValueMask, hex, no, ok, opt, parseValueMask, unknownOption, yes } from '../util.js';

/** Parsed mark match. */
export interface MarkMatch {
  mark: ValueMask;
  negated: boolean;
}

/** The mark match extension. */
export const markMatch: ExtensionBase<MarkMatch> = {
  name: 'mark',
  optionNames: ['mark'],
  parse(options) {
    const bad = unknownOption<MarkMatch>(options, ['mark'], 'mark');
    if (bad) return bad;
    const o = opt(options, 'mark');
    const vm = parseValueMask(o?.args[0]);
    if (!o || !vm) return err(`mark: invalid --mark "${o?.args[0] ?? ''}"`, 'mark');
    return ok({ mark: vm, negated: o.negated });
  },
  describe: (v) => `mark match ${v.negated ? '!' : ''}${fmtValueMask(v.mark)}`,
  evaluate(v, ctx) {
    const m = ctx.packet.mark;
    const hit = ((m & v.mark.mask) >>> 0) === v.mark.value;
    const detail = `${v.negated ? '! ' : ''}--mark ${fmtValueMask(v.mark)} ${hit ? '=' : '≠'} ${hex(m)}${v.mark.mask !== 0xffffffff ? ` & ${hex(v.mark.mask)} = ${hex((m & v.mark.mask) >>> 0)}` : ''}`;
    return hit !== v.negated ? yes(detail) : no(detail);
  },
};
