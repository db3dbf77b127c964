/**
 * The Packet form, the Trace (grouped by hook, runs of non-matching rules folded, the cursor on
 * the current step) and the State box (hook, table, chain, mark in hex, ct state, original →
 * translated addresses and ports, why the rule matched or which condition failed).
 */
import { hex } from '../../app/human.js';
import { PACKET_FIELDS } from '../../app/packet-form.js';
import { annotationOf, currentOutcome, currentStep, traceRows } from '../../app/selectors.js';
import type { AppState } from '../../app/state.js';
import type { Outcome, PacketState, Step } from '../../core/netfilter/types.js';
import type { TableName } from '../../core/model.js';
import type { TraceRow } from '../../app/selectors.js';
import { cell, fg, fit, segments } from '../text.js';
import type { PaneContent } from './chains.js';
import type { Segment } from './rule-text.js';

/** The Packet pane: the form's fields, the trace button, hints or the last error. */
export function renderPacket(state: AppState, width: number, _height: number): PaneContent {
  const lines: string[] = [];
  const focused = state.focus === 'packet';
  PACKET_FIELDS.forEach((f, i) => {
    const editing = state.input?.kind === 'field' && state.input.field === f.key;
    const value = editing ? state.input!.text + '▏' : state.packet[f.key];
    const shown = f.key === 'iif' && value === 'local' ? 'local (sent by this host)' : value;
    let line = segments([[' ' + fit(f.label, 6), 'gray'], [shown || '·', editing ? 'yellow,bold' : 'white']], width);
    if (focused && i === state.packetCursor) line = `{inverse}${line}{/inverse}`;
    lines.push(line);
  });
  let run = segments([[' ▶ trace this packet (t)', 'green,bold']], width);
  if (focused && state.packetCursor === PACKET_FIELDS.length) run = `{inverse}${run}{/inverse}`;
  lines.push(run);
  const hints: Segment[] = [[' P', 'yellow'], [' presets  '], ['m', 'yellow'], [' match rule', '']];
  lines.push(segments(hints, width));
  if (state.traceError) lines.push(fg('red', cell(' ' + state.traceError, width)));
  else if (focused && state.packetCursor < PACKET_FIELDS.length) lines.push(fg('gray', cell(' ' + PACKET_FIELDS[state.packetCursor].hint, width)));
  return { label: ` 3 Packet ${focused ? '● ' : ''}`, lines };
}

const TABLE_W = 7;

/** kube-proxy's hashed chain names shortened (`KUBE-SVC-LOLE4…`): the service name says the rest. */
export function shortChain(name: string): string {
  return /^KUBE-(SVC|SVL|SEP|EXT|FW|XLB)-/.test(name) && name.length > 16 ? name.slice(0, 14) + '…' : name;
}

function stepSegments(s: Step, prevTable: string | null, ann: (chain: string) => string | undefined): Segment[] {
  const tableCol: Segment = [fit(s.table && s.table !== prevTable ? s.table : '', TABLE_W), 'yellow'];
  switch (s.kind) {
    case 'rule': {
      const head: Segment[] = [[' '], tableCol, [`${shortChain(s.chain ?? '')} #${s.rule} `, 'white']];
      if (s.matched === true) {
        head.push(['✓ ', 'green,bold']);
        // The engine's change text often repeats the target (`jump X`, `DNAT a → b`): say it once.
        const changes = s.changes.filter((c) => !/^(jump|goto) /.test(c));
        const saysTarget = s.target !== undefined && changes.some((c) => c.startsWith(s.target!));
        if (s.target && !saysTarget) {
          head.push([`→ ${shortChain(s.target)} `, 'blue,bold']);
          const svc = ann(s.target);
          if (svc) head.push([`(${svc}) `, 'gray']);
        }
        if (changes.length > 0) head.push([changes.join(', ') + ' ', 'magenta']);
        else if (s.reasons.length > 0) head.push([s.reasons.join(' '), 'gray']);
      } else if (s.matched === 'unknown') {
        head.push(['? ', 'yellow,bold'], [s.failed ?? 'unknown match', 'yellow']);
      } else {
        head.push(['✗ ', 'red'], [s.failed ?? 'no match', 'gray']);
      }
      return head;
    }
    case 'policy':
      return [[' '], tableCol, [`${s.chain} `, 'white'], ['policy ', 'gray'], [s.policy ?? '', s.policy === 'DROP' ? 'red,bold' : 'green,bold']];
    case 'return':
      return [[' '], tableCol, [`↩ end of ${s.chain}: return`, 'gray']];
    case 'route':
      return [[' '], ['route  ', 'cyan,bold'], [s.note ?? '', 'cyan']];
    case 'conntrack':
      return [[' '], ['ct     ', 'cyan'], [s.note ?? '', 'cyan']];
    case 'note':
      return [[' '], ['note   ', 'gray'], [s.note ?? '', 'gray']];
  }
}

