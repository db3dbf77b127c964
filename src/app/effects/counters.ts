/**
 * Live counters: re-read `iptables-save -c` every N seconds and turn counter deltas into packets/s
 * and bytes/s per rule and per chain — "which rules is this traffic hitting right now".
 *
 * A rule is followed between reads by its text (without counters) and its occurrence within the
 * chain, not by its position, so rules inserted above it (a kube-proxy resync) do not shift rates
 * onto the wrong rule. A rule new since the previous read, or whose counters went down (replaced,
 * zeroed), has no rate (null) for that read. When the rules themselves changed, the new source is
 * also handed to `onLoaded` with the change summary.
 */
import { performance } from 'node:perf_hooks';
import { CliError } from '../../cli/errors.js';
import type { Family, TableName } from '../../core/model.js';
import { parseRuleset } from '../../core/parse/index.js';
import { loadLive, type LiveOptions } from '../../sources/live.js';
import type { LoadedSource } from '../../sources/types.js';
import { diffSources } from './changes.js';
import type { ChainRate, ChainRuleRates, CounterSample, RuleRate, SourceCallbacks } from './types.js';
import { chainKey, ruleKey } from './types.js';

/** Options of pollCounters. */
export interface PollOptions {
  /** Reads the counters; default: loadLive({ rulesOnly: true, ...live }). */
  read?: () => Promise<LoadedSource>;
  /** Options for the default reader (variant, timeout, runner). */
  live?: LiveOptions;
  /** The source on screen: rules changes are reported against it. */
  initial?: LoadedSource;
  /** Monotonic clock in ms (tests). Default performance.now. */
  now?: () => number;
}

/** Counters of one read: per chain key, its rules' texts (their identity) and counters in order. */
interface Snapshot {
  at: number;
  rules: Map<string, ChainCounters>;
  policies: Map<string, { packets: number; bytes: number }>;
  /** Per family: the counter-carrying lines in text order (what a read of the same rules repeats). */
  order: Partial<Record<Family, OrderEntry[]>>;
}

/** A chain line, or a run of one chain's rule lines, of an iptables-save -c text. */
type OrderEntry = { kind: 'chain'; ck: string; table: TableName; chain: string; builtin: boolean } | { kind: 'rules'; ck: string; table: TableName; chain: string; n: number };

/** The read does not have the lines the previous read had (the fast path gives way). */
class ShapeMismatch extends Error {}

/** One chain's rules in a read: text (without counters) and counters, by position - 1. */
interface ChainCounters {
  texts: string[];
  packets: number[];
  bytes: number[];
  /** Built on demand when rules moved: text → indexes of its occurrences. */
  byText?: Map<string, number[]>;
}

/** Counters of one chain line or rule line of an iptables-save -c text. */
interface Scanned {
  table: TableName;
  chain: string;
  /** 1-based position in the chain for rules; 0 for the chain line (policy counters). */
  position: number;
  builtin: boolean;
  packets: number;
  bytes: number;
  /** The rule's text after its counters (its identity across reads). */
  text: string;
}

/** `[123:4567]` at `at` → the two numbers and the index after `]`; undefined when not there. */
function counterAt(line: string, at: number): { packets: number; bytes: number; end: number } | undefined {
  if (line.charCodeAt(at) !== 91 /* [ */) return undefined;
  const colon = line.indexOf(':', at);
  const close = line.indexOf(']', at);
  if (colon < 0 || close < colon) return undefined;
  const packets = Number(line.slice(at + 1, colon));
  const bytes = Number(line.slice(colon + 1, close));
  if (!Number.isFinite(packets) || !Number.isFinite(bytes)) return undefined;
  return { packets, bytes, end: close + 1 };
}

/**
 * Walk the counters of an iptables-save -c text without a full parse (a 56 000-rule dump in a few
 * tens of milliseconds, every interval): chain lines `:NAME POLICY [p:b]` and rule lines
 * `[p:b] -A NAME …`, with each rule's position in its chain as the parser counts it.
 */
