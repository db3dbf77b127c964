/**
 * Result types of the structural and behavioural diff. These are the JSON-facing structures of
 * `iptscope diff --json` (documented in the README) and what the TUI diff view renders: every
 * change carries both rules (position, source line, canonical text) so a view needs nothing else.
 *
 * Pure types: no IO.
 */
import type { Counters, Family, Policy, TableName } from '../model.js';
import type { PacketSpec, TraceResult, Verdict, DispositionKind } from '../netfilter/types.js';

/** One rule as the diff shows it. */
export interface RuleRef {
  /** 1-based position in its chain (as `iptables -L --line-numbers`). */
  position: number;
  /** Source line of the rule in its dump. */
  line: number;
  /** Canonical iptables-save text (`-A CHAIN …`, no counters), as `formatRule` prints it. */
  text: string;
  counters?: Counters;
}

/** Signed difference of two counters (new − old). */
export interface CounterDelta {
  packets: number;
  bytes: number;
}

/** Kind of a rule change. */
export type RuleChangeKind = 'added' | 'removed' | 'moved' | 'changed';

/**
 * One rule-level change inside a chain.
 * - `added`: only `new`; `removed`: only `old`;
 * - `moved`: the same rule (same canonical text) at another place in the chain: both;
 * - `changed`: a removed and an added rule at the same place with similar text: both, plus
 *   `similarity` (0..1, token overlap) and the words that differ.
 */
export interface RuleChange {
  kind: RuleChangeKind;
  old?: RuleRef;
  new?: RuleRef;
  similarity?: number;
  /** For `changed`: words only in the old rule and words only in the new one. */
  words?: { removed: string[]; added: string[] };
  /** Counter delta when both sides carry counters (moved / changed). */
  delta?: CounterDelta;
}

/** A rule present on both sides whose counters moved (only when both dumps carry counters). */
export interface CounterChange {
  old: RuleRef;
  new: RuleRef;
  delta: CounterDelta;
}

/** Operation of one line of a unified-diff hunk. */
export type HunkOp = 'context' | 'removed' | 'added';

/** One line of a hunk: a context rule (both refs), a removed rule (old) or an added rule (new). */
export interface HunkLine {
  op: HunkOp;
  old?: RuleRef;
  new?: RuleRef;
  /** Index into `ChainDiff.changes` of the change this line belongs to (not for context). */
  change?: number;
  /** For a moved rule: its position on the other side (`moved to #7` / `moved from #3`). */
  movedTo?: number;
  movedFrom?: number;
}

/** A unified-diff hunk of one chain: rule positions as line numbers, 3 rules of context. */
export interface Hunk {
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  lines: HunkLine[];
}

/** What happened to a chain as a whole. */
export type ChainStatus = 'added' | 'removed' | 'renamed' | 'modified' | 'unchanged';

/** Changes of one chain. Only chains with some change (or counter movement) are listed. */
export interface ChainDiff {
  table: TableName;
  /** The chain's name on the new side (the old side for a removed chain). */
  chain: string;
  /** For a renamed chain: its old name. */
  oldName?: string;
  status: ChainStatus;
  builtin: boolean;
  /** Set when the policy differs (builtin chains; null for a user chain side). */
  policy?: { old: Policy | null; new: Policy | null };
  /** Lines where the chain is declared (`:NAME …`) on each side, when known. */
  declared: { old?: number; new?: number };
  /** Number of rules on each side (0 for the missing side of an added/removed chain). */
  rules: { old: number; new: number };
  /** Rule changes in display order (the unified-diff order of `hunks`). */
  changes: RuleChange[];
  /** The unified diff of the chain's rules. */
  hunks: Hunk[];
  /** Rules present on both sides whose counters moved (both sides with counters only). */
  counters: CounterChange[];
  /** The chain's own counters (builtin chains' policy counters), when both sides carry them. */
  chainCounters?: CounterDelta;
}

/** A kube-proxy hashed chain that disappeared while another appeared with the same rules. */
export interface ChainRename {
  table: TableName;
  from: string;
  to: string;
}

/** Changes of one table. */
export interface TableDiff {
  table: TableName;
  status: 'added' | 'removed' | 'modified';
  chains: ChainDiff[];
  renames: ChainRename[];
}

