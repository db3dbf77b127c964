/**
 * Addresses of `-s` / `-d`: `ADDR`, `ADDR/PREFIX` or `ADDR/MASK` (a dotted or IPv6 mask, which may
 * be non-contiguous). Parsed once with ipaddr.js into a Cidr; the address is masked like the kernel
 * stores it (`10.1.2.3/8` is `10.0.0.0/8`), and `text` is what iptables-save prints.
 */
import ipaddr from 'ipaddr.js';
import type { IPv4, IPv6 } from 'ipaddr.js';
import type { Cidr, Family } from '../model.js';

/** Result of parsing one address argument. */
export type AddressParse = { ok: true; cidr: Cidr } | { ok: false; message: string };

/**
 * Canonical IPv6 text as glibc's inet_ntop (which iptables-save uses) prints it: RFC 5952
 * compression, and the embedded-IPv4 forms `::ffff:a.b.c.d` and `::a.b.c.d`.
 */
export function formatIPv6(addr: IPv6): string {
  const p = addr.parts;
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0) {
    const v4 = `${p[6] >> 8}.${p[6] & 255}.${p[7] >> 8}.${p[7] & 255}`;
    if (p[5] === 0xffff) return `::ffff:${v4}`;
    // glibc prints ::a.b.c.d only when exactly the first six words are zero (so not ::1, not ::).
    if (p[5] === 0 && p[6] !== 0) return `::${v4}`;
  }
  return addr.toRFC5952String();
}

/** Canonical text of an address of either family. */
export function formatAddress(addr: IPv4 | IPv6): string {
  return addr.kind() === 'ipv6' ? formatIPv6(addr as IPv6) : addr.toString();
}

/** Dotted-quad decimal: the only IPv4 form iptables accepts (xtables_numeric_to_ipaddr). */
const FOUR_PART = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

function parseHost(text: string): IPv4 | IPv6 | null {
  if (text.includes(':')) {
    return ipaddr.IPv6.isValid(text) ? ipaddr.IPv6.parse(text) : null;
  }
  const fast = dottedQuad(text);
  if (fast !== null) return new ipaddr.IPv4(fast);
  if (!FOUR_PART.test(text)) return null;
  // iptables reads each part as decimal (`010` is 10); ipaddr.js would read a leading zero as octal.
  const decimal = canonicalV4(text) ? text : text.replace(/(^|\.)0+(?=\d)/g, '$1');
  // IPv4.parser (octets or null, no exception) is in ipaddr.js but not in its type declarations.
  const octets = (ipaddr.IPv4 as unknown as { parser(s: string): number[] | null }).parser(decimal);
  if (!octets) return null;
  try {
    return new ipaddr.IPv4(octets); // range-checks the octets (≤ 255)
  } catch {
    return null;
  }
}

/**
 * Octets of decimal dotted-quad text (each part 1–3 digits, ≤ 255; leading zeros read as decimal
 * like iptables does), or null for anything else (then the general path decides). Hand-rolled:
 * the common case of big dumps, without ipaddr.js's regular expressions.
 */
function dottedQuad(text: string): number[] | null {
  const out: number[] = [0, 0, 0, 0];
  return dottedQuadInto(text, text.length, out) ? out : null;
}

/** `dottedQuad` of text[0, n) into `out` (null: only check). */
function dottedQuadInto(text: string, n: number, out: number[] | null): boolean {
  if (n < 7 || n > 15) return false;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part === 3) return false;
      if (out !== null) out[part] = value;
      part++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return false;
      value = value * 10 + (c - 48);
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  if (out !== null) out[3] = value;
  return true;
}

/** True when dotted-quad text has no leading zeros (then it is already the canonical text). */
function canonicalV4(text: string): boolean {
  for (let i = 0; i + 1 < text.length; i++) {
    if (text.charCodeAt(i) === 48 && (i === 0 || text.charCodeAt(i - 1) === 46) && text.charCodeAt(i + 1) !== 46) return false;
  }
  return true;
}

