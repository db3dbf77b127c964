/**
 * The Packet pane's form: text fields the user edits, turned into a PacketSpec for the engine.
 * Also the two ways of filling it without typing: a scenario preset, and "a packet that matches
 * this rule" derived from the selected rule's conditions.
 */
import ipaddr from 'ipaddr.js';
import type { Chain, Cidr, Rule, Ruleset } from '../core/model.js';
import type { CtState, PacketSpec } from '../core/netfilter/types.js';

/** The form as text, field by field (what the user sees and types). */
export interface PacketForm {
  proto: string;
  src: string;
  sport: string;
  dst: string;
  dport: string;
  /** Arriving interface, or `local` for a packet the host sends (enters at OUTPUT). */
  iif: string;
  mark: string;
  ct: string;
}

/** Field order in the pane, with labels and what each accepts. */
export const PACKET_FIELDS: readonly { key: keyof PacketForm; label: string; hint: string }[] = [
  { key: 'proto', label: 'proto', hint: 'tcp, udp, icmp, sctp, or a number' },
  { key: 'src', label: 'src', hint: 'source address' },
  { key: 'sport', label: 'sport', hint: 'source port (empty: none)' },
  { key: 'dst', label: 'dst', hint: 'destination address' },
  { key: 'dport', label: 'dport', hint: 'destination port (empty: none)' },
  { key: 'iif', label: 'in', hint: 'arriving interface, or local (sent by this host)' },
  { key: 'mark', label: 'mark', hint: 'skb mark, 0x4000 or decimal' },
  { key: 'ct', label: 'ct', hint: 'NEW, ESTABLISHED, RELATED, INVALID, UNTRACKED' },
];

const CT_STATES: readonly CtState[] = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'];

/** The form before anything is typed: TCP, arriving on eth0, mark 0, ct NEW. */
export function emptyPacketForm(): PacketForm {
  return { proto: 'tcp', src: '', sport: '', dst: '', dport: '', iif: 'eth0', mark: '0x0', ct: 'NEW' };
}

/** Parse a port field: empty → undefined; otherwise 0–65535 or an error message. */
function parsePort(text: string, what: string): number | undefined | string {
  const t = text.trim();
  if (t === '') return undefined;
  if (!/^\d+$/.test(t)) return `${what} "${t}" is not a port number`;
  const n = Number(t);
  if (n > 65535) return `${what} ${n} is out of range (0-65535)`;
  return n;
}

/** Parse a mark: hex (0x…) or decimal, 32 bits. */
export function parseMark(text: string): number | string {
  const t = text.trim();
  if (t === '') return 0;
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(n) || n > 0xffffffff) return `mark "${t}" is not a 32-bit number (0x4000 or 16384)`;
  return n;
}

/** The form as a PacketSpec, or the list of problems (each names the offending value). */
export function formToSpec(form: PacketForm): { spec: PacketSpec } | { errors: string[] } {
  const errors: string[] = [];
  const proto = form.proto.trim().toLowerCase();
  if (proto === '') errors.push('proto is empty');
  const src = form.src.trim();
  const dst = form.dst.trim();
  if (!ipaddr.isValid(src)) errors.push(src === '' ? 'src is empty' : `src "${src}" is not an IP address`);
  if (!ipaddr.isValid(dst)) errors.push(dst === '' ? 'dst is empty' : `dst "${dst}" is not an IP address`);
  const sport = parsePort(form.sport, 'sport');
  const dport = parsePort(form.dport, 'dport');
  if (typeof sport === 'string') errors.push(sport);
  if (typeof dport === 'string') errors.push(dport);
  const mark = parseMark(form.mark);
  if (typeof mark === 'string') errors.push(mark);
  const ct = form.ct.trim().toUpperCase() || 'NEW';
  if (!CT_STATES.includes(ct as CtState)) errors.push(`ct "${form.ct.trim()}" is not one of ${CT_STATES.join(', ')}`);
  if (errors.length > 0) return { errors };
  const spec: PacketSpec = { proto, src, dst };
  if (typeof sport === 'number') spec.sport = sport;
  if (typeof dport === 'number') spec.dport = dport;
  const iif = form.iif.trim();
  if (iif === '' || iif === 'local') spec.local = true;
  else spec.iif = iif;
  if (typeof mark === 'number' && mark !== 0) spec.mark = mark;
  if (ct !== 'NEW') spec.ctState = ct as CtState;
  return { spec };
}

/** A PacketSpec (scenario preset, `:trace` command) as form text. */
export function specToForm(spec: PacketSpec): PacketForm {
  return {
    proto: spec.proto,
    src: spec.src,
    sport: spec.sport === undefined ? '' : String(spec.sport),
    dst: spec.dst,
    dport: spec.dport === undefined ? '' : String(spec.dport),
    iif: spec.local || !spec.iif ? 'local' : spec.iif,
    mark: '0x' + (spec.mark ?? 0).toString(16),
    ct: spec.ctState ?? 'NEW',
  };
}

