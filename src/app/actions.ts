/**
 * Everything that can happen to the explorer, as data. Keys (src/ui/keymap.ts), mouse events,
 * the command line and the source effects (reload, file gone, live counters) all become these.
 */
import type { Counters, Diagnostic, Family, ParseResult, TableName } from '../core/model.js';
import type { HostContext, TraceResult } from '../core/netfilter/types.js';
import type { ScenarioPacket } from '../core/scenario.js';
import type { Rate } from './counters.js';
import type { PacketForm } from './packet-form.js';
import type { ChainLive, DiffState, Flash, InputKind, OverlayKind, PaneId, RuleChange, SourceInfo, Viewport } from './state.js';

/** A loaded source, reduced to what the state keeps. */
export interface LoadPayload {
  info: SourceInfo;
  family: Family;
  parse: ParseResult;
  text: string;
  context: Partial<HostContext>;
  presets: ScenarioPacket[];
  /** ms since epoch */
  at: number;
  /**
   * On a reload of the source on screen: what changed since the previous load of this family,
   * computed once by the effect that noticed the new load (src/app/changes.ts `computeChanges`,
   * from raw rule lines). The reducer never compares rulesets itself; absent = not known, so
   * nothing is highlighted.
   */
  changes?: RuleChange[];
}

/** Every action the reducer understands. */
export type Action =
  | { type: 'loading'; message: string | null }
  | { type: 'loaded'; payload: LoadPayload }
  | { type: 'reloadFailed'; message: string; diagnostics: Diagnostic[]; text?: string }
  | { type: 'gone'; path: string }
  /** A live counter read: rules per chain (`table:chain`), chain rates, policy rates. */
  | { type: 'countersSampled'; at: number; rules: Map<string, ChainLive>; chains: Map<string, Rate>; policies?: Map<string, Rate> }
  | { type: 'resize'; viewport: Viewport }
  | { type: 'focus'; pane: PaneId }
  | { type: 'focusCycle'; delta: 1 | -1 }
  | { type: 'move'; delta: number }
  | { type: 'moveEdge'; edge: 'first' | 'last' }
  | { type: 'page'; delta: 1 | -1 }
  | { type: 'clickRow'; pane: PaneId; row: number }
  | { type: 'scroll'; pane: PaneId; delta: number }
  | { type: 'activate' }
  | { type: 'back' }
  | { type: 'showChain'; table?: TableName; chain: string; rule?: number; push?: boolean }
  | { type: 'showTable'; table: TableName }
  | { type: 'toggleTable'; table: TableName }
  | { type: 'openOverlay'; overlay: OverlayKind }
  | { type: 'closeOverlay' }
  | { type: 'inputStart'; kind: InputKind; field?: keyof PacketForm; text?: string }
  | { type: 'inputChange'; text: string }
  | { type: 'inputEnd' }
  | { type: 'setForm'; form: PacketForm }
  | { type: 'setField'; field: keyof PacketForm; value: string }
    /**
   * A trace computed by the controller. `count: false` for a re-trace after a reload (the packet
   * was counted already); `keepStep` puts the cursor back on that step index when it exists.
   */
  | { type: 'traced'; result: TraceResult; count?: boolean; keepStep?: number; keepOutcome?: number }
  | { type: 'tracedAll'; results: TraceResult[] }
  | { type: 'traceFailed'; message: string }
  | { type: 'step'; delta: number }
  | { type: 'stepEdge'; edge: 'first' | 'last' }
  | { type: 'pickOutcome'; index: number }
  | { type: 'toggleVerbose' }
  | { type: 'resetCounters' }
  | { type: 'search'; query: string }
  | { type: 'searchNext'; delta: 1 | -1 }
  | { type: 'sortByRate'; on: boolean }
  | { type: 'openDiff'; diff: Omit<DiffState, 'cursor' | 'scroll'> }
  | { type: 'closeDiff' }
  /** Show a diff probe's before/after traces (an overlay over the diff view). */
  | { type: 'openProbe'; index: number }
  | { type: 'flash'; flash: Flash | null }
  | { type: 'quit' };
