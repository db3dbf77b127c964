/**
 * The netfilter engine's public API:
 * - `trace(ruleset, context, packet, options)` → every outcome of the packet with its steps;
 * - `resolveContext(partial)` → a complete host context and the defaults it used;
 * - `validatePacket(spec, family, context)` → user-facing errors;
 * - `packetFamily(spec)`.
 *
 * Non-NEW packets (`ctState: ESTABLISHED` in the original direction, or `reply: true`) need the
 * flow's conntrack entry. When the caller does not give it (`packet.flow`), the engine derives it:
 * it first traces the flow's NEW packet (same description, state NEW) and, for each of its
 * outcomes, records the NAT bindings and the conntrack mark that outcome leaves on the entry; the
 * non-NEW packet is then traced once per such flow, with that outcome's probability and
 * assumptions carried over. For `reply: true` the packet description is the flow's ORIGINAL
 * direction; the engine builds the reply (source = the translated destination, destination = the
 * translated source, ports swapped) and enters it where the original left (its output interface,
 * or locally when the original was delivered locally).
 *
 * Pure: no IO.
 */
import type { Family, Ruleset } from '../model.js';
import { parseIp } from './addr.js';
import { DEFAULT_KEYS, resolveContext } from './context.js';
import { Env, Explorer, fmtTuple, mkStep, Run, START, type Final, type Flow, type Pending } from './engine.js';
import { compileHost, type Host } from './host.js';
import { buildPacket, clonePacket, packetFamily, relatedIcmp, snapshot, tuple, validatePacket } from './packet.js';
import type { Assumption, Branch, CtDir, HostContext, Outcome, PacketSpec, Step, TraceOptions, TraceResult } from './types.js';
import type { IcmpErrInfo } from '../extensions/types.js';

export { resolveContext } from './context.js';
export { packetFamily, validatePacket } from './packet.js';
export { chainIndex, INDEX_MIN_RULES } from './dispatch.js';
export { HOOK_STAGES, NAT_MANIP } from './pipeline.js';

const resolvedCache = new WeakMap<object, HostContext>();

function resolved(context: HostContext | Partial<HostContext> | undefined): HostContext {
  if (context && (context as HostContext).defaults !== undefined && (context as HostContext).sysctl && (context as HostContext).interfaces && (context as HostContext).routes) {
    return context as HostContext;
  }
  if (!context) return resolveContext().context;
  let r = resolvedCache.get(context);
  if (!r) {
    r = resolveContext(context).context;
    resolvedCache.set(context, r);
  }
  return r;
}

interface Partial0 {
  outcomes: Outcome[];
  used: Set<string>;
  truncated: boolean;
}

/** Explore every path of one packet description (optionally with a flow). */
function explore(
  env: Env,
  spec: PacketSpec,
  flow: Flow | null,
  reply: boolean,
  limit: number,
  prefixSteps: Step[],
  carry: { probability: number; assumptions: Assumption[]; branches: Branch[] },
  err?: { info: IcmpErrInfo; dir: CtDir },
): Partial0 {
  const base = buildPacket(spec, env.family);
  if (reply) base.ctDir = 'REPLY';
  if (err) {
    base.icmpErr = err.info;
    base.ctDir = err.dir;
  }
  const pending: Pending[] = [START];
  const outcomes: Outcome[] = [];
  const used = new Set<string>();
  while (pending.length && outcomes.length < limit) {
    const next = pending.pop()!;
    const run = new Run(env, new Explorer(next, pending), clonePacket(base), spec, flow, reply);
    const fin: Final = run.walk();
    run.checkReplayDone();
    for (const u of run.used) used.add(u);
    outcomes.push({
      probability: carry.probability * run.probability,
      verdict: fin.verdict,
      disposition: fin.disposition,
      // The run is discarded: its lists are taken over when there is nothing to prepend.
      assumptions: carry.assumptions.length ? [...carry.assumptions, ...run.assumptions] : run.assumptions,
      branches: carry.branches.length ? [...carry.branches, ...run.branches] : run.branches,
      packet: run.steps.length ? run.steps[run.steps.length - 1]!.state : snapshotOf(run),
      steps: prefixSteps.length ? [...prefixSteps, ...run.steps] : run.steps,
    });
  }
  return { outcomes, used, truncated: pending.length > 0 };
}

