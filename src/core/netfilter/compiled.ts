/**
 * Rules compiled once into one uniform shape for the hot path: the parser's objects have optional
 * fields (so many hidden classes), which makes every property access in a tight loop megamorphic.
 * The compiled form is cached on the Rule object under a symbol (invisible to JSON and other code).
 *
 * Pure: no IO.
 */
import type { Chain, Family, Rule, Table } from '../model.js';
import type { EvalPacket, ExtParse, ExtensionBase, MatchResult } from '../extensions/types.js';
import { findMatch, findTarget } from '../extensions/index.js';
import { chainIndex, type ChainIndex } from './dispatch.js';
import { cidrNet, type Net } from './addr.js';
import { protoName, protoNumber } from './proto.js';
import { typedOf } from './typed.js';

/** A match module resolved to its extension and typed value. */
export interface CMatch {
  module: string;
  ext: ExtensionBase<unknown> | null;
  typed: ExtParse<unknown> | null;
  /**
   * The typed parse read without its object (the walk touches every rule of a Service's chains
   * once per trace, cold in the CPU caches: each object less on the way is a cache miss less):
   * ok, the value (ok) or the message (not ok).
   */
  ok: boolean;
  value: unknown;
  message: string;
  /** The extension's constant result for this value (ext.constant), spread out: kConst false when none. */
  kConst: boolean;
  kResult: MatchResult['result'];
  kDetail: string;
  kProbability: number | undefined;
}

function cmatch(module: string, ext: ExtensionBase<unknown> | null, family: Family, m: Rule['matches'][number]): CMatch {
  const typed = ext ? typedOf(m, ext, family) : null;
  const c: CMatch = { module, ext, typed, ok: false, value: undefined, message: '', kConst: false, kResult: false, kDetail: '', kProbability: undefined };
  if (typed !== null) {
    if (typed.ok) {
      c.ok = true;
      c.value = typed.value;
      const k = ext!.evaluate && ext!.constant ? ext!.constant(typed.value) : undefined;
      if (k !== undefined) {
        c.kConst = true;
        c.kResult = k.result;
        c.kDetail = k.detail;
        c.kProbability = k.probability;
      }
    } else c.message = typed.message;
  }
  return c;
}

/** A compiled rule. */
export interface CRule {
  /** The rule and the fields the walk reads on every evaluation (one shape for all rules). */
  rule: Rule;
  chainName: string;
  position: number;
  line: number;
  target: Rule['target'];
  src: Net | null;
  srcNeg: boolean;
  dst: Net | null;
  dstNeg: boolean;
  /**
   * An IPv4 -s / -d spread out (its one address and mask word, as int32), tested without reading
   * the Net and its arrays (cold objects: see CMatch); src4/dst4 false otherwise (the Net is tested).
   */
  src4: boolean;
  srcW: number;
  srcM: number;
  dst4: boolean;
  dstW: number;
  dstM: number;
  iif: string | null;
  iifPrefix: boolean;
  iifNeg: boolean;
  oif: string | null;
  oifPrefix: boolean;
  oifNeg: boolean;
  /** -1: no -p; -2: a protocol name iptscope does not know (unknown). */
  proto: number;
  protoNeg: boolean;
  /** 0: no -f; 1: -f; 2: ! -f. */
  frag: number;
  matches: CMatch[];
  /** The user chain the rule jumps/gotos to (resolved in its table), else null. */
  userChain: Chain | null;
  /**
   * Condition texts of the base match, built once (same words as evalIpMatch): `…In`/`…Eq` when
   * the packet is inside / equal, `…Out`/`…Ne` otherwise; the packet's value is appended.
   */
  srcIn: string;
  srcOut: string;
  dstIn: string;
  dstOut: string;
  iifEq: string;
  iifNe: string;
  oifEq: string;
  oifNe: string;
  oifUnknownText: string;
  protoEq: string;
  protoNe: string;
  protoUnknownText: string;
  fragYes: string;
  fragNo: string;
  /** The rule has no -s/-d/-i/-o/-p/-f at all. */
  noBase: boolean;
  /** `jump NAME` / `goto NAME` for a rule whose target is a user chain ('' otherwise). */
  jumpText: string;
  gotoText: string;
  /** The target's extension (null: none known) and typed value, resolved on first use. */
  targetExt: ExtensionBase<unknown> | null | undefined;
  targetTyped: ExtParse<unknown> | null;
}

