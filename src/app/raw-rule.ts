/**
 * What the explorer needs to know about every rule, read from the rule's raw line instead of its
 * parsed structure.
 *
 * The parser keeps each rule's `raw` line, counters and position eagerly, but builds `ip`,
 * `matches` and `target` only when they are first read (a 430k-line dump parses in about a
 * second that way; touching every rule's structure costs seconds and hundreds of MB more). So the
 * paths that run over all rules — the change summary of a reload, the callers index ("who jumps
 * here"), the Service names of hashed chains — work from the raw text, and only the rules on
 * screen or in a trace are materialised.
 *
 * Words are split the way iptables-restore does (and the parser's tokenizer: src/core/parse/
 * tokenize.ts): blanks separate words; a double quote opens a quoted section in which blanks are
 * kept and a backslash escapes the next character; the closing quote ends the word. A quoted word
 * is always an argument, never an option. Each function has a fast path for the lines
 * iptables-save prints and falls back to splitting the words when the line is unusual.
 */

import { createWords, tokenize } from '../core/parse/tokenize.js';

const SPACE = 32;
const TAB = 9;
const CR = 13;
const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACKET = 91;
const DASH = 45;
const COLON = 58;
const CLOSE_BRACKET = 93;

/** A word of a rule line: its text (quotes removed, escapes resolved) and whether it was quoted. */
interface Word {
  text: string;
  quoted: boolean;
}

/** Split a line into words as iptables-restore does: the parser's own tokenizer (src/core/parse/tokenize.ts). */
export function splitRawWords(line: string): Word[] {
  const w = tokenize(line, createWords());
  const out: Word[] = new Array<Word>(w.count);
  for (let i = 0; i < w.count; i++) out[i] = { text: w.text[i], quoted: w.quoted[i] };
  return out;
}

/** Index just after a leading `[packets:bytes]` counters prefix (and the blanks after it), else 0 (after leading blanks). */
function afterCounters(raw: string): number {
  let i = 0;
  while (i < raw.length && (raw.charCodeAt(i) === SPACE || raw.charCodeAt(i) === TAB)) i++;
  if (raw.charCodeAt(i) !== OPEN_BRACKET) return i;
  // [digits:digits]
  let j = i + 1;
  const digits = (): boolean => {
    const from = j;
    while (j < raw.length && raw.charCodeAt(j) >= 48 && raw.charCodeAt(j) <= 57) j++;
    return j > from;
  };
  if (!digits() || raw.charCodeAt(j) !== COLON) return i;
  j++;
  if (!digits() || raw.charCodeAt(j) !== CLOSE_BRACKET) return i;
  j++;
  while (j < raw.length && (raw.charCodeAt(j) === SPACE || raw.charCodeAt(j) === TAB)) j++;
  return j;
}

/** Runs of blanks outside quotes become one space (hand-edited spacing is not a change). */
function collapseBlanks(s: string): string {
  let out = '';
  let quoted = false;
  let blank = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quoted) {
      out += s[i];
      if (c === BACKSLASH && i + 1 < s.length) out += s[++i];
      else if (c === QUOTE) quoted = false;
      continue;
    }
    if (c === SPACE || c === TAB || c === CR) {
      blank = true;
      continue;
    }
    if (blank && out.length > 0) out += ' ';
    blank = false;
    out += s[i];
    if (c === QUOTE) quoted = true;
  }
  return out;
}

/**
 * A rule's identity across loads: its line without the `[packets:bytes]` counters, trimmed, with
 * runs of blanks outside quotes as one space. Equal identities are the same rule; counters moving
 * are not a change.
 */
export function rawIdentity(raw: string): string {
  const from = afterCounters(raw);
  let end = raw.length;
  while (end > from && (raw.charCodeAt(end - 1) === SPACE || raw.charCodeAt(end - 1) === TAB || raw.charCodeAt(end - 1) === CR)) end--;
  const s = from === 0 && end === raw.length ? raw : raw.slice(from, end);
  return s.indexOf('  ') < 0 && s.indexOf('\t') < 0 && s.indexOf('\r') < 0 ? s : collapseBlanks(s);
}