export function scanCounters(text: string, visit: (s: Scanned) => void): void {
  let table: TableName | undefined;
  const positions = new Map<string, number>();
  const builtin = new Set<string>();
  let from = 0;
  while (from < text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    const line = text.slice(from, to);
    from = to + 1;
    const c0 = line.charCodeAt(0);
    if (c0 === 42 /* * */) {
      table = line.slice(1).trim() as TableName;
      positions.clear();
      builtin.clear();
    } else if (c0 === 58 /* : */ && table) {
      const sp = line.indexOf(' ');
      if (sp < 0) continue;
      const chain = line.slice(1, sp);
      const sp2 = line.indexOf(' ', sp + 1);
      const policy = line.slice(sp + 1, sp2 < 0 ? undefined : sp2);
      const isBuiltin = policy !== '-';
      if (isBuiltin) builtin.add(chain);
      const c = sp2 < 0 ? undefined : counterAt(line, sp2 + 1);
      visit({ table, chain, position: 0, builtin: isBuiltin, packets: c?.packets ?? 0, bytes: c?.bytes ?? 0, text: '' });
    } else if (table && (c0 === 91 /* [ */ || c0 === 45 /* - */)) {
      const c = counterAt(line, 0);
      const rest = c ? line.slice(c.end).trimStart() : line;
      if (!rest.startsWith('-A ')) continue;
      const sp = rest.indexOf(' ', 3);
      const chain = sp < 0 ? rest.slice(3) : rest.slice(3, sp);
      const position = (positions.get(chain) ?? 0) + 1;
      positions.set(chain, position);
      visit({ table, chain, position, builtin: builtin.has(chain), packets: c?.packets ?? 0, bytes: c?.bytes ?? 0, text: rest });
    }
  }
}

/**
 * The rules' text without counters or comments: equal when only counters moved (tables, chains
 * with their policies, rules in order). `sameRules` compares two reads this way without building it.
 */
export function rulesShape(source: LoadedSource): string {
  const parts: string[] = [];
  const l = [0, 0, 0];
  for (const f of ['ipv4', 'ipv6'] as Family[]) {
    const t = source.texts[f];
    if (t === undefined) continue;
    parts.push(`${f}\n`);
    for (let i = 0; ; i = l[2]) {
      nextShapeLine(t, i, l);
      if (l[0] < 0) break;
      parts.push(t.slice(l[0], l[1]), '\n');
    }
  }
  return parts.join('');
}

/** The next line of `text` from `from` that carries rules' shape: [start, end, next] (start < 0: none left). */
function nextShapeLine(text: string, from: number, out: number[]): void {
  while (from < text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    const c0 = text.charCodeAt(from);
    if (c0 === 42 /* * */) {
      out[0] = from;
      out[1] = to;
      out[2] = to + 1;
      return;
    }
    if (c0 === 58 /* : */) {
      // `:NAME POLICY [p:b]`: the name and policy.
      const sp = text.indexOf(' ', from);
      const sp2 = sp < 0 || sp > to ? -1 : text.indexOf(' ', sp + 1);
      out[0] = from;
      out[1] = sp2 < 0 || sp2 > to ? to : sp2;
      out[2] = to + 1;
      return;
    }
    if (c0 === 91 /* [ */ || c0 === 45 /* - */) {
      let start = from;
      if (c0 === 91) {
        const close = text.indexOf(']', from);
        start = close < 0 || close > to ? from : close + 1;
        while (text.charCodeAt(start) === 32) start++;
      }
      out[0] = start;
      out[1] = to;
      out[2] = to + 1;
      return;
    }
    from = to + 1;
  }
  out[0] = -1;
}

/**
 * Do two iptables-save -c texts hold the same rules (tables, chains with their policies, rules in
 * order), counters and comment lines aside? `rulesShape(a) === rulesShape(b)` without building
 * either: the lines are compared in step and the first difference ends it.
 */
