/**
 * The keymap: every key the explorer understands, in one place. The screen looks keys up here,
 * and the help overlay is generated from this list, so they cannot disagree.
 * (k9s / lazygit conventions: Tab and 1–5 switch panes, j/k, g/G, / search, : command, ? help.)
 */
import type { UiCommand } from '../app/controller.js';

/** One binding: keys, the command they run, and its help text. */
export interface KeyBinding {
  /** Key names as blessed reports them (`key.full`), or the typed character. */
  keys: readonly string[];
  /** How the help shows the keys. */
  label: string;
  command: UiCommand;
  help: string;
  group: 'Move' | 'Chains and rules' | 'Packet and trace' | 'Counters and source' | 'General';
}

/** All bindings, grouped as the help shows them. */
export const KEYMAP: readonly KeyBinding[] = [
  { keys: ['tab'], label: 'Tab', command: { id: 'focusCycle', delta: 1 }, help: 'next pane', group: 'Move' },
  { keys: ['S-tab'], label: 'S-Tab', command: { id: 'focusCycle', delta: -1 }, help: 'previous pane', group: 'Move' },
  { keys: ['1'], label: '1', command: { id: 'focus', pane: 'chains' }, help: 'Chains pane', group: 'Move' },
  { keys: ['2'], label: '2', command: { id: 'focus', pane: 'rules' }, help: 'Rules pane', group: 'Move' },
  { keys: ['3'], label: '3', command: { id: 'focus', pane: 'packet' }, help: 'Packet pane', group: 'Move' },
  { keys: ['4'], label: '4', command: { id: 'focus', pane: 'trace' }, help: 'Trace pane', group: 'Move' },
  { keys: ['5'], label: '5', command: { id: 'focus', pane: 'map' }, help: 'Map pane', group: 'Move' },
  { keys: ['up', 'k'], label: '↑ k', command: { id: 'move', delta: -1 }, help: 'up (in Trace: previous step)', group: 'Move' },
  { keys: ['down', 'j'], label: '↓ j', command: { id: 'move', delta: 1 }, help: 'down (in Trace: next step)', group: 'Move' },
  { keys: ['pageup', 'C-b'], label: 'PgUp C-b', command: { id: 'page', delta: -1 }, help: 'page up', group: 'Move' },
  { keys: ['pagedown', 'C-f', 'space'], label: 'PgDn C-f', command: { id: 'page', delta: 1 }, help: 'page down', group: 'Move' },
  { keys: ['g', 'home'], label: 'g Home', command: { id: 'edge', edge: 'first' }, help: 'first row', group: 'Move' },
  { keys: ['G', 'S-g', 'end'], label: 'G End', command: { id: 'edge', edge: 'last' }, help: 'last row', group: 'Move' },
  { keys: ['enter', 'linefeed'], label: 'Enter', command: { id: 'enter' }, help: 'follow the jump / open / edit field / pick', group: 'Chains and rules' },
  { keys: ['backspace', 'escape'], label: '⌫ Esc', command: { id: 'back' }, help: 'back along the breadcrumb; close a list; clear search', group: 'Chains and rules' },
  { keys: ['c'], label: 'c', command: { id: 'callers' }, help: 'callers: who jumps to this chain', group: 'Chains and rules' },
  { keys: ['/'], label: '/', command: { id: 'search' }, help: 'search chain names and rule text', group: 'Chains and rules' },
  { keys: ['n'], label: 'n', command: { id: 'next', delta: 1 }, help: 'next search hit (else next trace step)', group: 'Chains and rules' },
  { keys: ['N', 'S-n'], label: 'N', command: { id: 'next', delta: -1 }, help: 'previous search hit (else previous step)', group: 'Chains and rules' },
  { keys: ['t'], label: 't', command: { id: 'run' }, help: 'trace the packet in the Packet pane', group: 'Packet and trace' },
  { keys: ['e'], label: 'e', command: { id: 'edit' }, help: 'edit the selected packet field', group: 'Packet and trace' },
  { keys: ['m'], label: 'm', command: { id: 'matchRule' }, help: 'a packet that matches the selected rule, traced', group: 'Packet and trace' },
  { keys: ['P', 'S-p'], label: 'P', command: { id: 'presets' }, help: 'scenario packet presets', group: 'Packet and trace' },
  { keys: ['right', 'l'], label: '→ l', command: { id: 'step', delta: 1 }, help: 'next trace step', group: 'Packet and trace' },
  { keys: ['left', 'h', 'p'], label: '← h p', command: { id: 'step', delta: -1 }, help: 'previous trace step', group: 'Packet and trace' },
  { keys: ['<', 'S-,'], label: '<', command: { id: 'stepEdge', edge: 'first' }, help: 'first trace step', group: 'Packet and trace' },
  { keys: ['>', 'S-.'], label: '>', command: { id: 'stepEdge', edge: 'last' }, help: 'last trace step (the verdict)', group: 'Packet and trace' },
  { keys: ['b'], label: 'b', command: { id: 'branches' }, help: 'branches: outcomes with probability / assumption; pick one', group: 'Packet and trace' },
  { keys: ['v'], label: 'v', command: { id: 'verbose' }, help: 'show every evaluated rule (unfold)', group: 'Packet and trace' },
  { keys: ['S', 'S-s'], label: 'S', command: { id: 'scenario' }, help: 'trace all scenario packets into the simulated counters', group: 'Counters and source' },
  { keys: ['z'], label: 'z', command: { id: 'resetCounters' }, help: 'reset the simulated counters', group: 'Counters and source' },
  { keys: ['D', 'S-d'], label: 'D', command: { id: 'diagnostics' }, help: 'diagnostics with line numbers and code frames', group: 'Counters and source' },
  { keys: ['C', 'S-c'], label: 'C', command: { id: 'changes' }, help: 'rules changed by the last reload', group: 'Counters and source' },
  { keys: ['d'], label: 'd', command: { id: 'diff' }, help: 'diff with the ruleset before the last reload', group: 'Counters and source' },
  { keys: ['H', 'S-h'], label: 'H', command: { id: 'hot' }, help: 'hottest rules (live rates, sparklines)', group: 'Counters and source' },
  { keys: ['f'], label: 'f', command: { id: 'family' }, help: 'switch IPv4 / IPv6 (live host, bundle)', group: 'Counters and source' },
  { keys: ['O', 'S-o'], label: 'O', command: { id: 'entries' }, help: 'dumps of a directory source: open another', group: 'Counters and source' },
  { keys: ['o'], label: 'o', command: { id: 'sortRate' }, help: 'sort the Rules pane by live rate / by position', group: 'Counters and source' },
  { keys: [':'], label: ':', command: { id: 'command' }, help: 'command line (:chain NAME, :trace …, :q; :help lists all)', group: 'General' },
  { keys: ['?'], label: '?', command: { id: 'help' }, help: 'this help', group: 'General' },
  { keys: ['q', 'C-c'], label: 'q', command: { id: 'quit' }, help: 'quit (restores the terminal)', group: 'General' },
];

const byKey = new Map<string, UiCommand>();
for (const b of KEYMAP) for (const k of b.keys) if (!byKey.has(k)) byKey.set(k, b.command);

/** The command bound to a key press: `full` is blessed's key.full, `ch` the typed character. */
export function lookupKey(full: string | undefined, ch: string | undefined): UiCommand | undefined {
  return (full !== undefined ? byKey.get(full) : undefined) ?? (ch !== undefined ? byKey.get(ch) : undefined);
}

/** Short key hints per focused pane for the bottom line. */
export function keyHints(focus: string, hasTrace: boolean): string {
  const common = '?help /search :cmd Tab/1-5 pane q quit';
  switch (focus) {
    case 'chains':
      return `Enter open  j/k move  c callers  ${common}`;
    case 'rules':
      return `Enter follow  ⌫ back  c callers  m packet for rule  ${hasTrace ? 'n/p step  ' : ''}${common}`;
    case 'packet':
      return `Enter edit  t trace  P presets  m from rule  ${common}`;
    case 'trace':
      return `n/p →/← step  b branch  v unfold  S scenario  z reset  ${common}`;
    default:
      return `n/p step  b branch  t trace  ${common}`;
  }
}
