/**
 * Helpers shared by the extension files: option lookup, number/port/mark parsing, and the small
 * vocabulary of match results. Pure.
 */
import type { MatchOption } from '../model.js';
import type { ExtParse, MatchResult } from './types.js';

/** First option with this name (after aliases). */
export function opt(options: MatchOption[], ...names: string[]): MatchOption | undefined {
  return options.find((o) => names.includes(o.name));
}

/** All options with this name. */
export function opts(options: MatchOption[], ...names: string[]): MatchOption[] {
  return options.filter((o) => names.includes(o.name));
}

/** A successful parse. */
export function ok<T>(value: T): ExtParse<T> {
  return { ok: true, value };
}

/** A failed parse naming the option. */
export function err<T>(message: string, option?: string): ExtParse<T> {
  return option === undefined ? { ok: false, message } : { ok: false, message, option };
}

/** Options the module does not know → a parse error. */
export function unknownOption<T>(options: MatchOption[], known: readonly string[], module: string): ExtParse<T> | null {
  for (const o of options) {
    if (!known.includes(o.name)) return err(`${module}: unknown option --${o.name}`, o.name);
  }
  return null;
}

/** Parse an unsigned integer (decimal or 0x hex); null when invalid. */
export function parseUint(text: string | undefined, max = 0xffffffff): number | null {
  if (text === undefined) return null;
  const t = text.trim();
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^0[0-7]+$/.test(t)) n = parseInt(t, 8);
  else if (/^\d+$/.test(t)) n = Number(t);
  else return null;
  return n <= max ? n : null;
}

/** A value with a mask (`0x4000/0x4000`, `1`): mask defaults to all ones. */
export interface ValueMask {
  value: number;
  mask: number;
}

/** Parse `VALUE[/MASK]`. */
export function parseValueMask(text: string | undefined, max = 0xffffffff): ValueMask | null {
  if (text === undefined) return null;
  const [v, m] = text.split('/');
  const value = parseUint(v, max);
  const mask = m === undefined ? max : parseUint(m, max);
  if (value === null || mask === null) return null;
  return { value, mask };
}

/** `0x4000` (lower-case hex like iptables-save prints marks). */
export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/** `0x4000/0xffffffff` → `0x4000` when the mask is all ones. */
export function fmtValueMask(v: ValueMask, full = 0xffffffff): string {
  return v.mask === full ? hex(v.value) : `${hex(v.value)}/${hex(v.mask)}`;
}

/** Well-known service names iptables accepts for ports (getservbyname); numbers are preferred. */
const SERVICES: Readonly<Record<string, number>> = {
  ftp: 21, 'ftp-data': 20, ssh: 22, telnet: 23, smtp: 25, domain: 53, bootps: 67, bootpc: 68, tftp: 69,
  http: 80, www: 80, pop3: 110, sunrpc: 111, ntp: 123, 'netbios-ns': 137, 'netbios-dgm': 138,
  'netbios-ssn': 139, imap: 143, imap2: 143, snmp: 161, 'snmp-trap': 162, bgp: 179, ldap: 389, https: 443,
  'microsoft-ds': 445, isakmp: 500, syslog: 514, submission: 587, ldaps: 636, imaps: 993, pop3s: 995,
  openvpn: 1194, 'ms-sql-s': 1433, mysql: 3306, 'ipsec-nat-t': 4500, postgresql: 5432, domain_s: 853,
  'http-alt': 8080, webcache: 8080, 'mdns': 5353, 'dhcpv6-client': 546, 'dhcpv6-server': 547,
};

/** A port number or service name. */
export function parsePort(text: string): number | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n <= 65535 ? n : null;
  }
  const s = SERVICES[t.toLowerCase()];
  return s === undefined ? null : s;
}

/** An inclusive range. */
export interface Range {
  lo: number;
  hi: number;
}

/** `80`, `80:90`, `:90`, `80:` (and `80-90` as some tools write). */
export function parsePortRange(text: string): Range | null {
  const t = text.trim();
  const sep = t.includes(':') ? ':' : /^\d+-\d+$/.test(t) ? '-' : null;
  if (sep === null) {
    const p = parsePort(t);
    return p === null ? null : { lo: p, hi: p };
  }
  const [a, b] = t.split(sep);
  const lo = a === '' ? 0 : parsePort(a!);
  const hi = b === '' || b === undefined ? 65535 : parsePort(b);
  if (lo === null || hi === null) return null;
  return { lo, hi };
}

/** `80` or `80:90`. */
export function fmtRange(r: Range): string {
  return r.lo === r.hi ? String(r.lo) : `${r.lo}:${r.hi}`;
}

/** A numeric range `N` or `N:M` (length, ttl-like). */
export function parseNumRange(text: string, max: number): Range | null {
  const t = text.trim();
  if (t.includes(':')) {
    const [a, b] = t.split(':');
    const lo = a === '' ? 0 : parseUint(a, max);
    const hi = b === '' ? max : parseUint(b, max);
    if (lo === null || hi === null) return null;
    return { lo, hi };
  }
  const n = parseUint(t, max);
  return n === null ? null : { lo: n, hi: n };
}

/** Match results. */
export const yes = (detail: string): MatchResult => ({ result: true, detail });
export const no = (detail: string): MatchResult => ({ result: false, detail });
export const unknown = (detail: string): MatchResult => ({ result: 'unknown', detail });

/** Apply `!` to a decided condition: the detail is kept, prefixed by `!`. */
export function negate(r: MatchResult, negated: boolean): MatchResult {
  if (!negated || r.result === 'unknown') return r;
  return { result: !r.result, detail: `! ${r.detail}` };
}

/** AND of conditions in order: the first false decides, else the first unknown, else true. */
export function all(results: MatchResult[], emptyDetail = 'no conditions'): MatchResult {
  if (results.length === 0) return yes(emptyDetail);
  if (results.length === 1) return results[0]!;
  const f = results.find((r) => r.result === false);
  if (f) return f;
  const u = results.find((r) => r.result === 'unknown');
  if (u) return { result: 'unknown', detail: u.detail, ...(u.probability !== undefined ? { probability: u.probability } : {}) };
  return yes(results.map((r) => r.detail).join(', '));
}

/** Compare a value with a range, giving `--dport 80 ≠ 8080` style details. */
export function rangeCheck(label: string, r: Range, negated: boolean, actual: number | undefined, what = 'value'): MatchResult {
  const spec = `${negated ? '! ' : ''}--${label} ${fmtRange(r)}`;
  if (actual === undefined) return { result: false, detail: `${spec}: packet has no ${what}` };
  const inside = actual >= r.lo && actual <= r.hi;
  const hit = inside !== negated;
  const rel = r.lo === r.hi ? (inside ? '=' : '≠') : inside ? '∋' : '∌';
  return { result: hit, detail: `${spec} ${rel} ${actual}` };
}

/** Generic parse for modules that only keep their options (parse-only registrations). */
export function keepOptions(options: MatchOption[]): ExtParse<{ options: MatchOption[] }> {
  return ok({ options });
}

/** `--opt value` text of kept options, for describe(). */
export function optionsText(options: MatchOption[]): string {
  return options.map((o) => `${o.negated ? '! ' : ''}--${o.name}${o.args.length ? ' ' + o.args.join(' ') : ''}`).join(' ');
}

/** Interface name against an iptables pattern: `eth0`, `eth+` (prefix), `+` (any). */
export function ifaceMatches(pattern: string, name: string | undefined): boolean {
  if (name === undefined) return false;
  if (pattern.endsWith('+')) return name.startsWith(pattern.slice(0, -1));
  return name === pattern;
}
