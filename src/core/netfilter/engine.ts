/**
 * The engine: steps a packet through hooks, tables and chains as the kernel does, exploring every
 * branch the packet description cannot decide (unknown matches, unknown targets, statistic random).
 *
 * Exploration forks at choice points: a run follows a list of choices; at a new choice point it
 * takes the first option and pushes the alternatives (choice prefix + the steps recorded so far)
 * to explore later (depth first, so the order of outcomes is deterministic). A new run re-executes
 * the shared prefix to rebuild the packet's state, but does not rebuild the prefix's steps: it
 * takes over its parent's step objects (final by then; steps are read-only for consumers) and
 * records its own from the choice step on. Each run owns its packet.
 *
 * Pure: no IO.
 */
import type { Chain, Family, HookName, Policy, Rule, Ruleset, Table, TableName } from '../model.js';
import type { EvalContext, EvalPacket, TargetEffect } from '../extensions/types.js';
import { findMatch, findTarget } from '../extensions/index.js';
import { effectiveState } from '../extensions/matches/state.js';
import { hex } from '../extensions/util.js';
import { ipEquals, parseNet, netContains, type Ip } from './addr.js';
import { DEFAULT_KEYS } from './context.js';
import { candidates, chainIndex, nextCandidate, packetKey, type ChainIndex } from './dispatch.js';
import type { Host, RouteResult } from './host.js';
import { baseFailText, baseFails, baseReasons, baseUnknown, compiledChain, compiledIndex, type CRule } from './compiled.js';
import { HOOK_STAGES, NAT_MANIP } from './pipeline.js';
import { snapshot, tuple } from './packet.js';
import { typedOf } from './typed.js';
import type {
  Assumption,
  Branch,
  Disposition,
  DispositionKind,
  PacketSpec,
  Step,
  StepKind,
  Tri,
  Verdict,
} from './types.js';
import type { CtTuple } from '../extensions/types.js';

const LOOP4 = parseNet('127.0.0.0/8')!;
const ZERONET4 = parseNet('0.0.0.0/8')!;
/** Shared empty list for steps that record nothing (never mutated: only matched steps get changes). */
const EMPTY: string[] = Object.freeze([]) as unknown as string[];
/** Safety net against rule loops the parser did not reject. */
const MAX_EVALUATIONS = 2_000_000;

/**
 * Steps are instances of this class, not object literals: V8 tracks allocation sites (and
 * "pretenures" them: allocates their objects straight in the old generation) only for literals. A
 * scavenge that happened to find most steps of a site alive (during a long first trace) made every
 * later step old garbage — old→young pointers kept their texts and states alive through scavenges,
 * and the old generation filled in a second: full GCs several times a second, the trace bench at
 * ≈ 2,500 traces per CPU-second instead of ≈ 10,500 in about one run of four (none of eight with
 * --no-allocation-site-pretenuring). Same fields in the same order as the literal: JSON, spreads and
 * equality checks see the same object.
 */
class StepRec {
  declare kind: StepKind;
  declare hook: HookName;
  declare table: TableName | null;
  declare chain: string | null;
  declare rule: number | null;
  declare line: number | null;
  declare matched: Tri;
  declare reasons: string[];
  declare failed: string | undefined;
  declare target: string | undefined;
  declare policy: Policy | undefined;
  declare changes: string[];
  declare note: string | undefined;
  declare state: Step['state'];
  declare ruleRef: Rule | undefined;
  declare skipped: Step['skipped'];
  constructor(
    kind: StepKind,
    hook: HookName,
    table: TableName | null,
    chain: string | null,
    rule: number | null,
    line: number | null,
    matched: Tri,
    reasons: string[],
    failed: string | undefined,
    policy: Policy | undefined,
    changes: string[],
    note: string | undefined,
    state: Step['state'],
    ruleRef: Rule | undefined,
    skipped: Step['skipped'],
  ) {
    this.kind = kind;
    this.hook = hook;
    this.table = table;
    this.chain = chain;
    this.rule = rule;
    this.line = line;
    this.matched = matched;
    this.reasons = reasons;
    this.failed = failed;
    this.target = undefined;
    this.policy = policy;
    this.changes = changes;
    this.note = note;
    this.state = state;
    this.ruleRef = ruleRef;
    this.skipped = skipped;
  }
}

/**
 * Every step is built here with all fields in one order (one hidden class for all steps; optional
 * fields are present as undefined, which JSON omits).
 */
export function mkStep(
  kind: StepKind,
  hook: HookName,
  table: TableName | null,
  chain: string | null,
  rule: number | null,
  line: number | null,
  matched: Tri,
  reasons: string[],
  changes: string[],
  state: Step['state'],
  extra?: { note?: string; failed?: string; policy?: Policy; ruleRef?: Rule; skipped?: Step['skipped'] },
): Step {
  return new StepRec(kind, hook, table, chain, rule, line, matched, reasons, extra?.failed, extra?.policy, changes, extra?.note, state, extra?.ruleRef, extra?.skipped) as Step;
}

/** A non-rule step (same fields and order as mkStep, without the options object). */
function mkNoteStep(
  kind: StepKind,
  hook: HookName,
  table: TableName | null,
  chain: string | null,
  matched: Tri,
  reasons: string[],
  changes: string[],
  state: Step['state'],
  note: string | undefined,
  policy: Policy | undefined,
  line: number | null,
  skipped: Step['skipped'],
): Step {
  return new StepRec(kind, hook, table, chain, null, line, matched, reasons, undefined, policy, changes, note, state, undefined, skipped) as Step;
}

/**
 * Append a change to a step. Steps start with the shared empty list (most never change anything);
 * the first change gives the step its own list.
 */
function addChange(step: Step, text: string): void {
  if (step.changes === EMPTY) step.changes = [text];
  else step.changes.push(text);
}

const EMPTY_CANDS: number[] = Object.freeze([]) as unknown as number[];

const ACCEPT_RES: TableRes = Object.freeze({ kind: 'accept' }) as TableRes;

/** A rule step (same fields and order as mkStep, without the options object). */
function mkRuleStep(hook: HookName, table: TableName, cr: CRule, matched: Tri, reasons: string[], changes: string[], state: Step['state'], failed: string | undefined): Step {
  return new StepRec('rule', hook, table, cr.chainName, cr.position, cr.line, matched, reasons, failed, undefined, changes, undefined, state, cr.rule, undefined) as Step;
}

/** Everything a run needs that does not change between runs. */
export interface Env {
  ruleset: Ruleset;
  family: Family;
  host: Host;
  assume: Map<number, 'match' | 'nomatch' | 'continue' | 'stop'>;
  useIndex: boolean;
  /** rp_filter was not given (the context's default sentence for it exists). */
  rpDefaulted: boolean;
}

/** A flow's recorded state for non-NEW packets. */
export interface Flow {
  orig: CtTuple;
  reply: CtTuple;
  dnat: boolean;
  snat: boolean;
  ctMark: number;
  /** Where it came from (`the first packet's outcome 2`, `given`). */
  label: string;
}

/**
 * A path still to explore: the choices that lead to it, and the steps of the run that scheduled
 * it — the first `quiet` of them (everything recorded before the choice step) are the same on the
 * new path, so the new run takes them over instead of rebuilding them.
 */
export interface Pending {
  prefix: number[];
  base: Step[] | null;
  quiet: number;
}

/** The first path of an exploration. */
export const START: Pending = Object.freeze({ prefix: [], base: null, quiet: 0 }) as Pending;

/** Choice replay. */
export class Explorer {
  private pos = 0;
  readonly taken: number[] = [];
  private readonly prefix: number[];
  constructor(
    readonly start: Pending,
    private readonly pending: Pending[],
  ) {
    this.prefix = start.prefix;
  }

