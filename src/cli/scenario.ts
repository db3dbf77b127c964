/**
 * `iptscope scenario run [DIR…] [--json] [--update-golden]` and `iptscope scenario list [DIR…]`.
 *
 * Runs every packet of each scenario through the engine, checks its expected outcomes and its
 * golden trace (`DIR/golden/<packet>.txt`, the text trace without colour), and exits 1 with a
 * readable diff on any mismatch. Golden files change only with --update-golden.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { formatMismatches, outcomePath, type Mismatch } from '../core/scenario-check.js';
import type { Outcome } from '../core/netfilter/types.js';
import { runScenario } from '../core/scenario-run.js';
import { defaultScenariosRoot, isScenarioDir, listScenarios, loadScenario } from '../sources/scenario.js';
import { CliError } from './errors.js';
import { formatTraceText } from './format-trace.js';
import type { CliIO } from './io.js';

export const SCENARIO_USAGE = `usage: iptscope scenario run [DIR…] [--json] [--update-golden]
       iptscope scenario list [DIR…]

DIR   a scenario folder (scenario.json + rules file + golden/), or a folder of scenario folders;
      default: every scenario under the package's scenarios/

run   traces each packet, checks its expected outcomes (verdict, disposition, interface,
      translated addresses, mark, probability, decisive path) and its golden trace
      golden/<packet>.txt; exit 1 with a diff on any mismatch
      --update-golden   rewrite the golden traces from the current engine (deliberately!)
      --json            machine-readable report
`;

/** Golden status of a packet. */
export type GoldenStatus = 'ok' | 'differs' | 'missing' | 'updated' | 'none';

/** The report of one packet. */
export interface PacketReport {
  name: string;
  outcomes: number;
  /** Invalid packet or trace failure. */
  errors: string[];
  mismatches: Mismatch[];
  golden: GoldenStatus;
  /** For `differs`: a short line diff. */
  goldenDiff?: string;
  /** One line per actual outcome (shown when the outcomes do not match). */
  actual: string[];
  ok: boolean;
}

/** The report of one scenario. */
export interface ScenarioReport {
  name: string;
  dir: string;
  /** Errors in the rules file (a scenario's rules must parse cleanly). */
  ruleErrors: string[];
  packets: PacketReport[];
  ok: boolean;
}

/** A minimal line diff: the first differing region with a few lines of context. */
export function lineDiff(want: string, got: string, context = 2): string {
  const a = want.split('\n');
  const b = got.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  let ea = a.length - 1;
  let eb = b.length - 1;
  while (ea >= i && eb >= i && a[ea] === b[eb]) {
    ea--;
    eb--;
  }
  const out: string[] = [`@@ line ${i + 1} @@`];
  for (let k = Math.max(0, i - context); k < i; k++) out.push(`  ${a[k]}`);
  const maxShown = 40;
  const removed = a.slice(i, ea + 1);
  const added = b.slice(i, eb + 1);
  removed.slice(0, maxShown).forEach((l) => out.push(`- ${l}`));
  if (removed.length > maxShown) out.push(`- … ${removed.length - maxShown} more line(s)`);
  added.slice(0, maxShown).forEach((l) => out.push(`+ ${l}`));
  if (added.length > maxShown) out.push(`+ … ${added.length - maxShown} more line(s)`);
  for (let k = ea + 1; k < Math.min(a.length, ea + 1 + context); k++) out.push(`  ${a[k]}`);
  return out.join('\n');
}

