/**
 * Behavioural diff: which traffic now behaves differently. Probe packets derived from both
 * rulesets (./probes.ts) plus the user's own packets are traced through each side by the engine;
 * the packets whose outcomes differ — verdict, where they went, DNAT destinations and their
 * probabilities, source NAT / masquerade — are listed with both traces.
 *
 * Pure.
 */
import type { Ruleset } from '../model.js';
import { trace, validatePacket } from '../netfilter/index.js';
import { outcomePath } from '../scenario-check.js';
import type { HostContext, Outcome, PacketSpec, PacketState, TraceResult } from '../netfilter/types.js';
import { deriveProbes, userProbe, type UserPacket } from './probes.js';
import { diffStructural } from './structural.js';
import type { BehaviourChange, BehaviourDiff, BehaviourOptions, OutcomeSummary, Probe, StructuralDiff } from './types.js';

/** Default bound on traced (derived) probes. */
export const DEFAULT_MAX_PROBES = 2000;

const hostPort = (addr: string, port: number | undefined) =>
  port === undefined ? addr : addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;

/** Reduce one outcome to the fields the diff compares. */
export function summariseOutcome(o: Outcome): OutcomeSummary {
  const p: PacketState = o.packet;
  const s: OutcomeSummary = {
    probability: o.probability,
    verdict: o.verdict,
    disposition: o.disposition.kind,
    masquerade: o.steps.some((st) => st.kind === 'rule' && st.matched === true && st.target === 'MASQUERADE'),
    key: '',
    path: outcomePath(o),
  };
  if (o.disposition.iface !== undefined) s.iface = o.disposition.iface;
  if (o.disposition.rejectWith !== undefined) s.rejectWith = o.disposition.rejectWith;
  if (p.dnat || p.dst !== p.origDst || p.dport !== p.origDport) s.dnat = hostPort(p.dst, p.dport);
  if (p.snat || p.src !== p.origSrc || p.sport !== p.origSport) s.snat = hostPort(p.src, p.sport);
  s.key = keyOf(s);
  return s;
}

function keyOf(s: OutcomeSummary): string {
  const parts: string[] = [s.verdict, s.disposition];
  if (s.iface) parts.push(s.iface);
  if (s.rejectWith) parts.push(`with ${s.rejectWith}`);
  if (s.dnat) parts.push(`dnat ${s.dnat}`);
  if (s.masquerade) parts.push('masquerade');
  else if (s.snat) parts.push(`snat ${s.snat}`);
  return parts.join(' ');
}