  /** Pick one of n options (0 first); schedules the others. `steps`: the run's steps so far (the last is the choice step). */
  choose(n: number, steps: Step[]): number {
    if (this.pos < this.prefix.length) {
      const c = this.prefix[this.pos++]!;
      this.taken.push(c);
      return c;
    }
    this.pos++;
    for (let j = n - 1; j >= 1; j--) this.pending.push({ prefix: [...this.taken, j], base: steps, quiet: steps.length - 1 });
    this.taken.push(0);
    return 0;
  }
}

/** How a path ended. */
export interface Final {
  verdict: Verdict;
  disposition: Disposition;
}

/** A frame of the chain walk's jump stack. */
interface Frame {
  chain: Chain;
  crs: CRule[];
  next: number;
  ix: ChainIndex | null;
  key: string;
  cands: number[];
  /** What the key was computed from (the key is recomputed only when one of them changes). */
  kDst: EvalPacket['dst'] | null;
  kProto: number;
  kPort: number | undefined;
}

type TableRes =
  | { kind: 'accept' }
  | { kind: 'final'; final: Final };

/** One run: one path of the packet. */
export class Run {
  steps: Step[] = [];
  readonly assumptions: Assumption[] = [];
  readonly branches: Branch[] = [];
  probability = 1;
  /** NAT manips set up for this flow (NEW): destination at PREROUTING/OUTPUT, source at INPUT/POSTROUTING. */
  dstDone = false;
  srcDone = false;
  /** Default keys this run relied on. */
  readonly used = new Set<string>();
  private evaluations = 0;
  /**
   * Replay of the shared prefix: the run re-executes the path up to its choice point (the state
   * must evolve identically), but the first `quietLeft` steps are not built — they are the parent
   * run's step objects, taken over when the choice step is reached.
   */
  private quietLeft: number;
  private quietBase: Step[] | null;
  private quietDone = 0;
  /** The last step recorded (a scratch step while replaying). */
  private last: Step;
  private readonly scratchStep: Step;

  constructor(
    readonly env: Env,
    readonly ex: Explorer,
    readonly pkt: EvalPacket,
    readonly spec: PacketSpec,
    readonly flow: Flow | null,
    readonly reply: boolean,
  ) {
    this.quietLeft = ex.start.base ? ex.start.quiet : 0;
    this.quietBase = ex.start.base;
    this.scratchStep = mkNoteStep('note', 'PREROUTING', null, null, true, EMPTY, EMPTY, undefined as unknown as Step['state'], undefined, undefined, null, undefined);
    this.last = this.scratchStep;
  }

  /**
   * Called once before each step is recorded: true while the step is one the parent run already
   * recorded (the caller then records nothing and uses `quietStep`); the parent's steps are taken
   * over when the first step of this run's own is about to be recorded.
   */
  private replaying(): boolean {
    if (this.quietLeft === 0) return false;
    if (this.quietDone < this.quietLeft) {
      this.quietDone++;
      return true;
    }
    this.steps = this.quietBase!.slice(0, this.quietLeft);
    this.quietLeft = 0;
    this.quietBase = null;
    return false;
  }

  /** The scratch step standing for a replayed step (fields the walk reads are set). */
  private quietStep(matched: Tri, failed: string | undefined): Step {
    const d = this.scratchStep;
    d.matched = matched;
    d.failed = failed;
    d.reasons = EMPTY;
    d.changes = EMPTY;
    d.target = undefined;
    this.last = d;
    return d;
  }

  /** Record a step. */
  private push(step: Step): void {
    this.steps.push(step);
    this.last = step;
  }

  /** Choose among n options at the current (last recorded) step. */
  private choose(n: number): number {
    return this.ex.choose(n, this.steps);
  }

  /** After the walk: every replayed step must have been taken over. */
  checkReplayDone(): void {
    if (this.quietLeft !== 0) throw new Error('iptscope internal error: a replayed path ended before its choice point');
  }

  // ---------------------------------------------------------------------------------------------
  // Steps
  // ---------------------------------------------------------------------------------------------

  /** Record a non-rule step. */
  note(kind: StepKind, hook: HookName, note: string, changes: string[] = EMPTY): void {
    if (this.replaying()) {
      this.quietStep(true, undefined);
      return;
    }
    this.push(mkNoteStep(kind, hook, null, null, true, EMPTY, changes, snapshot(this.pkt), note, undefined, null, undefined));
  }

  private useDefault(key: string): void {
    if (this.env.host.defaultFor(key)) this.used.add(key);
  }

  // ---------------------------------------------------------------------------------------------
  // Paths
  // ---------------------------------------------------------------------------------------------

  /** Walk the packet from its entry point to its fate. */
  walk(): Final {
    return this.pkt.local ? this.walkLocal() : this.walkIncoming();
  }

  private walkIncoming(): Final {
    const p = this.pkt;
    const host = this.env.host;
    let iif = this.spec.iif!;
    const bridgeOfPort = host.portToBridge.get(iif);
    if (bridgeOfPort !== undefined) {
      p.physIn = iif;
      iif = bridgeOfPort;
      p.iif = iif;
      this.note('note', 'PREROUTING', `${this.spec.iif} is a port of bridge ${iif}: the IP hooks see in=${iif}, physdev-in=${this.spec.iif}`);
    }
    p.iif = iif;
    this.useDefault(DEFAULT_KEYS.interfaces);
    const br = host.ifaces.get(iif);
    const v4 = this.env.family === 'ipv4';
    const brKey = v4 ? DEFAULT_KEYS.bridge : DEFAULT_KEYS.bridge6;
    // br_netfilter: every IP frame arriving on a port of a bridge that calls ip(6)tables passes
    // PREROUTING from the bridge's own hook (br_nf_pre_routing), whatever its destination MAC.
    const brNf = br?.isBridge === true && (v4 ? host.ctx.sysctl.bridgeNfCallIptables : host.ctx.sysctl.bridgeNfCallIp6tables);
    // It came in by one of the bridge's ports: the sender's, when the context says which port that
    // is (physdev-in, recorded by br_netfilter for every later hook).
    if (brNf && p.physIn === undefined) p.physIn = host.bridgePeer(iif, p.src)?.port;
    let bridged = false;
    if (br?.isBridge && host.onLink(iif, p.dst) && !host.isLocal(p.dst) && host.broadcastDev(p.dst) === null) {
      this.useDefault(brKey);
      if (!brNf) {
        this.note('note', 'PREROUTING', `${p.dst.text} is on ${iif}'s subnet: the frame is bridged and ${brKey}=0, so iptables is not consulted`);
        return { verdict: 'ACCEPT', disposition: { kind: 'forwarded', iface: iif, text: `bridged on ${iif} (iptables not consulted)` } };
      }
      bridged = true;
      p.bridged = true;
      this.note(
        'note',
        'PREROUTING',
        `${p.dst.text} is on ${iif}'s subnet: the frame is bridged; br_netfilter (${brKey}=1) passes it through PREROUTING → FORWARD → POSTROUTING with in = out = ${iif}`,
      );
    }
    const dstBefore = p.dst;
    const srcBefore = p.src;
    const pre = this.hook('PREROUTING');
    if (pre) return pre;
    if (brNf && !ipEquals(p.dst, dstBefore)) {
      // br_nf_pre_routing_finish(_ipv6): PREROUTING changed the destination, so the kernel looks
      // up the input route of the new one; when that route leaves by the bridge the frame came in
      // on, the frame is bridged again (bridged_dnat): no ip_forward, no TTL decrement, FORWARD
      // and POSTROUTING from the bridge's hooks. Any other route: up to the IP stack, routed.
      this.useDefault(brKey);
      const r = host.lookup(p.dst);
      const back = r.kind === 'unicast' && r.dev === iif;
      if (bridged) {
        bridged = false;
        p.bridged = false;
        if (!back) this.note('route', 'PREROUTING', `after DNAT ${p.dst.text} is not on ${iif}: the packet leaves the bridge path and is routed`);
      }
      const dec = this.routeIncoming(back ? iif : undefined, r);
      if (dec === 'bridge') return this.bridgedDnat(iif, br!.hairpin, srcBefore);
      if (typeof dec !== 'string') return dec;
      if (dec === 'input') return this.deliverLocally();
      return this.forwardOn();
    }
    if (bridged) {
      p.oif = iif;
      p.oifUnknown = false;
      if (p.physOut === undefined) p.physOut = host.bridgePeer(iif, p.dst)?.port;
      this.note('route', 'PREROUTING', `bridged: ${p.dst.text} is on ${iif} → FORWARD out ${iif}${p.physOut ? ` (port ${p.physOut})` : ''}`);
      const fwd = this.hook('FORWARD');
      if (fwd) return fwd;
      const post = this.hook('POSTROUTING');
      if (post) return post;
      return { verdict: 'ACCEPT', disposition: { kind: 'forwarded', iface: iif, text: `bridged out ${iif}${p.physOut ? ` (port ${p.physOut})` : ''}` } };
    }
    const dec = this.routeIncoming();
    if (typeof dec !== 'string') return dec;
    if (dec === 'input') return this.deliverLocally();
    return this.forwardOn();
  }

