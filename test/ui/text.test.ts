import { describe, expect, it } from 'vitest';
import { cell, escapeTags, fit, safe, segments, stripControls, textWidth, truncate, untag } from '../../src/ui/text.js';

/** Hostile strings a dump's comment or chain name could carry, with what must not survive. */
const HOSTILE: [string, string][] = [
  ['csi colour', 'evil\u001b[31mRED\u001b[0m'],
  ['cursor move + clear', 'x\u001b[2J\u001b[H\u001b[10;10Hmoved'],
  ['osc title', 'a\u001b]0;pwned title\u0007b'],
  ['osc 52 clipboard', 'c\u001b]52;c;ZWNobyBoaQ==\u001b\\d'],
  ['dcs', 'e\u001bP1$qm\u001b\\f'],
  ['8-bit csi', 'g\u009b31mh'],
  ['bell and backspace', 'i\u0007\u0008\u0008j'],
  ['carriage return overwrite', 'safe\rEVIL'],
  ['bidi override', 'abc\u202edcba'],
  ['lone escape at end', 'k\u001b'],
  ['blessed tags', '{red-fg}{bold}red{/bold}{/red-fg}'],
  ['blessed escape tags', '{open}{close}{/}'],
];

describe('untrusted text', () => {
  it.each(HOSTILE)('%s: no control character survives stripControls', (_name, text) => {
    const out = stripControls(text);
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  });
  it.each(HOSTILE)('%s: safe() leaves no blessed tag of the input', (_name, text) => {
    const out = safe(text);
    // Every `{` left is one of our escapes.
    const tags = out.match(/\{[^}]*\}/g) ?? [];
    for (const t of tags) expect(['{open}', '{close}']).toContain(t);
    // and untagging gives back the cleaned text exactly
    expect(untag(out)).toBe(stripControls(text));
  });
  it('keeps the visible text of an escape-laden comment', () => {
    expect(stripControls('evil\u001b[31mRED\u001b[0m')).toBe('evilRED');
    expect(stripControls('a\u001b]0;pwned title\u0007b')).toBe('ab');
    expect(stripControls('tab\there')).toBe('tab here');
    expect(stripControls('safe\rEVIL')).toBe('safe?EVIL');
  });
  it('escapes tags one to one', () => {
    expect(escapeTags('{red-fg}')).toBe('{open}red-fg{close}');
  });
});

describe('widths', () => {
  it.each([
    ['abc', 3],
    ['日本語', 6],
    ['é', 1],
    ['e\u0301', 1],
    ['', 0],
  ])('textWidth(%j) = %i', (t, w) => expect(textWidth(t)).toBe(w));
  it.each([
    ['abcdef', 4, 'abc…'],
    ['abc', 4, 'abc'],
    ['日本語', 4, '日…'],
    ['abc', 0, ''],
  ])('truncate(%j, %i) = %j', (t, w, out) => expect(truncate(t, w)).toBe(out));
  it('fit pads and aligns', () => {
    expect(fit('ab', 4)).toBe('ab  ');
    expect(fit('ab', 4, 'right')).toBe('  ab');
  });
  it('cell cleans, fits and escapes: the result is exactly the width on screen', () => {
    const c = cell('{x}\u001b[31mabcdefgh', 6);
    expect(textWidth(untag(c))).toBe(6);
    expect(c).toBe('{open}x{close}ab…');
  });
  it('segments never exceed the width and keep tags balanced', () => {
    const s = segments([['hello ', 'green'], ['{evil}', 'red'], ['world']], 9);
    expect(textWidth(untag(s))).toBe(9);
    expect(s).toBe('{green-fg}hello {/green-fg}{red-fg}{open}e…{/red-fg}');
  });
});