/** The Trace pane's visible rows, the cursor on the current step. */
/** One trace row as segments; returns the table now shown in the table column. */
function rowSegments(
  outcome: Outcome,
  r: TraceRow,
  prevTable: string | null,
  ann: (table: string | null) => (chain: string) => string | undefined,
): { segs: Segment[]; table: string | null } {
  switch (r.kind) {
    case 'hook':
      return { segs: [[r.hook, 'white,bold,underline']], table: null };
    case 'step': {
      const st = outcome.steps[r.step];
      return { segs: stepSegments(st, prevTable, ann(st.table)), table: st.table ?? prevTable };
    }
    case 'fold': {
      const a = outcome.steps[r.from];
      const b = outcome.steps[r.to];
      const segs: Segment[] = [[' '], [fit(a.table && a.table !== prevTable ? a.table : '', TABLE_W), 'yellow'], [`${shortChain(a.chain ?? '')} #${a.rule}–#${b.rule} `, 'white'], [`✗ ${r.to - r.from + 1} rules did not match`, 'gray']];
      return { segs, table: a.table ?? prevTable };
    }
    case 'verdict': {
      const bad = outcome.verdict !== 'ACCEPT';
      return { segs: [['= ', 'white,bold'], [outcome.verdict, bad ? 'red,bold' : 'green,bold'], [': ' + r.text, bad ? 'red' : 'green']], table: prevTable };
    }
  }
}

/** A whole outcome as lines (read-only: the probe overlay of the diff view). */
export function outcomeLines(state: AppState, outcome: Outcome, width: number): string[] {
  const ann = (table: string | null) => (chain: string) => (state.ruleset && table ? annotationOf(state.ruleset, table as TableName, chain) : undefined);
  let prev: string | null = null;
  return traceRows(outcome, false).map((r) => {
    const { segs, table } = rowSegments(outcome, r, prev, ann);
    prev = table;
    return segments([[' '], ...segs], width);
  });
}

export function renderTrace(state: AppState, width: number, height: number): PaneContent {
  const t = state.trace;
  const outcome = currentOutcome(state);
  const focusMark = state.focus === 'trace' ? '● ' : '';
  if (!t || !outcome) {
    const lines = [
      fg('gray', cell(' No trace yet.', width)),
      segments([[' t', 'yellow'], [' trace the Packet pane (3)']], width),
      segments([[' P', 'yellow'], [' scenario presets   '], ['m', 'yellow'], [' a packet for the selected rule']], width),
      segments([[' :trace tcp 10.244.1.10:40000 -> 10.96.0.100:80 iif cni0', 'gray']], width),
    ];
    return { label: ` 4 Trace ${focusMark}`, lines };
  }
  const rows = traceRows(outcome, t.verbose);
  const lines: string[] = [];
  let prevTable: string | null = null;
  // Table column shows a table name only when it changes: find the table before the window.
  for (let i = t.scroll - 1; i >= 0; i--) {
    const r = rows[i];
    const st = r.kind === 'step' ? outcome.steps[r.step] : r.kind === 'fold' ? outcome.steps[r.to] : undefined;
    if (r.kind === 'hook') break;
    if (st?.table) {
      prevTable = st.table;
      break;
    }
  }
  const ann = (table: string | null) => (chain: string) => (state.ruleset && table ? annotationOf(state.ruleset, table as TableName, chain) : undefined);
  for (let i = t.scroll; i < Math.min(rows.length, t.scroll + height); i++) {
    const r = rows[i];
    const { segs, table } = rowSegments(outcome, r, prevTable, ann);
    prevTable = table;
    const cur = i === t.row;
    let line = segments([[cur ? '▶' : ' ', 'yellow,bold'], ...segs], width);
    if (cur) line = `{inverse}${line}{/inverse}`;
    lines.push(line);
  }
  const n = t.result.outcomes.length;
  const branch = n > 1 ? ` · outcome ${t.outcome + 1} of ${n} (p ${outcome.probability.toFixed(2)}) · b branches` : '';
  const stepNo = currentStep(state);
  return { label: ` 4 Trace ${focusMark}· step ${stepNo ? stepNo.index + 1 : 0}/${outcome.steps.length}${branch}${t.verbose ? ' · all rules' : ''} `, lines };
}

