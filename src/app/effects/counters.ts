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
import type { ChainRate, CounterSample, RuleRate, SourceCallbacks } from './types.js';
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

/** Counters of one read, by stable identity: chain key → rule text → counters per occurrence. */
interface Snapshot {
  at: number;
  rules: Map<string, Map<string, { packets: number; bytes: number }[]>>;
  policies: Map<string, { packets: number; bytes: number }>;
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

/** The rules' text without counters or comments: equal when only counters moved. */
export function rulesShape(source: LoadedSource): string {
  const parts: string[] = [];
  for (const f of ['ipv4', 'ipv6'] as Family[]) {
    const t = source.texts[f];
    if (t === undefined) continue;
    parts.push(`${f}\n`);
    scanCounters(t, (s) => void parts.push(s.position === 0 ? `${s.table} :${s.chain} ${s.builtin ? 'builtin' : '-'}\n` : `${s.table} ${s.text}\n`));
  }
  return parts.join('');
}

function rate(delta: number, elapsedMs: number | null): number | null {
  if (elapsedMs === null || elapsedMs <= 0 || delta < 0) return null;
  return (delta * 1000) / elapsedMs;
}

/**
 * Compute a sample from a read (its counter texts), given the previous snapshot (undefined on the
 * first read). Pure apart from its inputs; exported for tests.
 */
export function computeSample(
  source: LoadedSource,
  at: number,
  previous: Snapshot | undefined,
  seq: number,
  wallClock: Date,
): { sample: CounterSample; snapshot: Snapshot } {
  const elapsedMs = previous ? at - previous.at : null;
  const snapshot: Snapshot = { at, rules: new Map(), policies: new Map() };
  const rules = new Map<string, RuleRate>();
  const chains = new Map<string, ChainRate>();
  for (const f of ['ipv4', 'ipv6'] as Family[]) {
    const text = source.texts[f];
    if (text === undefined) continue;
    // A rule is followed by its text and its occurrence among identical rules of its chain.
    let current: Map<string, { packets: number; bytes: number }[]> | undefined;
    let previousChain: Map<string, { packets: number; bytes: number }[]> | undefined;
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
        if (!current) snapshot.rules.set(ck, (current = new Map()));
        previousChain = previous?.rules.get(ck);
        cr = chains.get(ck);
        lastName = s.chain;
        lastTable = s.table;
      }
      let occurrences = current.get(s.text);
      if (!occurrences) current.set(s.text, (occurrences = []));
      const n = occurrences.length;
      occurrences.push({ packets: s.packets, bytes: s.bytes });
      const prev = previousChain?.get(s.text)?.[n];
      const pps = prev ? rate(s.packets - prev.packets, elapsedMs) : null;
      const bps = prev ? rate(s.bytes - prev.bytes, elapsedMs) : null;
      rules.set(ruleKey(f, s.table, s.chain, s.position), {
        family: f,
        table: s.table,
        chain: s.chain,
        position: s.position,
        packets: s.packets,
        bytes: s.bytes,
        pps,
        bps,
      });
      if (!cr) return;
      cr.packets += s.packets;
      cr.bytes += s.bytes;
      // A chain's rate is known only when every part of it is.
      cr.pps = cr.pps === null || pps === null ? null : cr.pps + pps;
      cr.bps = cr.bps === null || bps === null ? null : cr.bps + bps;
    });
  }
  return { sample: { at: wallClock.toISOString(), elapsedMs, seq, rules, chains }, snapshot };
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
  let shownShape = shown ? rulesShape(shown) : undefined;
  let seq = 0;

  const tick = async (): Promise<void> => {
    if (stopped) return;
    const started = now();
    const wall = new Date();
    try {
      const source = await read();
      if (stopped) return;
      const shape = rulesShape(source);
      if (shown && shape !== shownShape) {
        ensureParsed(source);
        const changes = diffSources(shown, source);
        // Keep what the live source carries besides rules (context, notes, label).
        const next: LoadedSource = { ...shown, rulesets: source.rulesets, texts: source.texts, capturedAt: source.capturedAt };
        shown = next;
        shownShape = shape;
        try {
          callbacks.onLoaded(next, changes);
        } catch {
          // consumer's problem; keep polling
        }
      } else if (!shown) {
        ensureParsed(source);
        shown = source;
        shownShape = shape;
      }
      const { sample, snapshot } = computeSample(source, started, previous, seq++, wall);
      previous = snapshot;
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
