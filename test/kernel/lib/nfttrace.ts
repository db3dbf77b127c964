/**
 * The kernel's own account of a packet's path: nftables tracing in the node namespace.
 *
 * - Our table `inet iptscope_trace` has chains on prerouting and output at priority -350 (before
 *   iptables' raw table at -300) whose one rule sets `meta nftrace set 1` for the test packet only,
 *   and two empty "end" chains at priority 1000 on input and postrouting (after every iptables
 *   table): a traced packet reaching them has finished its path through iptables (delivered, or
 *   sent / forwarded out), which makes the wait event-driven.
 * - `nft -a monitor trace` prints one line per event; rule events carry the rule handle, which
 *   `nft -a list ruleset` maps to the rule's 1-based position in its chain.
 * - A packet's events are those after our trace rule fired for it, whatever their trace id (the id
 *   changes when the skb is copied, e.g. on forwarding), until the terminal event.
 */
import { LineProcess, nsRun, sleep } from './exec.js';

export const TRACE_TABLE = 'iptscope_trace';
/**
 * A bridge-family table with one empty chain on the bridge's forward hook, before br_netfilter's
 * own (priority -500 < 0): a traced frame the bridge forwards between two ports passes it, and its
 * packet line names the ports (`iif "vetha" oif "vethb"`) — the kernel's physdev-in / physdev-out.
 * It decides nothing and ends nothing.
 */
export const PHYS_TABLE = 'iptscope_phys';

export type TraceEvent =
  | { kind: 'packet'; id: string; family: string; table: string; chain: string; info: string; line: string }
  | { kind: 'rule'; id: string; family: string; table: string; chain: string; handle: number; verdict: string; line: string }
  | { kind: 'policy'; id: string; family: string; table: string; chain: string; policy: string; line: string }
  | { kind: 'other'; id: string; family: string; table: string; chain: string; line: string };

const EVENT_RE = /^trace id (\S+) (\S+) (\S+) (\S+) (.*)$/;

