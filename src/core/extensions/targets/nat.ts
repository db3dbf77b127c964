/**
 * Shared NAT range handling for DNAT, SNAT, MASQUERADE, REDIRECT (nf_nat_core.c):
 * - address range MIN-MAX: the kernel picks one address by a hash of the tuple
 *   (find_best_ips_proto); iptscope shows the first address of the range and says so;
 * - port range: get_unique_tuple keeps the current port when it is already inside the range
 *   (and the tuple is unused — no clashing flows are modelled); otherwise iptscope shows the first
 *   port of the range (the kernel starts from a hash/offset) and says so.
 */
import type { Family } from '../../model.js';
import type { EvalPacket } from '../types.js';
import { isIPv4Text, parseIpUncached as parseIp, type Ip } from '../../netfilter/addr.js';
import { PORT_PROTOCOLS } from '../../netfilter/proto.js';

/** A NAT range as written in `--to-destination` / `--to-source` / `--to-ports`. */
export interface NatRange {
  addrMin?: Ip;
  addrMax?: Ip;
  portMin?: number;
  portMax?: number;
  text: string;
}

/** Parse `[addr[-addr]][:port[-port]]`; IPv6 addresses in brackets when a port follows. */
export function parseNatRange(text: string, family: Family): NatRange | string {
  let addrPart = text;
  let portPart: string | undefined;
  if (family === 'ipv6') {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
    if (m) {
      addrPart = m[1]!;
      portPart = m[2];
    } else if (text.startsWith(':')) {
      addrPart = '';
      portPart = text.slice(1);
    }
  } else {
    const c = text.indexOf(':');
    if (c >= 0) {
      addrPart = text.slice(0, c);
      portPart = text.slice(c + 1);
    }
  }
  // Every field in the literal (one shape for all ranges; absent parts stay undefined).
  const r: NatRange = { addrMin: undefined, addrMax: undefined, portMin: undefined, portMax: undefined, text };
  if (addrPart) {
    // `a-b` (the first two pieces of addrPart.split('-'), without the array).
    const dash = addrPart.indexOf('-');
    const a = dash < 0 ? addrPart : addrPart.slice(0, dash);
    const dash2 = dash < 0 ? -1 : addrPart.indexOf('-', dash + 1);
    const b = dash < 0 ? undefined : addrPart.slice(dash + 1, dash2 < 0 ? addrPart.length : dash2);
    const lo = parseIp(a);
    const hi = b === undefined ? lo : parseIp(b);
    if (!lo || !hi) return `invalid address "${addrPart}"`;
    if (lo.family !== family) return `address ${lo.text} is not ${family}`;
    r.addrMin = lo;
    r.addrMax = hi;
  }
  if (portPart !== undefined && portPart !== '') {
    const pr = parsePortSpan(portPart);
    if (!pr) return `invalid port "${portPart}"`;
    r.portMin = pr[0];
    r.portMax = pr[1];
  }
  return r;
}

/**
 * `typeof parseNatRange(text, family) !== 'string'` without building the range: what the parser
 * asks of every DNAT/SNAT rule of a big dump it checks without building (IPv4 `addr[-addr][:port]`;
 * anything else goes through parseNatRange). Held equal to it by test/core/extensions/nat-check.test.ts.
 */
export function natRangeOk(text: string, family: Family): boolean {
  if (family !== 'ipv4') return typeof parseNatRange(text, family) !== 'string';
  const c = text.indexOf(':');
  const addrPart = c < 0 ? text : text.slice(0, c);
  if (addrPart) {
    const dash = addrPart.indexOf('-');
    if (dash < 0) {
      if (!isIPv4Text(addrPart)) return false;
    } else {
      const dash2 = addrPart.indexOf('-', dash + 1);
      // The range's low end decides the family; the high end only has to be an address.
      if (!isIPv4Text(addrPart.slice(0, dash)) || parseIp(addrPart.slice(dash + 1, dash2 < 0 ? addrPart.length : dash2)) === null) return false;
    }
  }
  if (c < 0) return true;
  const portPart = text.slice(c + 1);
  return portPart === '' || parsePortSpan(portPart) !== null;
}

/**
 * The options of a DNAT/SNAT target would parse: at least one `name` option, each a valid range
 * (what its `check` answers for the parser).
 */
export function natOptionsOk(options: readonly { name: string; args: string[] }[], name: string, family: Family): boolean {
  let any = false;
  for (const o of options) {
    if (o.name !== name) continue;
    any = true;
    if (!natRangeOk(o.args[0] ?? '', family)) return false;
  }
  return any;
}

/** `80` or `80-90` (also `80:90`). */
export function parsePortSpan(text: string): [number, number] | null {
  // The first two pieces of text.split(/[-:]/), without the regex (every DNAT rule of a dump).
  let sep = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 45 || c === 58) {
      sep = i;
      break;
    }
  }
  let a = text;
  let b: string | undefined;
  if (sep >= 0) {
    a = text.slice(0, sep);
    let next = text.length;
    for (let i = sep + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 45 || c === 58) {
        next = i;
        break;
      }
    }
    b = text.slice(sep + 1, next);
  }
  const lo = Number(a);
  const hi = b === undefined ? lo : Number(b);
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > 65535 || lo > hi) return null;
  return [lo, hi];
}

/** Apply a range to one side of the packet; returns the change text. */
export function applyRange(
  pkt: EvalPacket,
  side: 'src' | 'dst',
  r: { addrMin?: Ip; addrMax?: Ip; portMin?: number; portMax?: number },
  label: string,
): string {
  const beforeAddr = side === 'src' ? pkt.src : pkt.dst;
  const beforePort = side === 'src' ? pkt.sport : pkt.dport;
  // Notes joined by '; ' (most applications have none: no list, no closure — every DNAT of a trace).
  let notes = '';
  let addr = beforeAddr;
  if (r.addrMin) {
    addr = r.addrMin;
    if (r.addrMax && r.addrMax.text !== r.addrMin.text) notes = `range ${r.addrMin.text}-${r.addrMax.text}: the kernel picks one address by hash; showing the first`;
  }
  let port = beforePort;
  if (r.portMin !== undefined && PORT_PROTOCOLS.has(pkt.protoNum) && beforePort !== undefined) {
    const max = r.portMax ?? r.portMin;
    if (beforePort < r.portMin || beforePort > max) {
      port = r.portMin;
      if (max !== r.portMin) {
        const n = `port range ${r.portMin}-${max}: the kernel picks a port in it; showing the first`;
        notes = notes === '' ? n : `${notes}; ${n}`;
      }
    }
  }
  if (side === 'src') {
    pkt.src = addr;
    if (port !== undefined) pkt.sport = port;
  } else {
    pkt.dst = addr;
    if (port !== undefined) pkt.dport = port;
  }
  return `${label} ${fmtAt(beforeAddr, beforePort)} → ${fmtAt(addr, port)}${notes !== '' ? ` (${notes})` : ''}`;
}

/** `addr`, `addr:port`, `[v6]:port`. */
function fmtAt(a: Ip, p: number | undefined): string {
  return p === undefined ? a.text : a.family === 'ipv6' ? `[${a.text}]:${p}` : `${a.text}:${p}`;
}