/** Counts over the whole diff. */
export interface DiffSummary {
  tablesAdded: number;
  tablesRemoved: number;
  chainsAdded: number;
  chainsRemoved: number;
  chainsRenamed: number;
  policiesChanged: number;
  rulesAdded: number;
  rulesRemoved: number;
  rulesMoved: number;
  rulesChanged: number;
  /** Rules whose counters moved (informational; never makes the rulesets differ). */
  countersChanged: number;
}

/** Structural diff of two rulesets of one family. */
export interface StructuralDiff {
  family: Family;
  /** Source labels of the two sides. */
  old: string;
  new: string;
  /** True when nothing but counters differs. */
  identical: boolean;
  /** Tables with any change, in kernel order. */
  tables: TableDiff[];
  summary: DiffSummary;
  /** True when both sides carry counters (then deltas are reported). */
  counters: boolean;
}

/** Where a probe packet comes from. */
export type ProbeOrigin = 'pod' | 'outside' | 'host' | 'user';

/** A probe packet and why it was chosen. */
export interface Probe {
  /** Short label: `pod 10.244.0.10 → 10.96.0.10:80/tcp`. */
  label: string;
  origin: ProbeOrigin;
  packet: PacketSpec;
  /** The rule text the destination came from (`old:nat:KUBE-SERVICES:12`), or `user`. */
  from: string;
}

/** One possible path of a probe, reduced to what the behavioural diff compares. */
export interface OutcomeSummary {
  probability: number;
  verdict: Verdict;
  disposition: DispositionKind;
  /** Output interface for forwarded / sent packets. */
  iface?: string;
  rejectWith?: string;
  /** Destination after DNAT/REDIRECT (`ip:port` or `ip`), when translated. */
  dnat?: string;
  /** Source after SNAT/MASQUERADE, when translated. */
  snat?: string;
  /** True when a MASQUERADE target applied. */
  masquerade: boolean;
  /** One comparable line: `ACCEPT forwarded eth0 dnat 10.244.1.5:8080 masquerade`. */
  key: string;
  /**
   * The decisive steps of the (most probable) outcome with this key, as `table:CHAIN:N` /
   * `table:CHAIN:policy` (like `outcomePath`); not compared, for showing where the fate was decided.
   */
  path: string[];
}

/** A probe whose outcome differs between the two rulesets, with both traces. */
export interface BehaviourChange {
  probe: Probe;
  /** Outcomes (merged by key, probabilities summed), most probable first. */
  old: OutcomeSummary[];
  new: OutcomeSummary[];
  /** Human lines: `verdict ACCEPT → DROP`, `dnat 10.244.1.5:80 p=0.5 → p=0.33`. */
  differences: string[];
  oldTrace: TraceResult;
  newTrace: TraceResult;
}

/** Behavioural diff: probes derived from both rulesets, traced on both sides. */
export interface BehaviourDiff {
  family: Family;
  /** Probes derived (before bounding) and traced. */
  probesDerived: number;
  probesTraced: number;
  /** Set when the probe count was bounded: a sentence saying so. */
  bounded?: string;
  /** Probes skipped as invalid for this family / context, with the reason. */
  skipped: { probe: Probe; reason: string }[];
  changes: BehaviourChange[];
  /** Defaults the engine relied on (from the host contexts), deduplicated. */
  contextDefaults: string[];
}

/** Options of the behavioural diff. */
export interface BehaviourOptions {
  /** Upper bound on traced probes (default 2000). User packets are always traced. */
  maxProbes?: number;
  /** Upper bound on outcomes per trace (default 64). */
  maxOutcomes?: number;
  /** False: trace only the user's packets (e.g. identical rules on the same host). Default true. */
  derive?: boolean;
  /**
   * A structural diff of the same pair (computed when absent): probes named by changed rules and
   * reaching changed chains are traced first, and probes that never touch a changed chain are not
   * traced again on the new side.
   */
  structural?: StructuralDiff;
  /** True: no structural shortcut or ordering — every probe traced on both sides (for checking). */
  exhaustive?: boolean;
}