/** A compiled chain: its rules and (lazily) its dispatch index. */
export interface CChain {
  n: number;
  rules: CRule[];
  /** undefined until asked; null when the chain is not indexed. */
  ix: ChainIndex | null | undefined;
}

const CSLOT: unique symbol = Symbol('iptscope.compiledChain');
type WithCC = Chain & { [CSLOT]?: CChain };

/** The compiled form of a chain (rebuilt when its rule count changes). */
export function compiledChain(chain: Chain, table: Table, family: Family): CChain {
  const c = (chain as WithCC)[CSLOT];
  if (c && c.n === chain.rules.length) return c;
  const cc: CChain = { n: chain.rules.length, rules: chain.rules.map((r) => compiled(r, family, table)), ix: undefined };
  (chain as WithCC)[CSLOT] = cc;
  return cc;
}

/** The chain's dispatch index through its compiled form (cached there). */
export function compiledIndex(cc: CChain, chain: Chain, family: Family): ChainIndex | null {
  if (cc.ix === undefined) cc.ix = chainIndex(chain, family);
  return cc.ix;
}

const SLOT: unique symbol = Symbol('iptscope.compiled');
type WithC = Rule & { [SLOT]?: CRule };

/** The compiled form of a rule (built on first use). */
export function compiled(rule: Rule, family: Family, table?: Table): CRule {
  const c = (rule as WithC)[SLOT];
  if (c) return c;
  const ip = rule.ip;
  const iif = ip.iif?.value ?? null;
  const oif = ip.oif?.value ?? null;
  const src = ip.src ? cidrNet(ip.src.value) : null;
  const dst = ip.dst ? cidrNet(ip.dst.value) : null;
  const src4 = src !== null && src.family === 'ipv4' && src.w.length === 1;
  const dst4 = dst !== null && dst.family === 'ipv4' && dst.w.length === 1;
  // Field order: what every evaluation reads first (one object, few cache lines), texts last.
  // Address and mask words as int32 (small integers, stored in the object itself).
  const cr: CRule = {
    rule,
    chainName: rule.chain,
    position: rule.position,
    line: rule.span.line,
    target: rule.target,
    matches: rule.matches.map((m) => cmatch(m.module, findMatch(m.module) ?? null, family, m)),
    userChain: null,
    noBase: !ip.src && !ip.dst && !ip.iif && !ip.oif && !ip.proto && !ip.fragment,
    src4,
    srcW: src4 ? src!.w[0]! | 0 : 0,
    srcM: src4 ? src!.m[0]! | 0 : 0,
    srcNeg: ip.src?.negated ?? false,
    dst4,
    dstW: dst4 ? dst!.w[0]! | 0 : 0,
    dstM: dst4 ? dst!.m[0]! | 0 : 0,
    dstNeg: ip.dst?.negated ?? false,
    iif: iif === null ? null : iif.endsWith('+') ? iif.slice(0, -1) : iif,
    iifPrefix: iif !== null && iif.endsWith('+'),
    iifNeg: ip.iif?.negated ?? false,
    oif: oif === null ? null : oif.endsWith('+') ? oif.slice(0, -1) : oif,
    oifPrefix: oif !== null && oif.endsWith('+'),
    oifNeg: ip.oif?.negated ?? false,
    proto: ip.proto ? ip.proto.value.number ?? protoNumber(ip.proto.value.name) ?? -2 : -1,
    protoNeg: ip.proto?.negated ?? false,
    frag: ip.fragment ? (ip.fragment.negated ? 2 : 1) : 0,
    jumpText: '',
    gotoText: '',
    targetExt: undefined,
    targetTyped: null,
    src,
    dst,
    srcIn: '',
    srcOut: '',
    dstIn: '',
    dstOut: '',
    iifEq: '',
    iifNe: '',
    oifEq: '',
    oifNe: '',
    oifUnknownText: '',
    protoEq: '',
    protoNe: '',
    protoUnknownText: '',
    fragYes: '',
    fragNo: '',
  };
  if (ip.src) {
    const pre = `${ip.src.negated ? '! ' : ''}-s ${cr.src!.text} `;
    cr.srcIn = `${pre}∋ `;
    cr.srcOut = `${pre}∌ `;
  }
  if (ip.dst) {
    const pre = `${ip.dst.negated ? '! ' : ''}-d ${cr.dst!.text} `;
    cr.dstIn = `${pre}∋ `;
    cr.dstOut = `${pre}∌ `;
  }
  if (ip.iif) {
    const spec = `${ip.iif.negated ? '! ' : ''}-i ${ip.iif.value}`;
    cr.iifEq = `${spec} = `;
    cr.iifNe = `${spec} ≠ `;
  }
  if (ip.oif) {
    const spec = `${ip.oif.negated ? '! ' : ''}-o ${ip.oif.value}`;
    cr.oifEq = `${spec} = `;
    cr.oifNe = `${spec} ≠ `;
    cr.oifUnknownText = `${spec}: output interface unknown (no routes in the context)`;
  }
  if (ip.proto) {
    if (cr.proto === -2) cr.protoUnknownText = `-p ${ip.proto.value.name}: protocol not known to iptscope`;
    else {
      const pre = `${ip.proto.negated ? '! ' : ''}-p ${ip.proto.value.name || protoName(cr.proto)} `;
      cr.protoEq = `${pre}= `;
      cr.protoNe = `${pre}≠ `;
    }
  }
  if (ip.fragment) {
    const neg = ip.fragment.negated ? '! ' : '';
    cr.fragYes = `${neg}-f: non-first fragment`;
    cr.fragNo = `${neg}-f: not a non-first fragment`;
  }
  const t = rule.target;
  if (t && table && (t.kind === 'chain' || (t.kind === 'extension' && !findTarget(t.name)))) {
    const uc = table.chains.get(t.name);
    if (uc && !uc.builtin) {
      cr.userChain = uc;
      cr.jumpText = `jump ${t.name}`;
      cr.gotoText = `goto ${t.name}`;
    }
  }
  (rule as WithC)[SLOT] = cr;
  return cr;
}

