/**
 * -j MARK: --set-xmark V/M, --set-mark V[/M], --and-mark V, --or-mark V, --xor-mark V.
 * Like xt_MARK.c mark_tg: `skb->mark = (skb->mark & ~mask) ^ mark`, with libxt_MARK's translation:
 * set-xmark (mark=V, mask=M), set-mark (mark=V, mask=V|M; M defaults to all ones),
 * and-mark (mark=0, mask=~V), or-mark (mark=V, mask=V), xor-mark (mark=V, mask=0).
 */
import type { ExtensionBase } from '../types.js';
import { err, hex, ok, parseUint, parseValueMask } from '../util.js';

/** Parsed MARK target (kernel form). */
export interface MarkTarget {
  mark: number;
  mask: number;
  /** As written, for display. */
  text: string;
}

/** Parse the mark-setting options shared by MARK and CONNMARK's set forms. */
export function parseXmark(name: string, arg: string | undefined): { mark: number; mask: number } | null {
  if (name === 'set-xmark') {
    const vm = parseValueMask(arg);
    return vm ? { mark: vm.value, mask: vm.mask } : null;
  }
  if (name === 'set-mark') {
    const vm = parseValueMask(arg);
    return vm ? { mark: vm.value, mask: (vm.mask | vm.value) >>> 0 } : null;
  }
  const v = parseUint(arg);
  if (v === null) return null;
  if (name === 'and-mark') return { mark: 0, mask: ~v >>> 0 };
  if (name === 'or-mark') return { mark: v, mask: v };
  if (name === 'xor-mark') return { mark: v, mask: 0 };
  return null;
}

/** `(old & ~mask) ^ mark`. */
export function xmark(old: number, m: { mark: number; mask: number }): number {
  return ((old & ~m.mask) ^ m.mark) >>> 0;
}

const NAMES = ['set-xmark', 'set-mark', 'and-mark', 'or-mark', 'xor-mark'] as const;

/** The MARK target extension. */
export const markTarget: ExtensionBase<MarkTarget> = {
  name: 'MARK',
  optionNames: NAMES,
  parse(options) {
    const o = options.find((x) => (NAMES as readonly string[]).includes(x.name));
    if (!o) return err('MARK: one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark is required');
    const m = parseXmark(o.name, o.args[0]);
    if (!m) return err(`MARK: invalid value "${o.args[0] ?? ''}"`, o.name);
    return ok({ ...m, text: `--${o.name} ${o.args[0]}` });
  },
  describe: (v) => `MARK xset ${hex(v.mark)}/${hex(v.mask)}`,
  apply(v, ctx) {
    const before = ctx.packet.mark;
    ctx.packet.mark = xmark(before, v);
    return { verdict: 'continue', changes: before === ctx.packet.mark ? [`mark stays ${hex(before)}`] : [`mark ${hex(before)} → ${hex(ctx.packet.mark)}`] };
  },
};
