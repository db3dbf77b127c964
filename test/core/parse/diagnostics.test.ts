import { describe, expect, it } from 'vitest';
import { registerMatch } from '../../../src/core/extensions/index.js';
import type { Diagnostic } from '../../../src/core/model.js';
import { codeFrame, parseRuleset } from '../../../src/core/parse/index.js';
import { diagList, parseLines } from './helpers.js';

describe('diagnostics (code@line:column)', () => {
  it.each([
    { name: 'unknown table', lines: ['*foo', '-A INPUT -j ACCEPT', 'COMMIT', '*filter', 'COMMIT'], want: ['unknown-table@1:2'] },
    { name: 'rule before any table', lines: ['-A INPUT -j ACCEPT', '*filter', 'COMMIT'], want: ['no-table@1:1'] },
    { name: 'rule after COMMIT', lines: ['*filter', 'COMMIT', '-A INPUT -j ACCEPT'], want: ['no-table@3:1'] },
    { name: 'chain line outside a table', lines: [':X - [0:0]'], want: ['no-table@1:1', 'warning:no-tables@1:1'].slice(0, 1) },
    { name: 'missing COMMIT at end of file', lines: ['*filter', '-A INPUT -j ACCEPT'], want: ['missing-commit@1:1'] },
    { name: 'missing COMMIT before the next table', lines: ['*nat', '*filter', 'COMMIT'], want: ['missing-commit@1:1'] },
    { name: 'COMMIT without table', lines: ['COMMIT'], want: ['commit-without-table@1:1'] },
    { name: 'jump to a missing chain', lines: ['*filter', '-A INPUT -j NOPE', 'COMMIT'], want: ['undefined-chain@2:13'] },
    { name: 'goto a missing chain', lines: ['*filter', '-A INPUT -g NOPE', 'COMMIT'], want: ['undefined-chain@2:13'] },
    { name: 'chain declared twice', lines: ['*filter', ':X - [0:0]', ':X - [0:0]', 'COMMIT'], want: ['duplicate-chain@3:2'] },
    { name: 'builtin declared twice', lines: ['*filter', ':INPUT ACCEPT [0:0]', ':INPUT DROP [0:0]', 'COMMIT'], want: ['duplicate-chain@3:2'] },
    { name: '-N of an existing chain', lines: ['*filter', ':X - [0:0]', '-N X', 'COMMIT'], want: ['duplicate-chain@3:4'] },
    { name: 'rule for an undeclared chain (reported once)', lines: ['*filter', '-A U -j ACCEPT', '-A U -j DROP', 'COMMIT'], want: ['undeclared-chain@2:4'] },
    { name: 'builtin chain the table has no hook for', lines: ['*nat', '-A FORWARD -j ACCEPT', 'COMMIT'], want: ['no-such-hook@2:4'] },
    { name: 'builtin declared in a table without that hook', lines: ['*raw', ':INPUT ACCEPT [0:0]', 'COMMIT'], want: ['no-such-hook@2:2'] },
    { name: 'jump to a builtin chain', lines: ['*filter', '-A INPUT -j OUTPUT', 'COMMIT'], want: ['jump-to-builtin@2:13'] },
    { name: 'goto a verdict', lines: ['*filter', '-A INPUT -g ACCEPT', 'COMMIT'], want: ['bad-goto@2:13'] },
    { name: 'bad policy', lines: ['*filter', ':INPUT REJECT [0:0]', 'COMMIT'], want: ['bad-policy@2:8'] },
    { name: 'policy on a user chain', lines: ['*filter', ':X ACCEPT [0:0]', 'COMMIT'], want: ['policy-on-user-chain@2:4'] },
    { name: 'builtin without policy', lines: ['*filter', ':INPUT - [0:0]', 'COMMIT'], want: ['info:builtin-without-policy@2:8'] },
    { name: 'bad chain counters', lines: ['*filter', ':INPUT ACCEPT [x:0]', 'COMMIT'], want: ['bad-counters@2:15'] },
    { name: 'bad rule counters', lines: ['*filter', '[1:] -A INPUT -j ACCEPT', 'COMMIT'], want: ['bad-counters@2:1'] },
    { name: 'chain name too long', lines: ['*filter', ':A234567890123456789012345678X - [0:0]', 'COMMIT'], want: ['bad-chain-name@2:2'] },
    { name: 'unterminated quote', lines: ['*filter', '-A INPUT -m comment --comment "open -j ACCEPT', 'COMMIT'], want: ['unterminated-quote@2:31'] },
    { name: 'unknown option without -p', lines: ['*filter', '-A INPUT --dport 80 -j ACCEPT', 'COMMIT'], want: ['unknown-option@2:10'] },
    { name: 'unknown option of a known module', lines: ['*filter', '-A INPUT -p udp -m multiport --ports 1 --something-else -j ACCEPT', 'COMMIT'], want: ['unknown-option@2:40'] },
    { name: 'missing argument', lines: ['*filter', '-A INPUT -s', 'COMMIT'], want: ['missing-argument@2:10'] },
    { name: 'missing module name', lines: ['*filter', '-A INPUT -m', 'COMMIT'], want: ['missing-argument@2:10'] },
    { name: 'missing option argument', lines: ['*filter', '-A INPUT -m comment --comment', 'COMMIT'], want: ['missing-argument@2:21'] },
    { name: 'bare word', lines: ['*filter', '-A INPUT stray -j ACCEPT', 'COMMIT'], want: ['unexpected-argument@2:10'] },
    { name: 'negation at the end', lines: ['*filter', '-A INPUT -j ACCEPT !', 'COMMIT'], want: ['bad-negation@2:20'] },
    { name: 'negated -m', lines: ['*filter', '-A INPUT ! -m tcp -j ACCEPT', 'COMMIT'], want: ['bad-negation@2:10'] },
    { name: 'double negation', lines: ['*filter', '-A INPUT ! ! -s 1.2.3.4 -j ACCEPT', 'COMMIT'], want: ['bad-negation@2:12'] },
    { name: 'two targets', lines: ['*filter', '-A INPUT -j ACCEPT -j DROP', 'COMMIT'], want: ['duplicate-option@2:20'] },
    { name: 'two sources', lines: ['*filter', '-A INPUT -s 1.1.1.1 -s 2.2.2.2 -j ACCEPT', 'COMMIT'], want: ['duplicate-option@2:21'] },
    { name: 'bad address', lines: ['*filter', '-A INPUT -s 300.1.1.1 -j ACCEPT', 'COMMIT'], want: ['bad-address@2:13'] },
    { name: 'bad prefix', lines: ['*filter', '-A INPUT -s 10.0.0.0/33 -j ACCEPT', 'COMMIT'], want: ['bad-address@2:13'] },
    { name: 'host name', lines: ['*filter', '-A INPUT -s example.com -j ACCEPT', 'COMMIT'], want: ['bad-address@2:13'] },
    { name: 'address list', lines: ['*filter', '-A INPUT -s 1.1.1.1,2.2.2.2 -j ACCEPT', 'COMMIT'], want: ['bad-address@2:13'] },
    { name: 'IPv6 address in an IPv4 dump', lines: ['# Generated by iptables-save v1.8.9', '*filter', '-A INPUT -s ::1 -j ACCEPT', 'COMMIT'], want: ['family-mismatch@3:13'] },
    { name: 'mixed families (first address decides)', lines: ['*filter', '-A INPUT -s 10.0.0.1 -j ACCEPT', '-A INPUT -d fe80::1 -j ACCEPT', 'COMMIT'], want: ['family-mismatch@3:13'] },
    { name: 'ip6-only module in an IPv4 dump', lines: ['# Generated by iptables-save v1.8.9', '*filter', '-A INPUT -m rt --rt-type 0 -j DROP', 'COMMIT'], want: ['family-mismatch@3:10'] },
    { name: '-f in an IPv6 dump', lines: ['# Generated by ip6tables-save v1.8.9', '*filter', '-A INPUT -f -j DROP', 'COMMIT'], want: ['family-mismatch@3:1'] },
    { name: 'unknown protocol', lines: ['*filter', '-A INPUT -p bogus -j ACCEPT', 'COMMIT'], want: ['bad-protocol@2:13'] },
    { name: 'interface name too long', lines: ['*filter', '-A INPUT -i abcdefghijklmnop -j ACCEPT', 'COMMIT'], want: ['bad-interface@2:13'] },
    { name: 'unknown command', lines: ['*filter', '-Q INPUT', 'COMMIT'], want: ['unknown-command@2:1'] },
    { name: '-t in restore input', lines: ['*filter', '-t nat -A X', 'COMMIT'], want: ['unknown-command@2:1'] },
    { name: 'delete a missing rule', lines: ['*filter', '-D INPUT -j ACCEPT', 'COMMIT'], want: ['no-such-rule@2:1'] },
    { name: 'delete a rule number out of range', lines: ['*filter', '-D INPUT 3', 'COMMIT'], want: ['no-such-rule@2:10'] },
    { name: 'delete a chain with rules', lines: ['*filter', ':X - [0:0]', '-A X -j ACCEPT', '-X X', 'COMMIT'], want: ['chain-in-use@4:4'] },
    { name: 'options on a verdict', lines: ['*filter', '-A INPUT -j ACCEPT --foo 1', 'COMMIT'], want: ['unknown-option@2:20'] },
    { name: 'old negation form warns', lines: ['*filter', '-A INPUT -s ! 1.2.3.4 -j ACCEPT', 'COMMIT'], want: ['warning:intrapositioned-negation@2:13'] },
    {
      name: 'unquoted multi-word comment (kube-proxy fake iptables)',
      lines: ['*filter', '-A INPUT -m comment --comment kubernetes service portals -j ACCEPT', 'COMMIT'],
      want: ['warning:unquoted-argument@2:42'],
    },
    { name: 'garbage line', lines: ['*filter', 'hello world', 'COMMIT'], want: ['unexpected-line@2:1'] },
    { name: 'counters without a rule', lines: ['*filter', '[1:2]', 'COMMIT'], want: ['unexpected-line@2:1'] },
    { name: 'empty input', lines: [], want: ['warning:no-tables@1:1'] },
    { name: 'only comments', lines: ['# nothing here'], want: ['warning:no-tables@1:1'] },
  ])('$name', ({ lines, want }) => {
    const r = parseLines(lines);
    expect(diagList(r.diagnostics)).toEqual(want);
    for (const d of r.diagnostics) {
      expect(d.file).toBe('t.rules');
      expect(d.message.length).toBeGreaterThan(10);
    }
  });

  it('keeps the rule when its target chain is missing', () => {
    const r = parseLines(['*filter', '-A INPUT -j NOPE', 'COMMIT']);
    const rule = r.ruleset.tables.get('filter')!.chains.get('INPUT')!.rules[0];
    expect(rule.target).toMatchObject({ name: 'NOPE', kind: 'chain' });
  });

  it('resumes at the next line after an error', () => {
    const r = parseLines(['*filter', '-A INPUT -s 300.0.0.1 -j DROP', 'garbage', '-A INPUT -j ACCEPT', 'COMMIT']);
    expect(diagList(r.diagnostics)).toEqual(['bad-address@2:13', 'unexpected-line@3:1']);
    expect(r.ruleset.tables.get('filter')!.chains.get('INPUT')!.rules.map((x) => x.target?.name)).toEqual(['DROP', 'ACCEPT']);
  });

  it('skips an unknown table block until its COMMIT', () => {
    const r = parseLines(['*foo', ':X - [0:0]', '-A X -j ACCEPT', 'COMMIT', '*filter', '-A INPUT -j ACCEPT', 'COMMIT']);
    expect(diagList(r.diagnostics)).toEqual(['unknown-table@1:2']);
    expect([...r.ruleset.tables.keys()]).toEqual(['filter']);
  });
});