/** Does `raw[0..at)` hold an even number of quotes (so `at` is outside quotes, in a line without escapes)? */
function outsideQuotes(raw: string, at: number): boolean {
  let q = 0;
  for (let i = raw.indexOf('"'); i >= 0 && i < at; i = raw.indexOf('"', i + 1)) q++;
  return q % 2 === 0;
}

/** The end of the unquoted word starting at `from` (a blank or the end), or -1 when it holds a quote. */
function plainWordEnd(raw: string, from: number): number {
  let end = raw.indexOf(' ', from);
  if (end < 0) end = raw.length;
  const q = raw.indexOf('"', from);
  return q >= 0 && q < end ? -1 : end;
}

/**
 * The rule's `-j` / `-g` target name as written (`KUBE-SVC-…`, `ACCEPT`, `DNAT`), and whether it
 * is a goto; null when the rule has no target. Whether the name is a chain is the caller's
 * question (a chain of the same table is the chain: iptables refuses chain names that clash with
 * targets).
 */
export function rawJump(raw: string): { name: string; goto: boolean } | null {
  // Fast path: iptables-save's `… -j NAME [options]` (searched from the end, where it is; a
  // search that fails scans the whole line, so ` -g ` is looked for only when ` -j ` is absent).
  let at = raw.lastIndexOf(' -j ');
  let goto = false;
  if (at < 0) {
    at = raw.lastIndexOf(' -g ');
    goto = true;
  }
  if (at >= 0) {
    if (raw.indexOf('\\') < 0 && outsideQuotes(raw, at)) {
      let from = at + 4;
      while (raw.charCodeAt(from) === SPACE) from++;
      const end = plainWordEnd(raw, from);
      if (end > from) {
        const name = raw.slice(from, end);
        if (name.indexOf('\t') < 0) return { name, goto };
      }
    }
  } else if (raw.indexOf('\t') < 0 && raw.indexOf('--jump') < 0 && raw.indexOf('--goto') < 0) return null;
  const words = splitRawWords(raw);
  let found: { name: string; goto: boolean } | null = null;
  for (let i = 0; i < words.length - 1; i++) {
    const w = words[i];
    if (w.quoted) continue;
    if (w.text === '-j' || w.text === '--jump') found = { name: words[i + 1].text, goto: false };
    else if (w.text === '-g' || w.text === '--goto') found = { name: words[i + 1].text, goto: true };
  }
  return found;
}

/** Is a word an option (or `!`), where the parser stops gathering a value's words? */
function isOptionWord(w: Word): boolean {
  return !w.quoted && (w.text === '!' || (w.text.length > 1 && w.text.charCodeAt(0) === DASH));
}

/**
 * The rule's first `--comment` value (kube-proxy puts Service names there), as `ruleComment`
 * returns it from the parsed rule; undefined when there is none. Like the parser, unquoted words
 * after the value (`--comment kubernetes service portals`) are part of it, up to the next option.
 */
export function rawComment(raw: string): string | undefined {
  const at = raw.indexOf(' --comment ');
  if (at < 0) return undefined;
  // Fast path: iptables-save's `--comment "VALUE"` followed by the next option or the end.
  if (raw.indexOf('\\') < 0 && raw.indexOf('\t') < 0 && outsideQuotes(raw, at)) {
    let from = at + 11;
    while (raw.charCodeAt(from) === SPACE) from++;
    if (raw.charCodeAt(from) === QUOTE) {
      const close = raw.indexOf('"', from + 1);
      if (close > 0) {
        const end = close + 1 === raw.length;
        const nextIsOption = raw.charCodeAt(close + 1) === SPACE && raw.charCodeAt(close + 2) === DASH && close + 3 < raw.length && raw.charCodeAt(close + 3) !== SPACE;
        if (end || nextIsOption) return raw.slice(from + 1, close);
      }
    }
  }
  const words = splitRawWords(raw);
  for (let i = 0; i < words.length - 1; i++) {
    if (words[i].quoted || words[i].text !== '--comment') continue;
    let value = words[i + 1].text;
    for (let k = i + 2; k < words.length && !isOptionWord(words[k]); k++) value += ' ' + words[k].text;
    return value;
  }
  return undefined;
}