/** `p 0.5 ACCEPT forwarded out cni0 → 10.244.1.11:80 [line 12=match] path …` for the report. */
export function outcomeSummary(o: Outcome, i: number): string {
  const ep = (a: string, p?: number) => (p === undefined ? a : a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
  const assumptions = o.assumptions.length ? ` [${o.assumptions.map((a) => `line ${a.line}=${a.choice}`).join(', ')}]` : '';
  return `actual ${i + 1}: p ${Number(o.probability.toFixed(6))} ${o.verdict} · ${o.disposition.text} · ${ep(o.packet.src, o.packet.sport)} → ${ep(o.packet.dst, o.packet.dport)} mark 0x${o.packet.mark.toString(16)}${assumptions}\n      path ${outcomePath(o).join(' ')}`;
}

/** Path of a packet's golden trace. */
export function goldenPath(dir: string, packet: string): string {
  return join(dir, 'golden', `${packet}.txt`);
}

/**
 * Run one scenario folder: outcomes and golden traces. With `updateGolden`, golden files are
 * (re)written instead of compared.
 */
export async function checkScenarioDir(dir: string, opts: { updateGolden?: boolean } = {}): Promise<ScenarioReport> {
  const loaded = await loadScenario(dir);
  const ruleErrors = loaded.parse.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`);
  const runs = runScenario(loaded.scenario, loaded.parse.ruleset);
  const packets: PacketReport[] = [];
  for (const r of runs) {
    let golden: GoldenStatus = 'none';
    let goldenDiff: string | undefined;
    if (r.result) {
      const text = formatTraceText(r.result, { color: false });
      const file = goldenPath(dir, r.name);
      if (opts.updateGolden) {
        await mkdir(join(dir, 'golden'), { recursive: true });
        let old: string | undefined;
        try {
          old = await readFile(file, 'utf8');
        } catch {
          old = undefined;
        }
        if (old !== text) await writeFile(file, text);
        golden = old === text ? 'ok' : 'updated';
      } else {
        let want: string | undefined;
        try {
          want = await readFile(file, 'utf8');
        } catch {
          want = undefined;
        }
        if (want === undefined) golden = 'missing';
        else if (want === text) golden = 'ok';
        else {
          golden = 'differs';
          goldenDiff = lineDiff(want, text);
        }
      }
    }
    const ok = r.errors.length === 0 && r.mismatches.length === 0 && (golden === 'ok' || golden === 'updated');
    packets.push({
      name: r.name,
      actual: (r.result?.outcomes ?? []).map(outcomeSummary),
      outcomes: r.result?.outcomes.length ?? 0,
      errors: r.errors,
      mismatches: r.mismatches,
      golden,
      goldenDiff,
      ok,
    });
  }
  if (opts.updateGolden) {
    // Golden files of packets that no longer exist would never be checked again: remove them.
    const wanted = new Set(runs.map((r) => `${r.name}.txt`));
    let present: string[] = [];
    try {
      present = await readdir(join(dir, 'golden'));
    } catch {
      present = [];
    }
    for (const f of present) if (f.endsWith('.txt') && !wanted.has(f)) await rm(join(dir, 'golden', f));
  }
  return {
    name: loaded.scenario.name,
    dir,
    ruleErrors,
    packets,
    ok: ruleErrors.length === 0 && packets.every((p) => p.ok),
  };
}

/** Expand DIR arguments: a scenario folder stays, a folder of scenarios becomes its scenarios. */
export async function resolveScenarioDirs(dirs: string[]): Promise<string[]> {
  if (dirs.length === 0) return listScenarios(defaultScenariosRoot());
  const out: string[] = [];
  for (const d of dirs) {
    if (await isScenarioDir(d)) out.push(d);
    else {
      const inner = await listScenarios(d);
      if (inner.length === 0) throw new CliError(`${d}: not a scenario folder (no scenario.json) and holds none`);
      out.push(...inner);
    }
  }
  return out;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

/** The human report of a run. */
export function formatReport(reports: ScenarioReport[], updated: boolean): string {
  const out: string[] = [];
  let packets = 0;
  let failed = 0;
  let written = 0;
  for (const s of reports) {
    out.push(`${s.ok ? '✓' : '✗'} ${s.name}  (${s.dir})`);
    for (const e of s.ruleErrors) out.push(`    rules: ${e}`);
    for (const p of s.packets) {
      packets++;
      if (!p.ok) failed++;
      if (p.golden === 'updated') written++;
      const note = p.golden === 'updated' ? ', golden updated' : '';
      out.push(`  ${p.ok ? '✓' : '✗'} ${p.name}  (${p.outcomes} outcome${p.outcomes === 1 ? '' : 's'}${note})`);
      for (const e of p.errors) out.push(`      invalid packet: ${e}`);
      if (p.mismatches.length) {
        out.push(indent(formatMismatches(p.mismatches), '      '));
        for (const a of p.actual) out.push(indent(a, '      '));
      }
      if (p.golden === 'missing') out.push(`      golden trace ${join(basename(s.dir), 'golden', p.name + '.txt')} is missing (run with --update-golden to create it)`);
      if (p.golden === 'differs') {
        out.push(`      golden trace ${join(basename(s.dir), 'golden', p.name + '.txt')} differs (--update-golden to accept):`);
        out.push(indent(p.goldenDiff ?? '', '        '));
      }
    }
  }
  const failedScenarios = reports.filter((r) => !r.ok).length;
  out.push('');
  out.push(
    `${reports.length} scenario(s), ${packets} packet(s): ${packets - failed} passed, ${failed} failed` +
      (failedScenarios && !failed ? ` (${failedScenarios} scenario(s) with rule errors)` : '') +
      (updated ? `; ${written} golden trace(s) written` : ''),
  );
  return out.join('\n') + '\n';
}

/** `iptscope scenario` entry point. */
export async function run(args: string[], io: CliIO): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === undefined) {
    io.err(SCENARIO_USAGE);
    return 2;
  }
  if (verb === '--help' || verb === '-h' || verb === 'help') {
    io.out(SCENARIO_USAGE);
    return 0;
  }
  if (verb !== 'run' && verb !== 'list') throw new CliError(`scenario: unknown subcommand ${verb} (run or list)`);
  let json = false;
  let updateGolden = false;
  const dirs: string[] = [];
  for (const a of rest) {
    if (a === '--json') json = true;
    else if (a === '--update-golden' && verb === 'run') updateGolden = true;
    else if (a === '--help' || a === '-h') {
      io.out(SCENARIO_USAGE);
      return 0;
    } else if (a.startsWith('-')) throw new CliError(`scenario ${verb}: unknown option ${a}`);
    else dirs.push(a);
  }
  const resolved = await resolveScenarioDirs(dirs);
  if (verb === 'list') {
    const items = [];
    for (const d of resolved) {
      const l = await loadScenario(d);
      items.push({ name: l.scenario.name, dir: d, description: l.scenario.description, packets: l.scenario.packets.map((p) => p.name) });
    }
    if (json) io.out(JSON.stringify(items, null, 2) + '\n');
    else for (const it of items) io.out(`${it.name}  (${it.packets.length} packets)  ${it.description}\n`);
    return 0;
  }
  const reports: ScenarioReport[] = [];
  for (const d of resolved) reports.push(await checkScenarioDir(d, { updateGolden }));
  if (json) {
    const body = {
      ok: reports.every((r) => r.ok),
      scenarios: reports.map((r) => ({
        name: r.name,
        dir: r.dir,
        ok: r.ok,
        ruleErrors: r.ruleErrors,
        packets: r.packets.map((p) => ({
          name: p.name,
          ok: p.ok,
          outcomes: p.outcomes,
          errors: p.errors,
          mismatches: p.mismatches,
          golden: p.golden,
          ...(p.goldenDiff !== undefined ? { goldenDiff: p.goldenDiff } : {}),
        })),
      })),
    };
    io.out(JSON.stringify(body, null, 2) + '\n');
  } else io.out(formatReport(reports, updateGolden));
  return reports.every((r) => r.ok) ? 0 : 1;
}