/** Outcomes merged by key (probabilities summed), most probable first, then by key. */
export function summariseTrace(t: TraceResult): OutcomeSummary[] {
  const byKey = new Map<string, OutcomeSummary>();
  for (const o of t.outcomes) {
    const s = summariseOutcome(o);
    const prev = byKey.get(s.key);
    if (prev) prev.probability += s.probability;
    else byKey.set(s.key, s);
  }
  const out = [...byKey.values()];
  for (const s of out) s.probability = round6(s.probability);
  return out.sort((x, y) => y.probability - x.probability || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
const pct = (p: number) => (p === 1 ? '' : ` p=${round6(p)}`);

/** Human lines describing how two outcome lists differ; empty when they are the same. */
export function compareOutcomes(a: OutcomeSummary[], b: OutcomeSummary[]): string[] {
  const ka = new Map(a.map((s) => [s.key, s]));
  const kb = new Map(b.map((s) => [s.key, s]));
  let same = a.length === b.length;
  if (same) for (const s of a) if (kb.get(s.key)?.probability !== s.probability) same = false;
  if (same) return [];
  if (a.length === 1 && b.length === 1) {
    const x = a[0];
    const y = b[0];
    const lines: string[] = [];
    if (x.verdict !== y.verdict) lines.push(`verdict ${x.verdict} → ${y.verdict}`);
    const dx = `${x.disposition}${x.iface ? ` ${x.iface}` : ''}${x.rejectWith ? ` with ${x.rejectWith}` : ''}`;
    const dy = `${y.disposition}${y.iface ? ` ${y.iface}` : ''}${y.rejectWith ? ` with ${y.rejectWith}` : ''}`;
    if (dx !== dy) lines.push(`disposition ${dx} → ${dy}`);
    if (x.dnat !== y.dnat) lines.push(`dnat ${x.dnat ?? 'none'} → ${y.dnat ?? 'none'}`);
    if (x.masquerade !== y.masquerade) lines.push(`masquerade ${x.masquerade ? 'yes' : 'no'} → ${y.masquerade ? 'yes' : 'no'}`);
    else if (x.snat !== y.snat) lines.push(`snat ${x.snat ?? 'none'} → ${y.snat ?? 'none'}`);
    return lines;
  }
  const lines: string[] = [];
  for (const s of a) {
    const o = kb.get(s.key);
    if (!o) lines.push(`- ${s.key}${pct(s.probability)}`);
    else if (o.probability !== s.probability) lines.push(`~ ${s.key} p=${s.probability} → p=${o.probability}`);
  }
  for (const s of b) if (!ka.has(s.key)) lines.push(`+ ${s.key}${pct(s.probability)}`);
  return lines;
}

/**
 * Trace probes derived from both rulesets (and the user's packets) on both sides; list those whose
 * outcome differs. `ctxA`/`ctxB` are complete host contexts (see `resolveContext`).
 */
export function diffBehaviour(
  a: Ruleset,
  b: Ruleset,
  ctxA: HostContext,
  ctxB: HostContext,
  extraPackets: UserPacket[] = [],
  opts: BehaviourOptions = {},
): BehaviourDiff {
  const max = opts.maxProbes ?? DEFAULT_MAX_PROBES;
  const maxOutcomes = opts.maxOutcomes ?? 64;
  const structural = opts.exhaustive ? undefined : (opts.structural ?? diffStructural(a, b));
  const derived = opts.derive === false ? [] : deriveProbes(a, b, ctxB, structural);
  const family = b.family;
  const user = extraPackets.map(userProbe);
  const chosen = derived.length > max ? derived.slice(0, max) : derived;
  const result: BehaviourDiff = {
    family,
    probesDerived: derived.length,
    probesTraced: 0,
    skipped: [],
    changes: [],
    contextDefaults: [],
  };
  if (derived.length > max) {
    result.bounded = `bounded: traced ${max} of ${derived.length} derived probes (those reaching changed chains first); raise with --max-probes`;
  }
  const defaults = new Set<string>();
  const seen = new Set<string>();
  const unchanged = sameOutsideChanges(structural, ctxA, ctxB);
  for (const probe of [...user, ...chosen]) {
    const key = JSON.stringify(probe.packet);
    if (seen.has(key)) continue;
    seen.add(key);
    const errs = [...validatePacket(probe.packet, family, ctxA), ...validatePacket(probe.packet, family, ctxB)];
    if (errs.length > 0) {
      result.skipped.push({ probe, reason: [...new Set(errs)].join('; ') });
      continue;
    }
    // A probe the engine cannot trace is reported as skipped with the reason, never a crash of the
    // whole diff.
    let ta: TraceResult;
    try {
      ta = trace(a, ctxA, probe.packet, { maxOutcomes });
    } catch (err) {
      result.skipped.push({ probe, reason: `old side: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    // A packet that never enters a changed chain on the old side meets the same rules on the new
    // side: its new trace is the same (same host, no table added or removed), so it is not traced.
    if (unchanged && !touches(ta, unchanged)) {
      result.probesTraced++;
      for (const d of ta.context.defaults) defaults.add(d);
      continue;
    }
    let tb: TraceResult;
    try {
      tb = trace(b, ctxB, probe.packet, { maxOutcomes });
    } catch (err) {
      result.skipped.push({ probe, reason: `new side: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    result.probesTraced++;
    for (const d of ta.context.defaults) defaults.add(d);
    for (const d of tb.context.defaults) defaults.add(d);
    const sa = summariseTrace(ta);
    const sb = summariseTrace(tb);
    const differences = compareOutcomes(sa, sb);
    if (differences.length === 0) continue;
    if (ta.truncated || tb.truncated) differences.push(`(outcomes cut at ${maxOutcomes} on ${ta.truncated && tb.truncated ? 'both sides' : ta.truncated ? 'the old side' : 'the new side'}: the comparison is partial)`);
    const change: BehaviourChange = { probe, old: sa, new: sb, differences, oldTrace: ta, newTrace: tb };
    result.changes.push(change);
  }
  result.contextDefaults = [...defaults].sort();
  return result;
}

/**
 * The old-side chains (`table:chain`) a structural diff says changed, when that is enough to know
 * that any packet avoiding them behaves the same: same host context, no table added or removed.
 * Null when the shortcut does not apply.
 */
function sameOutsideChanges(s: StructuralDiff | undefined, ctxA: HostContext, ctxB: HostContext): Set<string> | null {
  if (!s) return null;
  if (s.tables.some((t) => t.status !== 'modified')) return null;
  if (ctxA !== ctxB && JSON.stringify(ctxA) !== JSON.stringify(ctxB)) return null;
  const set = new Set<string>();
  for (const t of s.tables) {
    for (const c of t.chains) if (c.status !== 'unchanged') set.add(`${t.table}:${c.oldName ?? c.chain}`);
  }
  return set;
}

/**
 * True when some path of the trace steps in one of the chains (a rule, a skipped run, a policy, a
 * return) or jumps to one.
 */
function touches(t: TraceResult, chains: Set<string>): boolean {
  for (const o of t.outcomes) {
    for (const st of o.steps) {
      if (st.table === null) continue;
      if (st.chain !== null && chains.has(`${st.table}:${st.chain}`)) return true;
      if (st.target !== undefined && chains.has(`${st.table}:${st.target}`)) return true;
    }
  }
  return false;
}

/** Probes of a behavioural diff without tracing them (for views that list what would be sent). */
export function probesOf(a: Ruleset, b: Ruleset, ctx: HostContext, extra: UserPacket[] = []): Probe[] {
  return [...extra.map(userProbe), ...deriveProbes(a, b, ctx)];
}