function snapshotOf(run: Run): Outcome['packet'] {
  return {
    family: run.pkt.family,
    proto: run.pkt.proto,
    src: run.pkt.src.text,
    dst: run.pkt.dst.text,
    mark: run.pkt.mark,
    ctMark: run.pkt.ctMark,
    ctState: run.pkt.ctState,
    ctDir: run.pkt.ctDir,
    origSrc: run.pkt.ctOrig.src.text,
    origDst: run.pkt.ctOrig.dst.text,
    snat: run.pkt.ctSnat,
    dnat: run.pkt.ctDnat,
    ttl: run.pkt.ttl,
  };
}

/** The flow a NEW outcome leaves behind. */
function flowOf(spec: PacketSpec, family: Family, o: Outcome, label: string): Flow {
  const first = buildPacket({ ...spec, ctState: 'NEW' }, family);
  const last = o.packet;
  const src = parseIp(last.src)!;
  const dst = parseIp(last.dst)!;
  return {
    orig: tuple(first.src, first.dst, first.sport, first.dport),
    reply: tuple(dst, src, last.dport, last.sport),
    dnat: last.dnat,
    snat: last.snat,
    ctMark: last.ctMark,
    label,
  };
}

/** A flow given by the caller (`packet.flow`). */
function givenFlow(spec: PacketSpec, family: Family): Flow {
  const first = buildPacket({ ...spec, ctState: 'NEW' }, family);
  const f = spec.flow!;
  const ndst = f.dnatTo ? parseIp(f.dnatTo)! : first.dst;
  const nsrc = f.snatTo ? parseIp(f.snatTo)! : first.src;
  const ndport = f.dnatPort ?? first.dport;
  const nsport = f.snatPort ?? first.sport;
  return {
    orig: tuple(first.src, first.dst, first.sport, first.dport),
    reply: tuple(ndst, nsrc, first.dport === undefined ? undefined : ndport, first.sport === undefined ? undefined : nsport),
    dnat: f.dnatTo !== undefined || f.dnatPort !== undefined,
    snat: f.snatTo !== undefined || f.snatPort !== undefined,
    ctMark: f.ctMark ?? spec.ctMark ?? 0,
    label: 'flow given',
  };
}

/** The reply packet of a flow, entering where the original left. */
function replySpec(spec: PacketSpec, flow: Flow, o: Outcome | null, host: Host): PacketSpec {
  const r: PacketSpec = {
    proto: spec.proto,
    src: flow.reply.src.text,
    dst: flow.reply.dst.text,
    ctState: 'ESTABLISHED',
  };
  if (flow.reply.sport !== undefined) r.sport = flow.reply.sport;
  if (flow.reply.dport !== undefined) r.dport = flow.reply.dport;
  if (spec.icmpType !== undefined || spec.proto.startsWith('icmp') || spec.proto === 'ipv6-icmp') {
    const t = spec.icmpType;
    if (t === 8 || (t === undefined && (spec.proto === 'icmp' || spec.proto === '1'))) r.icmpType = 0;
    else if (t === 128 || t === undefined) r.icmpType = 129;
    else r.icmpType = t;
  }
  // TCP flags: as given for the packet, else ACK (an established reply segment).
  if (spec.tcpFlags) r.tcpFlags = spec.tcpFlags;
  const kind = o?.disposition.kind;
  if (o && (kind === 'forwarded' || kind === 'sent')) {
    if (o.disposition.iface) r.iif = o.disposition.iface;
    else {
      r.iif = 'unknown';
    }
    if (spec.physOut) r.physIn = spec.physOut;
    if (spec.physIn) r.physOut = spec.physIn;
  } else if (o && kind === 'delivered') r.local = true;
  else {
    // The original never reached its destination: enter where a reply would come from.
    const d = parseIp(flow.reply.src.text)!;
    if (host.isLocal(d)) r.local = true;
    else {
      const rd = host.routeDev(d);
      r.iif = 'dev' in rd && rd.dev ? rd.dev : 'unknown';
    }
  }
  if (flow.ctMark) r.ctMark = flow.ctMark;
  return r;
}

/**
 * The ICMP error of `packet.related` about a flow: its description, embedded header and conntrack
 * direction. `established`: the flow has a conntrack entry (else the error finds none: INVALID).
 */
