/**
 * The explorer's application state: everything the screen shows is a function of this value.
 *
 * Keys become actions (./actions.ts), the reducer (./reducer.ts) makes the next state, and each
 * view in src/ui renders from it. Nothing here knows about blessed or the terminal; the viewport
 * sizes the reducer needs for paging and scrolling arrive as an action from the layout.
 */
import type { Counters, Diagnostic, Family, Ruleset, TableName } from '../core/model.js';
import type { HostContext, TraceResult } from '../core/netfilter/types.js';
import type { ScenarioPacket } from '../core/scenario.js';
import type { SourceKind } from '../sources/types.js';
import type { PacketForm } from './packet-form.js';
import { emptyPacketForm } from './packet-form.js';

/** The five panes, in Tab order; their numbers 1–5 are their shortcuts. */
export type PaneId = 'chains' | 'rules' | 'packet' | 'trace' | 'map';
/** Panes in Tab order (their 1–5 shortcuts). */
export const PANES: readonly PaneId[] = ['chains', 'rules', 'packet', 'trace', 'map'];

/** A chain's address. */
export interface ChainRef {
  table: TableName;
  chain: string;
}

/** Where the Rules pane was before following a jump: restored by Backspace/Esc. */
export interface Crumb extends ChainRef {
  cursor: number;
  scroll: number;
}

/** What is being typed on the bottom line. */
export type InputKind = 'command' | 'search' | 'field';

/** The bottom line while the user types a command, a search or a packet field. */
export interface InputState {
  kind: InputKind;
  text: string;
  /** For `field`: which packet-form field is being edited. */
  field?: keyof PacketForm;
}

/** Overlays drawn above the panes; each has a cursor over its rows. */
export type OverlayKind =
  | 'help'
  | 'diagnostics'
  | 'callers'
  | 'changes'
  | 'branches'
  | 'presets'
  | 'hot'
  | 'entries'
  /** The diff view's packet: its trace before and after, as text. */
  | 'probe';

/** An open overlay and its cursor. */
export interface OverlayState {
  kind: OverlayKind;
  cursor: number;
  scroll: number;
}

/** A search hit: a chain name, or a rule of a chain (position 1-based). */
export interface SearchHit extends ChainRef {
  rule: number | null;
}

/** The active search and its hits (n/N walk them). */
export interface SearchState {
  query: string;
  hits: SearchHit[];
  /** Index of the current hit (-1: none yet). */
  index: number;
}

/** A rule added, removed or changed by the last reload (matched by content within a chain). */
export interface RuleChange extends ChainRef {
  kind: 'added' | 'removed' | 'changed' | 'chain-added' | 'chain-removed' | 'policy';
  /** Position in the new ruleset (added/changed), or in the old one (removed); null for chains. */
  position: number | null;
  /** The rule text without counters (new text for added/changed, old for removed). */
  text: string;
  /** For `changed`: the rule's text before the change. */
  before?: string;
  /** For `changed` / `removed`: its position in the previous ruleset. */
  oldPosition?: number;
}

/** The packet's trace and where the user is in it. */
export interface TraceState {
  result: TraceResult;
  /** Which outcome (branch) is followed: index into result.outcomes. */
  outcome: number;
  /** Index into the displayed trace rows (see selectors.traceRows). */
  row: number;
  scroll: number;
  /** Show every evaluated rule instead of folding runs of non-matching rules. */
  verbose: boolean;
  /** Whether this trace counts in the simulated counters (false after a reset). */
  counted: boolean;
}

/** One chain's rules in a live sample, by position - 1. */
export interface ChainLive {
  /** The latest read's counters (newer than the loaded ruleset's). */
  packets: number[];
  bytes: number[];
  /** Packets/s and bytes/s since the previous read; null: not known yet (first read, new rule, reset). */
  pps: (number | null)[];
  bps: (number | null)[];
}

/**
 * Live counters and rates from successive samples. Rules are kept per chain as arrays (a
 * 320k-rule host must not cost one map entry and key string per rule every interval); read them
 * with `liveRate` / `liveCounters` (src/app/counters.ts).
 */
export interface RateState {
  /** When the last sample was taken (ms since epoch). */
  at: number;
  /** Per chain (`table:chain`): its rules' latest counters and rates. */
  rules: Map<string, ChainLive>;
  /** Per chain (`table:chain`): the chain's packets/s and bytes/s. */
  chains: Map<string, { pps: number; bps: number }>;
  /** Per builtin chain (`table:chain`): its policy counter's rate. */
  policies: Map<string, { pps: number; bps: number }>;
  /** Recent packets/s per rule key (`table:chain:N`), oldest first (sparklines); only rules with traffic in the window. */
  history: Map<string, number[]>;
}

/**
 * The place the diff view will live: two snapshots and whatever the DIFF engineer's
 * `diffStructural` / `diffBehaviour` return (kept opaque here so this state does not depend on
 * their types before they land).
 */
