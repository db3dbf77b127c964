/**
 * Rules compiled once into one uniform shape for the hot path: the parser's objects have optional
 * fields (so many hidden classes), which makes every property access in a tight loop megamorphic.
 * The compiled form is cached on the Rule object under a symbol (invisible to JSON and other code).
 *
 * Pure: no IO.
 */
import type { Chain, Family, Rule, Table } from '../model.js';
import type { EvalPacket, ExtParse, ExtensionBase } from '../extensions/types.js';
import { findMatch, findTarget } from '../extensions/index.js';
import { chainIndex, type ChainIndex } from './dispatch.js';
import { cidrNet, type Net } from './addr.js';
import { protoNumber } from './proto.js';
import { typedOf } from './typed.js';

/** A match module resolved to its extension and typed value. */
export interface CMatch {
  module: string;
  ext: ExtensionBase<unknown> | null;
  typed: ExtParse<unknown> | null;
}

/** A compiled rule. */
export interface CRule {
  src: Net | null;
  srcNeg: boolean;
  dst: Net | null;
  dstNeg: boolean;
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
  const cr: CRule = {
    src: ip.src ? cidrNet(ip.src.value) : null,
    srcNeg: ip.src?.negated ?? false,
    dst: ip.dst ? cidrNet(ip.dst.value) : null,
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
    matches: rule.matches.map((m) => {
      const ext = findMatch(m.module) ?? null;
      return { module: m.module, ext, typed: ext ? typedOf(m, ext, family) : null };
    }),
    userChain: null,
  };
  const t = rule.target;
  if (t && table && (t.kind === 'chain' || (t.kind === 'extension' && !findTarget(t.name)))) {
    const uc = table.chains.get(t.name);
    if (uc && !uc.builtin) cr.userChain = uc;
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

/** Does the compiled base match certainly fail? (No text built; unknown -o never fails here.) */
export function baseFails(c: CRule, p: EvalPacket): boolean {
  if (c.src !== null && netHas(c.src, p.src) === c.srcNeg) return true;
  if (c.dst !== null && netHas(c.dst, p.dst) === c.dstNeg) return true;
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
