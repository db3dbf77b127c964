/**
 * Split one iptables-restore line into words the way iptables does (add_param_to_argv in
 * iptables/xshared.c): words are separated by spaces and tabs; a double quote opens a quoted
 * section in which spaces are kept and a backslash escapes the next character (`\"` is a quote);
 * the closing quote ends the word. Outside quotes a backslash is an ordinary character.
 *
 * Performance matters (kube-proxy dumps have ~500k lines): the tokenizer reuses its arrays
 * between lines and scans char codes once, slicing words out of the line without regexes.
 */

/** The words of one line, in parallel arrays reused from line to line (read them before the next call). */
export interface Words {
  /** Number of words in this line. */
  count: number;
  /** Word text with quotes removed and escapes resolved. */
  text: string[];
  /** 0-based column of the word's first character (the opening quote for a quoted word). */
  start: number[];
  /** 0-based column just after the word (after the closing quote). */
  end: number[];
  /** True when the word was (partly) quoted: a quoted word is always an argument, never an option. */
  quoted: boolean[];
  /** Set when a quote was not closed: 0-based column of the opening quote, else -1. */
  unterminatedQuote: number;
}

/** A reusable tokenizer state. */
export function createWords(): Words {
  return { count: 0, text: [], start: [], end: [], quoted: [], unterminatedQuote: -1 };
}

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;
const CR = 13;

/**
 * Tokenize `line` from column `from` into `w` (overwriting it). A trailing CR (CRLF files) is
 * treated as white space, like the `\n` iptables-restore strips.
 */
export function tokenize(line: string, w: Words, from = 0): Words {
  // Fast path for the usual line: words separated by single spaces, quoted words without
  // backslashes. Native indexOf scans instead of a loop over characters.
  if (line.indexOf('\t', from) < 0 && line.indexOf('\r', from) < 0 && line.indexOf('\\', from) < 0) {
    const r = tokenizeSimple(line, w, from);
    if (r) return w;
  }
  return tokenizeGeneral(line, w, from);
}

/**
 * Lines without tabs, CRs and backslashes. Returns false (leaving `w` to be overwritten) when a
 * quote sits inside a word or is not closed — the general tokenizer handles those.
 */
function tokenizeSimple(line: string, w: Words, from: number): boolean {
  const n = line.length;
  let count = 0;
  let i = from;
  let quote = line.indexOf('"', from);
  if (quote < 0) quote = n;
  while (i < n) {
    if (line.charCodeAt(i) === SPACE) {
      i++;
      continue;
    }
    if (i === quote) {
      const close = line.indexOf('"', i + 1);
      if (close < 0) return false;
      w.text[count] = line.slice(i + 1, close);
      w.start[count] = i;
      w.end[count] = close + 1;
      w.quoted[count] = true;
      count++;
      i = close + 1;
      quote = line.indexOf('"', i);
      if (quote < 0) quote = n;
      continue;
    }
    let end = line.indexOf(' ', i);
    if (end < 0) end = n;
    if (end > quote) return false; // a quote inside the word
    w.text[count] = line.slice(i, end);
    w.start[count] = i;
    w.end[count] = end;
    w.quoted[count] = false;
    count++;
    i = end;
  }
  w.count = count;
  w.unterminatedQuote = -1;
  return true;
}

function tokenizeGeneral(line: string, w: Words, from: number): Words {
  const n = line.length;
  let count = 0;
  w.unterminatedQuote = -1;
  let i = from;
  while (i < n) {
    let c = line.charCodeAt(i);
    if (c === SPACE || c === TAB || c === CR) {
      i++;
      continue;
    }
    const start = i;
    if (c !== QUOTE) {
      // Fast path: an unquoted word ends at white space or at a quote.
      let j = i + 1;
      while (j < n) {
        c = line.charCodeAt(j);
        if (c === SPACE || c === TAB || c === CR || c === QUOTE) break;
        j++;
      }
      if (j >= n || c !== QUOTE) {
        w.text[count] = line.slice(start, j);
        w.start[count] = start;
        w.end[count] = j;
        w.quoted[count] = false;
        count++;
        i = j;
        continue;
      }
      // A quote inside a word: iptables ends the unquoted part there and continues in quotes
      // (`a"b c"` is one word `ab c`): fall through to the general path.
    }
    let buf = '';
    let quoted = false;
    let j = i;
    let done = false;
    while (j < n && !done) {
      c = line.charCodeAt(j);
      if (c === QUOTE) {
        // Opening quote: read up to the closing quote, resolving backslash escapes.
        quoted = true;
        const open = j;
        j++;
        let segStart = j;
        let closed = false;
        while (j < n) {
          const d = line.charCodeAt(j);
          if (d === BACKSLASH && j + 1 < n) {
            buf += line.slice(segStart, j) + line[j + 1];
            j += 2;
            segStart = j;
            continue;
          }
          if (d === QUOTE) {
            buf += line.slice(segStart, j);
            j++;
            closed = true;
            break;
          }
          j++;
        }
        if (!closed) {
          buf += line.slice(segStart, n);
          w.unterminatedQuote = open;
          j = n;
        }
        // iptables: the closing quote ends the word.
        done = true;
      } else if (c === SPACE || c === TAB || c === CR) {
        done = true;
      } else {
        buf += line[j];
        j++;
      }
    }
    w.text[count] = buf;
    w.start[count] = start;
    w.end[count] = j;
    w.quoted[count] = quoted;
    count++;
    i = j;
  }
  w.count = count;
  return w;
}

/** Tokenize into plain strings (convenience for tests and small callers). */
export function splitWords(line: string): string[] {
  const w = tokenize(line, createWords());
  return w.text.slice(0, w.count);
}
