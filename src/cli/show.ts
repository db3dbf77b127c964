/**
 * `iptscope show SOURCE [--table T] [--chain C] [--json]`
 *
 * Without --chain: per table, each chain with its policy, rule count, references and counters.
 * With --chain: the chain's rules like `iptables -L -v -n --line-numbers`, each followed by its
 * source line. --json: the model (schema in the README). Parse errors are printed as code frames
 * on stderr and make the exit status 1, but everything that could be parsed is still shown.
 */
import { findMatch, findTarget } from '../core/extensions/index.js';
import type { Chain, Diagnostic, Family, Match, MatchOption, ParseResult, Rule, Table, Target } from '../core/model.js';
import { TABLE_NAMES } from '../core/model.js';
import { codeFrame } from '../core/parse/index.js';
import { isSaveString } from '../core/parse/known.js';
import { bareOrQuoted, saveString } from '../core/parse/format.js';
import { diagnosticJson, JSON_SCHEMA_VERSION, rulesetJson } from '../core/parse/json.js';
import { openSource } from '../sources/index.js';
import type { LoadedSource } from '../sources/types.js';
import { CliError } from './errors.js';
import { parseFlags } from './flags.js';
import type { CliIO } from './io.js';

const USAGE = `usage: iptscope show SOURCE [--table T] [--chain C] [--json]

  SOURCE        a dump file (iptables-save / ip6tables-save, with or without -c), - for stdin,
                live, a directory of dumps, or a capture bundle
  --table T     only table T (raw, mangle, nat, filter, security)
  --chain C     list chain C's rules like iptables -L -v -n --line-numbers, with source lines
  --json        print the model as JSON (schema: README, "show --json")
  -h, --help    this help

Exit status: 0 shown, 1 shown but the input has errors (printed on stderr), 2 unusable input or usage.
`;

/** Options of `show` after argument parsing. */
interface ShowOptions {
  source: string;
  table?: string;
  chain?: string;
  json: boolean;
}

