/**
 * Simulated counters and live rates.
 *
 * Simulated: like the kernel, every rule a traced packet matches and every policy that decides
 * counts the packet (xt_counters are bumped in ipt_do_table only on a full match, and the policy
 * counter when the chain falls through). The counters of the trace being looked at follow the
 * branch the user picked; earlier traces are "committed" and accumulate.
 *
 * Rates: successive live samples of the real counters give packets/s and bytes/s per rule and per
 * chain, with a short history per rule for sparklines.
 */
import type { Counters, Ruleset, TableName } from '../core/model.js';
import { ruleIdentity } from './changes.js';
import type { Outcome, PacketSpec } from '../core/netfilter/types.js';
import type { AppState, ChainLive, RateState } from './state.js';
import { chainKey, ruleKey } from './state.js';

/** Default IP total length when the packet does not say (the engine's default too). */
const DEFAULT_LENGTH = 60;

/** The counter increments one packet makes along an outcome. */
export function outcomeCounts(outcome: Outcome, packet: PacketSpec): Map<string, Counters> {
  const bytes = packet.length ?? DEFAULT_LENGTH;
  const out = new Map<string, Counters>();
  const bump = (key: string) => {
    const c = out.get(key);
    if (c) {
      c.packets += 1;
      c.bytes += bytes;
    } else out.set(key, { packets: 1, bytes });
  };
  for (const s of outcome.steps) {
    if (s.table === null || s.chain === null) continue;
    if (s.kind === 'rule' && s.matched === true && s.rule !== null) bump(ruleKey(s.table, s.chain, s.rule));
    else if (s.kind === 'policy') bump(ruleKey(s.table, s.chain, 'policy'));
  }
  return out;
}

/** Add `b` into a copy of `a`. */
export function addCounts(a: Map<string, Counters>, b: Map<string, Counters>): Map<string, Counters> {
  const out = new Map<string, Counters>();
  for (const [k, v] of a) out.set(k, { ...v });
  for (const [k, v] of b) {
    const c = out.get(k);
    if (c) {
      c.packets += v.packets;
      c.bytes += v.bytes;
    } else out.set(k, { ...v });
  }
  return out;
}

/**
 * Simulated counters carried across a reload: counters are keyed by rule position, so each
 * counted rule is found again in the new ruleset by its identity (raw line without counters, and
 * which occurrence of it in its chain) — a rule inserted above does not move the counts onto its
 * neighbour. Counts of rules (and chains) that are gone are dropped; policies keep theirs. Only
 * the chains holding counts are looked at.
 */
export function remapCounts(counts: Map<string, Counters>, before: Ruleset, after: Ruleset): Map<string, Counters> {
  const out = new Map<string, Counters>();
  /** Per new chain: identity → positions (in order). */
  const found = new Map<string, Map<string, number[]> | null>();
  const positionsIn = (table: TableName, chain: string): Map<string, number[]> | null => {
    const key = `${table}:${chain}`;
    let m = found.get(key);
    if (m !== undefined) return m;
    const c = after.tables.get(table)?.chains.get(chain);
    m = c ? new Map() : null;
    if (c && m) for (const r of c.rules) {
      const id = ruleIdentity(r);
      const list = m.get(id);
      if (list) list.push(r.position);
      else m.set(id, [r.position]);
    }
    found.set(key, m);
    return m;
  };
  for (const [key, v] of counts) {
    const { table, chain, rule } = splitKey(key);
    if (rule === 'policy') {
      if (after.tables.get(table)?.chains.has(chain)) out.set(key, { ...v });
      continue;
    }
    const old = before.tables.get(table)?.chains.get(chain);
    const r = old?.rules[rule - 1];
    const now = positionsIn(table, chain);
    if (!r || !now) continue;
    const id = ruleIdentity(r);
    // Which occurrence of this rule text in its chain (identical rules stay apart).
    let k = 0;
    for (let i = 0; i < rule - 1; i++) if (old!.rules[i].raw === r.raw || ruleIdentity(old!.rules[i]) === id) k++;
    const pos = now.get(id)?.[k];
    if (pos === undefined) continue;
    const nk = ruleKey(table, chain, pos);
    const c = out.get(nk);
    if (c) {
      c.packets += v.packets;
      c.bytes += v.bytes;
    } else out.set(nk, { ...v });
  }
  return out;
}

function splitKey(key: string): { table: TableName; chain: string; rule: number | 'policy' } {
  const first = key.indexOf(':');
  const last = key.lastIndexOf(':');
  const r = key.slice(last + 1);
  return { table: key.slice(0, first) as TableName, chain: key.slice(first + 1, last), rule: r === 'policy' ? 'policy' : Number(r) };
}

/** The simulated counter of one key: committed traces plus the trace being looked at. */
export function simCounter(state: AppState, key: string): Counters | undefined {
  const committed = state.simCommitted.get(key);
  const t = state.trace;
  const live = t && t.counted ? liveCounts(t.result.outcomes[t.outcome], t.result.packet).get(key) : undefined;
  if (!committed) return live;
  if (!live) return committed;
  return { packets: committed.packets + live.packets, bytes: committed.bytes + live.bytes };
}

const liveCache = new WeakMap<Outcome, Map<string, Counters>>();
function liveCounts(outcome: Outcome | undefined, packet: PacketSpec): Map<string, Counters> {
  if (!outcome) return new Map();
  let m = liveCache.get(outcome);
  if (!m) liveCache.set(outcome, (m = outcomeCounts(outcome, packet)));
  return m;
}