/** Parse one `nft monitor trace` line; null for lines that are not trace events. */
export function parseTraceLine(line: string): TraceEvent | null {
  const m = EVENT_RE.exec(line.trim());
  if (!m) return null;
  const [, id, family, table, chainRaw, rest] = m as unknown as [string, string, string, string, string, string];
  const chain = chainRaw.replace(/^"(.*)"$/, '$1');
  const base = { id, family, table, chain, line };
  if (rest.startsWith('packet:')) return { kind: 'packet', ...base, info: rest };
  // A policy / rule event may be followed by packet metadata that changed (`meta mark 0x…`).
  const pol = /^policy (\w+)\b/.exec(rest);
  if (pol) return { kind: 'policy', ...base, policy: pol[1]! };
  // `rule TEXT # handle N (verdict V)`, or `unknown rule handle N (verdict V)` when the monitor's
  // cache predates the rule (rules loaded after the monitor started): the handle is what counts.
  const rule = /(?:# handle|^unknown rule handle) (\d+)(?: \(verdict ([^)]*)\))?(?:\s.*)?$/.exec(rest);
  if ((rest.startsWith('rule') || rest.startsWith('unknown rule')) && rule) {
    return { kind: 'rule', ...base, handle: Number(rule[1]), verdict: rule[2] ?? 'continue' };
  }
  return { kind: 'other', ...base };
}

/** `family table chain` → handle → 1-based position, from `nft -a list ruleset`. */
export type HandleMap = Map<string, Map<number, number>>;

export function handleKey(family: string, table: string, chain: string): string {
  return `${family} ${table} ${chain}`;
}

/** Parse `nft -a list ruleset` text into rule positions by handle. */
export function parseHandles(text: string): HandleMap {
  const map: HandleMap = new Map();
  let family = '';
  let table = '';
  let chain: string | null = null;
  let pos = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^table (\S+) (\S+) \{/.exec(line))) {
      family = m[1]!;
      table = m[2]!;
      chain = null;
    } else if ((m = /^chain (.+?) \{/.exec(line))) {
      chain = m[1]!.replace(/^"(.*)"$/, '$1');
      pos = 0;
      map.set(handleKey(family, table, chain), new Map());
    } else if (line === '}') {
      if (chain !== null) chain = null;
    } else if (chain !== null && (m = /# handle (\d+)$/.exec(line)) && !line.startsWith('type ')) {
      pos += 1;
      map.get(handleKey(family, table, chain))!.set(Number(m[1]), pos);
    }
  }
  return map;
}

export async function readHandles(ns: string): Promise<HandleMap> {
  const r = await nsRun(ns, 'nft', ['-a', 'list', 'ruleset']);
  return parseHandles(r.stdout);
}

/**
 * Install our trace table in the node namespace (before the scenario's rules are loaded).
 *
 * `bridge`: also a bridge-family table, for a node whose bridge does not call iptables
 * (bridge-nf-call-ip(6)tables = 0): a frame bridged between two ports then never reaches an IP
 * hook, and only the bridge family sees it (selector at prerouting, end at postrouting). Not
 * installed otherwise: with br_netfilter on, IP POSTROUTING runs from the bridge's last
 * postrouting hook, after a bridge chain at 1000 would already have called the packet done.
 */
export async function installTraceTable(ns: string, bridge = false): Promise<void> {
  let text = `table inet ${TRACE_TABLE} {
  chain pre { type filter hook prerouting priority -350; policy accept; }
  chain out { type filter hook output priority -350; policy accept; }
  chain inend { type filter hook input priority 1000; policy accept; }
  chain postend { type filter hook postrouting priority 1000; policy accept; }
}
`;
  text += `table bridge ${PHYS_TABLE} {
  chain brforward { type filter hook forward priority -500; policy accept; }
}
`;
  if (bridge) {
    text += `table bridge ${TRACE_TABLE} {
  chain pre { type filter hook prerouting priority -350; policy accept; }
  chain postend { type filter hook postrouting priority 1000; policy accept; }
}
`;
  }
  await nsRun(ns, 'nft', ['-f', '-'], { input: text });
}

/**
 * Make `match` (nft expression text) the one traced packet selector, on prerouting and output
 * (and the bridge's prerouting when `bridge`). Returns the new rules' handles (every replacement
 * gets fresh handles, so events of an earlier packet cannot be mistaken for this one's).
 */
export async function setTraceRule(ns: string, bridge: boolean, match: string): Promise<Set<number>> {
  let text = `flush chain inet ${TRACE_TABLE} pre
flush chain inet ${TRACE_TABLE} out
add rule inet ${TRACE_TABLE} pre ${match} meta nftrace set 1
add rule inet ${TRACE_TABLE} out ${match} meta nftrace set 1
`;
  if (bridge) {
    text += `flush chain bridge ${TRACE_TABLE} pre
add rule bridge ${TRACE_TABLE} pre ${match} meta nftrace set 1
`;
  }
  // --echo --handle prints the added rules with their handles: one nft call per packet.
  const r = await nsRun(ns, 'nft', ['--echo', '--handle', '-f', '-'], { input: text });
  const handles = new Set<number>();
  let count = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /^add rule (?:inet|bridge) \S+ (pre|out) .*nftrace set 1 # handle (\d+)/.exec(line.trim());
    if (m) {
      handles.add(Number(m[2]));
      count += 1;
    }
  }
  if (count !== (bridge ? 3 : 2)) throw new Error(`trace rule not installed: ${r.stdout}`);
  return handles;
}

/** What the kernel did with one packet. */
export interface KernelPath {
  /** `table:CHAIN:N` / `table:CHAIN:policy`, in order. */
  path: string[];
  /** How the packet's path ended: `delivered`, `left IFACE`, `dropped`, or `no terminal event`. */
  end: string;
  /** The raw trace lines of the packet (for failure messages). */
  lines: string[];
  /** Destination address and port as the last hook saw them (after any DNAT), when printed. */
  finalDst?: { addr: string; port?: number };
  /** Source address and port as the last hook saw them (after any SNAT), when printed. */
  finalSrc?: { addr: string; port?: number };
  /** skb mark at the terminal event (delivered / left): nft prints `meta mark 0x…` when non-zero. */
  finalMark?: number;
  /** TTL / hop limit as the last IP hook saw it (`ip ttl N`, `ip6 hoplimit N`). */
  finalTtl?: number;
  /** Output interface at the last IP hook that had one (`oif "cni0"`). */
  finalOif?: string;
  /** Bridge ports of a frame the bridge forwarded (its forward hook: physdev-in / physdev-out). */
  physIn?: string;
  physOut?: string;
  /**
   * An ICMP error (PacketSpec.related) as its receiver got it: outer source and the quoted
   * packet's addresses and ports (raw socket in the receiving namespace); null when it did not
   * arrive there. Absent for other packets.
   */
  received?: { src: string; inner: { src: string; dst: string; sport: number; dport: number } } | null;
}

