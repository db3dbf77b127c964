/**
 * The blessed screen: creates the widgets, places them by the layout (./layout.ts), renders each
 * from the state with the views (./views), and turns keys and mouse events into controller
 * commands through the keymap (./keymap.ts). The only file that talks to blessed.
 */
import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import blessed from 'blessed';
import type { Controller } from '../app/controller.js';
import type { AppState, PaneId } from '../app/state.js';
import { CHANGE_HIGHLIGHT_MS, PANES } from '../app/state.js';
import type { Store } from '../app/store.js';
import { lookupKey } from './keymap.js';
import type { Layout, Rect } from './layout.js';
import { computeLayout, viewportOf } from './layout.js';
import { renderFooter, renderTitle } from './views/bars.js';
import { renderChains } from './views/chains.js';
import { renderMap } from './views/map.js';
import { helpLines, renderDiff, renderOverlay } from './views/overlays.js';
import { renderRules } from './views/rules.js';
import { renderPacket, renderState, renderTrace } from './views/trace.js';
import { overlayItems, parseKey } from '../app/overlays.js';
import { escapeTags, stripControls, textWidth, truncate, untag } from './text.js';
import { humanRate } from '../app/human.js';

/** Streams and terminal for the screen (defaults: the process's stdin/stdout). */
export interface ScreenOptions {
  input?: Readable;
  output?: Writable;
  /** Terminal type for blessed (tests: `xterm-256color`). */
  terminal?: string;
  /** Clock for change highlights (tests). */
  now?: () => number;
}

/** A running explorer screen. */
export interface ExplorerScreen {
  screen: blessed.Widgets.Screen;
  /** Render now (synchronously). */
  render(): void;
  /** Feed a key as if typed (bench, tests): `ch` the character, `full` blessed's key name. */
  key(ch: string | undefined, full: string): void;
  /** Why the screen closed on its own (a bug while drawing), after `done`; undefined when the user quit. */
  readonly error: unknown;
  /** Resolves when the user quits; the terminal is restored by then. */
  done: Promise<void>;
  destroy(): void;
}

type Box = blessed.Widgets.BoxElement;

const BOX_STYLE = { border: { fg: 'gray' }, label: { fg: 'white' } };

function makeBox(screen: blessed.Widgets.Screen, extra: blessed.Widgets.BoxOptions = {}): Box {
  return blessed.box({
    parent: screen,
    tags: true,
    border: { type: 'line' },
    style: structuredClone(BOX_STYLE),
    wrap: false,
    hidden: true,
    ...extra,
  });
}

