/**
 * The screen's grid, in one place: where each pane sits for a terminal size (and, on small
 * terminals, for the focused pane). Pure arithmetic, so it is tested at 80×24 and 140×40.
 *
 * Wide (≥ 120×34), as in shared/TUI-SKETCH.md:
 *   title
 *   Chains │ Rules
 *          │ Packet │ Trace
 *   Map           │ State
 *   footer
 * Small (80×24 and up): Chains │ Rules on top; below, the focused one of Packet / Trace / Map
 * beside the State box (Packet shows next to Trace, Map takes the whole width).
 */
import type { PaneId, Viewport } from '../app/state.js';

/** A rectangle in terminal cells. */
export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The screen's regions: the five panes, the State box, bars, overlay, the body (diff view). */
export type Region = PaneId | 'state' | 'title' | 'footer' | 'overlay' | 'body';

/** Where each region sits (null: not shown at this size / focus). */
export type Layout = Record<Region, Rect | null> & { wide: boolean };

/** Layout for a terminal of `width` × `height` with `focus` focused. */
export function computeLayout(width: number, height: number, focus: PaneId): Layout {
  const w = Math.max(40, width);
  const h = Math.max(12, height);
  const bodyTop = 1;
  const bodyH = h - 2;
  const title: Rect = { left: 0, top: 0, width: w, height: 1 };
  const footer: Rect = { left: 0, top: h - 1, width: w, height: 1 };
  const overlay: Rect = { left: 2, top: 1, width: w - 4, height: h - 2 };
  const body: Rect = { left: 0, top: bodyTop, width: w, height: bodyH };
  if (w >= 120 && h >= 34) {
    const bottomH = 9;
    const upper = bodyH - bottomH;
    const topH = Math.ceil(upper * 0.5);
    const midH = upper - topH;
    const cw = Math.max(30, Math.min(44, Math.floor(w * 0.26)));
    const pw = 34;
    const mw = Math.min(66, Math.floor(w * 0.48));
    return {
      wide: true,
      title,
      footer,
      overlay,
      body,
      chains: { left: 0, top: bodyTop, width: cw, height: upper },
      rules: { left: cw, top: bodyTop, width: w - cw, height: topH },
      packet: { left: cw, top: bodyTop + topH, width: pw, height: midH },
      trace: { left: cw + pw, top: bodyTop + topH, width: w - cw - pw, height: midH },
      map: { left: 0, top: bodyTop + upper, width: mw, height: bottomH },
      state: { left: mw, top: bodyTop + upper, width: w - mw, height: bottomH },
    };
  }
  const topH = Math.ceil(bodyH * 0.5);
  const lowH = bodyH - topH;
  const lowTop = bodyTop + topH;
  const cw = Math.max(22, Math.min(34, Math.floor(w * 0.3)));
  const base = {
    wide: false,
    title,
    footer,
    overlay,
    body,
    chains: { left: 0, top: bodyTop, width: cw, height: topH },
    rules: { left: cw, top: bodyTop, width: w - cw, height: topH },
  };
  if (focus === 'map') {
    return { ...base, map: { left: 0, top: lowTop, width: w, height: lowH }, packet: null, trace: null, state: null };
  }
  if (focus === 'packet') {
    const pw = Math.min(34, Math.floor(w * 0.42));
    return { ...base, packet: { left: 0, top: lowTop, width: pw, height: lowH }, trace: { left: pw, top: lowTop, width: w - pw, height: lowH }, map: null, state: null };
  }
  const tw = Math.floor(w * 0.58);
  return { ...base, trace: { left: 0, top: lowTop, width: tw, height: lowH }, state: { left: tw, top: lowTop, width: w - tw, height: lowH }, packet: null, map: null };
}

/** Rows each scrolling pane shows inside its border (the Rules pane also has a header row). */
export function viewportOf(layout: Layout, helpRows: number): Viewport {
  const inner = (r: Rect | null, extra = 0) => (r ? Math.max(1, r.height - 2 - extra) : 1);
  return {
    chains: inner(layout.chains),
    rules: inner(layout.rules, 1),
    trace: inner(layout.trace),
    overlay: inner(layout.overlay, 1),
    helpRows,
  };
}
