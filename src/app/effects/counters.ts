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
import type { Family, Ruleset } from '../../core/model.js';
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

/** Counters of one read, by stable identity. */
interface Snapshot {
  at: number;
  rules: Map<string, { packets: number; bytes: number }>;
  policies: Map<string, { packets: number; bytes: number }>;
}

/** A rule's text without its counters: its identity across reads. */
function ruleIdentity(raw: string): string {
  return raw.replace(/^\s*\[\d+:\d+\]\s*/, '').trim();
}

/** The rules' text without counters or comments: equal when only counters moved. */
export function rulesShape(source: LoadedSource): string {
  const parts: string[] = [];
  for (const f of ['ipv4', 'ipv6'] as Family[]) {
    const t = source.texts[f];
    if (t === undefined) continue;
    parts.push(
      `${f}\n` +
        t
          .split('\n')
          .filter((l) => !l.startsWith('#') && l.trim() !== '')
          .map((l) => l.replace(/\s*\[\d+:\d+\]\s*/g, ' ').trim())
          .join('\n'),
    );
  }
  return parts.join('\n');
}

/** Walk a ruleset's rules with their stable identity (`family table chain text #occurrence`). */
function* identified(family: Family, ruleset: Ruleset) {
  for (const table of ruleset.tables.values()) {
    for (const chain of table.chains.values()) {
      const seen = new Map<string, number>();
      for (const rule of chain.rules) {
        const text = ruleIdentity(rule.raw);
        const n = seen.get(text) ?? 0;
        seen.set(text, n + 1);
        yield { id: `${family} ${table.name} ${chain.name} ${n} ${text}`, rule, chain };
      }
    }
  }
}

function rate(delta: number, elapsedMs: number | null): number | null {
  if (elapsedMs === null || elapsedMs <= 0 || delta < 0) return null;
  return (delta * 1000) / elapsedMs;
}

/**
 * Compute a sample from a read, given the previous snapshot (undefined on the first read).
 * Pure apart from its inputs; exported for tests.
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
    const parsed = source.rulesets[f];
    if (!parsed) continue;
    for (const table of parsed.ruleset.tables.values()) {
      for (const chain of table.chains.values()) {
        const ck = chainKey(f, table.name, chain.name);
        const pol = chain.counters ?? { packets: 0, bytes: 0 };
        snapshot.policies.set(ck, { packets: pol.packets, bytes: pol.bytes });
        const prevPol = previous?.policies.get(ck);
        const policyPps = prevPol && chain.builtin ? rate(pol.packets - prevPol.packets, elapsedMs) : null;
        const policyBps = prevPol && chain.builtin ? rate(pol.bytes - prevPol.bytes, elapsedMs) : null;
        chains.set(ck, {
          family: f,
          table: table.name,
          chain: chain.name,
          packets: chain.builtin ? pol.packets : 0,
          bytes: chain.builtin ? pol.bytes : 0,
          pps: chain.builtin ? policyPps : previous ? 0 : null,
          bps: chain.builtin ? policyBps : previous ? 0 : null,
          policyPps,
          policyBps,
        });
      }
    }
    for (const { id, rule, chain } of identified(f, parsed.ruleset)) {
      const c = rule.counters ?? { packets: 0, bytes: 0 };
      snapshot.rules.set(id, { packets: c.packets, bytes: c.bytes });
      const prev = previous?.rules.get(id);
      const pps = prev ? rate(c.packets - prev.packets, elapsedMs) : null;
      const bps = prev ? rate(c.bytes - prev.bytes, elapsedMs) : null;
      rules.set(ruleKey(f, rule.table, rule.chain, rule.position), {
        family: f,
        table: rule.table,
        chain: rule.chain,
        position: rule.position,
        packets: c.packets,
        bytes: c.bytes,
        pps,
        bps,
      });
      const cr = chains.get(chainKey(f, rule.table, chain.name));
      if (!cr) continue;
      cr.packets += c.packets;
      cr.bytes += c.bytes;
      // A chain's rate is known only when every part of it is.
      cr.pps = cr.pps === null || pps === null ? null : cr.pps + pps;
      cr.bps = cr.bps === null || bps === null ? null : cr.bps + bps;
    }
  }
  return { sample: { at: wallClock.toISOString(), elapsedMs, seq, rules, chains }, snapshot };
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
    opts.read ?? (() => loadLive({ rulesOnly: true, ...(variant && variant !== 'unknown' ? { variant } : {}), ...opts.live }));
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