function endpoint(addr: string, port: number | undefined): string {
  const a = addr.includes(':') ? `[${addr}]` : addr;
  return port === undefined ? addr : `${a}:${port}`;
}

function addrLine(label: string, orig: string, origPort: number | undefined, now: string, nowPort: number | undefined, nat: string, width: number): string {
  const o = endpoint(orig, origPort);
  const n = endpoint(now, nowPort);
  if (o === n) return segments([[label, 'gray'], [o, 'white']], width);
  return segments([[label, 'gray'], [o, 'white'], [' → ', 'gray'], [n, 'magenta,bold'], [` (${nat})`, 'magenta']], width);
}

/** The State box: everything true of the packet at the current step. */
export function renderState(state: AppState, width: number, height: number): PaneContent {
  const cur = currentStep(state);
  const outcome = currentOutcome(state);
  if (!cur || !outcome) return { label: ' State ', lines: [fg('gray', cell(' the packet at the current trace step shows here', width))] };
  const s = cur.step;
  const p: PacketState = s.state;
  const lines: string[] = [];
  const where: Segment[] = [[' ' + s.hook, 'white,bold']];
  if (s.table) where.push([' · ' + s.table, 'yellow']);
  if (s.chain) where.push([' · ' + s.chain, 'white']);
  if (s.rule !== null) where.push([` #${s.rule}`, 'white']);
  if (s.line !== null) where.push([` (line ${s.line})`, 'gray']);
  lines.push(segments(where, width));
  if (s.kind === 'rule') {
    if (s.matched === true) lines.push(segments([[' matched: ', 'green,bold'], [s.reasons.join(', ') || 'no conditions (every packet)', 'green']], width));
    else if (s.matched === 'unknown') lines.push(segments([[' unknown: ', 'yellow,bold'], [s.failed ?? '', 'yellow'], ['  (b: branches)', 'gray']], width));
    else lines.push(segments([[' failed: ', 'red,bold'], [s.failed ?? '', 'red']], width));
  } else if (s.kind === 'policy') lines.push(segments([[' policy ', 'gray'], [s.policy ?? '', s.policy === 'DROP' ? 'red,bold' : 'green,bold'], [' (no rule decided)', 'gray']], width));
  else if (s.note) lines.push(segments([[' ' + s.note, 'cyan']], width));
  lines.push(
    segments(
      [
        [' mark ', 'gray'],
        [hex(p.mark), p.mark !== 0 ? 'magenta,bold' : 'white'],
        ['  ctmark ', 'gray'],
        [hex(p.ctMark), 'white'],
        ['  ct ', 'gray'],
        [`${p.ctState} ${p.ctDir}`, 'white'],
        ['  ' + p.proto, 'yellow'],
      ],
      width,
    ),
  );
  lines.push(addrLine(' src ', p.origSrc, p.origSport, p.src, p.sport, 'SNAT', width));
  lines.push(addrLine(' dst ', p.origDst, p.origDport, p.dst, p.dport, 'DNAT', width));
  lines.push(segments([[' in ', 'gray'], [p.iif ?? 'local', 'blue'], ['  out ', 'gray'], [p.oif ?? '-', 'blue']], width));
  if (s.changes.length > 0) lines.push(segments([[' changes: ', 'magenta'], [s.changes.join(', '), 'magenta,bold']], width));
  const isLast = cur.index === outcome.steps.length - 1;
  if (isLast || lines.length < height) {
    const bad = outcome.verdict !== 'ACCEPT';
    lines.push(segments([[isLast ? ' verdict ' : ' ends: ', 'gray'], [outcome.verdict, bad ? 'red,bold' : 'green,bold'], [' ' + outcome.disposition.text, bad ? 'red' : 'green']], width));
  }
  const br = outcome.branches.length + outcome.assumptions.length;
  if (br > 0 && lines.length < height) {
    const parts = [
      ...outcome.branches.map((b) => `${b.chain} #${b.rule} ${b.taken ? 'taken' : 'not taken'} p=${b.probability.toFixed(2)}`),
      ...outcome.assumptions.map((a) => `${a.chain} #${a.rule} assumed ${a.choice}`),
    ];
    lines.push(segments([[' path: ', 'gray'], [parts.join('; '), 'yellow']], width));
  }
  return { label: ` State · step ${cur.index + 1} `, lines: lines.slice(0, height) };
}
