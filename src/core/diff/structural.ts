/**
 * Structural diff: what changed between two rulesets, per table and chain.
 *
 * Rules are matched by content, not position: a rule's identity is its canonical text
 * (`formatRule`, never the counters), each chain's two rule lists are aligned with a patience
 * diff (./align.ts), a rule that left one place and reappears elsewhere in the chain is a move,
 * and a removed and an added rule in the same gap of the alignment with similar text are one
 * change. kube-proxy's hashed chains (KUBE-SVC-…, KUBE-SEP-…) that disappear while a chain with
 * the same rules appears are renames, and references to them elsewhere are rewritten through the
 * rename map before comparing, so they do not show as changes.
 *
 * Pure.
 */
import type { Chain, Counters, Policy, Rule, Ruleset, Table, TableName } from '../model.js';
import { TABLE_HOOKS, TABLE_NAMES } from '../model.js';
import { formatRule } from '../parse/index.js';
import { alignSequences } from './align.js';
import type {
  ChainDiff,
  ChainRename,
  CounterChange,
  CounterDelta,
  DiffSummary,
  Hunk,
  HunkLine,
  RuleChange,
  RuleRef,
  StructuralDiff,
  TableDiff,
} from './types.js';

/** Options of the structural diff. */
export interface StructuralOptions {
  /** Context rules around each hunk (default 3, like diff -u). */
  context?: number;
}

/** kube-proxy's hashed chain names (a prefix and a base32 hash of the service/endpoint). */
const HASHED_RE = /^KUBE-(?:SVC|SEP|EXT|FW|SVL|XLB)-[A-Z0-9]+$/;
/** The same, anywhere in a rule's text (jump targets, `recent --name`, comments). */
const HASHED_G = /\bKUBE-(?:SVC|SEP|EXT|FW|SVL|XLB)-[A-Z0-9]+\b/g;

/** Minimum similarity for a removed and an added rule to be shown as one change. */
export const CHANGE_SIMILARITY = 0.5;

/** Whether a chain name is one of kube-proxy's hashed chains. */
export function isHashedChain(name: string): boolean {
  return HASHED_RE.test(name);
}

/** Compare two rulesets of the same family. */
export function diffStructural(a: Ruleset, b: Ruleset, opts: StructuralOptions = {}): StructuralDiff {
  const ctx = opts.context ?? 3;
  const counters = hasRuleCounters(a) && hasRuleCounters(b);
  const fmt = makeFormatter();

  // Renames first, over all tables, so references in any table are rewritten.
  const renamesByTable = new Map<TableName, Map<string, string>>();
  const globalRenames = new Map<string, string>();
  for (const name of TABLE_NAMES) {
    const ta = a.tables.get(name);
    const tb = b.tables.get(name);
    if (!ta || !tb) continue;
    const map = detectRenames(ta, tb, fmt);
    if (map.size === 0) continue;
    renamesByTable.set(name, map);
    for (const [from, to] of map) if (!globalRenames.has(from)) globalRenames.set(from, to);
  }

  const tables: TableDiff[] = [];
  for (const name of TABLE_NAMES) {
    const ta = a.tables.get(name);
    const tb = b.tables.get(name);
    if (!ta && !tb) continue;
    const tableMap = renamesByTable.get(name) ?? new Map<string, string>();
    const norm = makeNormaliser(tableMap, globalRenames, ta);
    const chains = diffTable(ta, tb, tableMap, norm, fmt, counters, ctx);
    const renames: ChainRename[] = [...tableMap].map(([from, to]) => ({ table: name, from, to }));
    const status: TableDiff['status'] = !ta ? 'added' : !tb ? 'removed' : 'modified';
    if (status === 'modified' && chains.length === 0 && renames.length === 0) continue;
    tables.push({ table: name, status, chains, renames });
  }

  const summary = summarise(tables);
  const identical =
    summary.tablesAdded + summary.tablesRemoved + summary.chainsAdded + summary.chainsRemoved +
      summary.chainsRenamed + summary.policiesChanged + summary.rulesAdded + summary.rulesRemoved +
      summary.rulesMoved + summary.rulesChanged === 0;
  return { family: b.family, old: a.source, new: b.source, identical, tables, summary, counters };
}

