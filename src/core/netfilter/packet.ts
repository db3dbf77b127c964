/**
 * Packets: validation of the user's description, the engine's working form (EvalPacket) and the
 * per-step snapshot (PacketState).
 *
 * Pure: no IO.
 */
import type { Family } from '../model.js';
import type { CtTuple, EvalPacket } from '../extensions/types.js';
import { parseIp, type Ip } from './addr.js';
import { compileHost } from './host.js';
import { parseTcpFlags, PORT_PROTOCOLS, protoName, protoNumber, TCP_FLAGS } from './proto.js';
import type { CtState, EmbeddedState, HostContext, PacketSpec, PacketState } from './types.js';

const CT_STATES: readonly CtState[] = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'];

/** The family of a packet from its addresses; null when they are invalid or mixed. */
export function packetFamily(spec: PacketSpec): Family | null {
  const s = parseIp(spec.src);
  const d = parseIp(spec.dst);
  if (!s || !d || s.family !== d.family) return null;
  return s.family;
}

/**
 * User-facing errors in a packet description (empty when valid): invalid addresses, family mix
 * (with each other or with the ruleset), ports out of range or given for a protocol without ports,
 * ICMP fields for a non-ICMP protocol, missing/duplicate entry point, interfaces the context does
 * not list (when it lists interfaces beyond lo), bad mark / state values.
 */
export function validatePacket(spec: PacketSpec, family: Family, context: HostContext): string[] {
  const errs: string[] = [];
  const s = parseIp(spec.src ?? '');
  const d = parseIp(spec.dst ?? '');
  if (!s) errs.push(`invalid source address "${spec.src ?? ''}"`);
  if (!d) errs.push(`invalid destination address "${spec.dst ?? ''}"`);
  if (s && d && s.family !== d.family) errs.push(`source ${s.text} is ${s.family} but destination ${d.text} is ${d.family}`);
  else if (s && s.family !== family) errs.push(`the packet is ${s.family} but the ruleset is ${family}`);
  const pn = protoNumber(spec.proto ?? '');
  if (pn === null) errs.push(`unknown protocol "${spec.proto ?? ''}"`);
  else {
    if (pn === 1 && family === 'ipv6') errs.push('icmp is IPv4; use icmpv6 (ipv6-icmp) for an IPv6 packet');
    if (pn === 58 && family === 'ipv4') errs.push('icmpv6 is IPv6; use icmp for an IPv4 packet');
    // (checked field by field without building lists: validation runs on every trace)
    const port = (name: string, v: number | undefined): void => {
      if (v === undefined) return;
      if (!Number.isInteger(v) || v < 0 || v > 65535) errs.push(`${name} ${v} is out of range (0-65535)`);
      else if (!PORT_PROTOCOLS.has(pn)) errs.push(`${name} given but ${protoName(pn)} has no ports`);
    };
    port('source port', spec.sport);
    port('destination port', spec.dport);
    if ((spec.icmpType !== undefined || spec.icmpCode !== undefined) && pn !== 1 && pn !== 58) errs.push(`ICMP type/code given but the protocol is ${protoName(pn)}`);
    if (spec.icmpType !== undefined && (!Number.isInteger(spec.icmpType) || spec.icmpType < 0 || spec.icmpType > 255)) errs.push(`ICMP type ${spec.icmpType} is out of range (0-255)`);
    if (spec.icmpCode !== undefined && (!Number.isInteger(spec.icmpCode) || spec.icmpCode < 0 || spec.icmpCode > 255)) errs.push(`ICMP code ${spec.icmpCode} is out of range (0-255)`);
    if (spec.tcpFlags && pn !== 6) errs.push(`TCP flags given but the protocol is ${protoName(pn)}`);
  }
  if (spec.tcpFlags && parseTcpFlags(spec.tcpFlags.join(',')) === null) errs.push(`invalid TCP flags "${spec.tcpFlags.join(',')}"`);
  if (spec.local && spec.iif) errs.push('give either an input interface or local, not both');
  if (!spec.local && !spec.iif) errs.push('give the input interface (--iif IFACE) or --local for a locally generated packet');
  if (spec.mark !== undefined && (!Number.isInteger(spec.mark) || spec.mark < 0 || spec.mark > 0xffffffff)) errs.push(`mark ${spec.mark} is out of range (0-0xffffffff)`);
  if (spec.ctMark !== undefined && (!Number.isInteger(spec.ctMark) || spec.ctMark < 0 || spec.ctMark > 0xffffffff)) errs.push(`ctmark ${spec.ctMark} is out of range (0-0xffffffff)`);
  if (spec.ctState !== undefined && !CT_STATES.includes(spec.ctState)) errs.push(`unknown conntrack state "${spec.ctState}" (one of ${CT_STATES.join(', ')})`);
  if (spec.ttl !== undefined && (!Number.isInteger(spec.ttl) || spec.ttl < 0 || spec.ttl > 255)) errs.push(`ttl ${spec.ttl} is out of range (0-255)`);
  if (spec.length !== undefined && (!Number.isInteger(spec.length) || spec.length < 20 || spec.length > 65535)) errs.push(`length ${spec.length} is out of range (20-65535)`);
  if (spec.packetNumber !== undefined && (!Number.isInteger(spec.packetNumber) || spec.packetNumber < 0)) errs.push(`packet number ${spec.packetNumber} must be a non-negative integer`);
  if (context.interfaces.some((i) => i.name !== 'lo')) {
    const host = compileHost(context);
    const known = (n: string) => host.ifaces.has(n) || host.portToBridge.has(n);
    if (spec.iif && !known(spec.iif)) errs.push(`unknown interface "${spec.iif}" (the context lists ${[...host.ifaces.keys()].join(', ')})`);
    if (spec.oif && !known(spec.oif)) errs.push(`unknown output interface "${spec.oif}" (the context lists ${[...host.ifaces.keys()].join(', ')})`);
  }
  if (spec.related) errs.push(...validateRelated(spec, family));
  if (spec.flow) {
    if (spec.flow.dnatTo !== undefined && !parseIp(spec.flow.dnatTo)) errs.push(`invalid flow DNAT address "${spec.flow.dnatTo}"`);
    if (spec.flow.snatTo !== undefined && !parseIp(spec.flow.snatTo)) errs.push(`invalid flow SNAT address "${spec.flow.snatTo}"`);
  }
  return errs;
}

