/**
 * The explorer reads every rule's target and comment from its raw line (src/app/raw-rule.ts), so
 * that loading a 320k-rule dump does not build every rule's parsed structure. These tests hold
 * the raw readers to the parser: tricky lines one by one, then every rule of a generated
 * kube-proxy dump and of the real dumps, and the callers index against callers found from the
 * parsed targets.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rawComment, rawIdentity, rawJump, splitRawWords } from '../../src/app/raw-rule.js';
import { callersOf } from '../../src/app/selectors.js';
import type { Ruleset } from '../../src/core/model.js';
import { ruleComment } from '../../src/core/model.js';
import { parseRuleset } from '../../src/core/parse/index.js';
import { generateKubeProxyDump } from '../../src/gen/kubeproxy.js';

/** One filter table with the chains the cases jump to, and `line` as the only INPUT rule. */
function oneRule(line: string) {
  const text = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:MYCHAIN - [0:0]\n:X - [0:0]\n${line}\nCOMMIT\n`;
  const rs = parseRuleset(text, { file: 't.rules' }).ruleset;
  const rule = rs.tables.get('filter')!.chains.get('INPUT')!.rules[0];
  return { rs, rule };
}

const CASES: { name: string; line: string; jump: { name: string; goto: boolean } | null; comment: string | undefined }[] = [
  { name: 'plain jump', line: '-A INPUT -j MYCHAIN', jump: { name: 'MYCHAIN', goto: false }, comment: undefined },
  { name: 'counters and goto', line: '[12:345] -A INPUT -p tcp -g MYCHAIN', jump: { name: 'MYCHAIN', goto: true }, comment: undefined },
  { name: 'verdict', line: '-A INPUT -s 10.0.0.0/8 -j ACCEPT', jump: { name: 'ACCEPT', goto: false }, comment: undefined },
  { name: 'no target', line: '-A INPUT -s 10.0.0.1/32', jump: null, comment: undefined },
  { name: 'extension target with options', line: '-A INPUT -p tcp -j REJECT --reject-with tcp-reset', jump: { name: 'REJECT', goto: false }, comment: undefined },
  {
    name: 'comment then jump (kube-proxy)',
    line: '-A INPUT -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j MYCHAIN',
    jump: { name: 'MYCHAIN', goto: false },
    comment: 'default/kubernetes:https cluster IP',
  },
  { name: 'comment holding " -j X"', line: '-A INPUT -m comment --comment "do not -j X here" -j MYCHAIN', jump: { name: 'MYCHAIN', goto: false }, comment: 'do not -j X here' },
  { name: 'only the comment says -j', line: '-A INPUT -m comment --comment "a -j X b"', jump: null, comment: 'a -j X b' },
  { name: 'jump before a quoted -g', line: '-A INPUT -j LOG --log-prefix " -g X "', jump: { name: 'LOG', goto: false }, comment: undefined },
  { name: 'escaped quote in a comment', line: '-A INPUT -m comment --comment "say \\"hi\\" -j X" -j MYCHAIN', jump: { name: 'MYCHAIN', goto: false }, comment: 'say "hi" -j X' },
  { name: 'unquoted comment', line: '-A INPUT -m comment --comment ssh -j ACCEPT', jump: { name: 'ACCEPT', goto: false }, comment: 'ssh' },
  { name: 'long options', line: '-A INPUT --protocol tcp --jump MYCHAIN', jump: { name: 'MYCHAIN', goto: false }, comment: undefined },
  { name: 'long goto', line: '-A INPUT --goto X', jump: { name: 'X', goto: true }, comment: undefined },
  { name: 'tabs between words', line: '-A INPUT\t-p tcp\t-j\tMYCHAIN', jump: { name: 'MYCHAIN', goto: false }, comment: undefined },
  { name: 'two comments: the first counts', line: '-A INPUT -m comment --comment "one" -m comment --comment "two" -j ACCEPT', jump: { name: 'ACCEPT', goto: false }, comment: 'one' },
  { name: 'unquoted words of a comment (kube-proxy fake iptables)', line: '-A INPUT -m comment --comment kubernetes service portals -j MYCHAIN', jump: { name: 'MYCHAIN', goto: false }, comment: 'kubernetes service portals' },
  { name: 'a bare word after a quoted comment', line: '-A INPUT -m comment --comment "a" b -j MYCHAIN', jump: { name: 'MYCHAIN', goto: false }, comment: 'a b' },
  { name: 'comment at the end of the line', line: '-A INPUT -j ACCEPT -m comment --comment "last words"', jump: { name: 'ACCEPT', goto: false }, comment: 'last words' },
];

describe('raw readers agree with the parser, case by case', () => {
  it.each(CASES)('$name', ({ line, jump, comment }) => {
    const { rule } = oneRule(line);
    expect(rawJump(rule.raw)).toEqual(jump);
    expect(rawComment(rule.raw)).toBe(comment);
    // …and with what the parser made of the rule.
    if (jump) expect({ name: rule.target?.name, goto: rule.target?.goto }).toEqual(jump);
    else expect(rule.target).toBeNull();
    expect(ruleComment(rule)).toBe(comment);
  });
});

describe('rawIdentity', () => {
  it.each([
    ['[1:2] -A INPUT -j ACCEPT', '-A INPUT -j ACCEPT'],
    ['  [0:0]   -A INPUT -j ACCEPT  ', '-A INPUT -j ACCEPT'],
    ['-A INPUT -j ACCEPT', '-A INPUT -j ACCEPT'],
    ['-A INPUT  -p tcp\t-j ACCEPT', '-A INPUT -p tcp -j ACCEPT'],
    // blanks inside quotes are the comment's own
    ['-A INPUT -m comment --comment "a  b" -j ACCEPT', '-A INPUT -m comment --comment "a  b" -j ACCEPT'],
    ['-A INPUT  -m comment --comment "a  b"   -j ACCEPT', '-A INPUT -m comment --comment "a  b" -j ACCEPT'],
    // not counters: kept
    ['[x:1] -A INPUT', '[x:1] -A INPUT'],
  ])('%j → %j', (raw, id) => expect(rawIdentity(raw)).toBe(id));
  it('only counters differ → same identity; anything else → different', () => {
    expect(rawIdentity('[5:300] -A X -j Y')).toBe(rawIdentity('[0:0] -A X -j Y'));
    expect(rawIdentity('-A X -j Y')).not.toBe(rawIdentity('-A X -j Z'));
    expect(rawIdentity('-A X -m comment --comment "a b" -j Y')).not.toBe(rawIdentity('-A X -m comment --comment "a  b" -j Y'));
  });
});

describe('splitRawWords', () => {
  it.each([
    ['a b  c', ['a', 'b', 'c']],
    ['-m comment --comment "x y" -j A', ['-m', 'comment', '--comment', 'x y', '-j', 'A']],
    ['"a \\"b\\"" c', ['a "b"', 'c']],
    ['a\\b c', ['a\\b', 'c']],
  ])('%j', (line, words) => expect(splitRawWords(line).map((w) => w.text)).toEqual(words));
});

/** Every rule's raw target/comment against the parsed ones, and the callers index against the parsed targets. */
function crossCheck(rs: Ruleset): number {
  let checked = 0;
  const expected = new Map<string, string[]>();
  for (const t of rs.tables.values()) {
    for (const c of t.chains.values()) {
      for (const r of c.rules) {
        checked++;
        const j = rawJump(r.raw);
        const tg = r.target;
        if (tg) expect({ rule: r.raw, name: j?.name, goto: j?.goto }).toEqual({ rule: r.raw, name: tg.name, goto: tg.goto });
        else expect({ rule: r.raw, jump: j }).toEqual({ rule: r.raw, jump: null });
        expect({ rule: r.raw, comment: rawComment(r.raw) }).toEqual({ rule: r.raw, comment: ruleComment(r) });
        if (tg?.kind === 'chain' && t.chains.has(tg.name)) {
          const k = `${t.name} ${tg.name}`;
          expected.set(k, [...(expected.get(k) ?? []), `${r.chain}#${r.position}`]);
        }
      }
    }
  }
  for (const t of rs.tables.values()) {
    for (const c of t.chains.values()) {
      const got = callersOf(rs, t.name, c.name).map((r) => `${r.chain}#${r.position}`);
      expect({ chain: `${t.name} ${c.name}`, callers: got }).toEqual({ chain: `${t.name} ${c.name}`, callers: expected.get(`${t.name} ${c.name}`) ?? [] });
      if (!c.builtin) expect({ chain: c.name, references: c.references }).toEqual({ chain: c.name, references: got.length });
    }
  }
  return checked;
}

describe('raw readers and the callers index on whole dumps', () => {
  it('a generated kube-proxy dump (300 Services × 3 endpoints)', () => {
    const rs = parseRuleset(generateKubeProxyDump({ services: 300, endpoints: 3, seed: 7 }), { file: 'kp.rules' }).ruleset;
    expect(crossCheck(rs)).toBeGreaterThan(2000);
  });
});

const REAL = path.resolve(__dirname, '../../../shared/dumps/real');
const haveReal = existsSync(REAL);
if (!haveReal) console.info(`raw-rule.test.ts: ${REAL} absent — the raw-vs-parser cross-check on real dumps is skipped`);

describe.skipIf(!haveReal)('raw readers and the callers index on the real dumps', () => {
  const files = haveReal ? readdirSync(REAL).filter((f) => f.endsWith('.rules')) : [];
  it('covers the real dumps', () => expect(files.length).toBeGreaterThanOrEqual(10));
  it.each(files)('%s', (name) => {
    const rs = parseRuleset(readFileSync(path.join(REAL, name), 'utf8'), { file: name }).ruleset;
    expect(crossCheck(rs)).toBeGreaterThan(0);
  });
});