/** True when any rule of the ruleset carries counters (`iptables-save -c`). */
function hasRuleCounters(r: Ruleset): boolean {
  for (const t of r.tables.values()) {
    for (const c of t.chains.values()) {
      if (c.rules.length > 0) return c.rules[0].counters !== undefined;
    }
  }
  return false;
}

/** A chain's rules as canonical texts. */
type ChainTexts = (c: Chain) => string[];

/**
 * formatRule over a chain's rules, cached per chain for one diff (rename detection and the chain
 * diff both need it). A Map per chain rather than per rule: 3× fewer entries for the GC to track.
 */
function makeFormatter(): ChainTexts {
  const cache = new Map<Chain, string[]>();
  return (c) => {
    const cached = cache.get(c);
    if (cached !== undefined) return cached;
    const t = c.rules.map((r) => formatRule(r));
    cache.set(c, t);
    return t;
  };
}

/**
 * Rewrites old-side text through the rename maps: this table's renames, then another table's (a
 * filter comment naming a nat chain) unless this table has a chain of that name itself.
 */
function makeNormaliser(tableMap: Map<string, string>, global: Map<string, string>, own: Table | undefined): (text: string) => string {
  if (tableMap.size === 0 && global.size === 0) return (t) => t;
  const rename = (m: string) => tableMap.get(m) ?? (own?.chains.has(m) ? m : (global.get(m) ?? m));
  return (t) => (t.includes('KUBE-') ? t.replace(HASHED_G, rename) : t);
}

/**
 * kube-proxy renames: hashed chains present only in the old table paired with hashed chains
 * present only in the new one whose rules are the same once chain names are normalised (its own
 * name, names already paired, and still-unpaired hashed names as a wildcard of their prefix).
 * Repeats until no new pair appears, so a renamed SVC chain pointing at renamed SEP chains is found
 * once the SEPs are. Ambiguous groups (several identical chains) stay added/removed.
 */
function detectRenames(ta: Table, tb: Table, fmt: ChainTexts): Map<string, string> {
  const map = new Map<string, string>();
  let removed = [...ta.chains.values()].filter((c) => !tb.chains.has(c.name) && isHashedChain(c.name) && c.rules.length > 0);
  let added = [...tb.chains.values()].filter((c) => !ta.chains.has(c.name) && isHashedChain(c.name) && c.rules.length > 0);
  if (removed.length === 0 || added.length === 0) return map;
  const mappedTo = new Set<string>();
  for (;;) {
    const openOld = new Set(removed.map((c) => c.name));
    const openNew = new Set(added.map((c) => c.name));
    const sig = (c: Chain, old: boolean): string => {
      const prefix = c.name.slice(0, c.name.lastIndexOf('-') + 1);
      const body = fmt(c)
        .map((text) =>
          text.replace(HASHED_G, (m) => {
            if (m === c.name) return '@self';
            if (old) {
              const to = map.get(m);
              if (to !== undefined) return to;
              if (openOld.has(m)) return m.slice(0, m.lastIndexOf('-') + 1) + '*';
            } else if (openNew.has(m)) return m.slice(0, m.lastIndexOf('-') + 1) + '*';
            return m;
          }),
        )
        .join('\n');
      return prefix + '\n' + body;
    };
    const groups = new Map<string, { old: Chain[]; new: Chain[] }>();
    for (const c of removed) {
      const k = sig(c, true);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { old: [], new: [] }));
      g.old.push(c);
    }
    for (const c of added) {
      const g = groups.get(sig(c, false));
      if (g) g.new.push(c);
    }
    let found = 0;
    for (const g of groups.values()) {
      if (g.old.length === 1 && g.new.length === 1) {
        map.set(g.old[0].name, g.new[0].name);
        mappedTo.add(g.new[0].name);
        found++;
      }
    }
    if (found === 0) break;
    removed = removed.filter((c) => !map.has(c.name));
    added = added.filter((c) => !mappedTo.has(c.name));
    if (removed.length === 0 || added.length === 0) break;
  }
  return map;
}