export function sameRules(a: LoadedSource, b: LoadedSource): boolean {
  const la = [0, 0, 0];
  const lb = [0, 0, 0];
  for (const f of ['ipv4', 'ipv6'] as Family[]) {
    const ta = a.texts[f];
    const tb = b.texts[f];
    if (ta === undefined || tb === undefined) {
      if (ta !== tb) return false;
      continue;
    }
    let ia = 0;
    let ib = 0;
    for (;;) {
      nextShapeLine(ta, ia, la);
      nextShapeLine(tb, ib, lb);
      if (la[0] < 0 || lb[0] < 0) {
        if (la[0] !== lb[0]) return false;
        break;
      }
      if (la[1] - la[0] !== lb[1] - lb[0] || ta.slice(la[0], la[1]) !== tb.slice(lb[0], lb[1])) return false;
      ia = la[2];
      ib = lb[2];
    }
  }
  return true;
}

function rate(delta: number, elapsedMs: number | null): number | null {
  if (elapsedMs === null || elapsedMs <= 0 || delta < 0) return null;
  return (delta * 1000) / elapsedMs;
}

/** The decimal number at `i` of `text` and the index after it; -1 when no digit is there. */
function digitsAt(text: string, i: number, out: number[]): void {
  let n = 0;
  const from = i;
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) n = n * 10 + (c - 48);
  out[0] = n;
  out[1] = i > from ? i : -1;
}

/** `[p:b]` at `i` of `text` into out[0..1], out[2] the index after `]`; false when not there. */
function countersAt(text: string, i: number, out: number[], tmp: number[]): boolean {
  if (text.charCodeAt(i) !== 91 /* [ */) return false;
  digitsAt(text, i + 1, tmp);
  if (tmp[1] < 0 || text.charCodeAt(tmp[1]) !== 58 /* : */) return false;
  out[0] = tmp[0];
  digitsAt(text, tmp[1] + 1, tmp);
  if (tmp[1] < 0 || text.charCodeAt(tmp[1]) !== 93 /* ] */) return false;
  out[1] = tmp[0];
  out[2] = tmp[1] + 1;
  return true;
}

/**
 * A read whose rules are those of the previous read (`sameRules`): the counter-carrying lines come
 * in the same order, so each is matched to its chain and position from the previous read's line
 * order, and only its numbers are read — no string, key or map entry per rule. Throws
 * ShapeMismatch when the lines do not line up after all (the caller then reads by text).
 */
