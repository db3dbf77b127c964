/**
 * -m physdev: --physdev-in / --physdev-out (with `+` wildcard), --physdev-is-in, --physdev-is-out,
 * --physdev-is-bridged, each negatable. Like xt_physdev.c physdev_mt:
 * - a packet that did not cross a bridge (no bridge info) matches only if every given option is
 *   negated (`! --physdev-is-bridged` matches routed traffic);
 * - is-bridged / is-out test the bridge output port, is-in the input port; in/out compare names.
 * The output port of a bridged packet is known only when the packet description gives it.
 */
import type { ExtensionBase, MatchResult } from '../types.js';
import { all, ifaceMatches, no, ok, unknown, unknownOption, yes } from '../util.js';

/** Parsed physdev match. */
export interface PhysdevMatch {
  in?: { name: string; negated: boolean };
  out?: { name: string; negated: boolean };
  isIn?: { negated: boolean };
  isOut?: { negated: boolean };
  isBridged?: { negated: boolean };
}

const NAMES = ['physdev-in', 'physdev-out', 'physdev-is-in', 'physdev-is-out', 'physdev-is-bridged'] as const;

/** The physdev match extension. */
export const physdevMatch: ExtensionBase<PhysdevMatch> = {
  name: 'physdev',
  optionNames: NAMES,
  flagOptions: ['physdev-is-in', 'physdev-is-out', 'physdev-is-bridged'],
  parse(options) {
    const bad = unknownOption<PhysdevMatch>(options, NAMES, 'physdev');
    if (bad) return bad;
    const v: PhysdevMatch = {};
    for (const o of options) {
      if (o.name === 'physdev-in') v.in = { name: o.args[0] ?? '', negated: o.negated };
      else if (o.name === 'physdev-out') v.out = { name: o.args[0] ?? '', negated: o.negated };
      else if (o.name === 'physdev-is-in') v.isIn = { negated: o.negated };
      else if (o.name === 'physdev-is-out') v.isOut = { negated: o.negated };
      else v.isBridged = { negated: o.negated };
    }
    return ok(v);
  },
  describe(v) {
    const p = ['PHYSDEV match'];
    if (v.in) p.push(`${v.in.negated ? '! ' : ''}--physdev-in ${v.in.name}`);
    if (v.out) p.push(`${v.out.negated ? '! ' : ''}--physdev-out ${v.out.name}`);
    if (v.isIn) p.push(`${v.isIn.negated ? '! ' : ''}--physdev-is-in`);
    if (v.isOut) p.push(`${v.isOut.negated ? '! ' : ''}--physdev-is-out`);
    if (v.isBridged) p.push(`${v.isBridged.negated ? '! ' : ''}--physdev-is-bridged`);
    return p.join(' ');
  },
  evaluate(v, ctx) {
    const p = ctx.packet;
    const hasBridgeInfo = p.physIn !== undefined || p.bridged;
    if (!hasBridgeInfo) {
      const opts = [v.in, v.out, v.isIn, v.isOut, v.isBridged].filter((x) => x !== undefined);
      const allNeg = opts.every((x) => x!.negated);
      return allNeg ? yes('physdev: packet did not cross a bridge') : no('physdev: packet did not cross a bridge');
    }
    // The bridge output port exists for bridged packets only (routed ones leave through the IP stack).
    const outKnown = !p.bridged || p.physOut !== undefined;
    const rs: MatchResult[] = [];
    if (v.isBridged) {
      const hit = p.bridged;
      rs.push(hit !== v.isBridged.negated ? yes(`${v.isBridged.negated ? '! ' : ''}--physdev-is-bridged`) : no(`${v.isBridged.negated ? '! ' : ''}--physdev-is-bridged: ${p.bridged ? 'bridged' : 'routed'}`));
    }
    if (v.isIn) {
      const hit = p.physIn !== undefined;
      rs.push(hit !== v.isIn.negated ? yes(`${v.isIn.negated ? '! ' : ''}--physdev-is-in`) : no(`${v.isIn.negated ? '! ' : ''}--physdev-is-in: ${p.physIn ?? 'no bridge port'}`));
    }
    if (v.isOut) {
      if (!outKnown) rs.push(unknown('--physdev-is-out: bridge output port not known'));
      else {
        const hit = p.bridged;
        rs.push(hit !== v.isOut.negated ? yes(`${v.isOut.negated ? '! ' : ''}--physdev-is-out`) : no(`${v.isOut.negated ? '! ' : ''}--physdev-is-out: no bridge output port`));
      }
    }
    if (v.in) {
      if (p.physIn === undefined && p.bridged) rs.push(unknown(`--physdev-in ${v.in.name}: bridge input port not known`));
      else {
        const hit = ifaceMatches(v.in.name, p.physIn);
        const d = `${v.in.negated ? '! ' : ''}--physdev-in ${v.in.name} ${hit ? '=' : '≠'} ${p.physIn ?? '(none)'}`;
        rs.push(hit !== v.in.negated ? yes(d) : no(d));
      }
    }
    if (v.out) {
      if (!outKnown) rs.push(unknown(`--physdev-out ${v.out.name}: bridge output port not known`));
      else {
        const hit = ifaceMatches(v.out.name, p.physOut);
        const d = `${v.out.negated ? '! ' : ''}--physdev-out ${v.out.name} ${hit ? '=' : '≠'} ${p.physOut ?? '(none)'}`;
        rs.push(hit !== v.out.negated ? yes(d) : no(d));
      }
    }
    return all(rs, 'physdev');
  },
};
