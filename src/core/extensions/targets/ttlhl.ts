/**
 * Shared code of -j TTL (--ttl-set/--ttl-dec/--ttl-inc) and -j HL (--hl-set/--hl-dec/--hl-inc),
 * mangle table. Like xt_HL.c: the new value is clamped to 0..255.
 */
import type { ExtensionBase } from '../types.js';
import { err, ok, parseUint } from '../util.js';

/** Parsed TTL/HL target. */
export interface TtlTarget {
  op: 'set' | 'dec' | 'inc';
  value: number;
}

/** Build the TTL or HL target. */
export function ttlTargetNamed(name: 'TTL' | 'HL'): ExtensionBase<TtlTarget> {
  const p = name.toLowerCase();
  const names = [`${p}-set`, `${p}-dec`, `${p}-inc`];
  return {
    name,
    optionNames: names,
    tables: ['mangle'],
    parse(options) {
      const o = options.find((x) => names.includes(x.name));
      const n = parseUint(o?.args[0], 255);
      if (!o || n === null) return err(`${name}: one of --${names.join(', --')} with a value 0-255 is required`);
      return ok({ op: o.name.slice(p.length + 1) as TtlTarget['op'], value: n });
    },
    describe: (v) => `${name} ${v.op} ${v.value}`,
    apply(v, ctx) {
      const before = ctx.packet.ttl;
      const after = v.op === 'set' ? v.value : v.op === 'dec' ? Math.max(0, before - v.value) : Math.min(255, before + v.value);
      ctx.packet.ttl = after;
      return { verdict: 'continue', changes: [`${p} ${before} → ${after}`] };
    },
  };
}
