/**
 * Diff benchmark: two generated kube-proxy dumps of ~217k lines (5,050 Services × 10 endpoints,
 * with counters), the second with 1 % of its rules edited, deleted or inserted, spread over the
 * whole dump (./diff-mutate.ts).
 *  - structural diff (parsed rulesets in, StructuralDiff out): median of several runs — target ≤ 2 s;
 *  - the same with rendering to text (what `iptscope diff --no-behaviour` adds);
 *  - behavioural diff with the default probe bound (derivation + 2 traces per probe);
 *  - the worst case for rename detection: every kube-proxy hashed chain renamed (all references
 *    rewritten), which must come out as renames only.
 * Results are checked: the diff must report exactly the mutations made.
 *
 * Section `diff` of `npm run bench`; alone: `node --expose-gc dist/bench/diff.js [--services N] [--runs N] [--json]`.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { diffBehaviour, DEFAULT_MAX_PROBES } from '../core/diff/behaviour.js';
import { GENERIC_NODE_CONTEXT } from '../core/diff/probes.js';
import { diffStructural } from '../core/diff/structural.js';
import { formatStructuralText } from '../core/diff/text.js';
import { resolveContext } from '../core/netfilter/index.js';
import { parseRuleset } from '../core/parse/index.js';
import { generateKubeProxyDump } from '../gen/kubeproxy.js';
import { mutateDump } from './diff-mutate.js';
import { median, type BenchContext, type BenchSection, type BenchTable } from './types.js';

export { mutateDump } from './diff-mutate.js';

/** Figures of one diff benchmark run. */
export interface DiffBenchResult {
  services: number;
  endpoints: number;
  lines: { old: number; new: number };
  rules: number;
  mutations: { edited: number; deleted: number; inserted: number };
  /** True when the diff reported exactly the mutations. */
  exact: boolean;
  parseMs: { old: number; new: number };
  structural: { runs: number; firstMs: number; medianMs: number; minMs: number; maxMs: number; cpuMedianMs: number };
  render: { ms: number; bytes: number };
  behaviour: { ms: number; derived: number; traced: number; differing: number; bounded: boolean };
  /** Target of the issue for the structural diff (ms). */
  targetMs: number;
  pass: boolean;
}