/** Build the engine's working packet from a (valid) description. */
export function buildPacket(spec: PacketSpec, family: Family): EvalPacket {
  const src = parseIp(spec.src)!;
  const dst = parseIp(spec.dst)!;
  const protoNum = protoNumber(spec.proto) ?? 0;
  const ctState: CtState = spec.ctState ?? 'NEW';
  const hasPorts = PORT_PROTOCOLS.has(protoNum);
  const sport = hasPorts ? spec.sport ?? 40000 : undefined;
  const dport = hasPorts ? spec.dport ?? 0 : undefined;
  const flags = spec.tcpFlags ? parseTcpFlags(spec.tcpFlags.join(',')) ?? 0 : ctState === 'NEW' ? TCP_FLAGS.SYN! : TCP_FLAGS.ACK!;
  const orig: CtTuple = tuple(src, dst, sport, dport);
  // Every field is initialised, in one order, so that all packets share one hidden class
  // (adding properties later would make every property access in the engine megamorphic).
  const icmp = protoNum === 1 || protoNum === 58;
  const p: EvalPacket = {
    family,
    proto: protoName(protoNum),
    protoNum,
    src,
    dst,
    sport,
    dport,
    icmpType: icmp ? spec.icmpType ?? (protoNum === 1 ? 8 : 128) : undefined,
    icmpCode: icmp ? spec.icmpCode ?? 0 : undefined,
    tcpFlags: protoNum === 6 ? flags : 0,
    iif: undefined,
    oif: undefined,
    oifUnknown: false,
    physIn: spec.physIn,
    physOut: spec.physOut,
    bridged: false,
    mark: spec.mark ?? 0,
    ctAttached: false,
    ctMark: spec.ctMark ?? 0,
    ctState,
    ctDir: 'ORIGINAL',
    ctSnat: false,
    ctDnat: false,
    ctOrig: orig,
    ctReply: tuple(dst, src, dport, sport),
    ttl: spec.ttl ?? 64,
    length: spec.length ?? 60,
    srcMac: spec.srcMac,
    uid: spec.uid,
    gid: spec.gid,
    fragment: spec.fragment ?? false,
    packetNumber: spec.packetNumber,
    local: spec.local ?? false,
    tproxy: false,
    notes: [],
    icmpErr: undefined,
  };
  return p;
}