function netHas(n: Net, ip: EvalPacket['src']): boolean {
  if (n.family !== ip.family) return false;
  const w = n.w;
  const m = n.m;
  const x = ip.w;
  for (let i = 0; i < w.length; i++) if (((x[i]! & m[i]!) >>> 0) !== w[i]) return false;
  return true;
}

/** Is the packet's source inside the rule's -s network (negation not applied)? */
function inSrc(c: CRule, ip: EvalPacket['src']): boolean {
  return c.src4 ? ip.family === 'ipv4' && (ip.w[0]! & c.srcM) === c.srcW : netHas(c.src!, ip);
}

/** Is the packet's destination inside the rule's -d network (negation not applied)? */
function inDst(c: CRule, ip: EvalPacket['dst']): boolean {
  return c.dst4 ? ip.family === 'ipv4' && (ip.w[0]! & c.dstM) === c.dstW : netHas(c.dst!, ip);
}

/** Does the compiled base match certainly fail? (No text built; unknown -o never fails here.) */
export function baseFails(c: CRule, p: EvalPacket): boolean {
  if (c.src !== null && inSrc(c, p.src) === c.srcNeg) return true;
  if (c.dst !== null && inDst(c, p.dst) === c.dstNeg) return true;
  if (c.iif !== null) {
    const n = p.iif;
    const inside = n !== undefined && (c.iifPrefix ? n.startsWith(c.iif) : n === c.iif);
    if (inside === c.iifNeg) return true;
  }
  if (c.oif !== null && !p.oifUnknown) {
    const n = p.oif;
    const inside = n !== undefined && (c.oifPrefix ? n.startsWith(c.oif) : n === c.oif);
    if (inside === c.oifNeg) return true;
  }
  if (c.proto >= 0 && (c.proto === 0 || c.proto === p.protoNum) === c.protoNeg) return true;
  if (c.frag !== 0 && p.fragment === (c.frag === 2)) return true;
  return false;
}

