/**
 * Golden tests over the real-world and generated dumps in ../shared/dumps (read in place, never
 * copied into the repo; skipped with a note when the folder is absent).
 *
 * Canonical dumps (what iptables-save printed): zero errors, one rule per rule line, and every rule
 * formats back to its exact source line. Non-canonical ones (restore inputs, fragments, hand-edited
 * or fake-iptables output — see SOURCES.md there): the exact diagnostics they deserve.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findMatch } from '../src/core/extensions/index.js';
import { allRules } from '../src/core/model.js';
import { formatRule, formatRuleset, parseRuleset } from '../src/core/parse/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/dumps');
const present = existsSync(ROOT);
if (!present) console.warn(`golden dumps: ${ROOT} is absent; skipping the golden dump tests`);

/** Rule lines of a dump: `-A`/`-I` commands, with or without a `[p:b]` prefix. */
const RULE_LINE = /^(\[\d+:\d+\] )?-[AI] /;

function ruleLineCount(text: string): number {
  return text.split('\n').filter((l) => RULE_LINE.test(l)).length;
}

/** Rule lines per table when a later block of the same table replaces an earlier one (restore semantics). */
function ruleLinesLastBlockWins(text: string): number {
  const perTable = new Map<string, number>();
  let table: string | null = null;
  for (const l of text.split('\n')) {
    const m = /^\*\s*(\S+)/.exec(l);
    if (m) {
      table = m[1];
      perTable.set(table, 0);
    } else if (table && RULE_LINE.test(l)) perTable.set(table, perTable.get(table)! + 1);
  }
  return [...perTable.values()].reduce((a, b) => a + b, 0);
}

/** The `*table` … `COMMIT` blocks of a dump by table name, without comment lines. */
function tableBlocks(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | null = null;
  let lines: string[] = [];
  for (const l of text.split('\n')) {
    if (l.startsWith('#') || l === '') continue;
    if (l.startsWith('*')) {
      name = l.slice(1).trim();
      lines = [l];
    } else if (name) {
      lines.push(l);
      if (l === 'COMMIT') {
        out.set(name, lines.join('\n'));
        name = null;
      }
    }
  }
  return out;
}

interface Expectation {
  /** True when the file is iptables-save output: zero errors and an exact round trip. */
  canonical: boolean;
  family: 'ipv4' | 'ipv6';
  /** Exact diagnostics (`code@line:col`, severity prefix for non-errors); default []. */
  diagnostics?: string[];
  /** Lines whose rules do not format back to the same text (non-canonical input). */
  notRoundTrip?: number[] | 'all-restore-input';
  /** The expected rule count; default: the number of rule lines. */
  rules?: (text: string) => number;
}

const EXPECT: Record<string, Expectation> = {
  'real/docker-containern-topos4.rules': { canonical: true, family: 'ipv4' },
  'real/home-user-typical.rules': { canonical: true, family: 'ipv4' },
  'real/ip6tables-fedora27-firewalld.rules': { canonical: true, family: 'ipv6' },
  'real/iptables-fedora27-firewalld-counters.rules': { canonical: true, family: 'ipv4' },
  'real/iptables-wireless-router.rules': { canonical: true, family: 'ipv4' },
  'real/shorewall-sqrl-akachan.rules': { canonical: true, family: 'ipv4' },
  'real/tails-os-1.5.rules': { canonical: true, family: 'ipv4' },
  'real/ip6tables-semantics-parser-test.rules': { canonical: true, family: 'ipv6' },
  // Canonical except that MAC addresses were anonymised to XX:XX:XX:XX:XX:XX (checked below).
  'real/tum-net-firewall-2015-large.rules': { canonical: true, family: 'ipv4' },
  'generated/ufw-live.rules': { canonical: true, family: 'ipv4' },
  'generated/ufw-live6.rules': { canonical: true, family: 'ipv6' },
  // Hand-edited torture test: an unknown multiport option, icmp6 (ip6tables only) in an IPv4 dump.
  'real/iptables-semantics-parser-test.rules': {
    canonical: false,
    family: 'ipv4',
    diagnostics: ['unknown-option@12:55', 'family-mismatch@40:28', 'family-mismatch@41:31'],
    notRoundTrip: [28, 40, 41, 43],
  },
  // A record of istio-iptables commands: `iptables-save` command lines, an IPv6 second half.
  'real/istio-tproxy.golden.txt': {
    canonical: false,
    family: 'ipv4',
    diagnostics: [
      'unexpected-line@1:1',
      'unexpected-line@2:1',
      'warning:duplicate-table@64:2',
      'family-mismatch@72:22',
      'family-mismatch@78:16',
      'family-mismatch@79:16',
      'family-mismatch@82:30',
      'warning:duplicate-table@85:2',
      'family-mismatch@97:26',
      'family-mismatch@98:28',
      'family-mismatch@101:28',
      'family-mismatch@107:20',
      'warning:duplicate-table@109:2',
      'unexpected-line@117:1',
      'unexpected-line@118:1',
    ],
    notRoundTrip: 'all-restore-input',
    rules: ruleLinesLastBlockWins,
  },
  // kube-proxy's iptables-restore payload: valid, but in restore order (-m before -p, bare comments).
  'real/kube-proxy-overall.rules': { canonical: false, family: 'ipv4', diagnostics: [], notRoundTrip: 'all-restore-input' },
  // kube-proxy's fake iptables state: `:INPUT - [0:0]` builtins and unquoted multi-word comments.
  'real/kube-proxy-tracepacket.rules': {
    canonical: false,
    family: 'ipv4',
    diagnostics: [
      'info:builtin-without-policy@2:8',
      'info:builtin-without-policy@3:10',
      'info:builtin-without-policy@4:9',
      'warning:unquoted-argument@11:42',
      'warning:unquoted-argument@12:69',
      'warning:unquoted-argument@13:44',
      'warning:unquoted-argument@14:71',
      'warning:unquoted-argument@15:71',
      'warning:unquoted-argument@16:70',
      'info:builtin-without-policy@29:13',
      'info:builtin-without-policy@30:8',
      'info:builtin-without-policy@31:9',
      'info:builtin-without-policy@32:14',
      'warning:unquoted-argument@53:47',
      'warning:unquoted-argument@54:43',
      'warning:unquoted-argument@55:48',
    ],
    notRoundTrip: 'all-restore-input',
  },
  // ufw's before*.rules fragments jump to chains ufw declares in another file.
  'real/ufw-before.rules': { canonical: false, family: 'ipv4', diagnostics: ['undefined-chain@30:55', 'undefined-chain@63:61'], notRoundTrip: 'all-restore-input' },
  'real/ufw-before6.rules': { canonical: false, family: 'ipv6', diagnostics: ['undefined-chain@39:56'], notRoundTrip: 'all-restore-input' },
  'real/ufw-user-dryrun.rules': { canonical: false, family: 'ipv4', diagnostics: [], notRoundTrip: 'all-restore-input' },
};

