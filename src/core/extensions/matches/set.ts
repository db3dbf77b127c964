/**
 * -m set: [!] --match-set NAME FLAGS (FLAGS: `src`, `dst`, `src,dst`, … one per set dimension),
 * --return-nomatch, [!] --update-counters, [!] --update-subcounters, --packets-eq/lt/gt,
 * --bytes-eq/lt/gt. Like xt_set.c set_match_v4: the packet's fields selected by FLAGS are looked
 * up in the set. Set contents come from the host context (`ipsets`); without them the match is
 * unknown. Supported types: hash:ip, hash:net, hash:ip,port, hash:net,port, hash:ip,port,ip,
 * hash:ip,port,net, hash:net,port,net, bitmap:ip, bitmap:port, list:set; counter conditions are unknown.
 */
import type { IpsetSpec } from '../../netfilter/types.js';
import type { EvalContext, ExtensionBase, MatchResult } from '../types.js';
import { err, no, ok, opt, parsePort, unknown, yes } from '../util.js';
import { ipCompare, netContains, parseIp, parseNet } from '../../netfilter/addr.js';
import { protoNumber } from '../../netfilter/proto.js';

/** Parsed set match. */
export interface SetMatch {
  name: string;
  flags: ('src' | 'dst')[];
  negated: boolean;
  returnNomatch: boolean;
  counterConditions: string[];
}

const NAMES = [
  'match-set', 'set', 'return-nomatch', 'update-counters', 'update-subcounters',
  'packets-eq', 'packets-lt', 'packets-gt', 'bytes-eq', 'bytes-lt', 'bytes-gt',
] as const;

/** The set match extension. */
export const setMatch: ExtensionBase<SetMatch> = {
  name: 'set',
  optionNames: NAMES,
  flagOptions: ['return-nomatch', 'update-counters', 'update-subcounters'],
  twoArgOptions: ['match-set', 'set'],
  parse(options) {
    const o = opt(options, 'match-set', 'set');
    if (!o || o.args.length < 2) return err('set: --match-set NAME FLAGS is required', 'match-set');
    const flags = o.args[1]!.split(',');
    if (!flags.every((f) => f === 'src' || f === 'dst')) return err(`set: invalid flags "${o.args[1]}"`, 'match-set');
    const counterConditions = options
      .filter((x) => /^(packets|bytes)-(eq|lt|gt)$/.test(x.name))
      .map((x) => `${x.negated ? '! ' : ''}--${x.name} ${x.args[0] ?? ''}`);
    return ok({
      name: o.args[0]!,
      flags: flags as ('src' | 'dst')[],
      negated: o.negated,
      returnNomatch: options.some((x) => x.name === 'return-nomatch'),
      counterConditions,
    });
  },
  describe: (v) => `match-set ${v.negated ? '! ' : ''}${v.name} ${v.flags.join(',')}`,
  evaluate(v, ctx) {
    const spec = `${v.negated ? '! ' : ''}--match-set ${v.name} ${v.flags.join(',')}`;
    const r = lookup(v.name, v.flags, ctx, 0);
    if (r === 'unknown') return unknown(`${spec}: contents of ipset ${v.name} not known (give them in the context's "ipsets")`);
    if (typeof r === 'string') return unknown(`${spec}: ${r}`);
    if (v.counterConditions.length && r) return unknown(`${spec}: ${v.counterConditions.join(' ')}: set counters not modelled`);
    const d = `${spec}: ${r ? 'member' : 'not a member'}`;
    return r !== v.negated ? yes(d) : no(d);
  },
};

/** true/false, 'unknown' (no contents), or a string reason (unsupported type). */
function lookup(name: string, flags: ('src' | 'dst')[], ctx: EvalContext, depth: number): boolean | 'unknown' | string {
  const set = ctx.host.ipset(name);
  if (!set) return 'unknown';
  const [kind, dimsText] = set.type.split(':');
  if (kind === 'list') {
    if (depth > 4) return 'list:set nesting too deep';
    let sawUnknown: string | null = null;
    for (const m of set.members) {
      const r = lookup(m.split(/\s+/)[0]!, flags, ctx, depth + 1);
      if (r === true) return true;
      if (r !== false) sawUnknown = typeof r === 'string' ? r : `member set ${m} unknown`;
    }
    return sawUnknown ?? false;
  }
  const dims = (dimsText ?? '').split(',');
  if (flags.length < dims.length) return `${dims.length} dimensions but ${flags.length} flags`;
  const p = ctx.packet;
  for (const member of set.members) {
    const words = member.trim().split(/\s+/);
    if (words.includes('nomatch')) continue;
    const r = memberMatches(set, kind!, dims, words[0]!, flags, p);
    if (typeof r === 'string') return r;
    if (r) return true;
  }
  return false;
}

function memberMatches(
  set: IpsetSpec,
  kind: string,
  dims: string[],
  member: string,
  flags: ('src' | 'dst')[],
  p: EvalContext['packet'],
): boolean | string {
  const parts = member.split(',');
  if (parts.length !== dims.length) return `member "${member}" does not fit ${set.type}`;
  for (let i = 0; i < dims.length; i++) {
    const dim = dims[i]!;
    const part = parts[i]!;
    const fromSrc = flags[i] === 'src';
    if (dim === 'ip' || dim === 'net') {
      const ip = fromSrc ? p.src : p.dst;
      if (part.includes('-') && !part.includes(':')) {
        const [a, b] = part.split('-');
        const lo = parseIp(a!);
        const hi = parseIp(b!);
        if (!lo || !hi) return `member "${member}": bad range`;
        if (lo.family !== ip.family || ipCompare(ip, lo) < 0 || ipCompare(ip, hi) > 0) return false;
      } else {
        const n = parseNet(part);
        if (!n) return `member "${member}": bad address`;
        if (!netContains(n, ip)) return false;
      }
    } else if (dim === 'port') {
      const port = fromSrc ? p.sport : p.dport;
      let protoText = kind === 'bitmap' ? null : 'tcp';
      let portText = part;
      const c = part.indexOf(':');
      if (c >= 0) {
        protoText = part.slice(0, c);
        portText = part.slice(c + 1);
      }
      if (protoText !== null) {
        const pn = protoNumber(protoText);
        if (pn === null) return `member "${member}": bad protocol`;
        if (pn !== p.protoNum) return false;
      }
      const [a, b] = portText.split('-');
      const lo = parsePort(a!);
      const hi = b === undefined ? lo : parsePort(b);
      if (lo === null || hi === null) return `member "${member}": bad port`;
      if (port === undefined || port < lo || port > hi) return false;
    } else {
      return `ipset dimension "${dim}" (${set.type}) not supported`;
    }
  }
  return true;
}
