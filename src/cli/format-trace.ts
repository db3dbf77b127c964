/**
 * The trace as text (for `iptscope trace`, golden files and the scenario runner) and as JSON (the
 * documented, stable shape of `iptscope trace --json`). Both read the engine's one TraceResult.
 *
 * Text layout: a header (packet, context defaults, outcome count), then per outcome its verdict,
 * disposition, probability, assumptions and branches, then its steps grouped by hook and table —
 * each rule step with its position, source line and text, why it matched or which condition
 * failed, and the state changes it made — and finally the packet as it left.
 */
import type { PacketSpec, PacketState, Step, TraceResult, Outcome } from '../core/netfilter/types.js';

/** Options of the text formatter. */
export interface FormatTraceOptions {
  /** ANSI colours (callers decide: a TTY and no NO_COLOR). */
  color: boolean;
  /** Leave out rules that did not match (default false: every step is shown). */
  onlyMatched?: boolean;
}

const ANSI = {
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  blue: '\x1b[34m',
  magenta: '\x1b[35m',
  cyan: '\x1b[36m',
  reset: '\x1b[0m',
} as const;
type Style = Exclude<keyof typeof ANSI, 'reset'>;

/** Whether colour should be used: stdout is a terminal and NO_COLOR is not set (https://no-color.org). */
export function useColor(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

function endpoint(addr: string, port: number | undefined): string {
  if (port === undefined) return addr;
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** `tcp 10.244.1.10:40000 → 10.96.0.100:80` plus the entry point and the state the user gave. */
export function describePacketSpec(p: PacketSpec): string {
  const parts = [`${p.proto} ${endpoint(p.src, p.sport)} → ${endpoint(p.dst, p.dport)}`];
  if (p.icmpType !== undefined) parts.push(`type ${p.icmpType}${p.icmpCode !== undefined ? `/${p.icmpCode}` : ''}`);
  parts.push(p.local ? 'from this host (OUTPUT)' : `in ${p.iif ?? '?'}`);
  if (p.oif) parts.push(`out ${p.oif}`);
  if (p.mark !== undefined) parts.push(`mark 0x${p.mark.toString(16)}`);
  if (p.related) {
    const r = p.related;
    const v6 = p.src.includes(':') || p.dst.includes(':');
    const type = r.icmpType ?? (v6 ? 1 : 3);
    const code = r.icmpCode ?? (r.icmpType === undefined ? (v6 ? 4 : 3) : undefined);
    parts.push(
      `→ an ICMP${v6 ? 'v6' : ''} error (type ${type}${code !== undefined ? `/${code}` : ''}) about this flow, ${r.dir ?? 'reply'} direction${r.from ? `, from ${r.from}` : ''} (ct RELATED)`,
    );
  } else if (p.reply) parts.push(`reply direction of this flow (ct ${p.ctState ?? 'ESTABLISHED'})`);
  else parts.push(`ct ${p.ctState ?? 'NEW'}`);
  if (p.tcpFlags) parts.push(`flags ${p.tcpFlags.join(',')}`);
  if (p.packetNumber !== undefined) parts.push(`packet #${p.packetNumber}`);
  return parts.join('  ');
}

/** A packet state in one line: tuple, interfaces, mark, conntrack. */
export function describeState(s: PacketState): string {
  const parts = [`${s.proto} ${endpoint(s.src, s.sport)} → ${endpoint(s.dst, s.dport)}`];
  if (s.iif) parts.push(`in ${s.iif}`);
  if (s.oif) parts.push(`out ${s.oif}`);
  parts.push(`mark 0x${s.mark.toString(16)}`);
  if (s.ctMark) parts.push(`ctmark 0x${s.ctMark.toString(16)}`);
  parts.push(`ct ${s.ctState}${s.ctDir === 'REPLY' ? ' (reply)' : ''}`);
  const nat: string[] = [];
  if (s.dnat) nat.push('DNAT');
  if (s.snat) nat.push('SNAT');
  if (nat.length) parts.push(`nat ${nat.join('+')} (orig ${endpoint(s.origSrc, s.origSport)} → ${endpoint(s.origDst, s.origDport)})`);
  const e = s.embedded;
  if (e) parts.push(`about ${e.proto} ${endpoint(e.src, e.sport)} → ${endpoint(e.dst, e.dport)}`);
  return parts.join('  ');
}

function fmtProbability(p: number): string {
  if (p === 1) return '1';
  return String(Number(p.toFixed(6)));
}

/** Format a whole trace as text. */
export function formatTraceText(result: TraceResult, opts: FormatTraceOptions): string {
  const c = (style: Style, text: string): string => (opts.color ? `${ANSI[style]}${text}${ANSI.reset}` : text);
  const out: string[] = [];
  out.push(`${c('bold', 'packet')}   ${describePacketSpec(result.packet)}`);
  // Ports the user left out but the engine needed (tcp/udp…): say which ones it used.
  const first = result.outcomes[0]?.packet;
  const filled: string[] = [];
  if (first && result.packet.sport === undefined && first.origSport !== undefined) filled.push(`source port ${first.origSport}`);
  if (first && result.packet.dport === undefined && first.origDport !== undefined) filled.push(`destination port ${first.origDport}`);
  if (filled.length) out.push(`         (not given, the trace used ${filled.join(' and ')})`);
  if (result.context.defaults.length) {
    out.push(`${c('bold', 'defaults')} the engine relied on:`);
    for (const d of result.context.defaults) out.push(`  - ${d}`);
  } else out.push(`${c('bold', 'defaults')} none (the context gave everything the trace needed)`);
  const n = result.outcomes.length;
  out.push(`${c('bold', 'outcomes')} ${n}${n > 1 ? ' (probabilities below; each is one possible path)' : ''}${result.truncated ? ` — ${c('yellow', 'truncated')}: more outcomes exist (unknown matches × statistic branches); decide some with --assume` : ''}`);
  result.outcomes.forEach((o, i) => {
    out.push('');
    out.push(...formatOutcome(o, i, n, c, opts));
  });
  return out.join('\n') + '\n';
}

function verdictStyle(o: Outcome): Style {
  return o.verdict === 'ACCEPT' ? 'green' : 'red';
}

function formatOutcome(
  o: Outcome,
  index: number,
  total: number,
  c: (s: Style, t: string) => string,
  opts: FormatTraceOptions,
): string[] {
  const out: string[] = [];
  const head = `── outcome ${index + 1} of ${total} · p ${fmtProbability(o.probability)} · ${o.verdict} · ${o.disposition.text}`;
  out.push(c('bold', c(verdictStyle(o), head)));
  if (o.assumptions.length) {
    out.push('   assumptions:');
    for (const a of o.assumptions) {
      out.push(
        `     ${a.table}:${a.chain}:${a.rule} (line ${a.line}) ${a.choice === 'continue' || a.choice === 'stop' ? 'unknown target assumed to' : 'assumed'} ${a.choice}${a.chosen ? ' (chosen with --assume)' : ' (explored)'} — ${a.reason}`,
      );
    }
  }
  if (o.branches.length) {
    out.push('   branches:');
    for (const b of o.branches) {
      out.push(`     ${b.table}:${b.chain}:${b.rule} (line ${b.line}) statistic ${b.taken ? 'taken' : 'not taken'} (p ${fmtProbability(b.probability)})`);
    }
  }
  let hook: string | null = null;
  let table: string | null = null;
  let chain: string | null = null;
  for (const step of o.steps) {
    if (opts.onlyMatched && step.kind === 'rule' && step.matched === false) continue;
    if (step.hook !== hook) {
      hook = step.hook;
      table = null;
      chain = null;
      out.push(` ${c('cyan', c('bold', step.hook))}`);
    }
    if (step.table !== null && step.table !== table) {
      table = step.table;
      chain = null;
      out.push(`   ${c('magenta', step.table)}`);
    }
    out.push(...formatStep(step, chain, c));
    if (step.chain !== null) chain = step.chain;
  }
  out.push(`   ${c('bold', 'result')}  ${c(verdictStyle(o), o.verdict)} · ${o.disposition.text}${o.disposition.rejectWith && !o.disposition.text.includes(o.disposition.rejectWith) ? ` (${o.disposition.rejectWith})` : ''}`);
  out.push(`   ${c('bold', 'leaves')}  ${describeState(o.packet)}`);
  return out;
}

function formatStep(step: Step, prevChain: string | null, c: (s: Style, t: string) => string): string[] {
  const out: string[] = [];
  const line = step.line !== null ? `line ${step.line}` : 'no line';
  const changes = step.changes.map((ch) => `       ${c('yellow', '⇒')} ${ch}`);
  switch (step.kind) {
    case 'rule': {
      const where = `${step.chain ?? '?'} #${step.rule ?? '?'}`;
      const raw = step.ruleRef?.raw ?? '';
      const mark = step.matched === true ? c('green', '✓') : step.matched === false ? c('red', '✗') : c('yellow', '?');
      const text = `     ${mark} ${where}  ${c('dim', `(${line})`)}  ${raw}`;
      out.push(step.matched === false ? c('dim', `     ✗ ${where}  (${line})  ${raw}`) : text);
      if (step.matched === true) {
        const why = step.reasons.length ? step.reasons.join(', ') : 'no conditions';
        out.push(`         matched: ${why}${step.target ? ` → ${c('bold', step.target)}` : ''}`);
      } else if (step.matched === false) {
        out.push(c('dim', `         failed: ${step.failed ?? 'a condition did not hold'}`));
      } else {
        out.push(`         ${c('yellow', 'unknown')}: ${step.failed ?? 'the engine cannot decide this match'}${step.target ? ` (target ${step.target})` : ''}`);
      }
      break;
    }
    case 'policy':
      out.push(`     ${c('bold', '■')} ${step.chain ?? '?'} policy ${c(step.policy === 'DROP' ? 'red' : 'green', step.policy ?? '?')}  ${c('dim', `(${line})`)}`);
      break;
    case 'return':
      out.push(c('dim', `     ↩ end of ${step.chain ?? '?'}: return${step.note ? ` (${step.note})` : ''}`));
      break;
    case 'route':
    case 'conntrack':
      out.push(`   ${c('blue', step.kind.padEnd(9))} ${stripLabel(step.note ?? '', step.kind)}`);
      break;
    case 'note':
      if (step.skipped) {
        const sk = step.skipped;
        out.push(c('dim', `     ⋯ ${step.chain ?? '?'} #${sk.from}–#${sk.to}: ${sk.count} rule(s) skipped by the index (${sk.reason})`));
      } else out.push(`   ${c('blue', 'note')}    ${step.note ?? ''}`);
      break;
  }
  void prevChain;
  out.push(...changes);
  return out;
}

/** `route: x` / `conntrack: x` notes lose the label the text layout already prints. */
function stripLabel(note: string, label: string): string {
  const re = new RegExp(`^${label}:?\\s+`, 'i');
  return note.replace(re, '');
}

/** JSON of one step: fixed key order, no `ruleRef`, no undefined keys. */
function stepJson(step: Step): Record<string, unknown> {
  const j: Record<string, unknown> = {
    kind: step.kind,
    hook: step.hook,
    table: step.table,
    chain: step.chain,
    rule: step.rule,
    line: step.line,
    matched: step.matched,
  };
  if (step.target !== undefined) j.target = step.target;
  if (step.policy !== undefined) j.policy = step.policy;
  j.reasons = step.reasons;
  if (step.failed !== undefined) j.failed = step.failed;
  j.changes = step.changes;
  if (step.note !== undefined) j.note = step.note;
  if (step.skipped !== undefined) j.skipped = { ...step.skipped };
  if (step.kind === 'rule' && step.ruleRef) j.text = step.ruleRef.raw;
  j.state = stateJson(step.state);
  return j;
}

function stateJson(s: PacketState): Record<string, unknown> {
  const keys: (keyof PacketState)[] = [
    'family', 'proto', 'src', 'dst', 'sport', 'dport', 'icmpType', 'icmpCode', 'iif', 'oif', 'mark', 'ctMark',
    'ctState', 'ctDir', 'origSrc', 'origDst', 'origSport', 'origDport', 'snat', 'dnat', 'ttl',
  ];
  const j: Record<string, unknown> = {};
  for (const k of keys) if (s[k] !== undefined) j[k] = s[k];
  // An ICMP error's embedded header, now and as it entered (fixed key order).
  if (s.embedded) {
    const e = s.embedded;
    const ej: Record<string, unknown> = {};
    for (const k of ['proto', 'src', 'dst', 'sport', 'dport', 'origSrc', 'origDst', 'origSport', 'origDport', 'outerOrigSrc', 'outerOrigDst'] as const) {
      if (e[k] !== undefined) ej[k] = e[k];
    }
    j.embedded = ej;
  }
  return j;
}

function sortedKeys(obj: unknown): unknown {
  if (Array.isArray(obj)) return obj.map(sortedKeys);
  if (obj && typeof obj === 'object') {
    const o = obj as Record<string, unknown>;
    const r: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) if (o[k] !== undefined) r[k] = sortedKeys(o[k]);
    return r;
  }
  return obj;
}

/**
 * The documented JSON form of a trace (see README "trace JSON"):
 * `{ outcomes: [{ probability, verdict, disposition, assumptions, branches, packet, steps }], context: { defaults, context }, packet, truncated? }`.
 * Deterministic: fixed key order for outcomes and steps, sorted keys inside the context and the input packet.
 */
export function traceToJson(result: TraceResult): Record<string, unknown> {
  return {
    outcomes: result.outcomes.map((o) => ({
      probability: o.probability,
      verdict: o.verdict,
      disposition: sortedKeys(o.disposition),
      assumptions: o.assumptions.map((a) => ({
        table: a.table,
        chain: a.chain,
        rule: a.rule,
        line: a.line,
        choice: a.choice,
        chosen: a.chosen,
        reason: a.reason,
      })),
      branches: o.branches.map((b) => ({
        table: b.table,
        chain: b.chain,
        rule: b.rule,
        line: b.line,
        taken: b.taken,
        probability: b.probability,
      })),
      packet: stateJson(o.packet),
      steps: o.steps.map(stepJson),
    })),
    context: { defaults: [...result.context.defaults], context: sortedKeys(result.context.context) },
    packet: sortedKeys(result.packet),
    ...(result.truncated ? { truncated: true } : {}),
  };
}

/** `traceToJson` as text (two-space indent, trailing newline). */
export function formatTraceJson(result: TraceResult): string {
  return JSON.stringify(traceToJson(result), null, 2) + '\n';
}
