/**
 * The controller: turns UI commands (from the keymap), typed input and source events into actions,
 * calling the engine where a step needs it (tracing a packet, a scenario's packets, re-tracing
 * after a reload). No terminal here: the UI hands it command ids and key characters, which is
 * what the end-to-end behaviour is made of, so it is unit-tested like the reducer.
 */
import type { Diagnostic, Family, Ruleset } from '../core/model.js';
import type { HostContext, PacketSpec, TraceOptions, TraceResult } from '../core/netfilter/types.js';
import type { Action, LoadPayload } from './actions.js';
import { parseCommand } from './command.js';
import { overlayItems } from './overlays.js';
import { entryHook, formToSpec, packetForRule, PACKET_FIELDS, specToForm } from './packet-form.js';
import type { PacketForm } from './packet-form.js';
import { grouped } from './human.js';
import { callersOf, currentStep, selectedRule, viewChain } from './selectors.js';
import type { DiffState, PaneId } from './state.js';
import type { Store } from './store.js';

/** What the controller needs from the engine (src/core/netfilter), injected for tests. */
export interface Engine {
  trace(ruleset: Ruleset, context: HostContext, packet: PacketSpec, options?: TraceOptions): TraceResult;
  resolveContext(partial?: Partial<HostContext>): { context: HostContext; defaults: string[] };
  validatePacket?(spec: PacketSpec, family: Family, context: HostContext): string[];
}

/** Optional extras (the DIFF area's structural / behavioural diff, when present). */
export interface ControllerOptions {
  /** The DIFF area's diff of two rulesets on the source's host context (partial, maybe empty). */
  diff?: (before: Ruleset, after: Ruleset, context: Partial<HostContext>) => Omit<DiffState, 'before' | 'after' | 'cursor' | 'scroll'>;
  /** Show the source's other family (its result arrives through `loaded`). */
  switchFamily?: (family: Family) => void;
  /** Open another dump of a directory source (its result arrives through `loaded`). */
  selectEntry?: (path: string) => void;
  /**
   * Run slow work after the screen has painted what was dispatched so far (the TUI: setImmediate).
   * Without it, slow work runs at once.
   */
  defer?: (work: () => void) => void;
}

/** Above this many rules (both sides), the diff view says it is comparing before it starts. */
export const BIG_DIFF_RULES = 20_000;

/** Everything a key can ask for; the keymap (src/ui/keymap.ts) binds keys to these. */
export type UiCommand =
  | { id: 'quit' }
  | { id: 'help' }
  | { id: 'focus'; pane: PaneId }
  | { id: 'focusCycle'; delta: 1 | -1 }
  | { id: 'move'; delta: number }
  | { id: 'page'; delta: 1 | -1 }
  | { id: 'edge'; edge: 'first' | 'last' }
  | { id: 'enter' }
  | { id: 'back' }
  | { id: 'callers' }
  | { id: 'search' }
  | { id: 'command' }
  /** n / N: next search hit when a search is active, else the next / previous trace step. */
  | { id: 'next'; delta: 1 | -1 }
  | { id: 'step'; delta: 1 | -1 }
  | { id: 'stepEdge'; edge: 'first' | 'last' }
  | { id: 'branches' }
  | { id: 'run' }
  | { id: 'matchRule' }
  | { id: 'presets' }
  | { id: 'scenario' }
  | { id: 'resetCounters' }
  | { id: 'diagnostics' }
  | { id: 'changes' }
  | { id: 'hot' }
  | { id: 'sortRate' }
  | { id: 'verbose' }
  | { id: 'diff' }
  | { id: 'edit' }
  | { id: 'family' }
  | { id: 'entries' };

/** What the screen drives: commands from keys, typed input, traces, (re)loads. */
export interface Controller {
  exec(cmd: UiCommand): void;
  /** A printable character or editing key while the bottom line takes input. */
  inputKey(ch: string | undefined, name: string | undefined): void;
  /** Trace the packet form (or the given form) with the source's context. */
  runTrace(form?: PacketForm): void;
  /** A (re)load from a source effect: keeps the view, re-traces the kept packet. */
  loaded(payload: LoadPayload): void;
}