function relatedError(
  packet: PacketSpec,
  family: Family,
  flow: Flow,
  o: Outcome | null,
  established: boolean,
  host: Host,
): { spec: PacketSpec; info: IcmpErrInfo; dir: CtDir; text: string } {
  const r = packet.related!;
  const dir: CtDir = r.dir === 'original' ? 'ORIGINAL' : 'REPLY';
  // The error is about a packet of the other direction: its embedded header is that packet as
  // the error's sender saw it, i.e. the inverse of the tuple conntrack finds (icmp_error_message
  // looks the inverted embedded tuple up; the error belongs to that tuple's direction).
  const t = dir === 'REPLY' ? flow.reply : flow.orig;
  const inner = tuple(t.dst, t.src, t.dport, t.sport);
  const outerSrc = r.from !== undefined ? parseIp(r.from)! : t.src;
  const outerDst = t.dst;
  const { type, code } = relatedIcmp(packet, family);
  const v4 = family === 'ipv4';
  // icmp_send / icmp6_send quote as much of the offending packet as fits in 576 / 1280 bytes.
  const quoted = Math.min(packet.length ?? 60, v4 ? 576 - 28 : 1280 - 48);
  const spec: PacketSpec = {
    proto: v4 ? 'icmp' : 'icmpv6',
    src: outerSrc.text,
    dst: outerDst.text,
    icmpType: type,
    icmpCode: code,
    ctState: established ? 'RELATED' : 'INVALID',
    length: (v4 ? 28 : 48) + quoted,
  };
  if (dir === 'REPLY') {
    const entry = replySpec(packet, flow, o, host);
    if (entry.local) spec.local = true;
    else spec.iif = entry.iif;
    if (entry.physIn) spec.physIn = entry.physIn;
    if (entry.physOut) spec.physOut = entry.physOut;
  } else {
    if (packet.local) spec.local = true;
    else spec.iif = packet.iif;
    if (packet.physIn) spec.physIn = packet.physIn;
  }
  const protoName = buildPacket(packet, family).proto;
  const info: IcmpErrInfo = { proto: protoName, inner, innerIn: inner, outerSrcIn: outerSrc, outerDstIn: outerDst };
  const where = spec.local ? 'generated locally (OUTPUT)' : `entering on ${spec.iif}`;
  const text =
    `ICMP${v4 ? '' : 'v6'} error type ${type} code ${code} about the flow ${fmtTuple(flow.orig, protoName)} (${flow.label}), ` +
    `${dir === 'REPLY' ? 'reply' : 'original'} direction: ${outerSrc.text} → ${outerDst.text}, ${where}; ` +
    `embedded ${fmtTuple(inner, protoName)}${established ? '' : ' — the flow has no conntrack entry, so the error is INVALID'}`;
  return { spec, info, dir, text };
}