  /** A routed packet after the routing decision: FORWARD, POSTROUTING, out. */
  private forwardOn(): Final {
    const p = this.pkt;
    const fwd = this.hook('FORWARD');
    if (fwd) return fwd;
    const post = this.hook('POSTROUTING');
    if (post) return post;
    return {
      verdict: 'ACCEPT',
      disposition: p.oif !== undefined ? { kind: 'forwarded', iface: p.oif, text: `forwarded out ${p.oif}` } : { kind: 'forwarded', text: 'forwarded out an unknown interface (no routes in the context)' },
    };
  }

  /**
   * br_netfilter's bridged DNAT: the new destination is behind the bridge the frame came in on.
   * The frame is handed back to the bridge (br_nf_pre_routing_finish_bridge → br_handle_frame_finish
   * → br_forward): the bridge's FORWARD hook runs iptables FORWARD (br_nf_forward_ip) with
   * in = out = the bridge, then POSTROUTING (br_nf_post_routing). The packet is not routed, so its
   * TTL / hop limit is not decremented and ip_forward plays no part. br_forward's should_deliver()
   * does not send a frame back out the port it came in on unless that port is in hairpin mode.
   */
  private bridgedDnat(bridge: string, hairpin: boolean, srcBefore: Ip): Final {
    const p = this.pkt;
    const host = this.env.host;
    const inPeer = host.bridgePeer(bridge, srcBefore);
    const outPeer = host.bridgePeer(bridge, p.dst);
    const outPort = p.physOut ?? outPeer?.port;
    // Is the new destination behind the port the frame came in on? By port name when both are
    // known, else by the context's peers, else a DNAT back to the sender's own address.
    let same: boolean;
    if (outPort !== undefined && p.physIn !== undefined) same = outPort === p.physIn;
    else if (outPeer !== undefined && inPeer !== undefined) same = outPeer.peer === inPeer.peer;
    else same = ipEquals(p.dst, srcBefore);
    const ttlWord = p.family === 'ipv4' ? 'TTL' : 'hop limit';
    const port = same ? p.physIn : outPort;
    const behind = `behind ${bridge}${port !== undefined ? ` port ${port}` : ''}`;
    if (same && !hairpin) {
      this.note(
        'route',
        'PREROUTING',
        `bridged after DNAT: the new destination ${p.dst.text} is ${behind}, the port the frame came in on; hairpin mode is off, so the bridge does not send it back out there → dropped before FORWARD`,
      );
      return { verdict: 'DROP', disposition: { kind: 'dropped', text: `dropped by bridge ${bridge}: the frame would leave by the port it came in on (hairpin mode off)` } };
    }
    p.bridged = true;
    p.oif = bridge;
    p.oifUnknown = false;
    if (p.physOut === undefined && port !== undefined) p.physOut = port;
    this.note(
      'route',
      'PREROUTING',
      `bridged after DNAT: the new destination ${p.dst.text} is ${behind}${same ? ', the port the frame came in on (hairpin mode on: sent back out there)' : ''}; not routed, ${ttlWord} unchanged → FORWARD with in = out = ${bridge}`,
    );
    const fwd = this.hook('FORWARD');
    if (fwd) return fwd;
    const post = this.hook('POSTROUTING');
    if (post) return post;
    return { verdict: 'ACCEPT', disposition: { kind: 'forwarded', iface: bridge, text: `forwarded out ${bridge} (bridged${p.physOut ? ` to port ${p.physOut}` : ''})` } };
  }

  private deliverLocally(): Final {
    const p = this.pkt;
    p.oif = undefined;
    p.oifUnknown = false;
    const inp = this.hook('INPUT');
    if (inp) return inp;
    return { verdict: 'ACCEPT', disposition: { kind: 'delivered', text: p.tproxy ? 'delivered locally (transparent socket)' : 'delivered locally' } };
  }

  /**
   * The routing decision after PREROUTING. `bridge`: the frame came in on this bridge with
   * br_netfilter and PREROUTING changed its destination — 'bridge' when the new destination's
   * route leaves by that bridge (br_nf_pre_routing_finish's bridged_dnat). `looked`: the route
   * lookup of the current destination, when the caller already made it.
   */
  private routeIncoming(bridge?: string, looked?: RouteResult): 'input' | 'forward' | 'bridge' | Final {
    const p = this.pkt;
    const host = this.env.host;
    if (p.tproxy) {
      this.note('route', 'PREROUTING', 'TPROXY: the packet belongs to a local transparent socket (policy routing on the mark delivers it locally) → INPUT');
      return 'input';
    }
    if (p.family === 'ipv4' && p.iif !== 'lo' && (netContains(LOOP4, p.dst) || netContains(LOOP4, p.src))) {
      this.useDefault(DEFAULT_KEYS.routeLocalnet);
      if (!host.ctx.sysctl.routeLocalnet) {
        const which = netContains(LOOP4, p.dst) ? `destination ${p.dst.text}` : `source ${p.src.text}`;
        this.note('route', 'PREROUTING', `martian ${which} (127.0.0.0/8) arriving on ${p.iif}: dropped (route_localnet=0)`);
        return { verdict: 'DROP', disposition: { kind: 'dropped', text: `dropped: martian ${which} on ${p.iif} (net.ipv4.conf.${p.iif}.route_localnet=0)` } };
      }
    }
    if (p.family === 'ipv4' && p.iif !== 'lo' && host.isLocal(p.src)) {
      // fib_validate_source: the reverse route to a local source is RTN_LOCAL → martian source
      // (accept_local is off by default). IPv6 has no such check (kernel-confirmed, k-ipv6).
      this.note('route', 'PREROUTING', `martian source ${p.src.text} (a local address) arriving on ${p.iif}: dropped`);
      return { verdict: 'DROP', disposition: { kind: 'dropped', text: `dropped: martian source ${p.src.text} on ${p.iif} (a local address; accept_local=0)` } };
    }
    const r = looked ?? host.lookup(p.dst);
    if (r.kind === 'multicast' && p.iif !== undefined && !host.joined(p.iif, p.dst)) {
      // ip_route_input_rcu / ip6_mc_input: a group the host has not joined (and no multicast
      // routing) is dropped by the input route (kernel-confirmed, k-edge-v4).
      this.note('route', 'PREROUTING', `${p.dst.text} is multicast and the host has not joined it on ${p.iif}: dropped`);
      return { verdict: 'DROP', disposition: { kind: 'dropped', text: `dropped: multicast group ${p.dst.text} not joined on ${p.iif}` } };
    }
    if (r.kind === 'local' || r.kind === 'broadcast' || r.kind === 'multicast') {
      const rp = this.reversePath();
      if (rp) return rp;
      this.note('route', 'PREROUTING', `${r.why} → INPUT`);
      return 'input';
    }
    if (bridge !== undefined && r.kind === 'unicast' && r.dev === bridge) {
      // IPv6: ip6_route_input finds the route whatever the forwarding setting (only ip6_forward
      // checks it), so the frame is bridged. IPv4: with forwarding off, ip_route_input answers
      // with an error route on lo (ip_error), not the bridge: not bridged, and the IP stack drops
      // it (kernel-confirmed, k-bridge-dnat-fwd-off-v4).
      if (p.family === 'ipv6') return 'bridge';
      this.useDefault(DEFAULT_KEYS.ipForward);
      if (host.ctx.sysctl.ipForward) return this.reversePath() ?? 'bridge';
      this.note(
        'route',
        'PREROUTING',
        `after DNAT ${p.dst.text} is behind ${bridge}, but with net.ipv4.ip_forward=0 the input route lookup yields an error route, not ${bridge}: br_netfilter does not bridge the frame back and the IP stack drops it`,
      );
      return { verdict: 'DROP', disposition: { kind: 'dropped', text: `dropped: not for this host and forwarding is off (net.ipv4.ip_forward=0); a DNAT back into ${bridge} is bridged only with forwarding on` } };
    }
    if (r.kind === 'unicast' || r.kind === 'none') {
      const fwdOn = p.family === 'ipv4' ? host.ctx.sysctl.ipForward : host.ctx.sysctl.ipv6Forward;
      this.useDefault(p.family === 'ipv4' ? DEFAULT_KEYS.ipForward : DEFAULT_KEYS.ipv6Forward);
      if (!fwdOn) {
        const knob = p.family === 'ipv4' ? 'net.ipv4.ip_forward=0' : 'net.ipv6.conf.all.forwarding=0';
        this.note('route', 'PREROUTING', `${p.dst.text} is not local and forwarding is off (${knob}): dropped`);
        return { verdict: 'DROP', disposition: { kind: 'dropped', text: `dropped: not for this host and forwarding is off (${knob})` } };
      }
    }
    if (r.kind === 'unicast') {
      const rp = this.reversePath();
      if (rp) return rp;
    }
    return this.forwardRoute(r, 'PREROUTING');
  }

