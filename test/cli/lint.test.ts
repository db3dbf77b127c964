import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseRuleset } from '../../src/core/parse/index.js';
import { lintRuleset } from '../../src/core/parse/lint.js';
import { fakeIO } from './show.test.js';

function lintCodes(lines: string[]): string[] {
  const r = parseRuleset(lines.join('\n') + '\n', { file: 'l.rules' });
  return lintRuleset(r.ruleset).map((d) => `${d.severity}:${d.code}@${d.line}:${d.column}`);
}

describe('lint checks', () => {
  it.each([
    {
      name: 'unreferenced user chain',
      lines: ['*filter', ':USED - [0:0]', ':DEAD - [0:0]', '-A INPUT -j USED', '-A USED -j ACCEPT', '-A DEAD -j DROP', 'COMMIT'],
      want: ['warning:unreferenced-chain@3:1'],
    },
    {
      name: 'rules after an unconditional ACCEPT are shadowed',
      lines: ['*filter', '-A INPUT -s 10.0.0.0/8 -j DROP', '-A INPUT -j ACCEPT', '-A INPUT -p tcp -j DROP', '-A INPUT -j LOG', 'COMMIT'],
      want: ['warning:shadowed-rule@4:1', 'warning:shadowed-rule@5:1'],
    },
    {
      name: 'a comment does not make a rule conditional; goto ends the chain',
      lines: ['*filter', ':X - [0:0]', '-A INPUT -m comment --comment "all" -g X', '-A INPUT -j DROP', '-A X -j ACCEPT', 'COMMIT'],
      want: ['warning:shadowed-rule@4:1'],
    },
    {
      name: 'RETURN and REJECT end the chain too; LOG does not',
      lines: ['*filter', ':X - [0:0]', '-A INPUT -j X', '-A X -j LOG', '-A X -j RETURN', '-A X -j ACCEPT', 'COMMIT'],
      want: ['warning:shadowed-rule@6:1'],
    },
    {
      name: 'a conditional terminal rule shadows nothing',
      lines: ['*filter', '-A INPUT -p tcp -j ACCEPT', '-A INPUT -j DROP', 'COMMIT'],
      want: [],
    },
    {
      name: 'jump to an empty chain',
      lines: ['*filter', ':E - [0:0]', '-A INPUT -j E', 'COMMIT'],
      want: ['info:jump-to-empty-chain@3:13'],
    },
    {
      name: 'duplicate rule',
      lines: ['*filter', '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', '-A INPUT -p tcp --dport 22 -j ACCEPT', 'COMMIT'],
      want: ['warning:duplicate-rule@3:1'],
    },
    {
      name: 'a clean ruleset',
      lines: ['*filter', ':X - [0:0]', '-A INPUT -i lo -j ACCEPT', '-A INPUT -j X', '-A X -p tcp -m tcp --dport 22 -j ACCEPT', 'COMMIT'],
      want: [],
    },
  ])('$name', ({ lines, want }) => {
    expect(lintCodes(lines)).toEqual(want);
  });
});

describe('iptscope lint', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iptscope-lint-'));
    writeFileSync(join(dir, 'clean.rules'), '*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n');
    writeFileSync(join(dir, 'bad.rules'), '*filter\n:DEAD - [0:0]\n-A INPUT -j NOPE\n-A INPUT -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('no findings → exit 0 and a summary line', async () => {
    const io = fakeIO();
    const f = join(dir, 'clean.rules');
    expect(await main(['lint', f], io)).toBe(0);
    expect(io.stdout).toBe(`${f}: no findings\n`);
  });

  it('errors and warnings as code frames, in line order, exit 1', async () => {
    const io = fakeIO();
    const f = join(dir, 'bad.rules');
    expect(await main(['lint', f], io)).toBe(1);
    expect(io.stdout).toBe(
      `${f}:2:1: warning: chain DEAD in table filter is never jumped to (0 rule(s) unused unless a rule outside this dump jumps there)\n` +
        '2 | :DEAD - [0:0]\n' +
        '  | ^\n' +
        `${f}:3:13: error: jump to chain NOPE, which does not exist in table filter\n` +
        '3 | -A INPUT -j NOPE\n' +
        '  |             ^\n' +
        `${f}:5:1: warning: rule 3 of filter INPUT can never match: rule 2 (line 4) matches every packet and ends the chain with ACCEPT\n` +
        '5 | -A INPUT -j DROP\n' +
        '  | ^\n' +
        `${f}: 1 error(s), 2 warning(s), 0 info(s)\n`,
    );
  });

  it('--json', async () => {
    const io = fakeIO();
    const f = join(dir, 'bad.rules');
    expect(await main(['lint', f, '--json'], io)).toBe(1);
    const doc = JSON.parse(io.stdout);
    expect(doc.summary).toEqual({ errors: 1, warnings: 2, infos: 0 });
    expect(doc.rulesets[0].findings.map((d: { code: string }) => d.code)).toEqual(['unreferenced-chain', 'undefined-chain', 'shadowed-rule']);
    expect(doc.rulesets[0].findings[1]).toEqual({
      severity: 'error',
      code: 'undefined-chain',
      file: f,
      line: 3,
      column: 13,
      message: 'jump to chain NOPE, which does not exist in table filter',
      text: 'NOPE',
    });
  });

  it('bad flag → one line, exit 2', async () => {
    const io = fakeIO();
    expect(await main(['lint', '--nope'], io)).toBe(2);
    expect(io.stderr).toBe("iptscope: lint: Unknown option '--nope' (see iptscope lint --help)\n");
  });
});
