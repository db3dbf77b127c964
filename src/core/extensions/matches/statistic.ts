/**
 * -m statistic: --mode random --probability P, or --mode nth --every N [--packet P]; `!` inverts.
 * Like xt_statistic.c:
 * - random: `(prandom & 0x7FFFFFFF) < probability` — the engine cannot know the draw, so the match
 *   is a branch with probability P (1 − P when inverted); the engine explores both.
 * - nth: libxt_statistic stores every−1 and starts the rule's counter at count = (every−1) − packet;
 *   each evaluation sets it to 0 when it equals every−1 (a match) and to count+1 otherwise. So
 *   evaluation number k (0-based) matches iff (k − packet) mod every == 0: with --packet 0 the
 *   packets 0, N, 2N … match (kernel-confirmed by the k-misc-v4 scenario).
 *   With the packet's `packetNumber` this is decided; without it the match is a branch of weight 1/N.
 */
import type { ExtensionBase, MatchResult } from '../types.js';
import { err, no, ok, opt, parseUint, unknownOption, yes } from '../util.js';

/** Parsed statistic match. */
export type StatisticMatch =
  | { mode: 'random'; probability: number; negated: boolean; result: MatchResult }
  | { mode: 'nth'; every: number; packet: number; negated: boolean };

const NAMES = ['mode', 'probability', 'every', 'packet'] as const;

/** The statistic match extension. */
export const statisticMatch: ExtensionBase<StatisticMatch> = {
  name: 'statistic',
  optionNames: NAMES,
  parse(options) {
    const bad = unknownOption<StatisticMatch>(options, NAMES, 'statistic');
    if (bad) return bad;
    const mode = opt(options, 'mode')?.args[0];
    const negated = options.some((o) => o.negated);
    if (mode === 'random') {
      const p = Number(opt(options, 'probability')?.args[0]);
      if (!Number.isFinite(p) || p < 0 || p > 1) return err('statistic: --probability must be between 0 and 1', 'probability');
      const q = negated ? 1 - p : p;
      const result: MatchResult = { result: 'unknown', detail: `${negated ? '! ' : ''}--probability ${p}: random (p=${round(q)})`, probability: q };
      return ok({ mode: 'random', probability: p, negated, result });
    }
    if (mode === 'nth') {
      const every = parseUint(opt(options, 'every')?.args[0]);
      const packet = parseUint(opt(options, 'packet')?.args[0] ?? '0');
      if (every === null || every < 1) return err('statistic: --every must be a positive number', 'every');
      if (packet === null || packet >= every) return err('statistic: --packet must be less than --every', 'packet');
      return ok({ mode: 'nth', every, packet, negated });
    }
    return err(`statistic: unknown --mode "${mode ?? ''}"`, 'mode');
  },
  describe: (v) =>
    v.mode === 'random'
      ? `statistic mode random ${v.negated ? '! ' : ''}probability ${v.probability}`
      : `statistic mode nth ${v.negated ? '! ' : ''}every ${v.every} packet ${v.packet}`,
  constant: (v) => (v.mode === 'random' ? v.result : undefined),
  evaluate(v, ctx) {
    if (v.mode === 'random') return v.result;
    const k = ctx.packet.packetNumber;
    const spec = `${v.negated ? '! ' : ''}--every ${v.every} --packet ${v.packet}`;
    if (k === undefined) {
      const p = v.negated ? 1 - 1 / v.every : 1 / v.every;
      return { result: 'unknown', detail: `${spec}: depends on the packet's number in the flow (p=${round(p)})`, probability: p };
    }
    const hit = (((k - v.packet) % v.every) + v.every) % v.every === 0;
    const d = `${spec}: evaluation #${k} ${hit ? 'is' : 'is not'} the nth`;
    return hit !== v.negated ? yes(d) : no(d);
  },
};

function round(p: number): string {
  return String(Math.round(p * 1e6) / 1e6);
}