function dumpFiles(): string[] {
  if (!present) return [];
  const out: string[] = [];
  for (const sub of ['real', 'generated']) {
    const dir = join(ROOT, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (/\.(rules|txt)$/.test(f)) out.push(`${sub}/${f}`);
  }
  return out;
}

function diagList(ds: { severity: string; code: string; line: number; column: number }[]): string[] {
  return ds.map((d) => `${d.severity === 'error' ? '' : d.severity + ':'}${d.code}@${d.line}:${d.column}`);
}

describe.skipIf(!present)('golden dumps (../shared/dumps)', () => {
  const files = dumpFiles();

  it('every dump in the folder has an expectation (new files must be classified)', () => {
    expect(files.filter((f) => !Object.hasOwn(EXPECT, f))).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(Object.keys(EXPECT).length);
  });

  it.each(files.filter((f) => Object.hasOwn(EXPECT, f)))('%s', (name) => {
    const e = EXPECT[name];
    const text = readFileSync(join(ROOT, name), 'utf8');
    const result = parseRuleset(text, { file: name, maxDiagnostics: 1_000_000 });
    const rules = [...allRules(result.ruleset)];
    expect(result.ruleset.family).toBe(e.family);

    // Rule count: one rule per rule line (or restore semantics where a table block repeats).
    expect(rules.length).toBe((e.rules ?? ruleLineCount)(text));

    let diags = result.diagnostics;
    if (name.includes('tum-net-firewall')) {
      // Anonymised MACs: the mac extension (when registered) rejects exactly those options.
      const anonymised = text.split('\n').map((l, i) => (l.includes('--mac-source XX:XX:XX:XX:XX:XX') ? i + 1 : 0)).filter(Boolean);
      expect(anonymised.length).toBeGreaterThan(0);
      const macDiags = diags.filter((d) => d.code === 'bad-extension-option' && d.text.startsWith('--mac-source XX:'));
      expect(macDiags.map((d) => d.line)).toEqual(findMatch('mac') ? anonymised : []);
      diags = diags.filter((d) => !macDiags.includes(d));
    }
    if (e.canonical) {
      expect(diags.filter((d) => d.severity === 'error')).toEqual([]);
      expect(diagList(diags)).toEqual([]);
    } else {
      expect(diagList(diags)).toEqual(e.diagnostics ?? []);
    }

    // Round trip: format(parse(line)) is the line itself (without its counters prefix).
    const mismatched: number[] = [];
    for (const r of rules) {
      const source = r.raw.replace(/^\[\d+:\d+\] /, '').replace(/\s+$/, '');
      const formatted = formatRule(r);
      if (r.raw.startsWith('-I')) continue; // an insert command is not save output
      if (formatted !== source) mismatched.push(r.span.line);
      else expect(formatted).toBe(source);
    }
    if (e.canonical) {
      expect(mismatched).toEqual([]);
      // The whole file too: formatRuleset gives back every table block (tables in kernel order,
      // iptables-save prints them in module-load order, so blocks are compared by table).
      const counters = /^\[\d+:\d+\] -A /m.test(text);
      const again = tableBlocks(formatRuleset(result.ruleset, { counters }));
      expect(again).toEqual(tableBlocks(text));
    }
    else if (Array.isArray(e.notRoundTrip)) expect(mismatched).toEqual(e.notRoundTrip);

    // Every non-canonical rule still formats to text that parses back to the same rule.
    for (const r of rules) {
      const again = parseRuleset(`*${r.table}\n:${r.chain} - [0:0]\n${formatRule(r)}\nCOMMIT\n`, { file: 'again', family: result.ruleset.family });
      const back = [...allRules(again.ruleset)].find((x) => x.chain === r.chain);
      expect(back && formatRule(back)).toBe(formatRule(r));
    }
  });
});