export interface DiffState {
  before: { label: string; ruleset: Ruleset };
  after: { label: string; ruleset: Ruleset };
  structural?: unknown;
  behaviour?: unknown;
  /** The diff as text lines (unified structural diff, then behaviour), when the DIFF area rendered it. */
  lines?: DiffLine[];
  /** Packets that behave differently, with both traces (lines point here by index). */
  probes?: { label: string; oldTrace: TraceResult; newTrace: TraceResult }[];
  /** The probe shown in the probe overlay. */
  probe?: number;
  cursor: number;
  scroll: number;
}

/** One line of the diff view; `probe` when Enter on it shows that probe's traces. */
export interface DiffLine {
  text: string;
  probe?: number;
}

/** The main screen, or the diff view in place of the panes. */
export type Mode = 'explore' | 'diff';

/** Source information shown in the title and status bars. */
export interface SourceInfo {
  kind: SourceKind;
  label: string;
  path?: string;
  capturedAt?: string;
  notes: string[];
  /** Shown as a banner: this is the demo, not the user's host. */
  demo: boolean;
  watching: boolean;
  /** Families the source carries (live hosts and bundles: both); `f` switches. */
  families?: Family[];
  /** Directory sources: the dumps it holds (`O` lists them, Enter opens one). */
  entries?: { name: string; path: string }[];
}

/** How many rows each scrolling pane shows (set by the layout on resize). */
export interface Viewport {
  chains: number;
  rules: number;
  trace: number;
  overlay: number;
  /** Rows of the help overlay (generated from the keymap by the UI). */
  helpRows: number;
}

/** A one-line message on the bottom line until the next key. */
export interface Flash {
  text: string;
  level: 'info' | 'error';
}

/** Everything the explorer shows. */
export interface AppState {
  source: SourceInfo | null;
  family: Family;
  ruleset: Ruleset | null;
  diagnostics: Diagnostic[];
  /** Source text of the ruleset, for diagnostics' code frames. */
  sourceText: string;
  context: Partial<HostContext>;
  /** Long load in progress (first load shows it before the screen; reloads in the status bar). */
  loading: string | null;
  /** Last successful load (ms since epoch). */
  loadedAt: number | null;
  /** The watched file disappeared (its path); the last good ruleset stays. */
  gone: string | null;
  /** The last reload failed (message); the last good ruleset stays, diagnostics show why. */
  reloadError: string | null;
  /** Diagnostics of the failed reload (shown instead of the kept ruleset's when set). */
  reloadDiagnostics: Diagnostic[];
  /** Source text of the failed reload (for its diagnostics' code frames). */
  reloadText: string;
  /** What changed on the last reload, and when (highlighted for a few seconds). */
  changes: RuleChange[];
  changedAt: number | null;
  /** The ruleset before the last reload (for the diff view). */
  previous: { label: string; ruleset: Ruleset } | null;

  focus: PaneId;
  /** Tables folded in the Chains tree. */
  collapsed: ReadonlySet<TableName>;
  chainsCursor: number;
  chainsScroll: number;

  /** The chain shown in the Rules pane. */
  view: ChainRef | null;
  rulesCursor: number;
  rulesScroll: number;
  breadcrumb: Crumb[];
  /** Sort the Rules pane by live packet rate instead of position. */
  sortByRate: boolean;

  packet: PacketForm;
  packetCursor: number;
  presets: ScenarioPacket[];

  trace: TraceState | null;
  traceError: string | null;

  /** Simulated counters of traces already counted (see counters.ts). */
  simCommitted: Map<string, Counters>;
  simPackets: number;

  rates: RateState | null;

  search: SearchState | null;
  input: InputState | null;
  overlay: OverlayState | null;
  mode: Mode;
  diff: DiffState | null;

  flash: Flash | null;
  viewport: Viewport;
  quit: boolean;
}

/** The state before anything is loaded. */
export function initialState(): AppState {
  return {
    source: null,
    family: 'ipv4',
    ruleset: null,
    diagnostics: [],
    sourceText: '',
    context: {},
    loading: null,
    loadedAt: null,
    gone: null,
    reloadError: null,
    reloadDiagnostics: [],
    reloadText: '',
    changes: [],
    changedAt: null,
    previous: null,
    focus: 'chains',
    collapsed: new Set(),
    chainsCursor: 0,
    chainsScroll: 0,
    view: null,
    rulesCursor: 0,
    rulesScroll: 0,
    breadcrumb: [],
    sortByRate: false,
    packet: emptyPacketForm(),
    packetCursor: 0,
    presets: [],
    trace: null,
    traceError: null,
    simCommitted: new Map(),
    simPackets: 0,
    rates: null,
    search: null,
    input: null,
    overlay: null,
    mode: 'explore',
    diff: null,
    flash: null,
    viewport: { chains: 10, rules: 10, trace: 10, overlay: 10, helpRows: 0 },
    quit: false,
  };
}

/** Counter key of a rule or of a chain's policy (`nat:KUBE-SERVICES:3`, `filter:INPUT:policy`). */
export function ruleKey(table: TableName, chain: string, position: number | 'policy'): string {
  return `${table}:${chain}:${position}`;
}

/** Key of a chain (`nat:KUBE-SERVICES`). */
export function chainKey(table: TableName, chain: string): string {
  return `${table}:${chain}`;
}

/** How long changed rules stay highlighted after a reload. */
export const CHANGE_HIGHLIGHT_MS = 5000;