/** Trace a packet through the ruleset. Throws on an invalid packet (check with validatePacket first). */
export function trace(ruleset: Ruleset, context: HostContext, packet: PacketSpec, options: TraceOptions = {}): TraceResult {
  const ctx = resolved(context);
  const family = ruleset.family;
  const errs = validatePacket(packet, family, ctx);
  if (errs.length) throw new Error(errs.join('; '));
  const host = compileHost(ctx);
  const env: Env = { ruleset, family, host, assume: options.assume ?? new Map(), useIndex: options.index !== false, rpDefaulted: host.defaultFor(DEFAULT_KEYS.rpFilter) !== undefined };
  const limit = options.maxOutcomes ?? 256;
  const none: { probability: number; assumptions: Assumption[]; branches: Branch[] } = { probability: 1, assumptions: [], branches: [] };
  let outcomes: Outcome[] = [];
  const used = new Set<string>();
  let truncated = false;
  const state = packet.ctState ?? 'NEW';
  const related = packet.related !== undefined;
  const needsFlow = packet.reply === true || state === 'ESTABLISHED' || related;
  if (!needsFlow) {
    const r = explore(env, packet, null, false, limit, [], none);
    outcomes = r.outcomes;
    r.used.forEach((u) => used.add(u));
    truncated = r.truncated;
  } else {
    const firsts: { flow: Flow; o: Outcome | null; carry: typeof none; established: boolean }[] = [];
    if (packet.flow) firsts.push({ flow: givenFlow(packet, family), o: null, carry: none, established: true });
    else {
      const newSpec: PacketSpec = { ...packet, ctState: 'NEW' };
      delete newSpec.reply;
      delete newSpec.tcpFlags;
      delete newSpec.related;
      const r = explore(env, newSpec, null, false, limit, [], none);
      r.used.forEach((u) => used.add(u));
      truncated = r.truncated;
      r.outcomes.forEach((o, k) => {
        const reached = o.disposition.kind === 'delivered' || o.disposition.kind === 'forwarded' || o.disposition.kind === 'sent';
        const label = `${reached ? '' : 'NOT ESTABLISHABLE: '}first packet's outcome ${k + 1} of ${r.outcomes.length}: ${o.disposition.text}`;
        const flow = reached ? flowOf(packet, family, o, label) : { ...flowOf(packet, family, o, label), dnat: false, snat: false, reply: tuple(parseIp(packet.dst)!, parseIp(packet.src)!, packet.dport, packet.sport) };
        if (!reached) flow.reply = tuple(flow.orig.dst, flow.orig.src, flow.orig.dport, flow.orig.sport);
        firsts.push({ flow, o: reached ? o : null, carry: { probability: o.probability, assumptions: o.assumptions, branches: o.branches }, established: reached });
      });
    }
    for (const f of firsts) {
      if (outcomes.length >= limit) {
        truncated = true;
        break;
      }
      if (related) {
        const e = relatedError(packet, family, f.flow, f.o, f.established, host);
        const hook0 = e.spec.local ? 'OUTPUT' : 'PREROUTING';
        const pre0 = mkStep('note', hook0, null, null, null, null, true, [], [], { ...(f.o?.packet ?? snapshot(buildPacket(packet, family))) }, { note: e.text });
        const r = explore(env, e.spec, f.flow, false, limit - outcomes.length, [pre0], f.carry, { info: e.info, dir: e.dir });
        r.used.forEach((u) => used.add(u));
        truncated = truncated || r.truncated;
        outcomes.push(...r.outcomes);
        continue;
      }
      const spec = packet.reply ? replySpec(packet, f.flow, f.o, host) : { ...packet, ctState: 'ESTABLISHED' as const };
      const pre: Step[] = [];
      const hook = spec.local ? 'OUTPUT' : 'PREROUTING';
      pre.push(
        mkStep('note', hook, null, null, null, null, true, [], [], { ...(f.o?.packet ?? snapshot(buildPacket(packet, family))) }, {
          note: `${packet.reply ? 'reply of' : 'follow-up packet of'} the flow ${fmtTuple(f.flow.orig, buildPacket(packet, family).proto)} (${f.flow.label})${packet.reply ? `: ${f.flow.reply.src.text} → ${f.flow.reply.dst.text}, entering ${spec.local ? 'locally (OUTPUT)' : `on ${spec.iif}`}` : ''}`,
        }),
      );
      const r = explore(env, spec, f.flow, packet.reply === true, limit - outcomes.length, pre, f.carry);
      r.used.forEach((u) => used.add(u));
      truncated = truncated || r.truncated;
      outcomes.push(...r.outcomes);
    }
  }
  outcomes = collapse(outcomes);
  // Array.prototype.sort is stable: ties keep the exploration order.
  outcomes.sort((a, b) => b.probability - a.probability);
  const defaults = host.defaults.filter((d) => [...used].some((k) => d.startsWith(k)));
  const result: TraceResult = { outcomes, context: { defaults, context: ctx }, packet };
  if (truncated) result.truncated = true;
  return result;
}


/**
 * Merge outcomes whose paths and results are identical (sum of probabilities). A cheap key
 * (verdict, disposition, final packet, assumption and branch choices) screens candidates; the
 * full step signature is compared only when that key collides.
 */
function collapse(outcomes: Outcome[]): Outcome[] {
  if (outcomes.length < 2) return outcomes;
  const cheap = new Map<string, Outcome[]>();
  const out: Outcome[] = [];
  // The cheap key includes the final destination: an outcome whose destination no other
  // outcome shares cannot be merged, and needs no key at all.
  const perDst = new Map<string, number>();
  for (const o of outcomes) perDst.set(o.packet.dst, (perDst.get(o.packet.dst) ?? 0) + 1);
  for (const o of outcomes) {
    const pk = o.packet;
    if (perDst.get(pk.dst) === 1) {
      out.push({ ...o });
      continue;
    }
    let key = `${o.verdict}|${o.disposition.text}|${pk.src}|${pk.dst}|${pk.sport}|${pk.dport}|${pk.mark}|${pk.ctMark}|${o.steps.length}|`;
    for (const a of o.assumptions) key += `${a.line}${a.choice[0]},`;
    key += '|';
    for (const b of o.branches) key += `${b.line}${b.taken ? 't' : 'f'},`;
    const prevs = cheap.get(key);
    if (prevs) {
      const sig = fullSignature(o);
      const same = prevs.find((p) => fullSignature(p) === sig);
      if (same) {
        same.probability += o.probability;
        continue;
      }
    }
    const copy = { ...o };
    if (prevs) prevs.push(copy);
    else cheap.set(key, [copy]);
    out.push(copy);
  }
  return out;
}

function fullSignature(o: Outcome): string {
  return JSON.stringify([
    o.packet,
    o.steps.map((s) => [s.kind, s.table, s.chain, s.rule, s.matched, s.target ?? '', s.changes, s.note ?? '']),
  ]);
}