function samePositions(source: LoadedSource, at: number, previous: Snapshot, seq: number, wallClock: Date): { sample: CounterSample; snapshot: Snapshot } {
  const elapsedMs = at - previous.at;
  const snapshot: Snapshot = { at, rules: new Map(), policies: new Map(), order: previous.order };
  const chainRules = new Map<string, ChainRuleRates>();
  const chains = new Map<string, ChainRate>();
  const num = [0, 0, 0];
  const tmp = [0, 0];
  for (const f of ['ipv4', 'ipv6'] as Family[]) {
    const text = source.texts[f];
    const order = previous.order[f];
    if (text === undefined) {
      if (order !== undefined) throw new ShapeMismatch();
      continue;
    }
    if (order === undefined) throw new ShapeMismatch();
    let k = 0;
    let left = 0;
    let run: (OrderEntry & { kind: 'rules' }) | undefined;
    let cur: ChainCounters | undefined;
    let out: ChainRuleRates | undefined;
    let prevChain: ChainCounters | undefined;
    let cr: ChainRate | undefined;
    let from = 0;
    while (from < text.length) {
      let to = text.indexOf('\n', from);
      if (to < 0) to = text.length;
      const c0 = text.charCodeAt(from);
      if (c0 === 58 /* : */) {
        // `:NAME POLICY [p:b]`
        const e = order[k++];
        if (!e || e.kind !== 'chain' || left !== 0) throw new ShapeMismatch();
        const sp = text.indexOf(' ', from);
        const sp2 = sp < 0 ? -1 : text.indexOf(' ', sp + 1);
        let packets = 0;
        let bytes = 0;
        if (sp2 >= 0 && sp2 < to && countersAt(text, sp2 + 1, num, tmp)) {
          packets = num[0];
          bytes = num[1];
        }
        snapshot.policies.set(e.ck, { packets, bytes });
        const prevPol = previous.policies.get(e.ck);
        const policyPps = prevPol && e.builtin ? rate(packets - prevPol.packets, elapsedMs) : null;
        const policyBps = prevPol && e.builtin ? rate(bytes - prevPol.bytes, elapsedMs) : null;
        chains.set(e.ck, {
          family: f,
          table: e.table,
          chain: e.chain,
          packets: e.builtin ? packets : 0,
          bytes: e.builtin ? bytes : 0,
          pps: e.builtin ? policyPps : 0,
          bps: e.builtin ? policyBps : 0,
          policyPps,
          policyBps,
        });
      } else if (c0 === 91 /* [ */ || c0 === 45 /* - */) {
        let packets = 0;
        let bytes = 0;
        let rest = from;
        if (c0 === 91 && countersAt(text, from, num, tmp)) {
          packets = num[0];
          bytes = num[1];
          rest = num[2];
          while (text.charCodeAt(rest) === 32 || text.charCodeAt(rest) === 9) rest++;
        }
        if (rest + 3 <= to && text.startsWith('-A ', rest)) {
          if (left === 0) {
            const e = order[k++];
            if (!e || e.kind !== 'rules') throw new ShapeMismatch();
            run = e;
            left = e.n;
            prevChain = previous.rules.get(e.ck);
            if (!prevChain || prevChain.texts.length < e.n) throw new ShapeMismatch();
            const known = snapshot.rules.get(e.ck);
            if (known) throw new ShapeMismatch(); // a chain's rules in two runs: not iptables-save output
            // Same rules: the texts are the previous read's.
            snapshot.rules.set(e.ck, (cur = { texts: prevChain.texts, packets: [], bytes: [] }));
            chainRules.set(e.ck, (out = { family: f, table: e.table, chain: e.chain, packets: cur.packets, bytes: cur.bytes, pps: [], bps: [] }));
            cr = chains.get(e.ck);
          }
          const i = cur!.packets.length;
          cur!.packets.push(packets);
          cur!.bytes.push(bytes);
          const pps = rate(packets - prevChain!.packets[i], elapsedMs);
          const bps = rate(bytes - prevChain!.bytes[i], elapsedMs);
          out!.pps.push(pps);
          out!.bps.push(bps);
          left--;
          if (cr) {
            cr.packets += packets;
            cr.bytes += bytes;
            cr.pps = cr.pps === null || pps === null ? null : cr.pps + pps;
            cr.bps = cr.bps === null || bps === null ? null : cr.bps + bps;
          }
        }
      }
      from = to + 1;
    }
    if (left !== 0 || k !== order.length || (run && cur!.packets.length !== run.n)) throw new ShapeMismatch();
  }
  return { sample: makeSample(wallClock, elapsedMs, seq, chainRules, chains), snapshot };
}

/**
 * Compute a sample from a read (its counter texts), given the previous snapshot (undefined on the
 * first read). Pure apart from its inputs; exported for tests. A rule is followed by its text and
 * which occurrence of it in its chain; when a chain's rules are the same texts in the same order
 * as in the previous read (every chain when `sameRules` says so: the usual poll), position i
 * follows position i without looking texts up.
 */
