/**
 * `iptscope lint SOURCE [--json] [--no-info]`
 *
 * The parser's diagnostics plus static checks (src/core/parse/lint.ts): unreferenced user chains,
 * rules shadowed by an earlier unconditional ACCEPT/DROP/RETURN/goto, jumps to empty chains,
 * duplicate rules. Text: code frames on stdout and a summary line. Exit 1 when there are errors.
 */
import type { Diagnostic, Family } from '../core/model.js';
import { codeFrame } from '../core/parse/index.js';
import { diagnosticJson, JSON_SCHEMA_VERSION } from '../core/parse/json.js';
import { lintRuleset } from '../core/parse/lint.js';
import { openSource } from '../sources/index.js';
import { CliError } from './errors.js';
import { parseFlags } from './flags.js';
import type { CliIO } from './io.js';
import { familiesOf } from './show.js';

const USAGE = `usage: iptscope lint SOURCE [--json] [--no-info]

  SOURCE      a dump file, - for stdin, live, a directory of dumps, or a capture bundle
  --json      findings as JSON (same fields as show --json diagnostics)
  --no-info   leave out info findings
  -h, --help  this help

Checks: every parser diagnostic, plus unreferenced-chain, shadowed-rule, duplicate-rule,
jump-to-empty-chain. Exit status: 0 no errors, 1 errors found, 2 unusable input or usage.
`;

const RANK = { error: 0, warning: 1, info: 2 } as const;

/** Parser diagnostics and lint findings of one ruleset, in line order (stable). */
export function lintFindings(parseDiags: Diagnostic[], lint: Diagnostic[]): Diagnostic[] {
  return [...parseDiags, ...lint]
    .map((d, i) => ({ d, i }))
    .sort((a, b) => a.d.line - b.d.line || a.d.column - b.d.column || RANK[a.d.severity] - RANK[b.d.severity] || a.i - b.i)
    .map((x) => x.d);
}

/** `iptscope lint`. */
export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseFlags('lint', args, { json: { type: 'boolean' }, 'no-info': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (parsed.values.help) {
    io.out(USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) throw new CliError('lint: missing SOURCE (see iptscope lint --help)', 2);
  if (parsed.positionals.length > 1) throw new CliError(`lint: unexpected argument "${parsed.positionals[1]}" (one SOURCE)`, 2);
  const src = await openSource(parsed.positionals[0], io);
  const noInfo = parsed.values['no-info'] === true;
  const perFamily: { family: Family; findings: Diagnostic[] }[] = familiesOf(src).map((f) => {
    const p = src.rulesets[f]!;
    const all = lintFindings(p.diagnostics, lintRuleset(p.ruleset));
    return { family: f, findings: noInfo ? all.filter((d) => d.severity !== 'info') : all };
  });
  const count = (sev: string): number => perFamily.reduce((n, x) => n + x.findings.filter((d) => d.severity === sev).length, 0);
  const errors = count('error');
  if (parsed.values.json) {
    io.out(
      JSON.stringify(
        {
          schemaVersion: JSON_SCHEMA_VERSION,
          source: { kind: src.kind, label: src.label, path: src.path ?? null },
          rulesets: perFamily.map((x) => ({ family: x.family, findings: x.findings.map(diagnosticJson) })),
          summary: { errors, warnings: count('warning'), infos: count('info') },
        },
        null,
        2,
      ) + '\n',
    );
    return errors > 0 ? 1 : 0;
  }
  for (const note of src.notes) io.err(`iptscope: note: ${note}\n`);
  for (const x of perFamily) {
    const text = src.texts[x.family] ?? '';
    for (const d of x.findings) io.out(codeFrame(d, text));
  }
  const total = perFamily.reduce((n, x) => n + x.findings.length, 0);
  io.out(
    total === 0
      ? `${src.label}: no findings\n`
      : `${src.label}: ${errors} error(s), ${count('warning')} warning(s), ${count('info')} info(s)\n`,
  );
  return errors > 0 ? 1 : 0;
}