/** The chain diffs of one table (either side may be absent). */
function diffTable(
  ta: Table | undefined,
  tb: Table | undefined,
  renames: Map<string, string>,
  norm: (t: string) => string,
  fmt: ChainTexts,
  counters: boolean,
  ctx: number,
): ChainDiff[] {
  const name = (ta ?? tb)!.name;
  const renamedTo = new Map<string, string>(); // new name → old name
  for (const [from, to] of renames) renamedTo.set(to, from);
  const out: ChainDiff[] = [];
  const seen = new Set<string>();
  const push = (d: ChainDiff | null) => {
    if (d) out.push(d);
  };
  // Builtin chains in hook order, then the new side's user chains, then removed user chains.
  for (const hook of TABLE_HOOKS[name]) {
    const ca = ta?.chains.get(hook);
    const cb = tb?.chains.get(hook);
    if (!ca && !cb) continue;
    seen.add(hook);
    push(diffChain(name, ca, cb, undefined, norm, fmt, counters, ctx));
  }
  for (const cb of tb?.chains.values() ?? []) {
    if (seen.has(cb.name)) continue;
    seen.add(cb.name);
    const oldName = renamedTo.get(cb.name);
    const ca = oldName !== undefined ? ta?.chains.get(oldName) : ta?.chains.get(cb.name);
    push(diffChain(name, ca, cb, oldName, norm, fmt, counters, ctx));
  }
  for (const ca of ta?.chains.values() ?? []) {
    if (seen.has(ca.name) || renames.has(ca.name)) continue;
    push(diffChain(name, ca, undefined, undefined, norm, fmt, counters, ctx));
  }
  return out;
}

function ref(rule: Rule, text: string): RuleRef {
  const r: RuleRef = { position: rule.position, line: rule.span.line, text };
  if (rule.counters) r.counters = { packets: rule.counters.packets, bytes: rule.counters.bytes };
  return r;
}

function delta(a: Counters | undefined, b: Counters | undefined): CounterDelta | undefined {
  if (!a || !b) return undefined;
  return { packets: b.packets - a.packets, bytes: b.bytes - a.bytes };
}

const nonZero = (d: CounterDelta | undefined): d is CounterDelta => d !== undefined && (d.packets !== 0 || d.bytes !== 0);

/** One line of the full alignment before it is cut into hunks. */
interface Op {
  op: 'context' | 'removed' | 'added';
  i: number; // old index or -1
  j: number; // new index or -1
  change?: number;
}

