/**
 * Text for the screen: untrusted strings made safe, cells of a fixed width, colour tags.
 *
 * Comments and chain names come from the dump (Service names, anyone's comments). Before they
 * reach blessed they go through `safe()`: terminal control sequences (CSI, OSC, DCS, single-char
 * escapes, C0/C1 controls, bidi overrides) are removed or replaced, and blessed's tag syntax
 * (`{red-fg}`) is escaped, so a comment can neither recolour the screen, move the cursor, set the
 * window title nor inject input. Widths are computed on the cleaned text before escaping.
 */

// ESC-introduced sequences: CSI (ESC [ … final), OSC/DCS/SOS/PM/APC (ESC ] P X ^ _ … BEL or ST),
// and two-byte escapes (ESC + one char). The 8-bit forms (0x9b CSI, 0x9d OSC, 0x90 DCS) too.
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\u001b\[[0-?]*[ -/]*[@-~]?|\u009b[0-?]*[ -/]*[@-~]?|[\u001b][\]PX^_][\s\S]*?(?:\u0007|\u001b\\|\u009c|$)|[\u009d\u0090\u0098\u009e\u009f][\s\S]*?(?:\u0007|\u001b\\|\u009c|$)|\u001b[\s\S]?/g;
// Remaining controls (C0 except none, DEL, C1) and bidi/format characters that reorder text.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Strip terminal escape sequences and control characters from untrusted text (tabs → space). */
export function stripControls(text: string): string {
  return text.replace(/\t/g, ' ').replace(ESCAPES, '').replace(CONTROLS, '?');
}

/** Escape blessed tag syntax: `{` and `}` become blessed's `{open}` / `{close}` tags. */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

/** Untrusted text → safe tagged text (no width handling). */
export function safe(text: string): string {
  return escapeTags(stripControls(text));
}

/** Terminal columns of one code point (East Asian wide and emoji: 2; combining marks: 0). */
export function charWidth(cp: number): number {
  if (cp === 0) return 0;
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200d) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return 1;
}

/** Display width of plain (untagged, cleaned) text. */
export function textWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** Cut plain text to `width` columns, with `…` when cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (textWidth(text) <= width) return text;
  let out = '';
  let w = 0;
  for (const ch of text) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return out + '…';
}

/** Plain text padded or cut to exactly `width` columns (not escaped). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const t = truncate(text, width);
  const pad = ' '.repeat(Math.max(0, width - textWidth(t)));
  return align === 'left' ? t + pad : pad + t;
}

/** Untrusted text → a safe tagged cell of exactly `width` columns. */
export function cell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  return escapeTags(fit(stripControls(text), width, align));
}

const ATTRS = new Set(['bold', 'underline', 'inverse', 'blink']);

/** A styled span of already-safe text: `green`, `bold`, `red,bold`, `black,green-bg`. */
export function fg(style: string, text: string): string {
  if (text === '') return '';
  let open = '';
  let close = '';
  for (const s of style.split(',')) {
    const tag = ATTRS.has(s) || s.endsWith('-bg') ? s : `${s}-fg`;
    open += `{${tag}}`;
    close = `{/${tag}}` + close;
  }
  return open + text + close;
}

/** Bold span of already-safe text. */
export function bold(text: string): string {
  return text === '' ? '' : `{bold}${text}{/bold}`;
}

/** Inverse-video span of already-safe text. */
export function inverse(text: string): string {
  return `{inverse}${text}{/inverse}`;
}

/** Remove blessed tags from our own tagged text (to measure it). `{open}`/`{close}` count as one column. */
export function untag(tagged: string): string {
  return tagged.replace(/\{(\/?[\w-]*|open|close)\}/g, (m) => (m === '{open}' ? '{' : m === '{close}' ? '}' : ''));
}

/**
 * A tagged segment list rendered to exactly `width` columns: segments are [plain text, colour?];
 * text is cleaned and escaped here, and the line is cut at `width` without breaking tags.
 */
export function segments(parts: readonly (readonly [string, string?])[], width: number): string {
  let out = '';
  let left = width;
  for (const [raw, color] of parts) {
    if (left <= 0) break;
    const text = stripControls(raw);
    const w = textWidth(text);
    const piece = w <= left ? text : truncate(text, left);
    left -= Math.min(w, left);
    const esc = escapeTags(piece);
    out += color ? fg(color, esc) : esc;
  }
  if (left > 0) out += ' '.repeat(left);
  return out;
}
