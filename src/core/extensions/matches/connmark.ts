/**
 * -m connmark: [!] --mark VALUE[/MASK] against the conntrack entry's mark. Like xt_connmark.c
 * connmark_mt: no conntrack entry (untracked, or before the lookup in raw) → false.
 */
import type { ExtensionBase } from '../types.js';
import type { ValueMask } from '../util.js';
import { err, fmtValueMask, hex, no, ok, opt, parseValueMask, unknownOption, yes } from '../util.js';

/** Parsed connmark match. */
export interface ConnmarkMatch {
  mark: ValueMask;
  negated: boolean;
}

/** The connmark match extension. */
export const connmarkMatch: ExtensionBase<ConnmarkMatch> = {
  name: 'connmark',
  optionNames: ['mark'],
  parse(options) {
    const bad = unknownOption<ConnmarkMatch>(options, ['mark'], 'connmark');
    if (bad) return bad;
    const o = opt(options, 'mark');
    const vm = parseValueMask(o?.args[0]);
    if (!o || !vm) return err(`connmark: invalid --mark "${o?.args[0] ?? ''}"`, 'mark');
    return ok({ mark: vm, negated: o.negated });
  },
  describe: (v) => `connmark match ${v.negated ? '!' : ''}${fmtValueMask(v.mark)}`,
  evaluate(v, ctx) {
    const p = ctx.packet;
    const spec = `connmark ${v.negated ? '! ' : ''}--mark ${fmtValueMask(v.mark)}`;
    if (!p.ctAttached || p.ctState === 'UNTRACKED') return no(`${spec}: no conntrack entry${p.ctAttached ? ' (untracked)' : ' yet (raw runs before conntrack)'}`);
    const m = p.ctMark;
    const hit = ((m & v.mark.mask) >>> 0) === v.mark.value;
    const detail = `${spec} ${hit ? '=' : '≠'} ctmark ${hex(m)}`;
    return hit !== v.negated ? yes(detail) : no(detail);
  },
};