/** Diff of one chain (either side may be absent). Null when nothing differs. */
function diffChain(
  table: TableName,
  ca: Chain | undefined,
  cb: Chain | undefined,
  oldName: string | undefined,
  norm: (t: string) => string,
  fmt: ChainTexts,
  counters: boolean,
  ctx: number,
): ChainDiff | null {
  const oldRules = ca?.rules ?? [];
  const newRules = cb?.rules ?? [];
  if (ca && cb && oldName === undefined && sameRawRules(oldRules, newRules)) {
    // Fast path (most chains of a resync): the same rule lines, so the same canonical texts.
    // Only the policy and counters can differ.
    return unchangedRules(table, ca, cb, counters, fmt);
  }
  const oldText = ca ? fmt(ca) : [];
  const newText = cb ? fmt(cb) : [];
  // Identity of an old rule: its text with renamed chains (and its own chain's new name) rewritten.
  const oldKeyText = oldText.map(norm);
  if (ca && cb && sameTexts(oldKeyText, newText)) {
    // Same canonical rules (a renamed chain, references to renamed chains, or only the spelling of
    // the dump differs): only the name, the policy and counters can differ.
    return unchangedRules(table, ca, cb, counters, fmt, oldName);
  }
  const ids = new Map<string, number>();
  const intern = (t: string) => {
    let id = ids.get(t);
    if (id === undefined) ids.set(t, (id = ids.size));
    return id;
  };
  const ka = oldKeyText.map(intern);
  const kb = newText.map(intern);
  const matched = ka.length && kb.length ? alignSequences(ka, kb) : [];

  const changes: RuleChange[] = [];
  const ops: Op[] = [];
  const counterChanges: CounterChange[] = [];
  const oldRef = (i: number) => ref(oldRules[i], oldText[i]);
  const newRef = (j: number) => ref(newRules[j], newText[j]);

  // Unmatched rules, and moves: the same text unmatched on both sides (paired in order).
  const matchedOld = new Uint8Array(ka.length);
  const matchedNew = new Uint8Array(kb.length);
  for (const [i, j] of matched) {
    matchedOld[i] = 1;
    matchedNew[j] = 1;
  }
  const moveOfOld = new Map<number, number>(); // old index → new index
  const moveOfNew = new Map<number, number>();
  if (matched.length < ka.length && matched.length < kb.length) {
    const freeOld = new Map<number, number[]>();
    for (let i = 0; i < ka.length; i++) {
      if (matchedOld[i]) continue;
      let l = freeOld.get(ka[i]);
      if (!l) freeOld.set(ka[i], (l = []));
      l.push(i);
    }
    for (let j = 0; j < kb.length; j++) {
      if (matchedNew[j]) continue;
      const l = freeOld.get(kb[j]);
      if (!l || l.length === 0) continue;
      const i = l.shift()!;
      moveOfOld.set(i, j);
      moveOfNew.set(j, i);
    }
  }
  const moveChange = new Map<number, number>(); // old index → change index

  // Walk the gaps between matched pairs.
  const emitGap = (i0: number, i1: number, j0: number, j1: number) => {
    const ro: number[] = [];
    const rn: number[] = [];
    for (let i = i0; i < i1; i++) if (!moveOfOld.has(i)) ro.push(i);
    for (let j = j0; j < j1; j++) if (!moveOfNew.has(j)) rn.push(j);
    const pairs = pairSimilar(ro.map((i) => oldText[i]), rn.map((j) => newText[j]));
    // Emission in order: for each pair, what comes before it on each side, then the pair.
    let pi = i0;
    let pj = j0;
    const emitOld = (upto: number) => {
      for (; pi < upto; pi++) {
        const mj = moveOfOld.get(pi);
        if (mj !== undefined) {
          let c = moveChange.get(pi);
          if (c === undefined) {
            c = changes.length;
            moveChange.set(pi, c);
            changes.push(moveChangeOf(pi, mj));
          }
          ops.push({ op: 'removed', i: pi, j: -1, change: c });
        } else {
          const c = changes.length;
          changes.push({ kind: 'removed', old: oldRef(pi) });
          ops.push({ op: 'removed', i: pi, j: -1, change: c });
        }
      }
    };
    const emitNew = (upto: number) => {
      for (; pj < upto; pj++) {
        const mi = moveOfNew.get(pj);
        if (mi !== undefined) {
          let c = moveChange.get(mi);
          if (c === undefined) {
            c = changes.length;
            moveChange.set(mi, c);
            changes.push(moveChangeOf(mi, pj));
          }
          ops.push({ op: 'added', i: -1, j: pj, change: c });
        } else {
          const c = changes.length;
          changes.push({ kind: 'added', new: newRef(pj) });
          ops.push({ op: 'added', i: -1, j: pj, change: c });
        }
      }
    };
    for (const [pa, pb, sim] of pairs) {
      const i = ro[pa];
      const j = rn[pb];
      emitOld(i);
      emitNew(j);
      const c = changes.length;
      const rc: RuleChange = { kind: 'changed', old: oldRef(i), new: newRef(j), similarity: round3(sim), words: wordDiff(oldText[i], newText[j]) };
      const d = counters ? delta(oldRules[i].counters, newRules[j].counters) : undefined;
      if (d) rc.delta = d;
      changes.push(rc);
      ops.push({ op: 'removed', i, j: -1, change: c });
      ops.push({ op: 'added', i: -1, j, change: c });
      pi = i + 1;
      pj = j + 1;
    }
    emitOld(i1);
    emitNew(j1);
  };
  const moveChangeOf = (i: number, j: number): RuleChange => {
    const rc: RuleChange = { kind: 'moved', old: oldRef(i), new: newRef(j) };
    const d = counters ? delta(oldRules[i].counters, newRules[j].counters) : undefined;
    if (d) rc.delta = d;
    return rc;
  };

  let pa = 0;
  let pb = 0;
  for (const [i, j] of matched) {
    if (i > pa || j > pb) emitGap(pa, i, pb, j);
    ops.push({ op: 'context', i, j });
    if (counters) {
      const d = delta(oldRules[i].counters, newRules[j].counters);
      if (nonZero(d)) counterChanges.push({ old: oldRef(i), new: newRef(j), delta: d });
    }
    pa = i + 1;
    pb = j + 1;
  }
  if (pa < ka.length || pb < kb.length) emitGap(pa, ka.length, pb, kb.length);

  const chain = (cb ?? ca)!;
  const status: ChainDiff['status'] = !ca ? 'added' : !cb ? 'removed' : oldName !== undefined ? 'renamed' : 'modified';
  const policyOld: Policy | null = ca?.policy ?? null;
  const policyNew: Policy | null = cb?.policy ?? null;
  const policyChanged = policyOld !== policyNew;
  const chainCounters = counters ? delta(ca?.counters, cb?.counters) : undefined;
  const unchanged = status === 'modified' && changes.length === 0 && !policyChanged;
  if (unchanged && counterChanges.length === 0 && !nonZero(chainCounters)) return null;

  const d: ChainDiff = {
    table,
    chain: chain.name,
    status: unchanged ? 'unchanged' : status,
    builtin: chain.builtin,
    declared: {},
    rules: { old: oldRules.length, new: newRules.length },
    changes,
    hunks: changes.length ? toHunks(ops, ctx, oldRef, newRef, changes) : [],
    counters: counterChanges,
  };
  if (oldName !== undefined) d.oldName = oldName;
  if (policyChanged) d.policy = { old: policyOld, new: policyNew };
  if (ca?.span) d.declared.old = ca.span.line;
  if (cb?.span) d.declared.new = cb.span.line;
  if (nonZero(chainCounters)) d.chainCounters = chainCounters;
  return d;
}