  /**
   * Reverse path filtering (IPv4 rp_filter, fib_validate_source in the input route lookup, for a
   * packet to a local, broadcast or multicast address or one to forward): with the effective
   * value max(conf.all, conf.IFACE) of the input interface, 1 (strict) drops the packet unless
   * the route back to its source leaves by that interface, 2 (loose) unless there is a route
   * back at all; both drop when the route back is not a unicast route. Off (0): no check; when
   * that is a default and a check would have dropped the packet, the default is recorded.
   */
  private reversePath(): Final | null {
    const p = this.pkt;
    const host = this.env.host;
    if (p.family !== 'ipv4' || p.iif === undefined || p.iif === 'lo' || netContains(ZERONET4, p.src)) return null;
    const sc = host.ctx.sysctl;
    const all = sc.rpFilter ?? 0;
    const own = sc.rpFilterIface?.[p.iif] ?? 0;
    const mode = Math.max(all, own);
    if (mode === 0) {
      // Off and given: nothing to check or record (no reverse lookup). Off by default: the default
      // is recorded only when a strict check would have dropped the packet (fails(1) below).
      if (!this.env.rpDefaulted) return null;
      const back = host.lookup(p.src);
      if (back.kind !== 'unicast' || (back.dev !== null && back.dev !== p.iif)) this.used.add(DEFAULT_KEYS.rpFilter);
      return null;
    }
    const rev = host.lookup(p.src);
    // What a strict (1) or loose (2) check concludes: null = passes, else why it fails.
    const fails = (m: number): string | null => {
      if (rev.kind === 'none') return `there is no route back to ${p.src.text}`;
      if (rev.kind !== 'unicast') return `the route back to ${p.src.text} is ${rev.kind} (${rev.why})`;
      if (rev.dev === null || rev.dev === p.iif) return null;
      return m === 1 ? `the route back to ${p.src.text} leaves by ${rev.dev}, not ${p.iif}` : null;
    };
    const knob = `rp_filter=${mode} (max of conf.all=${all} and conf.${p.iif}=${own})`;
    if (rev.kind === 'unicast' && rev.dev === null) {
      this.useDefault(DEFAULT_KEYS.routes);
      this.note('route', 'PREROUTING', `reverse path filter (${knob}): the route back to ${p.src.text} leaves by an unknown interface (no routes in the context): not checked`);
      return null;
    }
    const why = fails(mode);
    if (why === null) return null;
    const word = mode === 1 ? 'strict' : 'loose';
    this.note('route', 'PREROUTING', `reverse path filter (${knob}, ${word}): ${why} → martian source, dropped`);
    return { verdict: 'DROP', disposition: { kind: 'dropped', text: `dropped by the reverse path filter (${word}, rp_filter=${mode} on ${p.iif}): ${why}` } };
  }

  private forwardRoute(r: RouteResult, hook: HookName): 'forward' | Final {
    const p = this.pkt;
    switch (r.kind) {
      case 'unicast': {
        if (r.dev === null) this.useDefault(DEFAULT_KEYS.routes);
        this.setOif(r.dev);
        // ip_forward / ip6_forward: TTL (hop limit) ≤ 1 → ICMP time exceeded, dropped before
        // FORWARD; otherwise it is decremented before the FORWARD hook runs.
        if (p.ttl <= 1) {
          this.note('route', hook, `${r.why}: ${p.family === 'ipv4' ? 'TTL' : 'hop limit'} ${p.ttl} would expire → dropped (ICMP time exceeded)`);
          return { verdict: 'DROP', disposition: { kind: 'dropped', text: `dropped: ${p.family === 'ipv4' ? 'TTL' : 'hop limit'} exceeded in transit (ttl ${p.ttl})` } };
        }
        p.ttl -= 1;
        this.note('route', hook, `${r.why} → FORWARD out ${p.oif ?? '(unknown interface)'}`, [`ttl ${p.ttl + 1} → ${p.ttl}`]);
        return 'forward';
      }
      case 'none':
        this.note('route', hook, `${r.why}: dropped (ICMP unreachable sent)`);
        return { verdict: 'DROP', disposition: { kind: 'no-route', text: `no route to ${p.dst.text}` } };
      case 'blackhole':
        this.note('route', hook, `${r.why}: blackhole, dropped silently`);
        return { verdict: 'DROP', disposition: { kind: 'dropped', text: `dropped by blackhole ${r.route.text}` } };
      case 'unreachable':
      case 'prohibit':
        this.note('route', hook, `${r.why}: ${r.kind} route`);
        return { verdict: 'DROP', disposition: { kind: 'no-route', text: `${r.kind} route ${r.route.text}` } };
      default:
        return 'forward';
    }
  }

  private setOif(dev: string | null): void {
    const p = this.pkt;
    if (this.spec.oif !== undefined) {
      p.oif = this.spec.oif;
      p.oifUnknown = false;
      return;
    }
    if (dev === null) {
      p.oif = undefined;
      p.oifUnknown = true;
    } else {
      p.oif = dev;
      p.oifUnknown = false;
    }
  }