/** A controller over a store, with the engine (null: browsing only) and optional extras. */
export function createController(store: Store, engine: Engine | null, options: ControllerOptions = {}): Controller {
  const dispatch = (a: Action) => store.dispatch(a);
  const flash = (text: string, level: 'info' | 'error' = 'info') => dispatch({ type: 'flash', flash: { text, level } });

  function context(): HostContext | null {
    if (!engine) return null;
    return engine.resolveContext(store.getState().context).context;
  }

  function traceSpec(spec: PacketSpec): TraceResult | string {
    const s = store.getState();
    if (!engine) return 'the trace engine is not available in this build';
    if (!s.ruleset) return 'nothing loaded yet';
    const ctx = context()!;
    const problems = engine.validatePacket?.(spec, s.family, ctx) ?? [];
    if (problems.length > 0) return `packet: ${problems.join('; ')}`;
    try {
      return engine.trace(s.ruleset, ctx, spec);
    } catch (err) {
      return `trace failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  function runTrace(form?: PacketForm, extra?: { count?: boolean; keepStep?: number; keepOutcome?: number }): void {
    if (form) dispatch({ type: 'setForm', form });
    const f = store.getState().packet;
    const parsed = formToSpec(f);
    if ('errors' in parsed) {
      dispatch({ type: 'traceFailed', message: `packet: ${parsed.errors.join('; ')}` });
      return;
    }
    const result = traceSpec(parsed.spec);
    if (typeof result === 'string') dispatch({ type: 'traceFailed', message: result });
    else {
      dispatch({ type: 'traced', result, ...extra });
      // A re-trace after a reload leaves the focus and the view where the user is.
      if (extra?.keepStep !== undefined) return;
      const s = store.getState();
      const n = result.outcomes.length;
      if (s.focus !== 'trace') dispatch({ type: 'focus', pane: 'trace' });
      if (n > 1) flash(`${n} possible outcomes (statistic/unknown matches): b lists them, Enter follows one`);
    }
  }

  function tracePreset(index: number): void {
    const p = store.getState().presets[index];
    if (!p) return;
    dispatch({ type: 'closeOverlay' });
    runTrace(specToForm(p.packet));
    flash(`preset ${p.name}${p.description ? ': ' + p.description : ''}`);
  }

  function traceScenario(): void {
    const s = store.getState();
    if (s.presets.length === 0) return flash('this source has no scenario packets', 'error');
    const results: TraceResult[] = [];
    for (const p of s.presets) {
      const r = traceSpec(p.packet);
      if (typeof r === 'string') return flash(`${p.name}: ${r}`, 'error');
      results.push(r);
    }
    dispatch({ type: 'tracedAll', results });
  }

  function matchRule(): void {
    const s = store.getState();
    const rule = selectedRule(s);
    if (!rule || !s.ruleset) return flash('select a rule in the Rules pane first (2)', 'error');
    const chain = viewChain(s)!;
    const hook = entryHook(s.ruleset, chain, (t, c) => callersOf(s.ruleset!, t, c));
    const form = packetForRule(rule, s.packet, hook);
    runTrace(form);
  }

  function openDiff(): void {
    const s = store.getState();
    if (!s.previous || !s.ruleset) return flash('no earlier version to compare with: the diff view opens after a reload that changed rules', 'error');
    const before = s.previous;
    const after = s.ruleset;
    const compute = (): void => {
      // A reload may have come in between: compare what was asked for, show it only if still current.
      let extra: Omit<DiffState, 'before' | 'after' | 'cursor' | 'scroll'> = {};
      try {
        extra = options.diff ? options.diff(before.ruleset, after, store.getState().context) : {};
      } catch (err) {
        flash(`diff failed: ${err instanceof Error ? err.message : String(err)}; showing the rule changes only`, 'error');
      }
      if (store.getState().ruleset !== after) return flash('the rules changed while comparing: press d again');
      if (store.getState().flash?.text.startsWith('comparing')) dispatch({ type: 'flash', flash: null });
      dispatch({ type: 'openDiff', diff: { before, after: { label: s.source?.label ?? 'now', ruleset: after }, ...extra } });
    };
    let rules = 0;
    for (const rs of [before.ruleset, after]) for (const t of rs.tables.values()) for (const c of t.chains.values()) rules += c.rules.length;
    if (options.defer && options.diff && rules > BIG_DIFF_RULES) {
      // Big rulesets: the behavioural diff traces probe packets on both sides (seconds on a
      // 300k-rule dump): say so on screen first.
      flash(`comparing the two rulesets (${grouped(rules)} rules, structure and probe packets)…`);
      options.defer(compute);
      return;
    }
    compute();
  }

  function submit(): void {
    const s = store.getState();
    const input = s.input;
    if (!input) return;
    dispatch({ type: 'inputEnd' });
    switch (input.kind) {
      case 'search':
        dispatch({ type: 'search', query: input.text });
        return;
      case 'field':
        if (input.field) dispatch({ type: 'setField', field: input.field, value: input.text.trim() });
        return;
      case 'command': {
        const cmd = parseCommand(input.text, s.packet);
        if (typeof cmd === 'string') return flash(cmd, 'error');
        switch (cmd.kind) {
          case 'quit':
            return dispatch({ type: 'quit' });
          case 'chain':
            return dispatch({ type: 'showChain', table: cmd.table, chain: cmd.chain, push: true });
          case 'table':
            return dispatch({ type: 'showTable', table: cmd.table });
          case 'trace':
            return runTrace(cmd.form);
          case 'reset':
            return dispatch({ type: 'resetCounters' });
          case 'scenario':
            return traceScenario();
          case 'preset': {
            const byNum = /^\d+$/.test(cmd.which) ? Number(cmd.which) - 1 : -1;
            const i = byNum >= 0 ? byNum : s.presets.findIndex((p) => p.name === cmd.which);
            if (i < 0 || i >= s.presets.length) return flash(`no preset "${cmd.which}" (${s.presets.map((p) => p.name).join(', ') || 'none'})`, 'error');
            return tracePreset(i);
          }
          case 'overlay':
            return dispatch({ type: 'openOverlay', overlay: cmd.overlay });
          case 'sort':
            return dispatch({ type: 'sortByRate', on: cmd.byRate });
          case 'verbose':
            return dispatch({ type: 'toggleVerbose' });
          case 'diff':
            return openDiff();
          case 'family':
            if (!(s.source?.families ?? []).includes(cmd.family) || !options.switchFamily) return flash(`this source has no ${cmd.family} rules`, 'error');
            if (cmd.family === s.family) return;
            return options.switchFamily(cmd.family);
          case 'entries':
            return exec({ id: 'entries' });
        }
      }
    }
  }

  function exec(cmd: UiCommand): void {
    const s = store.getState();
    if (s.flash) dispatch({ type: 'flash', flash: null });
    switch (cmd.id) {
      case 'quit':
        return dispatch({ type: 'quit' });
      case 'help':
        return dispatch(s.overlay?.kind === 'help' ? { type: 'closeOverlay' } : { type: 'openOverlay', overlay: 'help' });
      case 'focus':
        return dispatch({ type: 'focus', pane: cmd.pane });
      case 'focusCycle':
        return dispatch({ type: 'focusCycle', delta: cmd.delta });
      case 'move':
        return dispatch({ type: 'move', delta: cmd.delta });
      case 'page':
        return dispatch({ type: 'page', delta: cmd.delta });
      case 'edge':
        return dispatch({ type: 'moveEdge', edge: cmd.edge });
      case 'enter':
        if (s.mode === 'diff' && s.diff && !s.overlay) {
          // Enter on a packet that behaves differently: both its traces, before and after.
          const line = s.diff.lines?.[s.diff.cursor];
          if (line?.probe === undefined || !s.diff.probes?.[line.probe]) return flash('Enter on a "!" line (a packet that behaves differently) shows its traces');
          return dispatch({ type: 'openProbe', index: line.probe });
        }
        if (s.overlay?.kind === 'probe' && s.diff?.probe !== undefined) {
          // Enter again: the trace on the new rules, in the panes, to step through.
          const probe = s.diff.probes?.[s.diff.probe];
          if (!probe) return;
          dispatch({ type: 'closeDiff' });
          dispatch({ type: 'setForm', form: specToForm(probe.newTrace.packet) });
          dispatch({ type: 'traced', result: probe.newTrace, count: false });
          dispatch({ type: 'focus', pane: 'trace' });
          const old = probe.oldTrace.outcomes.map((o) => `${o.verdict} ${o.disposition.text}`).join(' | ');
          return flash(`${probe.label} — before: ${old || 'no outcome'}`);
        }
        if (s.overlay?.kind === 'entries') {
          const item = overlayItems(s, 'entries')[s.overlay.cursor];
          dispatch({ type: 'closeOverlay' });
          if (item?.kind === 'entry' && !item.current) {
            dispatch({ type: 'loading', message: `opening ${item.name}…` });
            options.selectEntry?.(item.path);
          }
          return;
        }
        if (s.overlay?.kind === 'presets') {
          const item = overlayItems(s, 'presets')[s.overlay.cursor];
          if (item?.kind === 'preset') tracePreset(item.index);
          return;
        }
        if (!s.overlay && s.focus === 'packet' && s.packetCursor === PACKET_FIELDS.length) return runTrace();
        return dispatch({ type: 'activate' });
      case 'back':
        return dispatch({ type: 'back' });
      case 'callers': {
        if (!s.ruleset || !s.view) return;
        const n = callersOf(s.ruleset, s.view.table, s.view.chain).length;
        if (n === 0) return flash(`nothing jumps to ${s.view.table} ${s.view.chain}${viewChain(s)?.builtin ? ' (a builtin chain: the kernel enters it at its hook)' : ''}`);
        return dispatch({ type: 'openOverlay', overlay: 'callers' });
      }
      case 'search':
        return dispatch({ type: 'inputStart', kind: 'search', text: '' });
      case 'command':
        return dispatch({ type: 'inputStart', kind: 'command', text: '' });
      case 'next':
        if (s.search && s.search.hits.length > 0) return dispatch({ type: 'searchNext', delta: cmd.delta });
        return dispatch({ type: 'step', delta: cmd.delta });
      case 'step':
        return dispatch({ type: 'step', delta: cmd.delta });
      case 'stepEdge':
        return dispatch({ type: 'stepEdge', edge: cmd.edge });
      case 'branches':
        if (!s.trace) return flash('no trace yet: press t to trace the packet form, or p for presets');
        return dispatch({ type: 'openOverlay', overlay: 'branches' });
      case 'run':
        return runTrace();
      case 'matchRule':
        return matchRule();
      case 'presets':
        if (s.presets.length === 0) return flash('this source has no scenario packets; fill the Packet pane (3) or use :trace', 'error');
        return dispatch({ type: 'openOverlay', overlay: 'presets' });
      case 'scenario':
        return traceScenario();
      case 'resetCounters':
        return dispatch({ type: 'resetCounters' });
      case 'diagnostics':
        return dispatch({ type: 'openOverlay', overlay: 'diagnostics' });
      case 'changes':
        if (s.changes.length === 0) return flash('no changes since the source was loaded');
        return dispatch({ type: 'openOverlay', overlay: 'changes' });
      case 'hot':
        if (!s.rates) return flash('no live counters: rates need a live source (iptscope live)');
        return dispatch({ type: 'openOverlay', overlay: 'hot' });
      case 'sortRate':
        if (!s.rates) return flash('no live counters to sort by: rates need a live source (iptscope live)');
        return dispatch({ type: 'sortByRate', on: !s.sortByRate });
      case 'verbose':
        return dispatch({ type: 'toggleVerbose' });
      case 'diff':
        if (s.mode === 'diff') return dispatch({ type: 'closeDiff' });
        return openDiff();
      case 'family': {
        const fams = s.source?.families ?? [];
        const other = fams.find((f) => f !== s.family);
        if (!other || !options.switchFamily) return flash(`this source has only ${s.family} rules`);
        return options.switchFamily(other);
      }
      case 'entries':
        if (!s.source?.entries || s.source.entries.length === 0) return flash('not a directory source: open a directory of dumps to switch between them');
        return dispatch({ type: 'openOverlay', overlay: 'entries' });
      case 'edit': {
        if (s.focus !== 'packet') dispatch({ type: 'focus', pane: 'packet' });
        return dispatch({ type: 'activate' });
      }
    }
  }

  function inputKey(ch: string | undefined, name: string | undefined): void {
    const s = store.getState();
    const input = s.input;
    if (!input) return;
    if (name === 'escape') return dispatch({ type: 'inputEnd' });
    if (name === 'enter' || name === 'linefeed') return submit();
    if (name === 'backspace') return dispatch({ type: 'inputChange', text: input.text.slice(0, -1) });
    if (name === 'C-u') return dispatch({ type: 'inputChange', text: '' });
    // Printable text only: control characters never reach the state (pastes included).
    if (ch && !/[\u0000-\u001f\u007f-\u009f]/.test(ch)) dispatch({ type: 'inputChange', text: input.text + ch });
  }

  function loaded(payload: LoadPayload): void {
    const before = store.getState();
    const hadTrace = before.trace;
    const step = currentStep(before)?.index;
    dispatch({ type: 'loaded', payload });
    if (hadTrace) runTrace(undefined, { count: false, keepStep: step, keepOutcome: hadTrace.outcome });
  }

  return { exec, inputKey, runTrace: (f) => runTrace(f), loaded };
}

/** Diagnostics sorted for display: errors first, then by line. */
export function sortedDiagnostics(d: Diagnostic[]): Diagnostic[] {
  const rank = { error: 0, warning: 1, info: 2 } as const;
  return d.slice().sort((a, b) => rank[a.severity] - rank[b.severity] || a.line - b.line);
}
