/** One-line helpers for parser tests. */
import { expect } from 'vitest';
import type { Diagnostic, Family, ParseResult, Rule, TableName } from '../../../src/core/model.js';
import { formatRule, parseRuleset } from '../../../src/core/parse/index.js';

/** Parse a dump given as lines (joined with \n, trailing newline added). */
export function parseLines(lines: string[], family?: Family): ParseResult {
  return parseRuleset(lines.join('\n') + '\n', { file: 't.rules', family });
}

/**
 * Wrap rule lines into a table block that declares the chains X, Y and Z, and parse it.
 * Returns the parse and the rules of chain `chain` (default INPUT for filter, else PREROUTING).
 */
export function parseRules(ruleLines: string[], opts: { table?: TableName; chain?: string; family?: Family } = {}): { result: ParseResult; rules: Rule[] } {
  const table = opts.table ?? 'filter';
  const result = parseLines([`*${table}`, ':X - [0:0]', ':Y - [0:0]', ':Z - [0:0]', ...ruleLines, 'COMMIT'], opts.family);
  const chain = opts.chain ?? (table === 'filter' || table === 'security' ? 'INPUT' : 'PREROUTING');
  const rules = result.ruleset.tables.get(table)?.chains.get(chain)?.rules ?? [];
  return { result, rules };
}

/** Parse one rule line (`-A INPUT …`) and return the rule; fails the test on any error diagnostic. */
export function parseOne(line: string, opts: { table?: TableName; chain?: string; family?: Family } = {}): Rule {
  const { result, rules } = parseRules([line], opts);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  expect(errors, errors.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join('\n')).toEqual([]);
  expect(rules.length).toBe(1);
  return rules[0];
}

/** Diagnostics as compact `code@line:col` strings (severity prefix for non-errors). */
export function diagList(diags: Diagnostic[]): string[] {
  return diags.map((d) => `${d.severity === 'error' ? '' : d.severity + ':'}${d.code}@${d.line}:${d.column}`);
}

/** Round trip: the formatted rule equals `expected` (default: the input line). */
export function expectRoundTrip(line: string, expected = line, opts: { table?: TableName; family?: Family } = {}): void {
  const rule = parseOne(line, opts);
  expect(formatRule(rule)).toBe(expected);
}