function maskBytes(prefix: number, len: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < len; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out.push(bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function fromBytes(bytes: number[]): IPv4 | IPv6 {
  return ipaddr.fromByteArray(bytes) as IPv4 | IPv6;
}

/**
 * Parse an `-s`/`-d` argument. `family` is the ruleset's family when known; an address of the
 * other family is an error then. Host names are rejected: iptables-save never prints them, and
 * resolving them would make the result depend on DNS.
 */
export function parseCidr(text: string, family: Family | undefined): AddressParse {
  const slash = text.indexOf('/');
  const hostText = slash < 0 ? text : text.slice(0, slash);
  const host = parseHost(hostText);
  if (!host) {
    return {
      ok: false,
      message: /^[A-Za-z][A-Za-z0-9.-]*$/.test(hostText)
        ? `host name "${hostText}" is not supported: give an IP address (iptables-save prints addresses)`
        : `invalid address "${hostText}"`,
    };
  }
  const fam: Family = host.kind() === 'ipv6' ? 'ipv6' : 'ipv4';
  if (family && fam !== family) {
    return {
      ok: false,
      message: `${fam === 'ipv6' ? 'IPv6' : 'IPv4'} address "${hostText}" in an ${family === 'ipv6' ? 'IPv6 (ip6tables)' : 'IPv4 (iptables)'} ruleset`,
    };
  }
  const bits = fam === 'ipv6' ? 128 : 32;
  let prefix = bits;
  let mask: IPv4 | IPv6 | undefined;
  if (slash >= 0) {
    const m = text.slice(slash + 1);
    if (/^[0-9]{1,3}$/.test(m)) {
      prefix = Number(m);
      if (prefix > bits) return { ok: false, message: `invalid prefix length "/${m}" (at most ${bits})` };
    } else {
      const maskAddr = parseHost(m);
      if (!maskAddr || maskAddr.kind() !== host.kind()) return { ok: false, message: `invalid mask "/${m}"` };
      const len = maskAddr.prefixLengthFromSubnetMask();
      if (len === null) {
        mask = maskAddr;
        prefix = maskAddr.toByteArray().reduce((n, b) => n + popcount(b), 0);
      } else {
        prefix = len;
      }
    }
  }
  if (fam === 'ipv4' && prefix === 32 && !mask && canonicalV4(hostText)) {
    // A host address (most -s/-d of big dumps): nothing to mask, the text is canonical.
    // `text` is already `ADDR/32` when it was written so: keep that string (no new one per rule).
    return { ok: true, cidr: { family: fam, addr: host, prefix, text: slash >= 0 && slash + 3 === text.length ? text : hostText + '/32' } };
  }
  const hostBytes = host.toByteArray();
  const mb = mask ? mask.toByteArray() : maskBytes(prefix, hostBytes.length);
  let changed = false;
  for (let i = 0; i < hostBytes.length; i++) {
    const v = hostBytes[i] & mb[i];
    if (v !== hostBytes[i]) {
      hostBytes[i] = v;
      changed = true;
    }
  }
  const addr = changed ? fromBytes(hostBytes) : host;
  const addrText = formatAddress(addr);
  const cidr: Cidr = {
    family: fam,
    addr,
    prefix,
    text: `${addrText}/${mask ? formatAddress(mask) : prefix}`,
  };
  if (mask) cidr.mask = mask;
  return { ok: true, cidr };
}

/**
 * `parseCidr(text, family).ok` without building the address for the common case (an IPv4 dotted
 * quad with an optional /0–/32 prefix): what the parser's check of a rule of a known shape needs.
 */
export function cidrOk(text: string, family: Family | undefined): boolean {
  if (family !== 'ipv6') {
    const slash = text.indexOf('/');
    if (dottedQuadInto(text, slash < 0 ? text.length : slash, null)) {
      if (slash < 0) return true;
      const digits = text.length - slash - 1;
      if (digits >= 1 && digits <= 3) {
        let prefix = 0;
        let i = slash + 1;
        for (; i < text.length; i++) {
          const c = text.charCodeAt(i);
          if (c < 48 || c > 57) break;
          prefix = prefix * 10 + (c - 48);
        }
        if (i === text.length) return prefix <= 32;
      }
    }
  }
  return parseCidr(text, family).ok;
}

function popcount(b: number): number {
  let n = 0;
  for (let x = b; x; x &= x - 1) n++;
  return n;
}
