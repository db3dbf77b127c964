/**
 * Types shared by the source effects (watching a file or directory, polling live counters) and
 * the TUI that consumes them. Effects call these callbacks; the TUI turns them into actions.
 */
import type { Family, TableName } from '../../core/model.js';
import type { LoadedSource } from '../../sources/types.js';
import type { RuleChange } from '../state.js';

/** A rule named by where it sits, with its text (`-A CHAIN …` as the dump has it, no counters). */
export interface RuleRef {
  family: Family;
  table: TableName;
  chain: string;
  /** 1-based position in its chain (in the new ruleset for added/changed, the old one for removed). */
  position: number;
  /** The rule's line without counters (blanks outside quotes collapsed). */
  text: string;
  /** For `changed`: the rule's text before the change. */
  before?: string;
  /** For `changed`/`removed`: position in the previous ruleset. */
  oldPosition?: number;
}

/**
 * What changed between two loads of the same source (rules compared by their line without
 * counters; see src/app/changes.ts). A removed chain's rules are listed as removed, an added
 * chain's as added.
 */
export interface SourceChanges {
  added: RuleRef[];
  removed: RuleRef[];
  changed: RuleRef[];
  /** Chains that appeared / disappeared, as `family table CHAIN`. */
  chainsAdded: string[];
  chainsRemoved: string[];
  /** Builtin chains whose policy changed, as `family table CHAIN: OLD → NEW`. */
  policiesChanged: string[];
  /** The same, per family, as the explorer lists them (table, chain, position order). */
  rules: Partial<Record<Family, RuleChange[]>>;
  /** True when nothing above changed (e.g. only counters or spacing differed). */
  empty: boolean;
}

/** A directory source's entry: one dump or bundle file. */
export interface SourceEntryInfo {
  path: string;
  name: string;
}

/** Callbacks the source effects call. All optional except where a watcher needs them. */
export interface SourceCallbacks {
  /** A new good load (after a change on disk, or a new live read); `changes` vs the previous good load. */
  onLoaded(source: LoadedSource, changes?: SourceChanges): void;
  /**
   * The source could not be (re)loaded; the last good one stays. `source` is the failed load when
   * it parsed with errors (its diagnostics are what to show).
   */
  onError(message: string, source?: LoadedSource): void;
  /** The watched file disappeared; the last good ruleset stays; it is picked up again when it returns. */
  onGone(path: string): void;
  /** A live counter sample (pollCounters only). */
  onCounters?(sample: CounterSample): void;
}

/** Rates of one rule between two counter reads. */
export interface RuleRate {
  family: Family;
  table: TableName;
  chain: string;
  /** 1-based position in its chain in the latest read. */
  position: number;
  /** Counter values at the latest read. */
  packets: number;
  bytes: number;
  /** Packets / bytes per second since the previous read; null on the first read, for a new rule, or after a counter reset. */
  pps: number | null;
  bps: number | null;
}

/** Rates of one chain: the sum of its rules' counters plus (builtin chains) its policy counter. */
export interface ChainRate {
  family: Family;
  table: TableName;
  chain: string;
  packets: number;
  bytes: number;
  pps: number | null;
  bps: number | null;
  /** Builtin chains: the policy counter's rate alone (packets that fell through to the policy). */
  policyPps: number | null;
  policyBps: number | null;
}

/** The rules of one chain in a live counter read, by position - 1 (arrays, not one entry per rule). */
export interface ChainRuleRates {
  family: Family;
  table: TableName;
  chain: string;
  /** Counter values at the latest read. */
  packets: number[];
  bytes: number[];
  /** Packets / bytes per second since the previous read; null as in RuleRate. */
  pps: (number | null)[];
  bps: (number | null)[];
}

/** One live counter read. Keys: `ruleKey()` / `chainKey()`. */
export interface CounterSample {
  /** When the read started, ISO 8601. */
  at: string;
  /** Milliseconds since the previous read started (null on the first read). */
  elapsedMs: number | null;
  /** 0-based sample number since polling started. */
  seq: number;
  /** Per chain (`chainKey()`): its rules' counters and rates. What the explorer reads. */
  chainRules: Map<string, ChainRuleRates>;
  /**
   * The same per rule (`ruleKey()`), built on first access: on a 320k-rule host one map entry
   * and key per rule every interval costs seconds, so nothing on the polling path reads this.
   */
  readonly rules: Map<string, RuleRate>;
  chains: Map<string, ChainRate>;
}

/** Map key of a rule rate: `ipv4 filter INPUT 3`. */
export function ruleKey(family: Family, table: TableName, chain: string, position: number): string {
  return `${family} ${table} ${chain} ${position}`;
}

/** Map key of a chain rate: `ipv4 filter INPUT`. */
export function chainKey(family: Family, table: TableName, chain: string): string {
  return `${family} ${table} ${chain}`;
}