/** An address inside a CIDR (the first usable host for wider prefixes), as text. */
function addressIn(c: Cidr): string {
  const bytes = c.addr.toByteArray();
  const bits = bytes.length * 8;
  if (c.prefix >= bits - 1 || c.mask) return c.addr.toString();
  // network address + 1: the first host of the prefix (avoids the network address itself).
  const net = bytes.slice();
  for (let i = 0; i < net.length; i++) {
    const keep = Math.max(0, Math.min(8, c.prefix - i * 8));
    net[i] &= (0xff << (8 - keep)) & 0xff;
  }
  net[net.length - 1] |= 1;
  return ipaddr.fromByteArray(net).toString();
}

/** An address NOT inside a CIDR (for a negated -s/-d): flip the first bit inside the prefix. */
function addressOutside(c: Cidr): string {
  const bytes = c.addr.toByteArray().slice();
  const bit = Math.max(0, Math.min(c.prefix - 1, bytes.length * 8 - 1));
  bytes[bit >> 3] ^= 0x80 >> (bit & 7);
  return ipaddr.fromByteArray(bytes).toString();
}

/** First value of a match option (`--dport 80` → `80`), skipping negated ones. */
function optionArg(rule: Rule, modules: readonly string[], names: readonly string[]): string | undefined {
  for (const m of rule.matches) {
    if (!modules.includes(m.module)) continue;
    for (const o of m.options) if (names.includes(o.name) && !o.negated && o.args.length > 0) return o.args[0];
  }
  return undefined;
}

/** The builtin chain (hook) a chain is reached from, following callers upwards (BFS). */
export function entryHook(ruleset: Ruleset, start: Chain, callers: (table: string, chain: string) => Rule[]): string | null {
  const seen = new Set<string>([start.name]);
  let frontier: Chain[] = [start];
  while (frontier.length > 0) {
    const next: Chain[] = [];
    for (const ch of frontier) {
      if (ch.builtin) return ch.name;
      for (const r of callers(ch.table, ch.name)) {
        if (seen.has(r.chain)) continue;
        seen.add(r.chain);
        const parent = ruleset.tables.get(r.table)?.chains.get(r.chain);
        if (parent) next.push(parent);
      }
    }
    frontier = next;
  }
  return null;
}

/**
 * A packet that satisfies the selected rule's conditions, starting from the current form (what the
 * rule does not constrain is kept). Ports take the first value of a range or list; a negated
 * address takes an address outside it; a rule reached only from OUTPUT makes the packet local.
 */
export function packetForRule(rule: Rule, base: PacketForm, hook: string | null): PacketForm {
  const f: PacketForm = { ...base };
  const ip = rule.ip;
  if (ip.proto && !ip.proto.negated && ip.proto.value.name !== 'all') f.proto = ip.proto.value.name;
  if (ip.src) f.src = ip.src.negated ? addressOutside(ip.src.value) : addressIn(ip.src.value);
  if (ip.dst) f.dst = ip.dst.negated ? addressOutside(ip.dst.value) : addressIn(ip.dst.value);
  const firstPort = (v: string | undefined): string | undefined => v?.split(/[,:]/)[0];
  const dport = firstPort(optionArg(rule, ['tcp', 'udp', 'sctp', 'udplite', 'multiport'], ['dport', 'dports', 'destination-port', 'destination-ports', 'ports', 'port']));
  const sport = firstPort(optionArg(rule, ['tcp', 'udp', 'sctp', 'udplite', 'multiport'], ['sport', 'sports', 'source-port', 'source-ports']));
  if (dport !== undefined && /^\d+$/.test(dport)) f.dport = dport;
  if (sport !== undefined && /^\d+$/.test(sport)) f.sport = sport;
  if ((f.proto === 'tcp' || f.proto === 'udp' || f.proto === 'sctp') && f.sport === '') f.sport = '40000';
  if ((f.proto === 'tcp' || f.proto === 'udp' || f.proto === 'sctp') && f.dport === '') f.dport = '80';
  const mark = optionArg(rule, ['mark'], ['mark']);
  if (mark !== undefined) {
    const [value, mask] = mark.split('/');
    const v = parseMark(value);
    const m = mask === undefined ? 0xffffffff : parseMark(mask);
    if (typeof v === 'number' && typeof m === 'number') {
      const cur = parseMark(f.mark);
      const keep = typeof cur === 'number' ? cur & ~m : 0;
      f.mark = '0x' + ((keep | (v & m)) >>> 0).toString(16);
    }
  }
  const ct = optionArg(rule, ['conntrack', 'state'], ['ctstate', 'state']);
  if (ct !== undefined) {
    const first = ct.split(',')[0].toUpperCase();
    if (CT_STATES.includes(first as CtState)) f.ct = first;
  }
  if (hook === 'OUTPUT') f.iif = 'local';
  else if (ip.iif && !ip.iif.negated) f.iif = ip.iif.value.endsWith('+') ? ip.iif.value.slice(0, -1) + '0' : ip.iif.value;
  else if (f.iif === 'local' && hook !== null && hook !== 'POSTROUTING') f.iif = 'eth0';
  if (f.src === '') f.src = f.dst.includes(':') ? '2001:db8::1' : '192.0.2.1';
  if (f.dst === '') f.dst = f.src.includes(':') ? '2001:db8::2' : '192.0.2.2';
  return f;
}
