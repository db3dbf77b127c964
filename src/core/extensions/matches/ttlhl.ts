/**
 * Shared code of -m ttl (IPv4: --ttl-eq/--ttl-lt/--ttl-gt, `! --ttl-eq` is "not equal") and -m hl
 * (IPv6: --hl-eq/--hl-lt/--hl-gt). Like xt ipt_ttl.c / ip6t_hl.c: a single comparison of the
 * header's TTL / hop limit.
 */
import type { ExtensionBase } from '../types.js';
import { err, no, ok, parseUint, yes } from '../util.js';

/** Parsed ttl / hl match. */
export interface TtlMatch {
  op: 'eq' | 'ne' | 'lt' | 'gt';
  value: number;
}

/** Build the ttl or hl match. */
export function ttlLike(name: 'ttl' | 'hl', family: 'ipv4' | 'ipv6'): ExtensionBase<TtlMatch> {
  const names = [`${name}-eq`, `${name}-lt`, `${name}-gt`];
  const sym = { eq: '==', ne: '!=', lt: '<', gt: '>' } as const;
  return {
    name,
    families: [family],
    optionNames: names,
    parse(options) {
      const o = options[0];
      if (!o || options.length !== 1 || !names.includes(o.name)) return err(`${name}: exactly one of --${names.join(', --')} is required`);
      const n = parseUint(o.args[0], 255);
      if (n === null) return err(`${name}: invalid value "${o.args[0] ?? ''}"`, o.name);
      const base = o.name.slice(name.length + 1) as 'eq' | 'lt' | 'gt';
      if (o.negated && base !== 'eq') return err(`${name}: only --${name}-eq can be negated`, o.name);
      return ok({ op: o.negated ? 'ne' : base, value: n });
    },
    describe: (v) => `${name.toUpperCase()} match ${name.toUpperCase()} ${sym[v.op]} ${v.value}`,
    evaluate(v, ctx) {
      const t = ctx.packet.ttl;
      const hit = v.op === 'eq' ? t === v.value : v.op === 'ne' ? t !== v.value : v.op === 'lt' ? t < v.value : t > v.value;
      const d = `${name} ${sym[v.op]} ${v.value}: ${name} is ${t}`;
      return hit ? yes(d) : no(d);
    },
  };
}
