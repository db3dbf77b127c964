import { describe, expect, it } from 'vitest';
import { createWords, splitWords, tokenize } from '../../../src/core/parse/tokenize.js';

describe('tokenize (like iptables add_param_to_argv)', () => {
  it.each([
    { line: '-A INPUT -j ACCEPT', words: ['-A', 'INPUT', '-j', 'ACCEPT'] },
    { line: '  -A\tINPUT   -j ACCEPT  ', words: ['-A', 'INPUT', '-j', 'ACCEPT'] },
    { line: '--comment "has space"', words: ['--comment', 'has space'] },
    { line: '--comment "a \\"b\\""', words: ['--comment', 'a "b"'] },
    { line: '--comment "\\""', words: ['--comment', '"'] },
    { line: '--comment "back\\\\slash"', words: ['--comment', 'back\\slash'] },
    { line: '--log-prefix "[UFW BLOCK] "', words: ['--log-prefix', '[UFW BLOCK] '] },
    { line: '--comment ""', words: ['--comment', ''] },
    { line: 'a"b c"', words: ['ab c'] },
    { line: '"x"y', words: ['x', 'y'] },
    { line: 'no\\escape outside', words: ['no\\escape', 'outside'] },
    { line: '-A X -j ACCEPT\r', words: ['-A', 'X', '-j', 'ACCEPT'] },
    { line: '--comment "café ✓"', words: ['--comment', 'café ✓'] },
    { line: '', words: [] },
  ])('$line', ({ line, words }) => {
    expect(splitWords(line)).toEqual(words);
  });

  it('records columns and quoting', () => {
    const w = tokenize('-m comment --comment "a b" -j X', createWords());
    expect(w.count).toBe(6);
    expect(w.start.slice(0, 6)).toEqual([0, 3, 11, 21, 27, 30]);
    expect(w.end[3]).toBe(26);
    expect(w.quoted.slice(0, 6)).toEqual([false, false, false, true, false, false]);
    expect(w.unterminatedQuote).toBe(-1);
  });

  it('reports an unterminated quote and keeps the rest as one word', () => {
    const w = tokenize('--comment "open ended', createWords());
    expect(w.unterminatedQuote).toBe(10);
    expect(w.text.slice(0, w.count)).toEqual(['--comment', 'open ended']);
  });

  it('reuses its arrays without leaking words of a longer previous line', () => {
    const w = createWords();
    tokenize('a b c d e', w);
    tokenize('x', w);
    expect(w.count).toBe(1);
    expect(w.text[0]).toBe('x');
  });
});
