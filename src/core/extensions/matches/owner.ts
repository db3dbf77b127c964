/**
 * -m owner: --uid-owner ID[-ID], --gid-owner ID[-ID], --socket-exists, --suppl-groups; each negatable.
 * Valid in OUTPUT and POSTROUTING only. Like xt_owner.c owner_mt: a packet without a local socket
 * (forwarded traffic in POSTROUTING) matches only when every given option is negated
 * (`(info->match ^ info->invert) == 0`). For local packets, uid/gid come from the packet
 * description; unknown when it does not give them.
 */
import type { ExtensionBase, MatchResult } from '../types.js';
import type { Range } from '../util.js';
import { all, err, no, ok, unknown, unknownOption, yes } from '../util.js';

/** Parsed owner match. */
export interface OwnerMatch {
  uid?: { range: Range; negated: boolean };
  gid?: { range: Range; negated: boolean };
  socketExists?: { negated: boolean };
  supplGroups: boolean;
}

const NAMES = ['uid-owner', 'gid-owner', 'socket-exists', 'suppl-groups'] as const;
const WELL_KNOWN: Readonly<Record<string, number>> = { root: 0 };

function idRange(text: string): Range | null {
  const [a, b] = text.split('-');
  const lo = a !== undefined && /^\d+$/.test(a) ? Number(a) : WELL_KNOWN[a ?? ''];
  const hi = b === undefined ? lo : /^\d+$/.test(b) ? Number(b) : undefined;
  if (lo === undefined || hi === undefined) return null;
  return { lo, hi };
}

/** The owner match extension. */
export const ownerMatch: ExtensionBase<OwnerMatch> = {
  name: 'owner',
  optionNames: NAMES,
  flagOptions: ['socket-exists', 'suppl-groups'],
  hooks: ['OUTPUT', 'POSTROUTING'],
  parse(options) {
    const bad = unknownOption<OwnerMatch>(options, NAMES, 'owner');
    if (bad) return bad;
    const v: OwnerMatch = { supplGroups: false };
    for (const o of options) {
      if (o.name === 'uid-owner' || o.name === 'gid-owner') {
        const r = idRange(o.args[0] ?? '');
        if (!r) return err(`owner: user/group "${o.args[0] ?? ''}" is not numeric (names other than root are not resolved)`, o.name);
        if (o.name === 'uid-owner') v.uid = { range: r, negated: o.negated };
        else v.gid = { range: r, negated: o.negated };
      } else if (o.name === 'socket-exists') v.socketExists = { negated: o.negated };
      else v.supplGroups = true;
    }
    return ok(v);
  },
  describe(v) {
    const p = ['owner'];
    const r = (x: Range) => (x.lo === x.hi ? `${x.lo}` : `${x.lo}-${x.hi}`);
    if (v.uid) p.push(`${v.uid.negated ? '! ' : ''}UID match ${r(v.uid.range)}`);
    if (v.gid) p.push(`${v.gid.negated ? '! ' : ''}GID match ${r(v.gid.range)}`);
    if (v.socketExists) p.push(`${v.socketExists.negated ? '! ' : ''}socket exists`);
    return p.join(' ');
  },
  evaluate(v, ctx) {
    const p = ctx.packet;
    const given = [v.uid, v.gid, v.socketExists].filter((x) => x !== undefined);
    if (!p.local) {
      const allNeg = given.every((x) => x!.negated);
      const d = 'owner: the packet has no local socket (not locally generated)';
      return allNeg ? yes(d) : no(d);
    }
    const rs: MatchResult[] = [];
    if (v.socketExists) rs.push(v.socketExists.negated ? no('! --socket-exists: a local socket exists') : yes('--socket-exists'));
    for (const [label, x, id] of [
      ['uid-owner', v.uid, p.uid],
      ['gid-owner', v.gid, p.gid],
    ] as const) {
      if (!x) continue;
      const spec = `${x.negated ? '! ' : ''}--${label} ${x.range.lo === x.range.hi ? x.range.lo : `${x.range.lo}-${x.range.hi}`}`;
      if (id === undefined) {
        rs.push(unknown(`${spec}: the packet's ${label === 'uid-owner' ? 'uid' : 'gid'} is not given`));
        continue;
      }
      const inside = id >= x.range.lo && id <= x.range.hi;
      const d = `${spec} ${inside ? '∋' : '∌'} ${id}`;
      rs.push(inside !== x.negated ? yes(d) : no(d));
    }
    return all(rs, 'owner');
  },
};
