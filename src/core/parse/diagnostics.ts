/**
 * Diagnostic codes of the parser and linker, and helpers to build diagnostics and code frames.
 * Codes are stable (tests, `lint --json` and the TUI key on them).
 */
import type { Diagnostic, Severity } from '../model.js';

/** Every code the parser/linker emits, with its usual severity. */
export const DIAGNOSTIC_CODES = {
  /** `*foo`: not one of raw, mangle, nat, filter, security. */
  'unknown-table': 'error',
  /** The same table appears twice; restore flushes the table again, so the later block wins. */
  'duplicate-table': 'warning',
  /** A table block ended (end of file or next `*table`) without COMMIT. */
  'missing-commit': 'error',
  /** COMMIT while no table is open. */
  'commit-without-table': 'error',
  /** A rule, chain or command line before any `*table` (or after COMMIT). */
  'no-table': 'error',
  /** A line that is none of: comment, `*table`, `:CHAIN`, command, COMMIT. */
  'unexpected-line': 'error',
  /** A line with NUL bytes or other binary data. */
  'binary-data': 'error',
  /** CRLF line endings (iptables-restore would see the CR as part of the last word). */
  crlf: 'warning',
  /** A `"` without its closing quote. */
  'unterminated-quote': 'error',
  /** `:CHAIN` line that cannot be read. */
  'bad-chain-line': 'error',
  /** `[pkts:bytes]` that is not two numbers. */
  'bad-counters': 'error',
  /** Policy other than ACCEPT/DROP (or `-`). */
  'bad-policy': 'error',
  /** A policy given for a user-defined chain. */
  'policy-on-user-chain': 'error',
  /** `:INPUT -` / builtin chain without policy: iptables keeps the current one (ACCEPT on a fresh table). */
  'builtin-without-policy': 'info',
  /** A chain declared twice in one table. */
  'duplicate-chain': 'error',
  /** A rule or command for a chain that was not declared. */
  'undeclared-chain': 'error',
  /** A builtin chain name used in a table that has no such hook (`-A FORWARD` in nat). */
  'no-such-hook': 'error',
  /** Chain name longer than 28 characters or otherwise invalid. */
  'bad-chain-name': 'error',
  /** Jump/goto to a chain that does not exist in the table. */
  'undefined-chain': 'error',
  /** Jump/goto to a builtin chain (iptables refuses). */
  'jump-to-builtin': 'error',
  /** Goto (`-g`) a verdict or an extension target. */
  'bad-goto': 'error',
  /** Unknown command (`-Q`) or command form iptables-restore rejects. */
  'unknown-command': 'error',
  /** An option nobody (base, loaded matches, target, implicit protocol match) knows. */
  'unknown-option': 'error',
  /** An option without its argument. */
  'missing-argument': 'error',
  /** A word where an option was expected (iptables: "Bad argument"). */
  'unexpected-argument': 'error',
  /** Unquoted words after a string option (`--comment a b c`): read as one value; iptables-restore rejects the line. */
  'unquoted-argument': 'warning',
  /** `!` not followed by an option, or before an option that cannot be negated. */
  'bad-negation': 'error',
  /** Old `--option ! value` negation form (iptables: deprecated, still accepted). */
  'intrapositioned-negation': 'warning',
  /** An option given twice (`-s` twice, two targets…). */
  'duplicate-option': 'error',
  /** Bad address / prefix / mask. */
  'bad-address': 'error',
  /** Address of the other family, or an option of the other family. */
  'family-mismatch': 'error',
  /** Unknown protocol name. */
  'bad-protocol': 'error',
  /** Interface name longer than 15 characters. */
  'bad-interface': 'error',
  /** An extension rejected its options (typed parse failed). */
  'bad-extension-option': 'error',
  /** A rule to delete (`-D`) or replace (`-R`) does not exist. */
  'no-such-rule': 'error',
  /** A chain to delete (`-X`) still has rules or references. */
  'chain-in-use': 'error',
  /** Input without any `*table` block (empty file, only comments). */
  'no-tables': 'warning',
  // Lint findings (src/core/parse/lint.ts), beyond what the parser reports:
  /** A user chain that no rule jumps or goes to (dead unless something outside the dump jumps there). */
  'unreferenced-chain': 'warning',
  /** A rule after an unconditional terminating rule of the same chain: it can never match. */
  'shadowed-rule': 'warning',
  /** A jump to a chain without rules: it only costs time. */
  'jump-to-empty-chain': 'info',
  /** The same rule twice in one chain. */
  'duplicate-rule': 'warning',
  /** Too many diagnostics: the rest are suppressed. */
  'too-many-diagnostics': 'error',
} as const satisfies Record<string, Severity>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** The longest offending text a diagnostic keeps (a 10 MB line must not be copied into it). */
export const MAX_DIAG_TEXT = 200;

/** Build a diagnostic with the code's default severity. Column is 1-based. */
export function diag(
  code: DiagnosticCode,
  file: string,
  line: number,
  column: number,
  message: string,
  text: string,
  severity: Severity = DIAGNOSTIC_CODES[code],
): Diagnostic {
  return {
    severity,
    code,
    file,
    line,
    column,
    message,
    text: text.length > MAX_DIAG_TEXT ? text.slice(0, MAX_DIAG_TEXT) + '…' : text,
  };
}

/** The widest part of a source line a code frame shows (long lines are cut around the column). */
const FRAME_WIDTH = 160;

/** Make control characters visible in a frame (so the caret lines up and the terminal is safe). */
function visible(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '?').replace(/\t/g, ' ');
}

/**
 * `file:line:col: severity: message`, the source line, and a caret under the column (like
 * compilers print). Works when the text is absent or shorter than the line number.
 */
export function codeFrame(d: Diagnostic, sourceText: string): string {
  const head = `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
  const line = lineAt(sourceText, d.line);
  if (line === undefined) return head + '\n';
  let start = 0;
  let col = Math.max(1, d.column) - 1;
  let text = line.endsWith('\r') ? line.slice(0, -1) : line;
  let prefix = '';
  if (text.length > FRAME_WIDTH) {
    start = Math.max(0, Math.min(col - FRAME_WIDTH / 2, text.length - FRAME_WIDTH));
    if (start > 0) prefix = '…';
    const cut = text.slice(start, start + FRAME_WIDTH);
    text = prefix + cut + (start + FRAME_WIDTH < line.length ? '…' : '');
    col = col - start + prefix.length;
  }
  const gutter = `${d.line} | `;
  const pad = ' '.repeat(gutter.length - 2) + '| ';
  return `${head}\n${gutter}${visible(text)}\n${pad}${' '.repeat(Math.max(0, col))}^\n`;
}

/** The 1-based line `n` of `text` (without its newline), or undefined. Scans without splitting. */
export function lineAt(text: string, n: number): string | undefined {
  if (n < 1) return undefined;
  let pos = 0;
  for (let i = 1; i < n; i++) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return undefined;
    pos = nl + 1;
  }
  if (pos > text.length) return undefined;
  const end = text.indexOf('\n', pos);
  return end < 0 ? text.slice(pos) : text.slice(pos, end);
}