  /** Locally generated: route, OUTPUT, POSTROUTING, then out or loopback re-entry. */
  private walkLocal(): Final {
    const p = this.pkt;
    const host = this.env.host;
    this.useDefault(DEFAULT_KEYS.interfaces);
    let loop = this.routeOutput('route (output)');
    if (typeof loop !== 'boolean') return loop;
    const before = { dst: p.dst, mark: p.mark };
    const out = this.hook('OUTPUT', (stage) => {
      // ip_route_me_harder after mangle (mark/daddr changed) and after nat (daddr changed).
      if ((stage === 'mangle' || stage === 'nat') && !ipEquals(before.dst, p.dst)) {
        before.dst = p.dst;
        const r = this.routeOutput(`re-route after ${stage === 'nat' ? 'DNAT' : 'mangle'}`);
        if (typeof r !== 'boolean') return r;
        loop = r;
      }
      return null;
    });
    if (out) return out;
    const post = this.hook('POSTROUTING');
    if (post) return post;
    if (!loop) {
      return {
        verdict: 'ACCEPT',
        disposition: p.oif !== undefined ? { kind: 'sent', iface: p.oif, text: `sent out ${p.oif}` } : { kind: 'sent', text: 'sent out an unknown interface (no routes in the context)' },
      };
    }
    // Loopback: the skb keeps its conntrack entry; both NAT manips are set up, so nat is skipped.
    p.iif = 'lo';
    p.oif = undefined;
    p.oifUnknown = false;
    p.local = false;
    this.note('note', 'PREROUTING', `looped back: ${p.dst.text} is local, the packet re-enters at PREROUTING on lo (its conntrack entry stays attached)`);
    const pre = this.hook('PREROUTING');
    if (pre) return pre;
    if (!host.isLocal(p.dst)) {
      const dec = this.routeIncoming();
      if (typeof dec !== 'string') return dec;
      if (dec === 'forward') {
        const fwd = this.hook('FORWARD');
        if (fwd) return fwd;
        const post2 = this.hook('POSTROUTING');
        if (post2) return post2;
        return { verdict: 'ACCEPT', disposition: { kind: 'forwarded', ...(p.oif ? { iface: p.oif } : {}), text: `forwarded out ${p.oif ?? 'an unknown interface'}` } };
      }
    } else this.note('route', 'PREROUTING', `${p.dst.text} is local → INPUT`);
    return this.deliverLocally();
  }

  /**
   * A 127.0.0.0/8 source cannot leave through a non-loopback device unless route_localnet=1
   * (__mkroute_output returns -EINVAL; after a DNAT in OUTPUT ip_route_me_harder fails and the
   * packet is dropped — kernel-confirmed by the k-localnet scenarios).
   */
  private loopbackSourceOut(label: string): Final | null {
    const p = this.pkt;
    if (p.family !== 'ipv4' || !netContains(LOOP4, p.src) || p.oif === 'lo') return null;
    this.useDefault(DEFAULT_KEYS.routeLocalnet);
    if (this.env.host.ctx.sysctl.routeLocalnet) return null;
    const dev = p.oif ?? 'a non-loopback interface';
    this.note('route', 'OUTPUT', `${label}: source ${p.src.text} cannot leave through ${dev} (route_localnet=0): the route lookup fails`);
    return { verdict: 'DROP', disposition: { kind: 'dropped', text: `dropped: ${label} failed — loopback source ${p.src.text} out ${dev} (net.ipv4.conf.${p.oif ?? 'all'}.route_localnet=0)` } };
  }