describe('typed extension parsing', () => {
  // A test-only module registered under a name no real module has.
  registerMatch<{ level: number }>({
    name: 'iptscope-test',
    optionNames: ['level', 'other'],
    flagOptions: ['other'],
    parse(options) {
      const o = options.find((x) => x.name === 'level');
      if (!o) return { ok: false, message: 'iptscope-test: --level is required' };
      const n = Number(o.args[0]);
      if (!Number.isInteger(n)) return { ok: false, message: `iptscope-test: bad --level "${o.args[0]}"`, option: 'level' };
      return { ok: true, value: { level: n } };
    },
  });

  it('stores the typed value from the registry', () => {
    const r = parseLines(['*filter', '-A INPUT -m iptscope-test --other --level 3 -j ACCEPT', 'COMMIT']);
    expect(r.diagnostics).toEqual([]);
    const m = r.ruleset.tables.get('filter')!.chains.get('INPUT')!.rules[0].matches[0];
    expect(m.typed).toEqual({ level: 3 });
    expect(m.options.map((o) => [o.name, o.args])).toEqual([
      ['other', []],
      ['level', ['3']],
    ]);
  });

  it("an extension's parse error is a diagnostic at the option's column; the rule is kept", () => {
    const r = parseLines(['*filter', '-A INPUT -m iptscope-test --level x -j ACCEPT', 'COMMIT']);
    expect(diagList(r.diagnostics)).toEqual(['bad-extension-option@2:27']);
    expect(r.diagnostics[0].message).toContain('bad --level "x"');
    const rule = r.ruleset.tables.get('filter')!.chains.get('INPUT')!.rules[0];
    expect(rule.matches[0].typed).toBeUndefined();
    expect(rule.target?.name).toBe('ACCEPT');
  });

  it('uses the registry arity: a flag option takes no argument', () => {
    const r = parseLines(['*filter', '-A INPUT -m iptscope-test --other stray --level 1', 'COMMIT']);
    expect(diagList(r.diagnostics)).toEqual(['unexpected-argument@2:35']);
  });
});