/** A conntrack tuple. */
export function tuple(src: Ip, dst: Ip, sport: number | undefined, dport: number | undefined): CtTuple {
  return { src, dst, sport, dport };
}

/** Copy a packet (branches of the exploration never share mutable state). */
export function clonePacket(p: EvalPacket): EvalPacket {
  return { ...p, notes: p.notes.slice() };
}

interface Last {
  p: EvalPacket;
  src: unknown;
  dst: unknown;
  orig: unknown;
  err: unknown;
  state: PacketState;
}
let last: Last | null = null;

/**
 * The JSON-facing snapshot of a packet after a step. Consecutive steps that leave the packet
 * unchanged share one snapshot object: most steps change nothing, and this keeps a trace of a
 * large ruleset cheap. Consumers must treat step states as read-only.
 */
export function snapshot(p: EvalPacket): PacketState {
  const l = last;
  if (l !== null && l.p === p && l.src === p.src && l.dst === p.dst && l.orig === p.ctOrig && l.err === p.icmpErr) {
    const s = l.state;
    if (
      s.sport === p.sport &&
      s.dport === p.dport &&
      s.mark === p.mark &&
      s.ctMark === p.ctMark &&
      s.ctState === p.ctState &&
      s.ctDir === p.ctDir &&
      s.iif === p.iif &&
      s.oif === (p.oif ?? (p.oifUnknown ? '?' : undefined)) &&
      s.snat === p.ctSnat &&
      s.dnat === p.ctDnat &&
      s.ttl === p.ttl &&
      s.icmpType === p.icmpType &&
      s.icmpCode === p.icmpCode &&
      s.physIn === (p.bridged ? p.physIn : undefined) &&
      s.physOut === (p.bridged ? p.physOut : undefined)
    ) {
      return s;
    }
  }
  const state = freshSnapshot(p);
  last = { p, src: p.src, dst: p.dst, orig: p.ctOrig, err: p.icmpErr, state };
  return state;
}

/**
 * Snapshots are instances of this class, not object literals, for the reason given at the engine's
 * StepRec (V8 pretenures literal allocation sites only). Same fields in the same order as the
 * literal it replaces; the optional ones are added after, as before.
 */
class StateRec {
  declare family: PacketState['family'];
  declare proto: string;
  declare src: string;
  declare dst: string;
  declare mark: number;
  declare ctMark: number;
  declare ctState: PacketState['ctState'];
  declare ctDir: PacketState['ctDir'];
  declare origSrc: string;
  declare origDst: string;
  declare snat: boolean;
  declare dnat: boolean;
  declare ttl: number;
  constructor(p: EvalPacket) {
    this.family = p.family;
    this.proto = p.proto;
    this.src = p.src.text;
    this.dst = p.dst.text;
    this.mark = p.mark;
    this.ctMark = p.ctMark;
    this.ctState = p.ctState;
    this.ctDir = p.ctDir;
    this.origSrc = p.ctOrig.src.text;
    this.origDst = p.ctOrig.dst.text;
    this.snat = p.ctSnat;
    this.dnat = p.ctDnat;
    this.ttl = p.ttl;
  }
}