  /** Output route lookup: true = loopback (local destination), false = out an interface. */
  private routeOutput(label: string): boolean | Final {
    const p = this.pkt;
    const r = this.env.host.lookup(p.dst);
    switch (r.kind) {
      case 'local':
        p.oif = 'lo';
        p.oifUnknown = false;
        this.note('route', 'OUTPUT', `${label}: ${r.why} → out lo`);
        return true;
      case 'unicast': {
        if (r.dev === null) this.useDefault(DEFAULT_KEYS.routes);
        this.setOif(r.dev);
        const martian = this.loopbackSourceOut(label);
        if (martian) return martian;
        this.note('route', 'OUTPUT', `${label}: ${r.why} → out ${p.oif ?? '(unknown interface)'}`);
        return false;
      }
      case 'broadcast':
      case 'multicast':
        this.setOif(r.kind === 'broadcast' && r.dev ? r.dev : null);
        this.note('route', 'OUTPUT', `${label}: ${r.why} → out ${p.oif ?? '(unknown interface)'}`);
        return false;
      case 'none':
        this.note('route', 'OUTPUT', `${label}: ${r.why}`);
        return { verdict: 'DROP', disposition: { kind: 'no-route', text: `no route to ${p.dst.text} (the socket gets ENETUNREACH)` } };
      default:
        this.note('route', 'OUTPUT', `${label}: ${r.why}`);
        return { verdict: 'DROP', disposition: { kind: 'no-route', text: `${r.kind} route to ${p.dst.text}` } };
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Hooks and tables
  // ---------------------------------------------------------------------------------------------

  /** Run a hook's stages; null = the packet continues. `after` runs after each table stage. */
  private hook(hook: HookName, after?: (table: TableName) => Final | null): Final | null {
    const rs = this.env.ruleset;
    for (const stage of HOOK_STAGES[hook]) {
      if (stage.kind === 'conntrack') {
        this.conntrack(hook);
        continue;
      }
      const table = rs.tables.get(stage.table);
      if (!table) continue;
      let res: TableRes;
      if (stage.table === 'nat') res = this.natStage(hook);
      else res = this.runBuiltin(hook, stage.table);
      if (res.kind === 'final') return res.final;
      if (after) {
        const f = after(stage.table);
        if (f) return f;
      }
    }
    return null;
  }

  private conntrack(hook: HookName): void {
    const p = this.pkt;
    if (p.ctAttached && p.ctState !== 'UNTRACKED') {
      this.note('conntrack', hook, `conntrack: the packet keeps its entry (${effectiveState(p)})`);
      return;
    }
    switch (p.ctState) {
      case 'UNTRACKED':
        this.note('conntrack', hook, `conntrack: untracked${p.ctAttached ? ' (NOTRACK in raw)' : ''} — no entry, nat will not be consulted`);
        return;
      case 'INVALID':
        this.note('conntrack', hook, 'conntrack: INVALID — no entry is attached, nat will not be consulted');
        return;
      case 'NEW':
        p.ctAttached = true;
        p.ctOrig = tuple(p.src, p.dst, p.sport, p.dport);
        p.ctReply = tuple(p.dst, p.src, p.dport, p.sport);
        // (a replayed step's text is not needed: the parent's step is taken over)
        this.note('conntrack', hook, this.quietLeft !== 0 && this.quietDone < this.quietLeft ? '' : `conntrack: no entry for ${fmtTuple(p.ctOrig, p.proto)} — NEW flow`);
        return;
      case 'RELATED': {
        p.ctAttached = true;
        const f = this.flow;
        const e = p.icmpErr;
        if (e !== undefined && f) {
          // icmp_error_message / icmpv6_error: the embedded header, inverted, is a tuple of the
          // flow; the error is RELATED to it (IP_CT_RELATED_REPLY when that is the reply tuple).
          p.ctOrig = f.orig;
          p.ctReply = f.reply;
          p.ctDnat = f.dnat;
          p.ctSnat = f.snat;
          if (this.spec.ctMark === undefined) p.ctMark = f.ctMark;
          const nat = [f.dnat ? 'DNAT' : '', f.snat ? 'SNAT' : ''].filter(Boolean).join('+');
          this.note(
            'conntrack',
            hook,
            `conntrack: the embedded ${fmtTuple(e.inner, e.proto)} belongs to the flow ${fmtTuple(f.orig, e.proto)} (${p.ctDir === 'REPLY' ? 'reply' : 'original'} direction${nat ? `; ${nat}` : '; no NAT'}) — RELATED`,
          );
          return;
        }
        this.note('conntrack', hook, 'conntrack: RELATED — an expected connection of another flow');
        return;
      }
      case 'ESTABLISHED': {
        p.ctAttached = true;
        const f = this.flow;
        if (f) {
          p.ctOrig = f.orig;
          p.ctReply = f.reply;
          p.ctDnat = f.dnat;
          p.ctSnat = f.snat;
          if (this.spec.ctMark === undefined) p.ctMark = f.ctMark;
        }
        const nat = f ? [f.dnat ? 'DNAT' : '', f.snat ? 'SNAT' : ''].filter(Boolean).join('+') : '';
        this.note(
          'conntrack',
          hook,
          `conntrack: entry found — ESTABLISHED, ${p.ctDir === 'REPLY' ? 'reply' : 'original'} direction${f ? ` (${f.label}${nat ? `; ${nat}` : '; no NAT'}${p.ctMark ? `; ctmark ${hex(p.ctMark)}` : ''})` : ''}`,
        );
        return;
      }
    }
  }

  private natStage(hook: HookName): TableRes {
    const p = this.pkt;
    const manip = NAT_MANIP[hook]!;
    const what = manip === 'dst' ? 'destination' : 'source';
    const st = effectiveState(p);
    if (st === 'UNTRACKED' || st === 'INVALID') {
      this.stepNatSkipped(hook, `nat ${hook} not consulted: the packet is ${st}`);
      return ACCEPT_RES;
    }
    if (st === 'RELATED' && (p.protoNum === 1 || p.protoNum === 58)) {
      // nf_nat_ipv4_fn / nf_nat_ipv6_fn: a RELATED ICMP packet never traverses the nat table;
      // nf_nat_icmp(v6)_reply_translation rewrites it from the flow's bindings instead.
      if (p.icmpErr === undefined || !this.flow) {
        this.stepNatSkipped(hook, `nat ${hook} not consulted: a RELATED ICMP packet is translated by conntrack from its flow's bindings (the flow is not known here)`);
        return ACCEPT_RES;
      }
      const change = this.icmpErrorNat(manip);
      const bit = (manip === 'src') !== (p.ctDir === 'REPLY') ? 'SNAT' : 'DNAT';
      this.stepNatSkipped(
        hook,
        `nat ${hook} not consulted: RELATED ICMP error — ${change ? `conntrack rewrites it by the flow's ${bit}` : `the flow has no ${bit} to apply at this hook`} (outer and embedded header)`,
        change ? [change] : [],
      );
      return ACCEPT_RES;
    }
    if (st === 'ESTABLISHED') {
      const change = this.applyFlow(manip);
      this.stepNatSkipped(hook, `nat ${hook} not consulted: ESTABLISHED — ${change ? `conntrack applies the flow's ${what} translation` : `no ${what} translation for this direction`}`, change ? [change] : []);
      return ACCEPT_RES;
    }
    const done = manip === 'dst' ? this.dstDone : this.srcDone;
    if (done) {
      this.stepNatSkipped(hook, `nat ${hook} not consulted: the flow's ${what} NAT binding already exists (set up on the way out)`);
      return ACCEPT_RES;
    }
    const res = this.runBuiltin(hook, 'nat');
    if (manip === 'dst') this.dstDone = true;
    else this.srcDone = true;
    return res;
  }

  private stepNatSkipped(hook: HookName, note: string, changes: string[] = EMPTY): void {
    if (!this.env.ruleset.tables.get('nat')?.chains.get(hook)) return;
    this.note('conntrack', hook, note, changes);
  }

  /** Conntrack translation of a non-NEW packet at a NAT manip hook. */
  private applyFlow(manip: 'dst' | 'src'): string | null {
    const f = this.flow;
    const p = this.pkt;
    if (!f) return null;
    const set = (side: 'src' | 'dst', addr: Ip, port: number | undefined, label: string): string => {
      const before = side === 'src' ? fmtEnd(p.src, p.sport) : fmtEnd(p.dst, p.dport);
      if (side === 'src') {
        p.src = addr;
        if (port !== undefined && p.sport !== undefined) p.sport = port;
      } else {
        p.dst = addr;
        if (port !== undefined && p.dport !== undefined) p.dport = port;
      }
      const after = side === 'src' ? fmtEnd(p.src, p.sport) : fmtEnd(p.dst, p.dport);
      return `${label} ${before} → ${after}`;
    };
    if (!this.reply) {
      if (manip === 'dst' && f.dnat) return set('dst', f.reply.src, f.reply.sport, 'DNAT (conntrack)');
      if (manip === 'src' && f.snat) return set('src', f.reply.dst, f.reply.dport, 'SNAT (conntrack)');
    } else {
      if (manip === 'dst' && f.snat) return set('dst', f.orig.src, f.orig.sport, 'un-SNAT (conntrack)');
      if (manip === 'src' && f.dnat) return set('src', f.orig.dst, f.orig.dport, 'un-DNAT (conntrack)');
    }
    return null;
  }

  /**
   * nf_nat_icmp_reply_translation at a NAT hook (manip: dst at PREROUTING/OUTPUT, src at
   * INPUT/POSTROUTING). The flow's status bit for this manip (inverted in the reply direction)
   * decides; then the embedded header gets the other manip from the other direction's tuple and
   * the outer header this manip from that tuple inverted.
   */
  private icmpErrorNat(manip: 'dst' | 'src'): string | null {
    const f = this.flow!;
    const p = this.pkt;
    const e = p.icmpErr!;
    const replyDir = p.ctDir === 'REPLY';
    if (!((manip === 'src') !== replyDir ? f.snat : f.dnat)) return null;
    const t = replyDir ? f.orig : f.reply;
    const inner = e.inner;
    let next: CtTuple;
    let text: string;
    if (manip === 'dst') {
      next = tuple(t.src, inner.dst, inner.sport !== undefined ? t.sport ?? inner.sport : undefined, inner.dport);
      text = `ICMP error (conntrack): outer dst ${ipEquals(p.dst, t.src) ? `${p.dst.text} unchanged` : `${p.dst.text} → ${t.src.text}`}; embedded src ${fmtEnd(inner.src, inner.sport)} → ${fmtEnd(next.src, next.sport)}`;
      p.dst = t.src;
    } else {
      next = tuple(inner.src, t.dst, inner.sport, inner.dport !== undefined ? t.dport ?? inner.dport : undefined);
      text = `ICMP error (conntrack): outer src ${ipEquals(p.src, t.dst) ? `${p.src.text} unchanged` : `${p.src.text} → ${t.dst.text}`}; embedded dst ${fmtEnd(inner.dst, inner.dport)} → ${fmtEnd(next.dst, next.dport)}`;
      p.src = t.dst;
    }
    p.icmpErr = { ...e, inner: next };
    return text;
  }

  /** Traverse a table's builtin chain for a hook. */
  private runBuiltin(hook: HookName, tableName: TableName): TableRes {
    const table = this.env.ruleset.tables.get(tableName)!;
    const chain = table.chains.get(hook);
    if (!chain) {
      // The table exists in the kernel with all its builtin chains; the dump just lacks this one.
      if (this.replaying()) this.quietStep(true, undefined);
      else this.push(this.policyStep(hook, tableName, hook, 'ACCEPT', null, ['builtin chain not in the dump: policy ACCEPT']));
      return ACCEPT_RES;
    }
    return this.traverse(hook, tableName, chain);
  }

  private policyStep(hook: HookName, table: TableName, chain: string, policy: Policy, line: number | null, reasons: string[]): Step {
    return mkNoteStep('policy', hook, table, chain, true, reasons, EMPTY, snapshot(this.pkt), undefined, policy, line, undefined);
  }

  /** A frame of the walk's jump stack for a chain (its compiled rules and dispatch index). */
  private enterChain(chain: Chain, table: Table): Frame {
    const family = this.env.family;
    const p = this.pkt;
    const cc = compiledChain(chain, table, family);
    const ix = this.env.useIndex ? compiledIndex(cc, chain, family) : null;
    if (!ix) return { chain, crs: cc.rules, next: 0, ix: null, key: '', cands: EMPTY_CANDS, kDst: null, kProto: -1, kPort: undefined };
    const key = packetKey(ix.dim, p);
    return { chain, crs: cc.rules, next: 0, ix, key, cands: candidates(ix, key), kDst: p.dst, kProto: p.protoNum, kPort: p.dport };
  }

  /** The builtin chain's policy decides (end of the builtin chain, or RETURN/goto end reaching it). */
  private policyEnd(hook: HookName, tableName: TableName, builtin: Chain, why: string): TableRes {
    const policy = builtin.policy ?? 'ACCEPT';
    if (this.replaying()) this.quietStep(true, undefined);
    else this.push(this.policyStep(hook, tableName, builtin.name, policy, builtin.span?.line ?? null, [why]));
    if (policy === 'ACCEPT') return ACCEPT_RES;
    return {
      kind: 'final',
      final: {
        verdict: 'DROP',
        disposition: {
          kind: 'dropped',
          by: { table: tableName, chain: builtin.name, rule: null, line: builtin.span?.line ?? null },
          text: `dropped by ${tableName}:${builtin.name} policy DROP`,
        },
      },
    };
  }

  /** The chain walk with the kernel's jump stack (ipt_do_table). */
  private traverse(hook: HookName, tableName: TableName, builtin: Chain): TableRes {
    const p = this.pkt;
    const table = this.env.ruleset.tables.get(tableName)!;
    const stack: Frame[] = [];
    let frame = this.enterChain(builtin, table);
    for (;;) {
      const chain = frame.chain;
      let i = frame.next;
      if (frame.ix) {
        // Addresses are immutable values: the same object has the same key.
        if (frame.kDst !== p.dst || frame.kProto !== p.protoNum || frame.kPort !== p.dport) {
          frame.kDst = p.dst;
          frame.kProto = p.protoNum;
          frame.kPort = p.dport;
          const k = packetKey(frame.ix.dim, p);
          if (k !== frame.key) {
            frame.key = k;
            frame.cands = candidates(frame.ix, k);
          }
        }
        const c = nextCandidate(frame.cands, i);
        const to = c < 0 ? frame.crs.length : c;
        if (to > i) this.skipStep(hook, tableName, chain, i, to - 1, frame.ix);
        i = to;
      }
      if (i >= frame.crs.length) {
        if (chain.builtin || stack.length === 0) {
          if (!chain.builtin) this.returnStep(hook, tableName, chain, 'end of chain reached via goto from the builtin chain');
          return this.policyEnd(hook, tableName, builtin, chain.builtin ? 'end of chain' : `end of ${chain.name} (reached by goto): the builtin chain's policy applies`);
        }
        const back = stack.pop()!;
        this.returnStep(hook, tableName, chain, `end of chain: return to ${back.chain.name}`);
        frame = back;
        continue;
      }
      frame.next = i + 1;
      if (++this.evaluations > MAX_EVALUATIONS) {
        return { kind: 'final', final: { verdict: 'DROP', disposition: { kind: 'stolen', text: `aborted: more than ${MAX_EVALUATIONS} rule evaluations (a loop in the ruleset?)` } } };
      }
      const cr = frame.crs[i]!;
      const rule = cr.rule;
      const matched = this.evalRule(hook, tableName, rule, cr);
      if (!matched) continue;
      const step = this.last;
      const t = cr.target;
      if (!t) continue;
      // Standard verdicts and chains.
      const userChain = cr.userChain;
      if (userChain !== null) {
        step.target = t.name;
        if (t.goto) {
          addChange(step, cr.gotoText);
          frame = this.enterChain(userChain, table);
        } else {
          addChange(step, cr.jumpText);
          stack.push(frame);
          frame = this.enterChain(userChain, table);
        }
        continue;
      }
      if (t.kind === 'verdict' || (t.kind === 'chain' && !userChain)) {
        step.target = t.name;
        switch (t.name) {
          case 'ACCEPT':
            return ACCEPT_RES;
          case 'DROP':
            return { kind: 'final', final: this.byRule('DROP', 'dropped', tableName, chain, rule) };
          case 'RETURN': {
            if (stack.length === 0) return this.policyEnd(hook, tableName, builtin, chain.builtin ? 'RETURN in the builtin chain: policy applies' : `RETURN from ${chain.name} (reached by goto): the builtin chain's policy applies`);
            frame = stack.pop()!;
            addChange(step, `return to ${frame.chain.name}`);
            continue;
          }
          case 'QUEUE':
            return { kind: 'final', final: { verdict: 'ACCEPT', disposition: { kind: 'queued', text: 'queued to userspace (QUEUE): the verdict is decided there' } } };
          default: {
            const r = this.unknownTarget(hook, tableName, chain, rule, `target ${t.name} is not a known verdict or chain`);
            if (r) return r;
            continue;
          }
        }
      }
      // Extension targets.
      let ext = cr.targetExt;
      if (ext === undefined) ext = cr.targetExt = findTarget(t.name) ?? null;
      step.target = t.name;
      if (!ext || !ext.apply) {
        const r = this.unknownTarget(hook, tableName, chain, rule, `target ${t.name} is not known to iptscope`);
        if (r) return r;
        continue;
      }
      if ((ext.tables && !ext.tables.includes(tableName)) || (ext.hooks && !ext.hooks.includes(hook))) {
        const where = ext.tables && !ext.tables.includes(tableName) ? `the ${tableName} table` : hook;
        const r = this.unknownTarget(hook, tableName, chain, rule, `${t.name} is not valid in ${where} (the kernel refuses such a rule)`);
        if (r) return r;
        continue;
      }
      let typed = cr.targetTyped;
      if (typed === null) typed = cr.targetTyped = typedOf(t, ext, this.env.family);
      if (!typed.ok) {
        const r = this.unknownTarget(hook, tableName, chain, rule, `${t.name}: ${typed.message}`);
        if (r) return r;
        continue;
      }
      const eff: TargetEffect = ext.apply(typed.value, this.ctx(hook, tableName, chain.name));
      for (let ci = 0; ci < eff.changes.length; ci++) addChange(step, eff.changes[ci]!);
      if (eff.nat) this.afterNat();
      if (eff.notrack) p.ctAttached = true;
      step.state = snapshot(p);
      switch (eff.verdict) {
        case 'continue':
          continue;
        case 'accept':
          return ACCEPT_RES;
        case 'drop':
          return { kind: 'final', final: this.byRule('DROP', 'dropped', tableName, chain, rule) };
        case 'reject': {
          const f = this.byRule('REJECT', 'rejected', tableName, chain, rule);
          if (eff.rejectWith) {
            f.disposition.rejectWith = eff.rejectWith;
            f.disposition.text += ` with ${eff.rejectWith}`;
          }
          return { kind: 'final', final: f };
        }
        case 'queue':
          return { kind: 'final', final: { verdict: 'ACCEPT', disposition: { kind: 'queued', by: byOf(tableName, chain, rule), text: eff.reason ?? 'queued to userspace' } } };
        case 'stolen':
          return { kind: 'final', final: { verdict: 'DROP', disposition: { kind: 'stolen', by: byOf(tableName, chain, rule), text: eff.reason ?? `taken by ${t.name}` } } };
        case 'unknown': {
          const r = this.unknownTarget(hook, tableName, chain, rule, eff.reason ?? `${t.name}: verdict unknown`);
          if (r) return r;
          continue;
        }
      }
    }
  }

  /** After a NAT target: keep the reply tuple in step with the translated packet. */
  private afterNat(): void {
    const p = this.pkt;
    p.ctReply = tuple(p.dst, p.src, p.dport, p.sport);
  }

  private byRule(verdict: Verdict, kind: DispositionKind, table: TableName, chain: Chain, rule: Rule): Final {
    return {
      verdict,
      disposition: { kind, by: byOf(table, chain, rule), text: `${kind} by ${table}:${chain.name}:${rule.position} (line ${rule.span.line})` },
    };
  }

  /** An unknown target: explore continue / stop (or the user's --assume for its line). */
  private unknownTarget(hook: HookName, table: TableName, chain: Chain, rule: Rule, reason: string): TableRes | null {
    const step = this.last;
    const a = this.env.assume.get(rule.span.line);
    let choice: 'continue' | 'stop';
    let chosen = false;
    if (a === 'continue' || a === 'stop') {
      choice = a;
      chosen = true;
    } else choice = this.choose(2) === 0 ? 'continue' : 'stop';
    this.assumptions.push({ table, chain: chain.name, rule: rule.position, line: rule.span.line, choice, reason, chosen });
    addChange(step, `unknown target (${reason}): assumed to ${choice}`);
    if (choice === 'continue') return null;
    void hook;
    return {
      kind: 'final',
      final: {
        verdict: 'DROP',
        disposition: { kind: 'stolen', by: byOf(table, chain, rule), text: `stopped by ${rule.target?.name ?? '?'} at ${table}:${chain.name}:${rule.position} (line ${rule.span.line}), assumed terminating` },
      },
    };
  }

  private skipStep(hook: HookName, table: TableName, chain: Chain, from: number, to: number, ix: ChainIndex): void {
    const p = this.pkt;
    const reason = ix.dim === 'dst' ? `-d differs from ${p.dst.text}` : `-p/--dport differ from ${p.proto}${p.dport !== undefined ? ` dport ${p.dport}` : ''}`;
    const count = to - from + 1;
    if (this.replaying()) {
      this.quietStep(false, undefined);
      return;
    }
    this.push(
      mkNoteStep(
        'note',
        hook,
        table,
        chain.name,
        false,
        EMPTY,
        EMPTY,
        snapshot(p),
        count === 1 ? `rule ${from + 1} skipped: ${reason}` : `rules ${from + 1}–${to + 1} skipped (${count}): ${reason}`,
        undefined,
        null,
        { from: from + 1, to: to + 1, count, reason },
      ),
    );
  }

  private returnStep(hook: HookName, table: TableName, chain: Chain, note: string): void {
    if (this.replaying()) {
      this.quietStep(true, undefined);
      return;
    }
    this.push(mkNoteStep('return', hook, table, chain.name, true, EMPTY, EMPTY, snapshot(this.pkt), note, undefined, null, undefined));
  }

  private evalCtx: EvalContext | null = null;
  private readonly scratch: string[] = [];

  /** The context handed to extensions (one object per run, updated in place). */
  private ctx(hook: HookName, table: TableName, chain: string): EvalContext {
    let c = this.evalCtx;
    if (c === null) {
      c = { packet: this.pkt, hook, table, chain, family: this.env.family, host: this.env.host };
      this.evalCtx = c;
    } else {
      c.hook = hook;
      c.table = table;
      c.chain = chain;
    }
    return c;
  }

  /**
   * Evaluate one rule and push its step. Returns whether the path continues with the target
   * (matched, or unknown/random and the choice was "match").
   */
  private evalRule(hook: HookName, table: TableName, rule: Rule, cr: CRule): boolean {
    const p = this.pkt;
    // Fast path: most evaluated rules fail on their base match (-s/-d/-i/-o/-p); only the text of
    // the failing condition is built (from the rule's precompiled condition texts).
    if (baseFails(cr, p)) {
      if (this.replaying()) this.quietStep(false, undefined);
      else this.push(mkRuleStep(hook, table, cr, false, EMPTY, EMPTY, snapshot(p), baseFailText(cr, p)));
      return false;
    }
    // Reasons are collected in a reused scratch list and copied once to an exact-size list.
    // Reasons are written into a reused scratch list (never shrunk) and copied once at exact size.
    const reasons = this.scratch;
    // A step the parent run already recorded needs no reason texts (only the walk's decisions).
    const quiet = this.quietLeft !== 0 && this.quietDone < this.quietLeft;
    let nr = quiet ? 0 : baseReasons(cr, p, reasons, 0);
    let unknownText = cr.oif !== null || cr.proto === -2 ? baseUnknown(cr, p) : undefined;
    let failed: string | undefined;
    let ok = true;
    let probability: number | undefined;
    let probDetail = '';
    const ms = cr.matches;
    if (ms.length > 0) {
      const ctx = this.ctx(hook, table, cr.chainName);
      for (let mi = 0; mi < ms.length; mi++) {
        const m = ms[mi]!;
        let res: Tri;
        let detail: string;
        let prob: number | undefined;
        if (m.kConst) {
          // A result that depends only on the rule (comment, statistic random): no call.
          res = m.kResult;
          detail = m.kDetail;
          prob = m.kProbability;
        } else {
          const ext = m.ext;
          if (ext === null || !ext.evaluate) {
            const d = `-m ${m.module}: module not known to iptscope`;
            unknownText = unknownText === undefined ? d : `${unknownText}; ${d}`;
            continue;
          }
          if (!m.ok) {
            const d = `-m ${m.module}: ${m.message}`;
            unknownText = unknownText === undefined ? d : `${unknownText}; ${d}`;
            continue;
          }
          const r = ext.evaluate(m.value, ctx);
          res = r.result;
          detail = r.detail;
          prob = r.probability;
        }
        if (res === true) {
          if (!quiet) reasons[nr++] = detail;
          continue;
        }
        if (res === 'unknown') {
          if (prob !== undefined) {
            probability = (probability ?? 1) * prob;
            probDetail = probDetail ? `${probDetail}; ${detail}` : detail;
            continue;
          }
          if (m.module === 'set') this.useDefault(DEFAULT_KEYS.ipsets);
          unknownText = unknownText === undefined ? detail : `${unknownText}; ${detail}`;
          continue;
        }
        failed = detail;
        ok = false;
        break;
      }
    }
    if (p.oifUnknown && cr.oif !== null) this.useDefault(DEFAULT_KEYS.routes);
    let matched: Tri;
    if (!ok) matched = false;
    else if (unknownText !== undefined) {
      matched = 'unknown';
      failed = unknownText;
    } else matched = true;
    const replay = this.replaying();
    const step = replay ? this.quietStep(matched, failed) : mkRuleStep(hook, table, cr, matched, EMPTY, EMPTY, snapshot(p), failed);
    if (!replay) this.push(step);
    if (matched === false) {
      if (nr !== 0 && !replay) step.reasons = reasons.slice(0, nr);
      return false;
    }
    let go = true;
    if (matched === 'unknown') {
      const a = this.env.assume.get(cr.line);
      let choice: 'match' | 'nomatch';
      let chosen = false;
      if (a === 'match' || a === 'nomatch') {
        choice = a;
        chosen = true;
      } else choice = this.choose(2) === 0 ? 'match' : 'nomatch';
      this.assumptions.push({ table, chain: cr.chainName, rule: cr.position, line: cr.line, choice, reason: failed ?? 'unknown', chosen });
      go = choice === 'match';
      addChange(step, `unknown: assumed ${choice === 'match' ? 'to match' : 'not to match'}${chosen ? ' (--assume)' : ''}`);
    }
    if (go && probability !== undefined) {
      if (probability >= 1) reasons[nr++] = probDetail;
      else if (probability <= 0) {
        go = false;
        if (step.matched === true) {
          step.matched = false;
          step.failed = probDetail;
        }
      } else {
        const taken = this.choose(2) === 0;
        const pr = taken ? probability : 1 - probability;
        this.probability *= pr;
        this.branches.push({ table, chain: cr.chainName, rule: cr.position, line: cr.line, taken, probability: pr });
        if (taken) {
          if (!quiet) reasons[nr++] = `${probDetail}: taken`;
        }
        else {
          go = false;
          if (step.matched === true) {
            step.matched = false;
            step.failed = `${probDetail}: not taken`;
          } else addChange(step, `random: not taken`);
        }
      }
    }
    if (go && step.matched !== 'unknown' && !cr.target) addChange(step, 'no target: counters only');
    if (nr !== 0 && !replay) step.reasons = reasons.slice(0, nr);
    return go;
  }
}

function byOf(table: TableName, chain: Chain, rule: Rule): { table: TableName; chain: string; rule: number | null; line: number | null } {
  return { table, chain: chain.name, rule: rule.position, line: rule.span.line };
}

function fmtEnd(ip: Ip, port: number | undefined): string {
  if (port === undefined) return ip.text;
  return ip.family === 'ipv6' ? `[${ip.text}]:${port}` : `${ip.text}:${port}`;
}

/** `tcp 10.0.0.1:1234 → 10.96.0.10:80`. */
export function fmtTuple(t: CtTuple, proto: string): string {
  return `${proto} ${fmtEnd(t.src, t.sport)} → ${fmtEnd(t.dst, t.dport)}`;
}
