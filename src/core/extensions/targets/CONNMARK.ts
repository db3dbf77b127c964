/**
 * -j CONNMARK: --set-xmark V/M, --set-mark V[/M], --and-mark, --or-mark, --xor-mark (on the
 * conntrack mark), --save-mark [--nfmask M --ctmask M | --mask M], --restore-mark [same masks].
 * Like xt_connmark.c connmark_tg_shift (masks default to all ones):
 *   set:     ctmark = (ctmark & ~ctmask) ^ ctmark_value
 *   save:    ctmark = (ctmark & ~ctmask) ^ (mark & nfmask)
 *   restore: mark   = (mark & ~nfmask) ^ (ctmark & ctmask)
 * Without a conntrack entry (untracked, or raw before the lookup) nothing happens (XT_CONTINUE).
 */
import type { ExtensionBase } from '../types.js';
import { err, hex, ok, opt, parseUint } from '../util.js';
import { parseXmark, xmark } from './MARK.js';

/** Parsed CONNMARK target. */
export type ConnmarkTarget =
  | { mode: 'set'; mark: number; mask: number }
  | { mode: 'save' | 'restore'; nfmask: number; ctmask: number };

const NAMES = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark', 'save-mark', 'restore-mark', 'nfmask', 'ctmask', 'mask'] as const;

/** The CONNMARK target extension. */
export const connmarkTarget: ExtensionBase<ConnmarkTarget> = {
  name: 'CONNMARK',
  optionNames: NAMES,
  flagOptions: ['save-mark', 'restore-mark'],
  parse(options) {
    const setOpt = options.find((x) => ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark'].includes(x.name));
    if (setOpt) {
      const m = parseXmark(setOpt.name, setOpt.args[0]);
      if (!m) return err(`CONNMARK: invalid value "${setOpt.args[0] ?? ''}"`, setOpt.name);
      return ok({ mode: 'set', ...m });
    }
    const mode = opt(options, 'save-mark') ? 'save' : opt(options, 'restore-mark') ? 'restore' : null;
    if (!mode) return err('CONNMARK: one of --set-xmark, --set-mark, --save-mark, --restore-mark … is required');
    const both = opt(options, 'mask')?.args[0];
    const nf = parseUint(opt(options, 'nfmask')?.args[0] ?? both ?? '0xffffffff');
    const ct = parseUint(opt(options, 'ctmask')?.args[0] ?? both ?? '0xffffffff');
    if (nf === null || ct === null) return err('CONNMARK: invalid mask');
    return ok({ mode, nfmask: nf, ctmask: ct });
  },
  describe: (v) =>
    v.mode === 'set' ? `CONNMARK xset ${hex(v.mark)}/${hex(v.mask)}` : `CONNMARK ${v.mode} nfmask ${hex(v.nfmask)} ctmask ~${hex(v.ctmask)}`,
  apply(v, ctx) {
    const p = ctx.packet;
    if (!p.ctAttached || p.ctState === 'UNTRACKED') return { verdict: 'continue', changes: ['CONNMARK: no conntrack entry, nothing changed'] };
    if (v.mode === 'set') {
      const before = p.ctMark;
      p.ctMark = xmark(before, v);
      return { verdict: 'continue', changes: [`ctmark ${hex(before)} → ${hex(p.ctMark)}`] };
    }
    if (v.mode === 'save') {
      const before = p.ctMark;
      p.ctMark = ((before & ~v.ctmask) ^ (p.mark & v.nfmask)) >>> 0;
      return { verdict: 'continue', changes: [`ctmark ${hex(before)} → ${hex(p.ctMark)} (saved from mark ${hex(p.mark)})`] };
    }
    const before = p.mark;
    p.mark = ((before & ~v.nfmask) ^ (p.ctMark & v.ctmask)) >>> 0;
    return { verdict: 'continue', changes: [`mark ${hex(before)} → ${hex(p.mark)} (restored from ctmark ${hex(p.ctMark)})`] };
  },
};