/** TTL (IPv4) or hop limit (IPv6) of a `packet:` info text. */
export function packetTtl(info: string): number | undefined {
  const m = /\b(?:ip ttl|ip6 hoplimit) (\d+)/.exec(info);
  return m ? Number(m[1]) : undefined;
}

/** Input and output interfaces of a `packet:` info text. */
export function packetIfaces(info: string): { iif?: string; oif?: string } {
  const i = /\biif "([^"]+)"/.exec(info);
  const o = /\boif "([^"]+)"/.exec(info);
  return { ...(i ? { iif: i[1]! } : {}), ...(o ? { oif: o[1]! } : {}) };
}

/** Source of a `packet:` info text (`ip saddr X … tcp sport N`). */
export function packetSrc(info: string): { addr: string; port?: number } | undefined {
  const a = /\bip6? saddr (\S+)/.exec(info);
  if (!a) return undefined;
  const p = /\b(?:tcp|udp|sctp|th) sport (\d+)/.exec(info);
  return { addr: a[1]!, port: p ? Number(p[1]) : undefined };
}

/** Destination of a `packet:` info text (`ip daddr X … tcp dport N`). */
export function packetDst(info: string): { addr: string; port?: number } | undefined {
  const a = /\bip6? daddr (\S+)/.exec(info);
  if (!a) return undefined;
  const p = /\b(?:tcp|udp|sctp|th) dport (\d+)/.exec(info);
  return { addr: a[1]!, port: p ? Number(p[1]) : undefined };
}

/** A running `nft -a monitor trace` in a namespace. */
export class TraceMonitor {
  readonly proc: LineProcess;

  /** Bridge port → its bridge (a frame leaving a port has left through the bridge). */
  bridgeOf = new Map<string, string>();

  constructor(readonly ns: string) {
    this.proc = new LineProcess(`nft monitor trace in ${ns}`, 'ip', ['netns', 'exec', ns, 'nft', '-a', 'monitor', 'trace']);
  }

  /** Current end of the event stream (use as `from` for the next packet). */
  mark(): number {
    return this.proc.lines.length;
  }