/** Parse `show` arguments; CliError (exit 2, one line) on bad flags. */
export function parseShowArgs(args: string[], command = 'show'): ShowOptions | 'help' {
  const parsed = parseFlags(command, args, {
    table: { type: 'string', short: 't' },
    chain: { type: 'string', short: 'c' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length === 0) throw new CliError(`${command}: missing SOURCE (see iptscope ${command} --help)`, 2);
  if (parsed.positionals.length > 1) throw new CliError(`${command}: unexpected argument "${parsed.positionals[1]}" (one SOURCE)`, 2);
  if (v.table !== undefined && !(TABLE_NAMES as readonly string[]).includes(v.table)) {
    throw new CliError(`${command}: unknown table "${v.table}" (tables: ${TABLE_NAMES.join(', ')})`, 2);
  }
  return { source: parsed.positionals[0], table: v.table, chain: v.chain, json: v.json === true };
}

/** The families a source carries, IPv4 first. */
export function familiesOf(src: LoadedSource): Family[] {
  return (['ipv4', 'ipv6'] as Family[]).filter((f) => src.rulesets[f] !== undefined);
}

/**
 * Print diagnostics as code frames on stderr (errors and warnings; infos only when asked).
 * Returns the number of errors.
 */
export function printDiagnostics(io: CliIO, diags: Diagnostic[], text: string | undefined, withInfo = false): number {
  let errors = 0;
  for (const d of diags) {
    if (d.severity === 'error') errors++;
    if (d.severity === 'info' && !withInfo) continue;
    io.err(codeFrame(d, text ?? ''));
  }
  return errors;
}

/** iptables' number format for -v without -x (xtables_print_num with FMT_KILOMEGAGIGA). */
export function humanCount(n: number): string {
  if (n <= 99999) return String(n);
  const units = ['K', 'M', 'G', 'T', 'P', 'E'];
  let v = n;
  for (const u of units) {
    v = Math.floor((v + 500) / 1000);
    if (v <= 9999) return `${v}${u}`;
  }
  return `${v}E`;
}

function pad(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}
function padl(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

/** Render rows as aligned columns (numbers right-aligned where `right[i]`). */
function columns(rows: string[][], right: boolean[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (right[i] ? padl(c, widths[i]) : i === r.length - 1 ? c : pad(c, widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

/** Table overview: one row per chain. */
function formatTableOverview(t: Table): string[] {
  const chains = [...t.chains.values()];
  const builtin = chains.filter((c) => c.builtin).length;
  const rules = chains.reduce((n, c) => n + c.rules.length, 0);
  const out = [`table ${t.name}: ${builtin} builtin and ${chains.length - builtin} user chain(s), ${rules} rule(s)`];
  const rows: string[][] = [['  chain', 'policy', 'rules', 'refs', 'pkts', 'bytes']];
  for (const c of chains) {
    rows.push([
      '  ' + c.name,
      c.builtin ? (c.policy ?? 'ACCEPT') : '-',
      String(c.rules.length),
      c.builtin ? '-' : String(c.references),
      c.counters ? humanCount(c.counters.packets) : '-',
      c.counters ? humanCount(c.counters.bytes) : '-',
    ]);
  }
  out.push(...columns(rows, [false, false, true, true, true, true]));
  return out;
}

function optionText(module: string, o: MatchOption): string {
  const args = o.args.map((a) => (isSaveString(module, o.name) ? saveString(a) : bareOrQuoted(a))).join(' ');
  return `${o.negated ? '! ' : ''}--${o.name}${args ? ' ' + args : ''}`;
}

/** A match as `iptables -L` shows it: the extension's description when it has one, else its options. */
export function describeMatch(m: Match): string {
  if (m.module === 'comment' && m.options.length === 1 && m.options[0].name === 'comment') {
    return `/* ${m.options[0].args.join(' ')} */`;
  }
  const ext = findMatch(m.module);
  if (ext?.describe && m.typed !== undefined) {
    try {
      return ext.describe(m.typed);
    } catch {
      // fall back to the options
    }
  }
  return [m.module, ...m.options.map((o) => optionText(m.module, o))].join(' ');
}

/** A target's options as `iptables -L` shows them (extension description, else its options). */
export function describeTarget(t: Target): string {
  if (t.options.length === 0) return '';
  const ext = findTarget(t.name);
  if (ext?.describe && t.typed !== undefined) {
    try {
      return ext.describe(t.typed);
    } catch {
      // fall back to the options
    }
  }
  return t.options.map((o) => optionText(t.name, o)).join(' ');
}

function addr(v: Rule['ip']['src'], family: Family): string {
  if (!v) return family === 'ipv6' ? '::/0' : '0.0.0.0/0';
  const full = (family === 'ipv6' && v.value.prefix === 128) || (family === 'ipv4' && v.value.prefix === 32 && !v.value.mask);
  const t = full ? v.value.text.slice(0, v.value.text.lastIndexOf('/')) : v.value.text;
  return (v.negated ? '!' : '') + t;
}

/** `Chain X (policy P N packets, M bytes)` / `Chain X (N references)` and the rule rows. */
export function formatChainListing(c: Chain, family: Family): string[] {
  const head = c.builtin
    ? `Chain ${c.name} (policy ${c.policy ?? 'ACCEPT'}${c.counters ? ` ${humanCount(c.counters.packets)} packets, ${humanCount(c.counters.bytes)} bytes` : ''})`
    : `Chain ${c.name} (${c.references} reference${c.references === 1 ? '' : 's'})`;
  const rows: string[][] = [['num', 'pkts', 'bytes', 'target', 'prot', 'opt', 'in', 'out', 'source', 'destination', '']];
  for (const r of c.rules) {
    const ip = r.ip;
    const proto = ip.proto ? (ip.proto.negated ? '!' : '') + (ip.proto.value.number === 0 ? 'all' : ip.proto.value.name) : 'all';
    const opt = ip.fragment ? (ip.fragment.negated ? '!f' : '-f') : '--';
    const t = r.target;
    const extras = [...r.matches.map(describeMatch)];
    if (t?.goto) extras.push(`[goto]`);
    if (t) {
      const d = describeTarget(t);
      if (d) extras.push(d);
    }
    rows.push([
      String(r.position),
      r.counters ? humanCount(r.counters.packets) : '-',
      r.counters ? humanCount(r.counters.bytes) : '-',
      t ? t.name : '',
      proto,
      opt,
      ip.iif ? (ip.iif.negated ? '!' : '') + ip.iif.value : '*',
      ip.oif ? (ip.oif.negated ? '!' : '') + ip.oif.value : '*',
      addr(ip.src, family),
      addr(ip.dst, family),
      extras.join(' '),
    ]);
  }
  const lines = columns(rows, [true, true, true, false, false, false, false, false, false, false, false]);
  const out = [head, lines[0]];
  c.rules.forEach((r, i) => {
    out.push(lines[i + 1]);
    out.push(`      ${r.span.file}:${r.span.line}: ${r.raw.trim()}`);
  });
  return out;
}

/** Check --table/--chain against a parse; CliError (exit 2) when they name nothing. */
function checkSelection(results: ParseResult[], o: ShowOptions, label: string): void {
  if (o.table && !results.some((p) => p.ruleset.tables.has(o.table as never))) {
    const have = [...new Set(results.flatMap((p) => [...p.ruleset.tables.keys()]))];
    throw new CliError(`${label}: no table ${o.table} (tables: ${have.join(', ') || 'none'})`, 2);
  }
  if (o.chain) {
    const found = results.some((p) =>
      [...p.ruleset.tables.values()].some((t) => (!o.table || t.name === o.table) && t.chains.has(o.chain!)),
    );
    if (!found) throw new CliError(`${label}: no chain ${o.chain}${o.table ? ` in table ${o.table}` : ''}`, 2);
  }
}

/** `iptscope show`. */
export async function run(args: string[], io: CliIO): Promise<number> {
  const o = parseShowArgs(args);
  if (o === 'help') {
    io.out(USAGE);
    return 0;
  }
  const src = await openSource(o.source, io);
  const fams = familiesOf(src);
  const results = fams.map((f) => src.rulesets[f]!);
  let errors = 0;
  for (const f of fams) errors += printDiagnostics(io, src.rulesets[f]!.diagnostics, src.texts[f]);
  for (const note of src.notes) io.err(`iptscope: note: ${note}\n`);
  checkSelection(results, o, src.label);

  if (o.json) {
    const doc = {
      schemaVersion: JSON_SCHEMA_VERSION,
      source: { kind: src.kind, label: src.label, path: src.path ?? null },
      rulesets: fams.map((f) => {
        const p = src.rulesets[f]!;
        return { ...(rulesetJson(p.ruleset, { table: o.table, chain: o.chain }) as object), diagnostics: p.diagnostics.map(diagnosticJson) };
      }),
      errors,
    };
    io.out(JSON.stringify(doc, null, 2) + '\n');
    return errors > 0 ? 1 : 0;
  }

  const out: string[] = [];
  for (const f of fams) {
    const rs = src.rulesets[f]!.ruleset;
    if (fams.length > 1 || src.kind !== 'file') out.push(`== ${f === 'ipv6' ? 'IPv6 (ip6tables)' : 'IPv4 (iptables)'} · ${src.label} ==`);
    for (const t of rs.tables.values()) {
      if (o.table && t.name !== o.table) continue;
      if (o.chain) {
        const c = t.chains.get(o.chain);
        if (!c) continue;
        out.push(`# table ${t.name}`);
        out.push(...formatChainListing(c, rs.family), '');
      } else {
        out.push(...formatTableOverview(t), '');
      }
    }
    if (rs.tables.size === 0) out.push('(no tables)', '');
  }
  io.out(out.join('\n').replace(/\n+$/, '') + '\n');
  return errors > 0 ? 1 : 0;
}