const ms = (x: number) => Math.round(x * 10) / 10;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Run the diff benchmark. */
export function runDiffBench(opts: { services?: number; endpoints?: number; runs?: number; fraction?: number } = {}): DiffBenchResult {
  const services = opts.services ?? 5050;
  const endpoints = opts.endpoints ?? 10;
  const runs = opts.runs ?? 7;
  const oldText = generateKubeProxyDump({ services, endpoints, seed: 1 });
  const m = mutateDump(oldText, opts.fraction ?? 0.01);

  gc();
  let t = performance.now();
  const a = parseRuleset(oldText, { file: 'old.rules' }).ruleset;
  const parseOld = performance.now() - t;
  t = performance.now();
  const b = parseRuleset(m.text, { file: 'new.rules' }).ruleset;
  const parseNew = performance.now() - t;

  const times: number[] = [];
  const cpu: number[] = [];
  let d = diffStructural(a, b);
  for (let k = 0; k < runs; k++) {
    gc();
    const c0 = process.cpuUsage();
    t = performance.now();
    d = diffStructural(a, b);
    times.push(performance.now() - t);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const exact =
    d.summary.rulesChanged === m.edited &&
    d.summary.rulesRemoved === m.deleted &&
    d.summary.rulesAdded === m.inserted &&
    d.summary.rulesMoved === 0 &&
    d.summary.chainsAdded + d.summary.chainsRemoved + d.summary.chainsRenamed === 0;

  t = performance.now();
  const text = formatStructuralText(d, { color: false });
  const renderMs = performance.now() - t;

  const ctx = resolveContext(GENERIC_NODE_CONTEXT).context;
  gc();
  t = performance.now();
  const beh = diffBehaviour(a, b, ctx, ctx, [], { structural: d, maxProbes: DEFAULT_MAX_PROBES });
  const behMs = performance.now() - t;

  // The first structural run is measured separately: it includes JIT warm-up.
  gc();
  const a2 = parseRuleset(oldText, { file: 'old.rules' }).ruleset;
  const b2 = parseRuleset(m.text, { file: 'new.rules' }).ruleset;
  t = performance.now();
  diffStructural(a2, b2);
  const first = performance.now() - t;

  const med = median(times);
  return {
    services,
    endpoints,
    lines: { old: oldText.split('\n').length, new: m.text.split('\n').length },
    rules: m.rules,
    mutations: { edited: m.edited, deleted: m.deleted, inserted: m.inserted },
    exact,
    parseMs: { old: ms(parseOld), new: ms(parseNew) },
    structural: { runs, firstMs: ms(first), medianMs: ms(med), minMs: ms(Math.min(...times)), maxMs: ms(Math.max(...times)), cpuMedianMs: ms(median(cpu)) },
    render: { ms: ms(renderMs), bytes: text.length },
    behaviour: { ms: ms(behMs), derived: beh.probesDerived, traced: beh.probesTraced, differing: beh.changes.length, bounded: beh.bounded !== undefined },
    targetMs: 2000,
    pass: exact && med <= 2000,
  };
}

/** Human-readable report of a run. */
export function formatDiffBench(r: DiffBenchResult): string {
  return [
    `diff: ${r.lines.old.toLocaleString('en')} vs ${r.lines.new.toLocaleString('en')} lines (${r.services} Services × ${r.endpoints} endpoints, ${r.rules.toLocaleString('en')} rules)`,
    `  mutated 1 %: ${r.mutations.edited} edited, ${r.mutations.deleted} deleted, ${r.mutations.inserted} inserted — diff reports exactly these: ${r.exact ? 'yes' : 'NO'}`,
    `  parse: old ${r.parseMs.old} ms, new ${r.parseMs.new} ms (not part of the diff figure)`,
    `  structural diff: median ${r.structural.medianMs} ms of ${r.structural.runs} runs (CPU ${r.structural.cpuMedianMs} ms; min ${r.structural.minMs}, max ${r.structural.maxMs}; first cold run ${r.structural.firstMs} ms) — target ≤ ${r.targetMs} ms: ${r.pass ? 'PASS' : 'FAIL'}`,
    `  text rendering: ${r.render.ms} ms (${r.render.bytes.toLocaleString('en')} bytes)`,
    `  behavioural diff: ${r.behaviour.ms} ms — ${r.behaviour.traced} of ${r.behaviour.derived} probes traced${r.behaviour.bounded ? ' (bounded)' : ''}, ${r.behaviour.differing} differ`,
  ].join('\n');
}

/** Every kube-proxy hashed chain renamed (hash reversed) everywhere: the rename detector's worst case. */
export function runRenameBench(opts: { services?: number; endpoints?: number; runs?: number } = {}): {
  lines: number;
  renamed: number;
  otherChanges: number;
  medianMs: number;
  cpuMedianMs: number;
} {
  const text = generateKubeProxyDump({ services: opts.services ?? 5050, endpoints: opts.endpoints ?? 10, seed: 1 });
  const renamed = text.replace(/KUBE-(SVC|SEP|EXT|FW)-([A-Z0-9]+)/g, (_m, p: string, h: string) => `KUBE-${p}-${[...h].reverse().join('')}`);
  const a = parseRuleset(text, { file: 'old.rules' }).ruleset;
  const b = parseRuleset(renamed, { file: 'new.rules' }).ruleset;
  const times: number[] = [];
  const cpu: number[] = [];
  let d = diffStructural(a, b);
  for (let k = 0; k < (opts.runs ?? 3); k++) {
    gc();
    const c0 = process.cpuUsage();
    const t = performance.now();
    d = diffStructural(a, b);
    times.push(performance.now() - t);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const s = d.summary;
  return {
    lines: text.split('\n').length,
    renamed: s.chainsRenamed,
    otherChanges: s.rulesAdded + s.rulesRemoved + s.rulesMoved + s.rulesChanged + s.chainsAdded + s.chainsRemoved,
    medianMs: ms(median(times)),
    cpuMedianMs: ms(median(cpu)),
  };
}

/** The `diff` section of `npm run bench`. */
export const section: BenchSection = {
  name: 'diff',
  description: 'structural and behavioural diff of two ~217k-line kube-proxy dumps differing in 1% of rules',
  async run(ctx: BenchContext): Promise<BenchTable[]> {
    const size = ctx.quick ? { services: 500, runs: 3 } : { services: 5050, runs: 7 };
    ctx.log(`diff: generating and parsing two ${size.services}×10 dumps…`);
    const r = runDiffBench(size);
    ctx.log('diff: rename worst case…');
    const rn = runRenameBench({ services: size.services, runs: 3 });
    const n = (x: number) => x.toLocaleString('en');
    return [
      {
        title: `Structural diff (${n(r.lines.old)}-line dumps, ${r.services} Services × ${r.endpoints} endpoints, ${n(r.rules)} rules)`,
        columns: ['case', 'changes reported', 'exact', 'median ms', 'CPU ms', 'min–max ms', 'first run ms'],
        rows: [
          [
            '1% of rules edited/deleted/inserted',
            `${r.mutations.edited} changed, ${r.mutations.deleted} removed, ${r.mutations.inserted} added`,
            r.exact ? 'yes' : 'NO',
            String(r.structural.medianMs),
            String(r.structural.cpuMedianMs),
            `${r.structural.minMs}–${r.structural.maxMs}`,
            String(r.structural.firstMs),
          ],
          ['every hashed chain renamed', `${n(rn.renamed)} renames, ${rn.otherChanges} other`, rn.otherChanges === 0 ? 'yes' : 'NO', String(rn.medianMs), String(rn.cpuMedianMs), '', ''],
        ],
        notes: [
          `target: structural diff of the 1% case ≤ ${r.targetMs} ms (median of ${r.structural.runs} runs, parsed rulesets in): ${r.pass ? 'PASS' : 'FAIL'}`,
          `parse (not included): old ${r.parseMs.old} ms, new ${r.parseMs.new} ms; text rendering of the diff ${r.render.ms} ms (${n(r.render.bytes)} bytes)`,
          `behavioural diff (default bound): ${r.behaviour.traced} of ${n(r.behaviour.derived)} derived probes traced on both sides in ${r.behaviour.ms} ms, ${r.behaviour.differing} differ`,
        ],
      },
    ];
  },
};

// Run directly: `node dist/bench/diff.js [--services N] [--runs N] [--json]`.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const k = process.argv.indexOf(name);
    return k > 0 ? Number(process.argv[k + 1]) : undefined;
  };
  const r = runDiffBench({ services: arg('--services'), runs: arg('--runs') });
  process.stdout.write((process.argv.includes('--json') ? JSON.stringify(r, null, 2) : formatDiffBench(r)) + '\n');
  process.exitCode = r.pass ? 0 : 1;
}
