/**
 * `npm run bench [-- --only SECTION] [-- --quick] [-- --markdown]`: runs the benchmark sections
 * and prints their tables with the machine they ran on. Sections are `src/bench/<area>.ts` files
 * exporting `section: BenchSection`; the runner looks for the known areas and skips absent ones,
 * so an area adds its file without editing this one.
 */
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchContext, BenchSection, BenchTable } from './types.js';

/** Section modules, in the order they run. */
export const SECTION_MODULES = ['parse', 'trace', 'diff', 'tui'];

async function loadSections(): Promise<BenchSection[]> {
  const out: BenchSection[] = [];
  for (const name of SECTION_MODULES) {
    try {
      const mod = (await import(`./${name}.js`)) as { section?: BenchSection };
      if (mod.section) out.push(mod.section);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ERR_MODULE_NOT_FOUND') throw err;
    }
  }
  return out;
}

function machine(): string[] {
  const c = cpus();
  return [
    `date: ${new Date().toISOString()}`,
    `node: ${process.version} (${process.platform} ${process.arch})`,
    `cpus: ${c.length} × ${c[0]?.model ?? 'unknown'}`,
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  ];
}

/** Aligned text table. */
export function renderTable(t: BenchTable, markdown: boolean): string {
  const rows = [t.columns, ...t.rows];
  if (markdown) {
    const line = (r: string[]): string => `| ${r.join(' | ')} |`;
    const out = [`### ${t.title}`, '', line(t.columns), line(t.columns.map(() => '---')), ...t.rows.map(line)];
    if (t.notes?.length) out.push('', ...t.notes.map((n) => `- ${n}`));
    return out.join('\n') + '\n';
  }
  const widths = t.columns.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [t.title, fmt(t.columns), ...t.rows.map(fmt)];
  if (t.notes?.length) out.push(...t.notes.map((n) => `  ${n}`));
  return out.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  let opts;
  try {
    opts = parseArgs({
      args: argv,
      options: { only: { type: 'string' }, quick: { type: 'boolean' }, markdown: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }).values;
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message.split(/\n|\. /)[0]}\n`);
    return 2;
  }
  const sections = await loadSections();
  if (opts.help) {
    process.stdout.write(`usage: npm run bench -- [--only SECTION] [--quick] [--markdown]\nsections: ${sections.map((s) => `${s.name} (${s.description})`).join(', ')}\n`);
    return 0;
  }
  const chosen = opts.only ? sections.filter((s) => s.name === opts.only) : sections;
  if (chosen.length === 0) {
    process.stderr.write(`bench: no section "${opts.only}" (sections: ${sections.map((s) => s.name).join(', ')})\n`);
    return 2;
  }
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const workDir = resolve(root, 'bench/out');
  mkdirSync(workDir, { recursive: true });
  const ctx: BenchContext = { quick: opts.quick === true, workDir, root, log: (l) => process.stderr.write(`bench: ${l}\n`) };
  const md = opts.markdown === true;
  process.stdout.write((md ? machine().map((l) => `- ${l}`) : machine()).join('\n') + '\n\n');
  for (const s of chosen) {
    ctx.log(`section ${s.name}: ${s.description}`);
    for (const t of await s.run(ctx)) process.stdout.write(renderTable(t, md) + '\n');
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
