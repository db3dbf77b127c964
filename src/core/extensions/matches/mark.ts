/** -m mark: [!] --mark VALUE[/MASK]. Like xt_mark.c mark_mt: `((skb->mark & mask) == mark) ^ invert`. */
import type { ExtensionBase, MatchResult } from '../types.js';
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
    // The last result per match (the mark rarely changes between evaluations); read-only.
    const memo = lastOf(v);
    if (memo.result !== null && memo.mark === m) return memo.result;
    const hit = ((m & v.mark.mask) >>> 0) === v.mark.value;
    const detail = `${v.negated ? '! ' : ''}--mark ${fmtValueMask(v.mark)} ${hit ? '=' : '≠'} ${hex(m)}${v.mark.mask !== 0xffffffff ? ` & ${hex(v.mark.mask)} = ${hex((m & v.mark.mask) >>> 0)}` : ''}`;
    const res = hit !== v.negated ? yes(detail) : no(detail);
    memo.mark = m;
    memo.result = res;
    return res;
  },
};

const LAST: unique symbol = Symbol('iptscope.markLast');
interface Last {
  mark: number;
  result: MatchResult | null;
}

function lastOf(v: MarkMatch): Last {
  const h = (v as { [LAST]?: Last })[LAST];
  if (h !== undefined) return h;
  const l: Last = { mark: 0, result: null };
  Object.defineProperty(v, LAST, { value: l, enumerable: false, writable: false });
  return l;
}