/** The counts of the current trace (to commit before the next trace replaces it). */
export function currentTraceCounts(state: AppState): Map<string, Counters> {
  const t = state.trace;
  return t && t.counted ? liveCounts(t.result.outcomes[t.outcome], t.result.packet) : new Map();
}

/** Total simulated packets of a chain's rules and policy (for the Chains pane). */
export function simChainPackets(state: AppState, table: string, chain: string): number {
  const prefix = `${table}:${chain}:`;
  let n = 0;
  const add = (m: Map<string, Counters>) => {
    for (const [k, v] of m) if (k.startsWith(prefix)) n += v.packets;
  };
  add(state.simCommitted);
  add(currentTraceCounts(state));
  return n;
}

/** How many samples of history a sparkline keeps. */
export const HISTORY = 30;

/** Packets/s and bytes/s. */
export interface Rate {
  pps: number;
  bps: number;
}

/** How many of the hottest rules of each sample start a sparkline history (the overlay shows 12). */
export const HOT_KEEP = 100;

/**
 * Fold a live sample (per chain `table:chain`: its rules' counters and rates by position; chain
 * rates; policy rates — as the SOURCES poller computes them) into the rate state, appending each
 * rule's packets/s to its history for sparklines. Histories start for the HOT_KEEP hottest rules
 * of a sample and go on while the rule has traffic within the window (the sparklines are of the
 * hottest rules): key strings and arrays are built for those alone, so a sample of a 320k-rule
 * host costs no allocation per rule here.
 */
export function nextRates(prev: RateState | null, at: number, rules: Map<string, ChainLive>, chains: Map<string, Rate>, policies: Map<string, Rate> = new Map()): RateState {
  const history = new Map<string, number[]>();
  const append = (key: string, before: number[] | undefined, pps: number): void => {
    const h = (before ?? []).concat(pps);
    const kept = h.length > HISTORY ? h.slice(h.length - HISTORY) : h;
    if (pps === 0 && kept.every((v) => v === 0)) return;
    history.set(key, kept);
  };
  // Rules that had a history: carried on while they are in the sample (gone rules lose it).
  for (const [key, before] of prev?.history ?? []) {
    const k = key.lastIndexOf(':');
    const c = rules.get(key.slice(0, k));
    const i = Number(key.slice(k + 1)) - 1;
    if (!c || i >= c.packets.length) continue;
    append(key, before, c.pps[i] ?? 0);
  }
  // The hottest rules now (a small sorted list, highest first) start a history when they have none.
  const top: { ck: string; i: number; pps: number }[] = [];
  for (const [ck, c] of rules) {
    const pps = c.pps;
    for (let i = 0; i < pps.length; i++) {
      const p = pps[i];
      if (p === null || p <= 0 || (top.length === HOT_KEEP && p <= top[HOT_KEEP - 1].pps)) continue;
      let j = top.length === HOT_KEEP ? HOT_KEEP - 1 : top.length;
      while (j > 0 && top[j - 1].pps < p) {
        top[j] = top[j - 1];
        j--;
      }
      top[j] = { ck, i, pps: p };
    }
  }
  for (const t of top) {
    const key = `${t.ck}:${t.i + 1}`;
    if (!history.has(key) && !prev?.history.has(key)) append(key, undefined, t.pps);
  }
  return { at, rules, chains, policies, history };
}

/** The live rate of a rule (or a builtin chain's policy), when sampled: null rates read as 0. */
export function liveRate(rates: RateState | null, table: string, chain: string, position: number | 'policy'): Rate | undefined {
  if (!rates) return undefined;
  if (position === 'policy') return rates.policies.get(`${table}:${chain}`);
  const c = rates.rules.get(`${table}:${chain}`);
  if (!c || position < 1 || position > c.packets.length) return undefined;
  return { pps: c.pps[position - 1] ?? 0, bps: c.bps[position - 1] ?? 0 };
}

/** A rule's counters at the latest live read (newer than the loaded ruleset's), when sampled. */
export function liveCounters(rates: RateState | null, table: string, chain: string, position: number): Counters | undefined {
  const c = rates?.rules.get(`${table}:${chain}`);
  if (!c || position < 1 || position > c.packets.length) return undefined;
  return { packets: c.packets[position - 1], bytes: c.bytes[position - 1] };
}

/** The hottest rules by current packet rate (for sparklines), highest first. */
export function hottest(rates: RateState, n: number): { key: string; pps: number; history: number[] }[] {
  const out: { key: string; pps: number; history: number[] }[] = [];
  for (const [key, h] of rates.history) {
    const k = key.lastIndexOf(':');
    const first = key.indexOf(':');
    const r = liveRate(rates, key.slice(0, first), key.slice(first + 1, k), Number(key.slice(k + 1)));
    out.push({ key, pps: r?.pps ?? 0, history: h });
  }
  out.sort((a, b) => b.pps - a.pps || a.key.localeCompare(b.key));
  return out.slice(0, n).filter((x) => x.history.some((v) => v > 0));
}

/** The real counters of a ruleset by key (what a live sample carries). */
export function countersOf(ruleset: import('../core/model.js').Ruleset): Map<string, Counters> {
  const out = new Map<string, Counters>();
  for (const table of ruleset.tables.values()) {
    for (const chain of table.chains.values()) {
      for (const r of chain.rules) if (r.counters) out.set(ruleKey(table.name, chain.name, r.position), r.counters);
      if (chain.counters) out.set(ruleKey(table.name, chain.name, 'policy'), chain.counters);
    }
  }
  return out;
}

export { chainKey };