describe('bad input never throws and reports line numbers', () => {
  const cases: { name: string; text: string; check: (d: Diagnostic[]) => void }[] = [
    {
      name: 'truncated file (cut in the middle of a rule)',
      text: '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dpo',
      // `--dpo` is a getopt abbreviation of --dport, which then lacks its argument.
      check: (d) => expect(diagList(d)).toEqual(['missing-argument@3:24', 'missing-commit@1:1']),
    },
    {
      name: 'binary bytes',
      text: '*filter\n\u0000\u0001\u0002\u00ff\u00fe garbage\n-A INPUT -j ACCEPT\nCOMMIT\n',
      check: (d) => expect(diagList(d)).toEqual(['binary-data@2:1']),
    },
    {
      name: 'unbalanced quote',
      text: '*filter\n-A INPUT -m comment --comment "unbalanced -j ACCEPT\nCOMMIT\n',
      check: (d) => expect(diagList(d)).toEqual(['unterminated-quote@2:31']),
    },
    {
      name: 'CRLF line endings',
      text: '*filter\r\n:INPUT ACCEPT [0:0]\r\n-A INPUT -j ACCEPT\r\nCOMMIT\r\n',
      check: (d) => expect(diagList(d)).toEqual(['warning:crlf@1:8']),
    },
    {
      name: 'UTF-8 and control characters in comments',
      text: '# héllo ✓ \u0007 bell\n*filter\n-A INPUT -m comment --comment "café \u0001 ✓" -j ACCEPT\nCOMMIT\n',
      check: (d) => expect(d).toEqual([]),
    },
    { name: 'empty file', text: '', check: (d) => expect(diagList(d)).toEqual(['warning:no-tables@1:1']) },
    { name: 'only newlines', text: '\n\n\n', check: (d) => expect(diagList(d)).toEqual(['warning:no-tables@3:1']) },
  ];
  it.each(cases)('$name', ({ text, check }) => {
    const r = parseRuleset(text, { file: 'bad.rules' });
    check(r.diagnostics);
    for (const d of r.diagnostics) expect(d.line).toBeGreaterThan(0);
  });

  it('keeps the UTF-8 comment text intact', () => {
    const r = parseRuleset('*filter\n-A INPUT -m comment --comment "café \u0001 ✓" -j ACCEPT\nCOMMIT\n', { file: 'x' });
    expect(r.ruleset.tables.get('filter')!.chains.get('INPUT')!.rules[0].matches[0].options[0].args).toEqual(['café \u0001 ✓']);
  });

  it('a 10 MB single line: one diagnostic, short offending text, no exception', () => {
    const long = '-A INPUT ' + '-m comment --comment x '.repeat(Math.ceil(10_000_000 / 23)) + '-j ACCEPT stray';
    const text = `*filter\n${long}\nCOMMIT\n`;
    expect(long.length).toBeGreaterThan(10_000_000);
    const r = parseRuleset(text, { file: 'big' });
    expect(diagList(r.diagnostics)).toEqual([`unexpected-argument@2:${long.length - 4}`]);
    expect(r.diagnostics[0].text.length).toBeLessThan(300);
    const frame = codeFrame(r.diagnostics[0], text);
    expect(frame.split('\n')[1].length).toBeLessThan(200);
    expect(frame).toContain('stray');
  });

  it('a 10 MB line of garbage', () => {
    const text = 'x'.repeat(10_000_000);
    const r = parseRuleset(text, { file: 'big' });
    expect(diagList(r.diagnostics)).toEqual(['unexpected-line@1:1']);
    expect(r.diagnostics[0].text.length).toBeLessThan(300);
  });

  it('caps the number of diagnostics', () => {
    const text = 'garbage\n'.repeat(5000);
    const r = parseRuleset(text, { file: 'g', maxDiagnostics: 100 });
    expect(r.diagnostics).toHaveLength(101);
    expect(r.diagnostics[100].code).toBe('too-many-diagnostics');
    expect(r.diagnostics[100].message).toContain('4900');
  });
});

describe('codeFrame', () => {
  it('prints file:line:col, the line and a caret under the column', () => {
    const text = '*filter\n-A INPUT -j NOPE\nCOMMIT\n';
    const r = parseRuleset(text, { file: 'f.rules' });
    expect(codeFrame(r.diagnostics[0], text)).toBe(
      'f.rules:2:13: error: jump to chain NOPE, which does not exist in table filter\n' + '2 | -A INPUT -j NOPE\n' + '  |             ^\n',
    );
  });

  it('makes control characters visible and keeps the caret aligned', () => {
    const d: Diagnostic = { severity: 'error', code: 'x', file: 'f', line: 1, column: 4, message: 'm', text: '' };
    expect(codeFrame(d, 'a\u0007\tbc')).toBe('f:1:4: error: m\n1 | a?  bc\n  |    ^\n'.replace('a?  bc', 'a? bc'));
  });

  it('works when the line is beyond the text', () => {
    const d: Diagnostic = { severity: 'warning', code: 'x', file: 'f', line: 9, column: 1, message: 'm', text: '' };
    expect(codeFrame(d, 'one line')).toBe('f:9:1: warning: m\n');
  });
});