function freshSnapshot(p: EvalPacket): PacketState {
  const s = new StateRec(p) as PacketState;
  if (p.sport !== undefined) s.sport = p.sport;
  if (p.dport !== undefined) s.dport = p.dport;
  if (p.icmpType !== undefined) s.icmpType = p.icmpType;
  if (p.icmpCode !== undefined) s.icmpCode = p.icmpCode;
  if (p.iif !== undefined) s.iif = p.iif;
  if (p.oif !== undefined) s.oif = p.oif;
  else if (p.oifUnknown) s.oif = '?';
  if (p.bridged) {
    if (p.physIn !== undefined) s.physIn = p.physIn;
    if (p.physOut !== undefined) s.physOut = p.physOut;
  }
  if (p.ctOrig.sport !== undefined) s.origSport = p.ctOrig.sport;
  if (p.ctOrig.dport !== undefined) s.origDport = p.ctOrig.dport;
  const e = p.icmpErr;
  if (e !== undefined) {
    const em: EmbeddedState = {
      proto: e.proto,
      src: e.inner.src.text,
      dst: e.inner.dst.text,
      origSrc: e.innerIn.src.text,
      origDst: e.innerIn.dst.text,
      outerOrigSrc: e.outerSrcIn.text,
      outerOrigDst: e.outerDstIn.text,
    };
    if (e.inner.sport !== undefined) em.sport = e.inner.sport;
    if (e.inner.dport !== undefined) em.dport = e.inner.dport;
    if (e.innerIn.sport !== undefined) em.origSport = e.innerIn.sport;
    if (e.innerIn.dport !== undefined) em.origDport = e.innerIn.dport;
    s.embedded = em;
  }
  return s;
}

/** ICMP error types conntrack relates to a flow by their embedded header (redirects excluded). */
const ERROR_TYPES: Record<Family, Record<number, string>> = {
  ipv4: { 3: 'destination unreachable', 11: 'time exceeded', 12: 'parameter problem' },
  ipv6: { 1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded', 4: 'parameter problem' },
};

/** The error's type and code (defaults: port unreachable). */
export function relatedIcmp(spec: PacketSpec, family: Family): { type: number; code: number } {
  const r = spec.related ?? {};
  const type = r.icmpType ?? (family === 'ipv4' ? 3 : 1);
  const code = r.icmpCode ?? (r.icmpType === undefined ? (family === 'ipv4' ? 3 : 4) : 0);
  return { type, code };
}

function validateRelated(spec: PacketSpec, family: Family): string[] {
  const errs: string[] = [];
  const r = spec.related!;
  if (spec.reply) errs.push('related and reply cannot be combined (related.dir "original" is an error sent by the flow\'s source)');
  const pn = protoNumber(spec.proto ?? '');
  if (pn !== null && pn !== 6 && pn !== 17) errs.push(`related: the flow must be tcp or udp (ICMP errors about ${protoName(pn)} flows are not modelled)`);
  if (spec.ctState !== undefined && spec.ctState !== 'RELATED') errs.push(`related describes a RELATED ICMP error, not ctState ${spec.ctState}`);
  const { type, code } = relatedIcmp(spec, family);
  const names = ERROR_TYPES[family];
  if (!Number.isInteger(type) || names[type] === undefined) {
    const list = Object.entries(names).map(([t, n]) => `${t} ${n}`).join(', ');
    errs.push(`related.icmpType ${type} is not an ICMP${family === 'ipv6' ? 'v6' : ''} error type conntrack relates to a flow (one of ${list})`);
  }
  if (!Number.isInteger(code) || code < 0 || code > 255) errs.push(`related.icmpCode ${code} is out of range (0-255)`);
  if (r.dir !== undefined && r.dir !== 'reply' && r.dir !== 'original') errs.push(`related.dir "${r.dir as string}" must be reply or original`);
  if (r.from !== undefined) {
    const f = parseIp(r.from);
    if (!f) errs.push(`invalid related.from address "${r.from}"`);
    else if (f.family !== family) errs.push(`related.from ${f.text} is ${f.family} but the packet is ${family}`);
  }
  return errs;
}
