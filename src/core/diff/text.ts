/**
 * Text rendering of diffs: a unified diff grouped by table and chain (`@@ table chain @@`), rule
 * lines as iptables-save prints them, optional ANSI colour; then the behavioural changes.
 *
 * Pure: returns strings.
 */
import type { BehaviourDiff, ChainDiff, CounterDelta, OutcomeSummary, StructuralDiff } from './types.js';

/** Options of the text rendering. */
export interface TextOptions {
  color: boolean;
  /**
   * List counter deltas (chains whose rules only counted packets, per-rule deltas). Default: only
   * when the rules are identical (then the counters are the news); when rules changed, the counters
   * of a busy node move everywhere and would drown the change — the summary line counts them.
   */
  counters?: boolean;
  /** Counter changes shown per chain (the JSON has all). Default 20. */
  maxCounterLines?: number;
}

const SGR = { red: '31', green: '32', cyan: '36', yellow: '33', bold: '1', dim: '2', magenta: '35' } as const;
type Style = keyof typeof SGR;

function painter(color: boolean): (s: Style, t: string) => string {
  return color ? (s, t) => `\x1b[${SGR[s]}m${t}\x1b[0m` : (_s, t) => t;
}

/** `+12 pkts +3,400 bytes` */
export function formatDelta(d: CounterDelta): string {
  const sign = (n: number) => (n > 0 ? `+${n}` : `${n}`);
  return `${sign(d.packets)} pkts ${sign(d.bytes)} bytes`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function chainNote(c: ChainDiff): string {
  const parts: string[] = [];
  switch (c.status) {
    case 'added':
      parts.push(`chain added (${plural(c.rules.new, 'rule')})`);
      break;
    case 'removed':
      parts.push(`chain removed (${plural(c.rules.old, 'rule')})`);
      break;
    case 'renamed':
      parts.push(`renamed from ${c.oldName}`);
      break;
    case 'unchanged':
      parts.push('counters only');
      break;
    case 'modified':
      break;
  }
  if (c.policy && c.status !== 'added' && c.status !== 'removed') parts.push(`policy ${c.policy.old ?? '-'} → ${c.policy.new ?? '-'}`);
  if (c.status === 'modified' || c.status === 'renamed') {
    const count = { added: 0, removed: 0, moved: 0, changed: 0 };
    for (const ch of c.changes) count[ch.kind]++;
    const bits = (Object.keys(count) as Array<keyof typeof count>).filter((k) => count[k] > 0).map((k) => `${count[k]} ${k}`);
    if (bits.length) parts.push(bits.join(', '));
  }
  return parts.join('; ');
}

/**
 * The structural diff as a unified diff. Empty string when the rules are identical (unless
 * `counters` is set and counters moved).
 */
export function formatStructuralText(d: StructuralDiff, opts: TextOptions): string {
  const paint = painter(opts.color);
  const maxCounters = opts.maxCounterLines ?? 20;
  const counters = opts.counters ?? d.identical;
  const out: string[] = [];
  if (d.tables.length === 0 || (d.identical && !counters)) return '';
  out.push(paint('bold', `--- ${d.old}`), paint('bold', `+++ ${d.new}`));
  for (const t of d.tables) {
    if (t.status !== 'modified') out.push(paint('bold', `# table ${t.table} ${t.status}`));
    for (const c of t.chains) {
      if (c.status === 'unchanged' && !counters) continue;
      const note = chainNote(c);
      out.push(paint('cyan', `@@ ${t.table} ${c.chain} @@`) + (note ? ' ' + note : ''));
      const decl = (name: string, policy: string | null) => `:${name} ${policy ?? '-'}`;
      if (c.status === 'added') out.push(paint('green', '+' + decl(c.chain, c.policy?.new ?? null)));
      else if (c.status === 'removed') out.push(paint('red', '-' + decl(c.chain, c.policy?.old ?? null)));
      else if (c.status === 'renamed') {
        out.push(paint('red', '-' + decl(c.oldName!, null)), paint('green', '+' + decl(c.chain, null)));
      } else if (c.policy) {
        out.push(paint('red', '-' + decl(c.chain, c.policy.old)), paint('green', '+' + decl(c.chain, c.policy.new)));
      }
      for (const h of c.hunks) {
        out.push(paint('cyan', `@@ -${h.oldStart},${h.oldCount} +${h.newStart},${h.newCount} @@`));
        for (const l of h.lines) {
          const ch = l.change !== undefined ? c.changes[l.change] : undefined;
          const notes: string[] = [];
          if (l.movedTo !== undefined) notes.push(`moved to #${l.movedTo}`);
          if (l.movedFrom !== undefined) notes.push(`moved from #${l.movedFrom}`);
          if (l.op === 'added' && ch?.delta) notes.push(formatDelta(ch.delta));
          const tail = notes.length ? paint('dim', `  # ${notes.join(', ')}`) : '';
          if (l.op === 'context') out.push(' ' + l.new!.text);
          else if (l.op === 'removed') out.push(paint('red', '-' + l.old!.text) + tail);
          else out.push(paint('green', '+' + l.new!.text) + tail);
        }
      }
      if (!counters) continue;
      if (c.chainCounters) out.push(paint('yellow', `# chain counters ${formatDelta(c.chainCounters)}`));
      if (c.counters.length > 0) {
        out.push(paint('yellow', `# counters moved on ${plural(c.counters.length, 'rule')}`));
        const shown = [...c.counters].sort((x, y) => Math.abs(y.delta.packets) - Math.abs(x.delta.packets) || x.new.position - y.new.position).slice(0, maxCounters);
        for (const cc of shown) out.push(paint('yellow', `#  ${formatDelta(cc.delta).padEnd(28)} ${cc.new.text}`));
        if (c.counters.length > shown.length) out.push(paint('yellow', `#  … and ${c.counters.length - shown.length} more (see --json)`));
      }
    }
  }
  const hint = !counters && d.summary.countersChanged > 0 ? ' (--counters lists them)' : '';
  out.push(paint('bold', `# ${summaryLine(d)}${hint}`));
  return out.join('\n') + '\n';
}

/** One sentence summing up a structural diff. */
export function summaryLine(d: StructuralDiff): string {
  const s = d.summary;
  if (d.identical) return s.countersChanged ? `rules identical; counters moved on ${plural(s.countersChanged, 'rule')}` : 'identical';
  const parts: string[] = [];
  const add = (n: number, what: string) => {
    if (n) parts.push(`${n} ${what}`);
  };
  // `3 rules added, 2 removed`: the noun goes with the first count.
  const rules: Array<[number, string]> = [
    [s.rulesAdded, 'added'],
    [s.rulesRemoved, 'removed'],
    [s.rulesMoved, 'moved'],
    [s.rulesChanged, 'changed'],
  ].filter(([n]) => (n as number) > 0) as Array<[number, string]>;
  rules.forEach(([n, what], k) => parts.push(k === 0 ? `${n} ${n === 1 ? 'rule' : 'rules'} ${what}` : `${n} ${what}`));
  add(s.chainsAdded, s.chainsAdded === 1 ? 'chain added' : 'chains added');
  add(s.chainsRemoved, s.chainsRemoved === 1 ? 'chain removed' : 'chains removed');
  add(s.chainsRenamed, s.chainsRenamed === 1 ? 'chain renamed' : 'chains renamed');
  add(s.policiesChanged, s.policiesChanged === 1 ? 'policy changed' : 'policies changed');
  add(s.tablesAdded, s.tablesAdded === 1 ? 'table added' : 'tables added');
  add(s.tablesRemoved, s.tablesRemoved === 1 ? 'table removed' : 'tables removed');
  add(s.countersChanged, 'counter changes');
  return parts.join(', ');
}

function outcomes(list: OutcomeSummary[]): string {
  if (list.length === 0) return '(no outcome)';
  return list.map((s) => (s.probability === 1 ? s.key : `${s.key} (p=${s.probability})`)).join(' | ');
}

/** The behavioural diff: each packet whose fate differs, old and new outcomes, what changed. */
export function formatBehaviourText(b: BehaviourDiff, opts: TextOptions): string {
  const paint = painter(opts.color);
  const out: string[] = [];
  const head = `# behaviour (${b.family}): ${b.changes.length} of ${plural(b.probesTraced, 'probe')} behave differently`;
  out.push(paint('bold', head));
  if (b.bounded) out.push(paint('yellow', `# ${b.bounded}`));
  if (b.skipped.length) out.push(paint('yellow', `# ${plural(b.skipped.length, 'probe')} skipped (invalid for this host): ${b.skipped[0].probe.label}: ${b.skipped[0].reason}${b.skipped.length > 1 ? ', …' : ''}`));
  for (const c of b.changes) {
    out.push(paint('magenta', `! ${c.probe.label}`) + paint('dim', `  (from ${c.probe.from})`));
    out.push(paint('red', `-   ${outcomes(c.old)}`));
    out.push(paint('green', `+   ${outcomes(c.new)}`));
    for (const d of c.differences) out.push(`    ${d}`);
    // One path each side: where the fate was decided (`table:CHAIN:N` / `table:CHAIN:policy`).
    if (c.old.length === 1 && c.new.length === 1) {
      const po = c.old[0].path.join(' ');
      const pn = c.new[0].path.join(' ');
      if (po !== pn) out.push(paint('dim', `    path ${po || '(none)'} → ${pn || '(none)'}`));
    }
  }
  return out.join('\n') + '\n';
}