export function computeSample(
  source: LoadedSource,
  at: number,
  previous: Snapshot | undefined,
  seq: number,
  wallClock: Date,
  opts: { sameRules?: boolean } = {},
): { sample: CounterSample; snapshot: Snapshot } {
  if (opts.sameRules && previous) {
    try {
      return samePositions(source, at, previous, seq, wallClock);
    } catch (err) {
      if (!(err instanceof ShapeMismatch)) throw err;
    }
  }
  const elapsedMs = previous ? at - previous.at : null;
  const snapshot: Snapshot = { at, rules: new Map(), policies: new Map(), order: {} };
  const chainRules = new Map<string, ChainRuleRates>();
  const chains = new Map<string, ChainRate>();
  for (const f of ['ipv4', 'ipv6'] as Family[]) {
    const text = source.texts[f];
    if (text === undefined) continue;
    const order: OrderEntry[] = (snapshot.order[f] = []);
    let run: (OrderEntry & { kind: 'rules' }) | undefined;
    /** Occurrences of each text so far in the chain, once its rules stopped lining up. */
    let seen: Map<string, number> | undefined;
    let current: ChainCounters | undefined;
    let out: ChainRuleRates | undefined;
    let prevChain: ChainCounters | undefined;
    /** null: not decided yet for this chain; true: position i follows position i. */
    let positional: boolean | null = null;
    let lastTable = '';
    let lastName = '';
    let ck = '';
    let cr: ChainRate | undefined;
    scanCounters(text, (s) => {
      // Rules of a chain are contiguous in iptables-save output: build the chain's key once.
      const sameChain = s.position > 0 && s.chain === lastName && s.table === lastTable;
      if (!sameChain) ck = chainKey(f, s.table, s.chain);
      if (s.position === 0) {
        lastName = '';
        run = undefined;
        order.push({ kind: 'chain', ck, table: s.table, chain: s.chain, builtin: s.builtin });
        snapshot.policies.set(ck, { packets: s.packets, bytes: s.bytes });
        const prevPol = previous?.policies.get(ck);
        const policyPps = prevPol && s.builtin ? rate(s.packets - prevPol.packets, elapsedMs) : null;
        const policyBps = prevPol && s.builtin ? rate(s.bytes - prevPol.bytes, elapsedMs) : null;
        chains.set(ck, {
          family: f,
          table: s.table,
          chain: s.chain,
          packets: s.builtin ? s.packets : 0,
          bytes: s.builtin ? s.bytes : 0,
          pps: s.builtin ? policyPps : previous ? 0 : null,
          bps: s.builtin ? policyBps : previous ? 0 : null,
          policyPps,
          policyBps,
        });
        return;
      }
      if (!sameChain || !current) {
        current = snapshot.rules.get(ck);
        if (!current) {
          snapshot.rules.set(ck, (current = { texts: [], packets: [], bytes: [] }));
          // The sample shares the counter arrays with the snapshot (neither changes afterwards).
          chainRules.set(ck, (out = { family: f, table: s.table, chain: s.chain, packets: current.packets, bytes: current.bytes, pps: [], bps: [] }));
        } else out = chainRules.get(ck);
        prevChain = previous?.rules.get(ck);
        positional = null;
        seen = undefined;
        cr = chains.get(ck);
        lastName = s.chain;
        lastTable = s.table;
        order.push((run = { kind: 'rules', ck, table: s.table, chain: s.chain, n: 0 }));
      }
      run!.n++;
      const i = current.texts.length;
      current.texts.push(s.text);
      current.packets.push(s.packets);
      current.bytes.push(s.bytes);
      let prev = -1;
      if (prevChain) {
        if (positional === null && prevChain.texts[i] === s.text) prev = i;
        else {
          // The rules moved: follow this one by its text and occurrence from here on.
          if (positional === null) {
            positional = false;
            seen = new Map();
            for (let k = 0; k < i; k++) seen.set(current.texts[k], (seen.get(current.texts[k]) ?? 0) + 1);
          }
          if (!prevChain.byText) {
            const m = new Map<string, number[]>();
            prevChain.texts.forEach((t, k) => {
              const l = m.get(t);
              if (l) l.push(k);
              else m.set(t, [k]);
            });
            prevChain.byText = m;
          }
          const n = seen!.get(s.text) ?? 0;
          seen!.set(s.text, n + 1);
          prev = prevChain.byText.get(s.text)?.[n] ?? -1;
        }
      }
      const pps = prev >= 0 ? rate(s.packets - prevChain!.packets[prev], elapsedMs) : null;
      const bps = prev >= 0 ? rate(s.bytes - prevChain!.bytes[prev], elapsedMs) : null;
      out!.pps.push(pps);
      out!.bps.push(bps);
      if (!cr) return;
      cr.packets += s.packets;
      cr.bytes += s.bytes;
      // A chain's rate is known only when every part of it is.
      cr.pps = cr.pps === null || pps === null ? null : cr.pps + pps;
      cr.bps = cr.bps === null || bps === null ? null : cr.bps + bps;
    });
  }
  return { sample: makeSample(wallClock, elapsedMs, seq, chainRules, chains), snapshot };
}