/** Start the explorer on a blessed screen bound to the store and controller. */
export function startScreen(store: Store, controller: Controller, opts: ScreenOptions = {}): ExplorerScreen {
  const now = opts.now ?? Date.now;
  const screen = blessed.screen({
    smartCSR: true,
    fullUnicode: true,
    // Box drawing and arrows as Unicode: every terminal people SSH from is UTF-8 now, and blessed's
    // locale sniffing (LANG unset under tmux, sudo, cron) would fall back to broken ACS letters.
    forceUnicode: true,
    // (@types/blessed has input/output swapped; blessed reads keys from input, writes to output.)
    input: opts.input as never,
    output: opts.output as never,
    terminal: opts.terminal,
    title: 'iptscope',
    warnings: false,
    autoPadding: false,
    dockBorders: false,
  });

  // With Unicode forced, draw box characters as Unicode too: blessed's ACS path prints letters
  // (q, x, m) under TERM=screen / tmux, whose terminfo lacks the charset setup blessed expects.
  (screen as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;

  const title = blessed.box({ parent: screen, tags: true, height: 1, top: 0, left: 0, wrap: false });
  const footer = blessed.box({ parent: screen, tags: true, height: 1, left: 0, wrap: false });
  const panes: Record<PaneId | 'state', Box> = {
    chains: makeBox(screen),
    rules: makeBox(screen),
    packet: makeBox(screen),
    trace: makeBox(screen),
    map: makeBox(screen),
    state: makeBox(screen),
  };
  const diffBox = makeBox(screen);
  const overlay = makeBox(screen, { style: { border: { fg: 'yellow' }, label: { fg: 'yellow' }, bg: 'black' } });
  let sparkBox: Box | null = null;

  let layout: Layout | null = null;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  let destroyed = false;

  function place(box: Box, r: Rect | null): void {
    if (!r) {
      box.hide();
      return;
    }
    box.left = r.left;
    box.top = r.top;
    box.width = r.width;
    box.height = r.height;
    box.show();
  }

  const painted = new WeakMap<Box, { label: string; content: string }>();

  function paint(box: Box, r: Rect | null, fn: (w: number, h: number) => { label: string; lines: string[] }, focused: boolean): void {
    place(box, r);
    if (!r) return;
    const c = fn(Math.max(1, r.width - 2), Math.max(1, r.height - 2));
    // A label wider than the box would wrap into the content: cut it (plain text then).
    const plain = untag(c.label);
    const label = textWidth(plain) > r.width - 4 ? escapeTags(truncate(plain, Math.max(1, r.width - 4))) : c.label;
    const content = c.lines.join('\n');
    // Unchanged panes keep their parsed content: blessed re-parses tags on every setContent.
    const last = painted.get(box);
    if (!last || last.label !== label) box.setLabel(label);
    if (!last || last.content !== content) box.setContent(content);
    painted.set(box, { label, content });
    box.style.border.fg = focused ? 'cyan' : 'gray';
  }

  function sparklines(state: AppState, r: Rect): void {
    if (!sparkBox) {
      // blessed-contrib's sparkline widget (loaded on first use: contrib's index pulls in every widget).
      const require = createRequire(import.meta.url);
      const Sparkline = require('blessed-contrib/lib/widget/sparkline.js') as (o: object) => Box & { setData(t: string[], d: number[][]): void };
      sparkBox = Sparkline({ parent: screen, tags: true, border: { type: 'line' }, style: { fg: 'green', titleFg: 'white', border: { fg: 'yellow' } }, label: ' Hottest rules · packets/s · Enter goes there · Esc closes ' });
    }
    const sb = sparkBox as Box & { setData(t: string[], d: number[][]): void };
    place(sb, r);
    const items = overlayItems(state, 'hot');
    const o = state.overlay!;
    const titles = items.map((it, i) => {
      if (it.kind !== 'hot') return '';
      const k = parseKey(it.key);
      const name = escapeTags(stripControls(`${k.table} ${k.chain} #${k.rule}`));
      return `${i === o.cursor ? '▶ ' : '  '}${humanRate(it.pps) || '0/s'}  ${name}`;
    });
    const data = items.map((it) => (it.kind === 'hot' ? it.history : []));
    if (items.length === 0) sb.setContent('\n  no traffic yet: rates appear after the second counter read');
    else sb.setData(titles, data);
    sb.setFront();
  }

  let failure: unknown;
  /** Draw; a bug while drawing closes the screen (terminal restored) instead of spinning. */
  function render(): void {
    try {
      draw();
    } catch (err) {
      failure = err;
      destroy();
    }
  }

  function draw(): void {
    if (destroyed) return;
    const state = store.getState();
    const w = (screen.width as number) || 80;
    const h = (screen.height as number) || 24;
    layout = computeLayout(w, h, state.focus);
    const vp = viewportOf(layout, helpLines(Math.max(10, (layout.overlay?.width ?? w) - 2)).length);
    const cur = state.viewport;
    if (vp.chains !== cur.chains || vp.rules !== cur.rules || vp.trace !== cur.trace || vp.overlay !== cur.overlay || vp.helpRows !== cur.helpRows) {
      store.dispatch({ type: 'resize', viewport: vp });
      return; // the store's listener renders again with the new viewport
    }
    const t = now();
    title.width = w;
    title.setContent(renderTitle(state, w, t));
    footer.top = h - 1;
    footer.width = w;
    footer.setContent(renderFooter(state, w));
    const diff = state.mode === 'diff' && state.diff !== null;
    if (diff) {
      for (const p of Object.values(panes)) p.hide();
      paint(diffBox, layout.body, (iw, ih) => renderDiff(state, iw, ih), true);
    } else {
      diffBox.hide();
      paint(panes.chains, layout.chains, (iw, ih) => renderChains(state, iw, ih, t), state.focus === 'chains');
      paint(panes.rules, layout.rules, (iw, ih) => renderRules(state, iw, ih, t), state.focus === 'rules');
      paint(panes.packet, layout.packet, (iw, ih) => renderPacket(state, iw, ih), state.focus === 'packet');
      paint(panes.trace, layout.trace, (iw, ih) => renderTrace(state, iw, ih), state.focus === 'trace');
      paint(panes.map, layout.map, (iw, ih) => renderMap(state, iw, ih), state.focus === 'map');
      paint(panes.state, layout.state, (iw, ih) => renderState(state, iw, ih), false);
    }
    if (state.overlay?.kind === 'hot') {
      overlay.hide();
      sparklines(state, layout.overlay!);
    } else {
      sparkBox?.hide();
      if (state.overlay) {
        paint(overlay, layout.overlay, (iw, ih) => renderOverlay(state, iw, ih - 0), true);
        overlay.setFront();
      } else overlay.hide();
    }
    screen.render();
  }

  // Coalesce bursts of actions (a command dispatching several) into one paint.
  let scheduled = false;
  function schedule(): void {
    if (scheduled || destroyed) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      render();
    });
  }

  let highlightTimer: NodeJS.Timeout | undefined;
  const unsubscribe = store.subscribe((state, action) => {
    if (state.quit) {
      destroy();
      return;
    }
    if (action.type === 'loaded' && state.changedAt !== null) {
      clearTimeout(highlightTimer);
      highlightTimer = setTimeout(schedule, CHANGE_HIGHLIGHT_MS + 50);
      highlightTimer.unref?.();
    }
    schedule();
  });

  function key(ch: string | undefined, full: string): void {
    const state = store.getState();
    // C-c quits from anywhere, typing included.
    if (state.input && full !== 'C-c') {
      controller.inputKey(ch, full);
      return;
    }
    const cmd = lookupKey(full, ch);
    if (cmd) controller.exec(cmd);
  }

  screen.on('keypress', (ch: string | undefined, k: { full?: string; name?: string } | undefined) => {
    const full = k?.full ?? k?.name ?? ch ?? '';
    // blessed emits \r as both `enter` and `return`: act on `enter` only.
    if (full === 'return') return;
    try {
      key(ch, full);
    } catch (err) {
      // A bug must not kill the session (nor leave the terminal raw): say it and carry on.
      store.dispatch({ type: 'flash', flash: { text: `internal error: ${err instanceof Error ? err.message : String(err)}`, level: 'error' } });
    }
  });
  screen.on('resize', () => render());

  // Mouse: a click focuses a pane and selects the row under the pointer; the wheel scrolls.
  const clickable: [PaneId, Box, number][] = [
    ['chains', panes.chains, 0],
    ['rules', panes.rules, 1],
    ['packet', panes.packet, 0],
    ['trace', panes.trace, 0],
    ['map', panes.map, 0],
  ];
  for (const [pane, box, header] of clickable) {
    box.on('click', (data: { y: number }) => {
      const row = data.y - (box.atop as number) - 1 - header;
      if (row < 0) store.dispatch({ type: 'focus', pane });
      else store.dispatch({ type: 'clickRow', pane, row });
    });
    box.on('wheeldown', () => store.dispatch({ type: 'scroll', pane, delta: 3 }));
    box.on('wheelup', () => store.dispatch({ type: 'scroll', pane, delta: -3 }));
  }
  overlay.on('wheeldown', () => store.dispatch({ type: 'move', delta: 3 }));
  overlay.on('wheelup', () => store.dispatch({ type: 'move', delta: -3 }));
  overlay.on('click', (data: { y: number }) => {
    const s = store.getState();
    if (s.overlay && s.overlay.kind !== 'help') {
      const row = data.y - (overlay.atop as number) - 1;
      if (row >= 0) store.dispatch({ type: 'move', delta: row - (s.overlay.cursor - Math.min(s.overlay.scroll, s.overlay.cursor)) });
    }
  });

  function destroy(): void {
    if (destroyed) return;
    destroyed = true;
    clearTimeout(highlightTimer);
    unsubscribe();
    screen.destroy();
    resolveDone();
  }

  render();
  return {
    screen,
    render,
    key,
    done,
    destroy,
    get error() {
      return failure;
    },
  };
}

export { PANES };
