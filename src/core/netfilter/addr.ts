/**
 * Addresses as the engine compares them: parsed once with ipaddr.js into 32-bit words (1 word for
 * IPv4, 4 for IPv6) so that prefix and mask tests are a few integer operations. No string
 * comparison of addresses anywhere (STYLE principle 12).
 *
 * Pure: no IO.
 */
import ipaddr from 'ipaddr.js';
import type { Cidr, Family } from '../model.js';

/** A parsed address. `text` is the canonical form (ipaddr.js `toString()`). */
export interface Ip {
  family: Family;
  text: string;
  /** Unsigned 32-bit words, most significant first. */
  w: number[];
}

/** A compiled network: address words and mask words (contiguous or not). */
export interface Net {
  family: Family;
  w: number[];
  m: number[];
  prefix: number;
  text: string;
}

function wordsOf(addr: ipaddr.IPv4 | ipaddr.IPv6): number[] {
  if (addr.kind() === 'ipv4') {
    const o = (addr as ipaddr.IPv4).octets;
    return [((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0];
  }
  const p = (addr as ipaddr.IPv6).parts;
  return [
    ((p[0]! << 16) | p[1]!) >>> 0,
    ((p[2]! << 16) | p[3]!) >>> 0,
    ((p[4]! << 16) | p[5]!) >>> 0,
    ((p[6]! << 16) | p[7]!) >>> 0,
  ];
}

const ipCache = new Map<string, Ip | null>();

/** ipaddr.js's own test for a four-part decimal IPv4 address (isValidFourPartDecimal). */
const FOUR_PART_DECIMAL = /^(0|[1-9]\d*)(\.(0|[1-9]\d*)){3}$/;

/**
 * Parse a plain address (no prefix). IPv4 must be four-part decimal. Null when invalid.
 * Results are cached (Ip values are never mutated).
 */
export function parseIp(text: string): Ip | null {
  const hit = ipCache.get(text);
  if (hit !== undefined) return hit;
  const r = parseIpUncached(text);
  if (ipCache.size > 50_000) ipCache.clear();
  ipCache.set(text, r);
  return r;
}

/**
 * `parseIpUncached(text)?.family === 'ipv4'` without building anything: the same four-part
 * decimal test, and every part at most 255 (the range ipaddr.IPv4's constructor enforces).
 */
export function isIPv4Text(text: string): boolean {
  const t = text.trim();
  if (t.includes('/') || !FOUR_PART_DECIMAL.test(t)) return false;
  for (const part of decimalParts(t)) if (part > 255) return false;
  return true;
}

/** The four numbers of text that passed FOUR_PART_DECIMAL (plain decimals: Number of each part). */
function decimalParts(t: string): number[] {
  const d1 = t.indexOf('.');
  const d2 = t.indexOf('.', d1 + 1);
  const d3 = t.indexOf('.', d2 + 1);
  return [Number(t.slice(0, d1)), Number(t.slice(d1 + 1, d2)), Number(t.slice(d2 + 1, d3)), Number(t.slice(d3 + 1))];
}

/**
 * parseIp without the cache, for values parsed once (rule arguments while a dump is read: a
 * kube-proxy dump has 100k distinct DNAT addresses, which would only churn the cache).
 */
export function parseIpUncached(text: string): Ip | null {
  const t = text.trim();
  if (t.includes('/')) return null;
  try {
    if (FOUR_PART_DECIMAL.test(t)) {
      // ipaddr.IPv4.isValidFourPartDecimal is this test plus ipaddr's general parser (hex, octal,
      // fewer parts: regexes per part). After this test the parts are plain decimals, so their
      // values are Number(part); ipaddr.IPv4's constructor range-checks them (throws above 255:
      // then nothing else could read it either). The canonical text of a four-part decimal
      // without leading zeros is the text itself.
      const a = new ipaddr.IPv4(decimalParts(t));
      return { family: 'ipv4', text: t, w: wordsOf(a) };
    }
    if (ipaddr.IPv6.isValid(t)) {
      const a = ipaddr.IPv6.parse(t);
      return { family: 'ipv6', text: a.toString(), w: wordsOf(a) };
    }
  } catch {
    return null;
  }
  return null;
}

/** An address from words (inverse of parseIp). */
export function ipFromWords(family: Family, w: number[]): Ip {
  if (family === 'ipv4') {
    const v = w[0]! >>> 0;
    const a = new ipaddr.IPv4([(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
    return { family, text: a.toString(), w: [v] };
  }
  const parts: number[] = [];
  for (const x of w) parts.push((x >>> 16) & 0xffff, x & 0xffff);
  const a = new ipaddr.IPv6(parts);
  return { family, text: a.toString(), w: w.map((x) => x >>> 0) };
}

/** Mask words for a prefix length. */
export function prefixMask(family: Family, prefix: number): number[] {
  const n = family === 'ipv4' ? 1 : 4;
  const m: number[] = [];
  for (let i = 0; i < n; i++) {
    const bits = Math.max(0, Math.min(32, prefix - i * 32));
    m.push(bits === 0 ? 0 : bits === 32 ? 0xffffffff : ((0xffffffff << (32 - bits)) >>> 0));
  }
  return m;
}

/** Parse `a.b.c.d/len`, `addr` (host), `addr/mask`. Null when invalid. */
export function parseNet(text: string): Net | null {
  const t = text.trim();
  const slash = t.indexOf('/');
  const ip = parseIp(slash < 0 ? t : t.slice(0, slash));
  if (!ip) return null;
  const max = ip.family === 'ipv4' ? 32 : 128;
  let prefix = max;
  let m: number[];
  if (slash >= 0) {
    const rest = t.slice(slash + 1);
    if (/^\d+$/.test(rest)) {
      prefix = Number(rest);
      if (prefix > max) return null;
      m = prefixMask(ip.family, prefix);
    } else {
      const mk = parseIp(rest);
      if (!mk || mk.family !== ip.family) return null;
      m = mk.w;
      prefix = m.reduce((s, x) => s + popcount(x), 0);
    }
  } else {
    m = prefixMask(ip.family, max);
  }
  return { family: ip.family, w: ip.w.map((x, i) => (x & m[i]!) >>> 0), m, prefix, text: slash < 0 ? `${ip.text}/${max}` : `${ip.text}/${t.slice(slash + 1)}` };
}

function popcount(x: number): number {
  let v = x >>> 0;
  let c = 0;
  while (v) {
    c += v & 1;
    v >>>= 1;
  }
  return c;
}

/** Does the network contain the address? Different families never match. */
export function netContains(net: Net, ip: Ip): boolean {
  if (net.family !== ip.family) return false;
  for (let i = 0; i < net.w.length; i++) {
    if (((ip.w[i]! & net.m[i]!) >>> 0) !== net.w[i]) return false;
  }
  return true;
}

/** Same address? */
export function ipEquals(a: Ip, b: Ip): boolean {
  if (a.family !== b.family) return false;
  for (let i = 0; i < a.w.length; i++) if (a.w[i] !== b.w[i]) return false;
  return true;
}

/** Compare addresses numerically (same family assumed): -1, 0, 1. */
export function ipCompare(a: Ip, b: Ip): number {
  for (let i = 0; i < a.w.length; i++) {
    const x = a.w[i]! >>> 0;
    const y = b.w[i]! >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** A stable key for maps (`4:167772161`, `6:…`). */
export function ipKey(ip: Ip): string {
  return ip.family === 'ipv4' ? String(ip.w[0]) : ip.w.join(':');
}

/** Cache slot on the parser's Cidr object (a symbol: invisible to JSON and other code). */
const NET: unique symbol = Symbol('iptscope.net');
type WithNet = Cidr & { [NET]?: Net };

/** Compile a model Cidr (from the parser) into a Net, cached on the Cidr object. */
export function cidrNet(c: Cidr): Net {
  let n = (c as WithNet)[NET];
  if (n) return n;
  const ip = parseIp(c.addr.toString())!;
  const m = c.mask ? wordsOfAny(c.mask) : prefixMask(c.family, c.prefix);
  n = { family: c.family, w: ip.w.map((x, i) => (x & m[i]!) >>> 0), m, prefix: c.prefix, text: c.text };
  (c as WithNet)[NET] = n;
  return n;
}

function wordsOfAny(a: ipaddr.IPv4 | ipaddr.IPv6): number[] {
  return wordsOf(a);
}

/** Is the Net a single host (full mask)? */
export function netIsHost(n: Net): boolean {
  return n.m.every((x) => x === 0xffffffff);
}

/** (addr & ~mask) | (net & mask): NETMAP's mapping. */
export function netmap(ip: Ip, net: Net): Ip {
  const w = ip.w.map((x, i) => (((x & ~net.m[i]!) | (net.w[i]! & net.m[i]!)) >>> 0));
  return ipFromWords(ip.family, w);
}

/** Add an integer offset to an address (for ranges). */
export function ipAdd(ip: Ip, n: number): Ip {
  const w = ip.w.slice();
  let carry = n;
  for (let i = w.length - 1; i >= 0 && carry !== 0; i--) {
    const v = w[i]! + carry;
    w[i] = v >>> 0;
    carry = Math.floor(v / 0x100000000);
  }
  return ipFromWords(ip.family, w);
}

/** Well-known addresses. */
export const IPV4_LOOPBACK = parseIp('127.0.0.1')!;
export const IPV6_LOOPBACK = parseIp('::1')!;
