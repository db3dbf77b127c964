/**
 * The base match every rule has (struct ipt_ip / ip6t_ip6): -s, -d, -i, -o, -p, -f. Like
 * ip_tables.c ip_packet_match: addresses under their masks with per-option inversion, interface
 * names with `+` prefix wildcards (a hook without that device compares against ""), protocol
 * number (0 = all), -f for non-first fragments (IPv4 only).
 *
 * Pure: no IO.
 */
import type { IpMatch } from '../model.js';
import type { EvalPacket } from '../extensions/types.js';
import { cidrNet, netContains } from './addr.js';
import { protoName, protoNumber } from './proto.js';

/** One condition's verdict with its detail. */
export interface Cond {
  result: true | false | 'unknown';
  detail: string;
}

/** Evaluate the base match, appending each condition to `out` in kernel order; stops at the first false. */
export function evalIpMatch(ip: IpMatch, p: EvalPacket, out: Cond[]): boolean {
  if (ip.src) {
    const n = cidrNet(ip.src.value);
    const inside = netContains(n, p.src);
    const hit = inside !== ip.src.negated;
    out.push({ result: hit, detail: `${ip.src.negated ? '! ' : ''}-s ${n.text} ${inside ? '∋' : '∌'} ${p.src.text}` });
    if (!hit) return false;
  }
  if (ip.dst) {
    const n = cidrNet(ip.dst.value);
    const inside = netContains(n, p.dst);
    const hit = inside !== ip.dst.negated;
    out.push({ result: hit, detail: `${ip.dst.negated ? '! ' : ''}-d ${n.text} ${inside ? '∋' : '∌'} ${p.dst.text}` });
    if (!hit) return false;
  }
  if (ip.iif) {
    const c = ifaceCond('-i', ip.iif.value, ip.iif.negated, p.iif, false);
    out.push(c);
    if (c.result === false) return false;
  }
  if (ip.oif) {
    const c = ifaceCond('-o', ip.oif.value, ip.oif.negated, p.oif, p.oifUnknown);
    out.push(c);
    if (c.result === false) return false;
  }
  if (ip.proto) {
    const num = ip.proto.value.number ?? protoNumber(ip.proto.value.name);
    if (num === null) {
      out.push({ result: 'unknown', detail: `-p ${ip.proto.value.name}: protocol not known to iptscope` });
    } else {
      const inside = num === 0 || num === p.protoNum;
      const hit = inside !== ip.proto.negated;
      const name = ip.proto.value.name || protoName(num);
      out.push({ result: hit, detail: `${ip.proto.negated ? '! ' : ''}-p ${name} ${inside ? '=' : '≠'} ${p.proto}` });
      if (!hit) return false;
    }
  }
  if (ip.fragment) {
    const hit = p.fragment !== ip.fragment.negated;
    out.push({ result: hit, detail: `${ip.fragment.negated ? '! ' : ''}-f: ${p.fragment ? 'non-first fragment' : 'not a non-first fragment'}` });
    if (!hit) return false;
  }
  return true;
}

function ifaceCond(flag: string, pattern: string, negated: boolean, name: string | undefined, unknown: boolean): Cond {
  const spec = `${negated ? '! ' : ''}${flag} ${pattern}`;
  if (unknown) return { result: 'unknown', detail: `${spec}: output interface unknown (no routes in the context)` };
  const inside = name !== undefined && (pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : name === pattern);
  const hit = inside !== negated;
  return { result: hit, detail: `${spec} ${inside ? '=' : '≠'} ${name ?? '(none at this hook)'}` };
}

/**
 * Fast path: the base match decided without building any text. Returns the detail of the first
 * failing condition, or null when no condition fails (the caller then calls evalIpMatch for the
 * reasons). Same order and semantics as evalIpMatch.
 */
export function ipFastFail(ip: IpMatch, p: EvalPacket): string | null {
  if (ip.src && netContains(cidrNet(ip.src.value), p.src) === ip.src.negated) return firstFailure(ip, p);
  if (ip.dst && netContains(cidrNet(ip.dst.value), p.dst) === ip.dst.negated) return firstFailure(ip, p);
  if (ip.iif) {
    const v = ip.iif.value;
    const n = p.iif;
    const inside = n !== undefined && (v.endsWith('+') ? n.startsWith(v.slice(0, -1)) : n === v);
    if (inside === ip.iif.negated) return firstFailure(ip, p);
  }
  if (ip.oif && !p.oifUnknown) {
    const v = ip.oif.value;
    const n = p.oif;
    const inside = n !== undefined && (v.endsWith('+') ? n.startsWith(v.slice(0, -1)) : n === v);
    if (inside === ip.oif.negated) return firstFailure(ip, p);
  }
  if (ip.proto) {
    const num = ip.proto.value.number ?? protoNumber(ip.proto.value.name);
    if (num !== null && (num === 0 || num === p.protoNum) === ip.proto.negated) return firstFailure(ip, p);
  }
  if (ip.fragment && p.fragment === ip.fragment.negated) return firstFailure(ip, p);
  return null;
}

function firstFailure(ip: IpMatch, p: EvalPacket): string {
  const out: Cond[] = [];
  evalIpMatch(ip, p, out);
  return out[out.length - 1]!.detail;
}