/** The per-rule map of a sample (built only when something asks for it). */
/** A sample whose per-rule map is built only if something asks for it. */
function makeSample(wallClock: Date, elapsedMs: CounterSample['elapsedMs'], seq: number, chainRules: Map<string, ChainRuleRates>, chains: CounterSample['chains']): CounterSample {
  let rules: Map<string, RuleRate> | undefined;
  return {
    at: wallClock.toISOString(),
    elapsedMs,
    seq,
    chainRules,
    get rules(): Map<string, RuleRate> {
      return (rules ??= perRule(chainRules));
    },
    chains,
  };
}

function perRule(chainRules: Map<string, ChainRuleRates>): Map<string, RuleRate> {
  const rules = new Map<string, RuleRate>();
  for (const c of chainRules.values()) {
    for (let i = 0; i < c.packets.length; i++) {
      rules.set(ruleKey(c.family, c.table, c.chain, i + 1), {
        family: c.family,
        table: c.table,
        chain: c.chain,
        position: i + 1,
        packets: c.packets[i],
        bytes: c.bytes[i],
        pps: c.pps[i],
        bps: c.bps[i],
      });
    }
  }
  return rules;
}

/** Parse the texts of a source read without parsing (only when its rules changed). */
function ensureParsed(source: LoadedSource): void {
  const commands = (source as { meta?: { commands?: Partial<Record<Family, string>> } }).meta?.commands ?? {};
  for (const f of ['ipv4', 'ipv6'] as Family[]) {
    const t = source.texts[f];
    if (t === undefined || source.rulesets[f]) continue;
    source.rulesets[f] = parseRuleset(t, { file: commands[f]?.split(' ')[0] ?? 'live', family: f });
  }
}

/**
 * Poll live counters every `intervalMs` (the first read at once). Reads never overlap: a slow
 * read delays the next one. Failures go to onError and polling goes on.
 */
export function pollCounters(intervalMs: number, callbacks: SourceCallbacks, opts: PollOptions = {}): { stop(): void } {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new CliError(`--interval must be a positive number of seconds (got ${intervalMs / 1000})`, 2);
  const now = opts.now ?? (() => performance.now());
  const variant = (opts.initial as { meta?: { variant?: LiveOptions['variant'] } } | undefined)?.meta?.variant;
  const read =
    opts.read ?? (() => loadLive({ rulesOnly: true, parse: false, ...(variant && variant !== 'unknown' ? { variant } : {}), ...opts.live }));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let previous: Snapshot | undefined;
  let shown: LoadedSource | undefined = opts.initial;
  /** The previous read (its rules are what `previous` counted). */
  let lastRead: LoadedSource | undefined;
  let seq = 0;

  const tick = async (): Promise<void> => {
    if (stopped) return;
    const started = now();
    const wall = new Date();
    try {
      const source = await read();
      if (stopped) return;
      const unchanged = shown !== undefined && sameRules(shown, source);
      if (shown && !unchanged) {
        ensureParsed(source);
        const changes = diffSources(shown, source);
        // Keep what the live source carries besides rules (context, notes, label).
        const next: LoadedSource = { ...shown, rulesets: source.rulesets, texts: source.texts, capturedAt: source.capturedAt };
        shown = next;
        try {
          callbacks.onLoaded(next, changes);
        } catch {
          // consumer's problem; keep polling
        }
      } else if (!shown) {
        ensureParsed(source);
        shown = source;
      }
      // Same rules as the previous read (the usual case; the rules shown are always those of the
      // previous read): rates follow rules by position.
      const same = lastRead !== undefined && unchanged;
      const { sample, snapshot } = computeSample(source, started, previous, seq++, wall, { sameRules: same });
      previous = snapshot;
      lastRead = source;
      try {
        callbacks.onCounters?.(sample);
      } catch {
        // consumer's problem; keep polling
      }
    } catch (err) {
      if (stopped) return;
      try {
        callbacks.onError(err instanceof Error ? err.message : String(err));
      } catch {
        // ignore
      }
    } finally {
      if (!stopped) {
        const wait = Math.max(0, intervalMs - (now() - started));
        timer = setTimeout(() => void tick(), wait);
      }
    }
  };
  void tick();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
