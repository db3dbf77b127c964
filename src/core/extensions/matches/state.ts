/**
 * -m state: --state LIST (INVALID, ESTABLISHED, NEW, RELATED, UNTRACKED). Like xt_state.c
 * state_mt: untracked → UNTRACKED; no conntrack entry (raw table before the lookup) → INVALID;
 * else the entry's state. `! --state` inverts.
 */
import type { CtState } from '../../netfilter/types.js';
import type { EvalPacket, ExtensionBase } from '../types.js';
import { err, no, ok, opt, unknownOption, yes } from '../util.js';

const STATES: readonly CtState[] = ['INVALID', 'ESTABLISHED', 'NEW', 'RELATED', 'UNTRACKED'];

/** Parsed state match. */
export interface StateMatch {
  states: CtState[];
  negated: boolean;
}

/** The state a packet shows to state/conntrack matches (xt_state / xt_conntrack statebit). */
export function effectiveState(p: EvalPacket): CtState {
  if (p.ctState === 'UNTRACKED') return 'UNTRACKED';
  if (!p.ctAttached) return 'INVALID';
  return p.ctState;
}

/** Parse a comma list of states (extra names allowed by conntrack: SNAT, DNAT). */
export function parseStates<T extends string>(text: string, allowed: readonly T[]): T[] | null {
  const out: T[] = [];
  for (const s of text.split(',')) {
    const u = s.trim().toUpperCase() as T;
    if (!allowed.includes(u)) return null;
    out.push(u);
  }
  return out;
}

/** The state match extension. */
export const stateMatch: ExtensionBase<StateMatch> = {
  name: 'state',
  optionNames: ['state'],
  parse(options) {
    const bad = unknownOption<StateMatch>(options, ['state'], 'state');
    if (bad) return bad;
    const o = opt(options, 'state');
    const states = o ? parseStates(o.args[0] ?? '', STATES) : null;
    if (!o || !states) return err(`state: invalid --state "${o?.args[0] ?? ''}"`, 'state');
    return ok({ states, negated: o.negated });
  },
  describe: (v) => `state ${v.negated ? '!' : ''}${v.states.join(',')}`,
  evaluate(v, ctx) {
    const st = effectiveState(ctx.packet);
    const hit = v.states.includes(st);
    const why = !ctx.packet.ctAttached && st === 'INVALID' ? ' (no conntrack entry yet: raw runs before conntrack)' : '';
    const detail = `${v.negated ? '! ' : ''}--state ${v.states.join(',')} ${hit ? '∋' : '∌'} ${st}${why}`;
    return hit !== v.negated ? yes(detail) : no(detail);
  },
};
