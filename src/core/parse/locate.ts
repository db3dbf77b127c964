/**
 * Columns of the parts of a rule in its source line. Matches, targets and options do not carry
 * spans (a 400k-rule dump would pay hundreds of MB for them); the rule keeps its raw text and
 * span, and these re-read that one line when a column is needed (diagnostics, highlighting).
 */
import type { Match, MatchOption, Rule } from '../model.js';
import { createWords, tokenize, type Words } from './tokenize.js';

function words(rule: Rule): Words {
  return tokenize(rule.raw, createWords());
}

/** 1-based column in the file of word `i` of the rule's raw line (the raw line starts at column 1). */
function col(w: Words, i: number): number {
  return w.start[i] + 1;
}

/**
 * Column of an option (`--name`, possibly abbreviated in the source) of a match or the target;
 * 0 when not found. With `after`, only words after that column count (the option's owner).
 */
export function optionColumn(raw: string, opt: MatchOption, after = 0): number {
  const w = tokenize(raw, createWords());
  for (let i = 0; i < w.count; i++) {
    if (w.quoted[i] || w.start[i] + 1 < after) continue;
    const t = w.text[i];
    if (t !== '--' + opt.name && !(t.startsWith('--') && t.length > 3 && opt.name.startsWith(t.slice(2)))) continue;
    if (opt.args.length === 0 || w.text[i + 1] === opt.args[0] || (w.text[i + 1] === '!' && w.text[i + 2] === opt.args[0])) return w.start[i] + 1;
  }
  return 0;
}

/**
 * Column of a match in its rule: its `-m NAME` (the n-th one of that module), or for an implicit
 * protocol match its first option; the rule's column when not found.
 */
export function matchColumn(rule: Rule, match: Match): number {
  const w = words(rule);
  const nth = rule.matches.filter((m) => m.module === match.module && !m.implicit).indexOf(match);
  let seen = 0;
  for (let i = 0; i + 1 < w.count; i++) {
    if (w.quoted[i] || (w.text[i] !== '-m' && w.text[i] !== '--match') || w.text[i + 1] !== match.module) continue;
    if (seen++ === nth) return col(w, i);
  }
  if (match.options.length > 0) return optionColumn(rule.raw, match.options[0]) || rule.span.column;
  return rule.span.column;
}

/** Column of the target's name (after `-j` / `-g`); the rule's column when there is none. */
export function targetColumn(rule: Rule): number {
  const w = words(rule);
  for (let i = 0; i + 1 < w.count; i++) {
    if (w.quoted[i]) continue;
    const t = w.text[i];
    if (t === '-j' || t === '-g' || t === '--jump' || t === '--goto') return col(w, i + 1);
  }
  return rule.span.column;
}