/** A rule's source line without its `[pkts:bytes]` prefix. */
function rawBody(r: Rule): string {
  const raw = r.raw;
  if (raw.charCodeAt(0) !== 91 /* [ */) return raw;
  const k = raw.indexOf('] ');
  return k < 0 ? raw : raw.slice(k + 2);
}

/**
 * True when both chains have the same rule lines (ignoring counters). A false "not the same" only
 * costs the slower path, which compares canonical texts.
 */
function sameRawRules(a: Rule[], b: Rule[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (rawBody(a[i]) !== rawBody(b[i])) return false;
  return true;
}

/** Diff of a chain whose rules are the same on both sides: policy and counters only. */
function sameTexts(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function unchangedRules(
  table: TableName,
  ca: Chain,
  cb: Chain,
  counters: boolean,
  fmt: ChainTexts,
  oldName?: string,
): ChainDiff | null {
  const counterChanges: CounterChange[] = [];
  if (counters) {
    for (let i = 0; i < ca.rules.length; i++) {
      const d = delta(ca.rules[i].counters, cb.rules[i].counters);
      if (nonZero(d)) counterChanges.push({ old: ref(ca.rules[i], fmt(ca)[i]), new: ref(cb.rules[i], fmt(cb)[i]), delta: d });
    }
  }
  const policyChanged = ca.policy !== cb.policy;
  const chainCounters = counters ? delta(ca.counters, cb.counters) : undefined;
  if (oldName === undefined && !policyChanged && counterChanges.length === 0 && !nonZero(chainCounters)) return null;
  const d: ChainDiff = {
    table,
    chain: cb.name,
    status: oldName !== undefined ? 'renamed' : policyChanged ? 'modified' : 'unchanged',
    builtin: cb.builtin,
    declared: {},
    rules: { old: ca.rules.length, new: cb.rules.length },
    changes: [],
    hunks: [],
    counters: counterChanges,
  };
  if (oldName !== undefined) d.oldName = oldName;
  if (policyChanged) d.policy = { old: ca.policy, new: cb.policy };
  if (ca.span) d.declared.old = ca.span.line;
  if (cb.span) d.declared.new = cb.span.line;
  if (nonZero(chainCounters)) d.chainCounters = chainCounters;
  return d;
}

/** Cut the full alignment into unified-diff hunks with `ctx` context rules. */
function toHunks(
  ops: Op[],
  ctx: number,
  oldRef: (i: number) => RuleRef,
  newRef: (j: number) => RuleRef,
  changes: RuleChange[],
): Hunk[] {
  const hunks: Hunk[] = [];
  // Old/new line counts before each op, for hunk starts.
  let k = 0;
  const n = ops.length;
  // Prefix counts computed on the fly.
  let oldBefore = 0;
  let newBefore = 0;
  let idx = 0;
  const advanceTo = (target: number) => {
    for (; idx < target; idx++) {
      if (ops[idx].op !== 'added') oldBefore++;
      if (ops[idx].op !== 'removed') newBefore++;
    }
  };
  while (k < n) {
    // Next changed op.
    while (k < n && ops[k].op === 'context') k++;
    if (k >= n) break;
    const start = Math.max(0, k - ctx);
    // Extend while the next change is within 2*ctx context ops.
    let end = k; // last changed op index
    let s = k + 1;
    for (;;) {
      let gap = 0;
      while (s < n && ops[s].op === 'context') {
        gap++;
        s++;
      }
      if (s < n && gap <= 2 * ctx) {
        end = s;
        s++;
        continue;
      }
      break;
    }
    const stop = Math.min(n, end + 1 + ctx);
    advanceTo(start);
    const h: Hunk = { oldStart: oldBefore, oldCount: 0, newStart: newBefore, newCount: 0, lines: [] };
    for (let x = start; x < stop; x++) {
      const o = ops[x];
      const line: HunkLine = { op: o.op };
      if (o.i >= 0) {
        line.old = oldRef(o.i);
        h.oldCount++;
      }
      if (o.j >= 0) {
        line.new = newRef(o.j);
        h.newCount++;
      }
      if (o.change !== undefined) {
        line.change = o.change;
        const c = changes[o.change];
        if (c.kind === 'moved') {
          if (o.op === 'removed') line.movedTo = c.new!.position;
          else line.movedFrom = c.old!.position;
        }
      }
      h.lines.push(line);
    }
    // diff -u: start is 1-based, or the line before when the side is empty.
    if (h.oldCount > 0) h.oldStart++;
    if (h.newCount > 0) h.newStart++;
    hunks.push(h);
    k = stop;
  }
  return hunks;
}

/** Words of a rule for similarity: its text without the `-A CHAIN` head. */
function words(text: string): string[] {
  const w = text.split(/\s+/).filter((x) => x.length > 0);
  return w[0] === '-A' ? w.slice(2) : w;
}

function targetOf(w: string[]): string | undefined {
  for (let i = 0; i < w.length - 1; i++) if (w[i] === '-j' || w[i] === '-g') return w[i + 1];
  return undefined;
}

/** Token overlap of two rules (Dice coefficient), lowered when their targets differ. */
export function similarity(a: string, b: string): number {
  const wa = words(a);
  const wb = words(b);
  if (wa.length + wb.length === 0) return 1;
  const count = new Map<string, number>();
  for (const w of wa) count.set(w, (count.get(w) ?? 0) + 1);
  let common = 0;
  for (const w of wb) {
    const c = count.get(w);
    if (c) {
      common++;
      count.set(w, c - 1);
    }
  }
  const dice = (2 * common) / (wa.length + wb.length);
  return targetOf(wa) === targetOf(wb) ? dice : dice * 0.75;
}

/** Words only in the old rule and words only in the new one (multiset difference, in order). */
export function wordDiff(a: string, b: string): { removed: string[]; added: string[] } {
  const wa = words(a);
  const wb = words(b);
  const cb = new Map<string, number>();
  for (const w of wb) cb.set(w, (cb.get(w) ?? 0) + 1);
  const removed: string[] = [];
  for (const w of wa) {
    const c = cb.get(w);
    if (c) cb.set(w, c - 1);
    else removed.push(w);
  }
  const ca = new Map<string, number>();
  for (const w of wa) ca.set(w, (ca.get(w) ?? 0) + 1);
  const added: string[] = [];
  for (const w of wb) {
    const c = ca.get(w);
    if (c) ca.set(w, c - 1);
    else added.push(w);
  }
  return { removed, added };
}

/** Largest gap paired with the quadratic best-pairing table. */
const PAIR_CELLS = 250_000;

/**
 * Non-crossing pairing of removed and added rules of one gap maximising total similarity, pairs
 * below CHANGE_SIMILARITY excluded. Returns [old index, new index, similarity] in order.
 */
function pairSimilar(oldT: string[], newT: string[]): Array<[number, number, number]> {
  const n = oldT.length;
  const m = newT.length;
  if (n === 0 || m === 0) return [];
  if (n * m > PAIR_CELLS) {
    // Too large for the table: pair rules at the same offset of the gap when similar enough.
    const out: Array<[number, number, number]> = [];
    for (let k = 0; k < Math.min(n, m); k++) {
      const s = similarity(oldT[k], newT[k]);
      if (s >= CHANGE_SIMILARITY) out.push([k, k, s]);
    }
    return out;
  }
  const sim = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) sim[i * m + j] = similarity(oldT[i], newT[j]);
  const w = m + 1;
  const t = new Float64Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const s = sim[i * m + j];
      const take = s >= CHANGE_SIMILARITY ? s + t[(i + 1) * w + j + 1] : -1;
      t[i * w + j] = Math.max(take, t[(i + 1) * w + j], t[i * w + j + 1]);
    }
  }
  const out: Array<[number, number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    const s = sim[i * m + j];
    if (s >= CHANGE_SIMILARITY && Math.abs(t[i * w + j] - (s + t[(i + 1) * w + j + 1])) < 1e-12) {
      out.push([i, j, s]);
      i++;
      j++;
    } else if (t[(i + 1) * w + j] >= t[i * w + j + 1]) i++;
    else j++;
  }
  return out;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function summarise(tables: TableDiff[]): DiffSummary {
  const s: DiffSummary = {
    tablesAdded: 0,
    tablesRemoved: 0,
    chainsAdded: 0,
    chainsRemoved: 0,
    chainsRenamed: 0,
    policiesChanged: 0,
    rulesAdded: 0,
    rulesRemoved: 0,
    rulesMoved: 0,
    rulesChanged: 0,
    countersChanged: 0,
  };
  for (const t of tables) {
    if (t.status === 'added') s.tablesAdded++;
    if (t.status === 'removed') s.tablesRemoved++;
    for (const c of t.chains) {
      if (c.status === 'added') s.chainsAdded++;
      if (c.status === 'removed') s.chainsRemoved++;
      if (c.status === 'renamed') s.chainsRenamed++;
      if (c.policy && c.status !== 'added' && c.status !== 'removed') s.policiesChanged++;
      for (const ch of c.changes) {
        if (ch.kind === 'added') s.rulesAdded++;
        else if (ch.kind === 'removed') s.rulesRemoved++;
        else if (ch.kind === 'moved') s.rulesMoved++;
        else s.rulesChanged++;
        if (ch.delta && nonZero(ch.delta)) s.countersChanged++;
      }
      s.countersChanged += c.counters.length;
    }
  }
  return s;
}