/** The text of the first condition of the base match that fails (call only when baseFails). */
export function baseFailText(c: CRule, p: EvalPacket): string {
  if (c.src !== null) {
    const inside = inSrc(c, p.src);
    if (inside === c.srcNeg) return (inside ? c.srcIn : c.srcOut) + p.src.text;
  }
  if (c.dst !== null) {
    const inside = inDst(c, p.dst);
    if (inside === c.dstNeg) return (inside ? c.dstIn : c.dstOut) + p.dst.text;
  }
  if (c.iif !== null) {
    const n = p.iif;
    const inside = n !== undefined && (c.iifPrefix ? n.startsWith(c.iif) : n === c.iif);
    if (inside === c.iifNeg) return (inside ? c.iifEq : c.iifNe) + (n ?? '(none at this hook)');
  }
  if (c.oif !== null && !p.oifUnknown) {
    const n = p.oif;
    const inside = n !== undefined && (c.oifPrefix ? n.startsWith(c.oif) : n === c.oif);
    if (inside === c.oifNeg) return (inside ? c.oifEq : c.oifNe) + (n ?? '(none at this hook)');
  }
  if (c.proto >= 0) {
    const inside = c.proto === 0 || c.proto === p.protoNum;
    if (inside === c.protoNeg) return (inside ? c.protoEq : c.protoNe) + p.proto;
  }
  if (c.frag !== 0 && p.fragment === (c.frag === 2)) return p.fragment ? c.fragYes : c.fragNo;
  return '';
}

/**
 * The base match of a rule that did not fail (baseFails is false): writes each condition that
 * held into `out` from index `n` in kernel order and returns the new count — the same texts, in
 * the same order, as evalIpMatch (conditions that are unknown are left to baseUnknown).
 */
export function baseReasons(c: CRule, p: EvalPacket, out: string[], n: number): number {
  if (c.noBase) return n;
  if (c.src !== null) out[n++] = (inSrc(c, p.src) ? c.srcIn : c.srcOut) + p.src.text;
  if (c.dst !== null) out[n++] = (inDst(c, p.dst) ? c.dstIn : c.dstOut) + p.dst.text;
  if (c.iif !== null) {
    const x = p.iif;
    const inside = x !== undefined && (c.iifPrefix ? x.startsWith(c.iif) : x === c.iif);
    out[n++] = (inside ? c.iifEq : c.iifNe) + (x ?? '(none at this hook)');
  }
  if (c.oif !== null && !p.oifUnknown) {
    const x = p.oif;
    const inside = x !== undefined && (c.oifPrefix ? x.startsWith(c.oif) : x === c.oif);
    out[n++] = (inside ? c.oifEq : c.oifNe) + (x ?? '(none at this hook)');
  }
  if (c.proto >= 0) out[n++] = (c.proto === 0 || c.proto === p.protoNum ? c.protoEq : c.protoNe) + p.proto;
  if (c.frag !== 0) out[n++] = p.fragment ? c.fragYes : c.fragNo;
  return n;
}

/** The base match's unknown conditions (-o on an unknown interface, -p unknown), joined by `; `; undefined when none. */
export function baseUnknown(c: CRule, p: EvalPacket): string | undefined {
  const o = c.oif !== null && p.oifUnknown ? c.oifUnknownText : undefined;
  if (c.proto !== -2) return o;
  return o === undefined ? c.protoUnknownText : `${o}; ${c.protoUnknownText}`;
}