  /**
   * Wait for the packet selected by the trace rules `handles` and collect its path.
   * `startMs`: how long to wait for the packet to appear at all; `endMs`: bound on the whole path;
   * `quietMs`: when no terminal event comes (routing dropped it), the path ends after this silence.
   */
  async collect(
    from: number,
    handles: Set<number>,
    handleMap: () => Promise<HandleMap>,
    family: 'ip' | 'ip6',
    opts: { startMs?: number; endMs?: number; quietMs?: number } = {},
  ): Promise<KernelPath> {
    const startMs = opts.startMs ?? 5000;
    const endMs = opts.endMs ?? 5000;
    const quietMs = opts.quietMs ?? 1500;
    const isStart = (l: string): boolean => {
      const e = parseTraceLine(l);
      return !!e && e.kind === 'rule' && e.table === TRACE_TABLE && handles.has(e.handle);
    };
    let first: number;
    try {
      first = await this.proc.waitLine(isStart, startMs, from);
    } catch {
      throw new Error(
        `the kernel never saw the test packet (no trace event from our selector within ${startMs} ms: ` +
          `did the sender resolve its next hop? ARP/neighbour discovery blocked by the rules, a missing route or ` +
          `peer in the context, or a bridge without bridge-nf-call-ip(6)tables keep a packet away from the node's hooks)` +
          (this.proc.alive ? '' : `; nft monitor exited: ${this.proc.stderr.trim()}`),
      );
    }
    if (first < 0) throw new Error(`nft monitor exited: ${this.proc.stderr.trim()}`);

    // Walk events until a terminal one; wait for more lines as needed.
    const deadline = Date.now() + endMs;
    let i = first;
    let end = '';
    let finalMark: number | undefined;
    const lastPacketInfo = new Map<string, string>();
    for (;;) {
      while (i < this.proc.lines.length && !end) {
        const e = parseTraceLine(this.proc.lines[i]!);
        i += 1;
        if (!e) continue;
        if (e.kind === 'packet') lastPacketInfo.set(`${e.id} ${e.chain}`, e.info);
        if (e.table === TRACE_TABLE) {
          if (e.kind === 'policy' && (e.chain === 'inend' || e.chain === 'postend')) {
            const m = /meta mark (0x[0-9a-f]+)/.exec(e.line);
            finalMark = m ? Number(m[1]) : 0;
          }
          if (e.kind === 'policy' && e.chain === 'inend') end = 'delivered';
          if (e.kind === 'policy' && e.chain === 'postend') {
            const info = lastPacketInfo.get(`${e.id} postend`) ?? '';
            const oif = /oif "([^"]+)"/.exec(info)?.[1] ?? '?';
            if (oif !== 'lo') end = `left ${e.family === 'bridge' ? this.bridgeOf.get(oif) ?? oif : oif}`;
          }
          continue;
        }
        if (e.kind === 'rule' && /^(drop|queue|stolen)/.test(e.verdict)) end = e.verdict.split(' ')[0]!;
        if (e.kind === 'policy' && e.policy === 'drop') end = 'drop';
      }
      if (end) break;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        end = 'no terminal event';
        break;
      }
      try {
        const got = await this.proc.waitLine(() => true, Math.min(quietMs, remaining), i);
        if (got < 0) {
          end = 'nft monitor exited';
          break;
        }
      } catch {
        end = 'no terminal event';
        break;
      }
    }

    const map = await handleMap();
    const path: string[] = [];
    const lines: string[] = [];
    let finalDst: KernelPath['finalDst'];
    let finalSrc: KernelPath['finalSrc'];
    let finalTtl: number | undefined;
    let finalOif: string | undefined;
    let physIn: string | undefined;
    let physOut: string | undefined;
    for (let k = first; k < i; k++) {
      const line = this.proc.lines[k]!;
      const e = parseTraceLine(line);
      if (!e) continue;
      if (e.kind === 'packet') {
        finalDst = packetDst(e.info) ?? finalDst;
        finalSrc = packetSrc(e.info) ?? finalSrc;
        const ifs = packetIfaces(e.info);
        if (e.family === 'bridge' && e.table === PHYS_TABLE) {
          physIn = ifs.iif;
          physOut = ifs.oif;
        } else if (e.family !== 'bridge') {
          finalTtl = packetTtl(e.info) ?? finalTtl;
          if (ifs.oif !== undefined) finalOif = ifs.oif;
        }
      }
      if (e.kind !== 'packet') lines.push(line.replace(/^trace id \S+ /, ''));
      if (e.table === TRACE_TABLE || e.family !== family) continue;
      if (e.kind === 'rule') {
        const pos = map.get(handleKey(e.family, e.table, e.chain))?.get(e.handle);
        path.push(`${e.table}:${e.chain}:${pos ?? `handle${e.handle}?`}`);
      } else if (e.kind === 'policy') {
        path.push(`${e.table}:${e.chain}:policy`);
      }
    }
    return { path, end, lines, finalDst, finalSrc, finalMark, finalTtl, finalOif, physIn, physOut };
  }

  async stop(): Promise<void> {
    await this.proc.stop();
  }
}

/** Give a freshly started monitor time to subscribe: wait until a canary packet is seen. */
export async function waitMonitorReady(
  mon: TraceMonitor,
  sendCanary: () => Promise<void>,
  handles: Set<number>,
  boundMs = 6000,
): Promise<void> {
  const deadline = Date.now() + boundMs;
  const from = mon.mark();
  while (Date.now() < deadline) {
    await sendCanary();
    try {
      await mon.proc.waitLine(
        (l) => {
          const e = parseTraceLine(l);
          return !!e && e.kind === 'rule' && handles.has(e.handle);
        },
        300,
        from,
      );
      await mon.proc.quiet(150, 1000);
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`nft monitor trace in ${mon.ns} did not report a canary packet within ${boundMs} ms: ${mon.proc.stderr}`);
}
