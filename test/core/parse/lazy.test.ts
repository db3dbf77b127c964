/**
 * Lazily kept rules (shape plans, src/core/parse/plan.ts) must be indistinguishable from rules
 * parsed in full: the same diagnostics, in the same order, and the same model once materialised.
 * The reference is `parseRuleset(text, { lazy: false })`, which builds every rule while reading.
 *
 * Inputs: every dump in ../shared/dumps (when present), generated kube-proxy dumps, and the same
 * dumps with seeded random damage (bad addresses, lost arguments, swapped words, stray options…)
 * on a few per cent of their lines — most damaged lines have a shape seen before, so they exercise
 * the plan checks, which must send every one of them to the full parser.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allRules } from '../../../src/core/model.js';
import { parseRuleset } from '../../../src/core/parse/index.js';
import { diagnosticJson, rulesetJson } from '../../../src/core/parse/json.js';
import type { ParsedRule } from '../../../src/core/parse/parsed-rule.js';
import { generateKubeProxyDump, prng } from '../../../src/gen/kubeproxy.js';

const DUMPS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/dumps');
const present = existsSync(DUMPS);
if (!present) console.warn(`lazy parse: ${DUMPS} is absent; the real-dump cases are skipped (generated dumps still run)`);

function dumpFiles(): string[] {
  if (!present) return [];
  const out: string[] = [];
  for (const sub of ['real', 'generated']) {
    const dir = join(DUMPS, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.rules')) out.push(join(dir, f));
  }
  return out;
}

/** Values that break one thing or another when put in place of a word. */
const NASTY = [
  '999.1.1.1', '10.0.0.1/33', '10.0.0.0/8', 'abc', '', '-x', '!', '70000', '0x', 'eth0eth0eth0eth0eth0', '2001:db8::1', '2001:db8::/129',
  '10.0.0.1,10.0.0.2', '1.2.3.4:99999', '1.2.3.4:80', '[2001:db8::1]:80', '"a b"', '-5', '--dport', '-m', '-j', '-g', 'DNAT', 'ACCEPT', 'MARK',
  'tcp', 'udp', 'icmp6', 'comment', '--comment', '--to-destination', '--set-xmark', '0x4000/0x4000', '0xzz', '--probability', '1.5', '0.5',
  '--mode', 'random', 'nth', '-p', '-s', '-d', '-i', '-o', '-f', 'KUBE-NOPE', '--tcp-flags', 'SYN,ACK', 'BOGUS', '"unterminated',
];
const INSERTS = [
  '-i verylonginterfacename0', '-f', '-m icmp6 --icmpv6-type 128', '-g ACCEPT', '-j KUBE-NOPE', '--to-destination 1.2.3.4', '! ! -s 1.2.3.4',
  '-c 1 2', '-m tcp --dport 80', '-p 300', '-p bogus', '-m mark --mark 0x1', '-j ACCEPT --foo', '-s 1.2.3.4 -s 5.6.7.8', '-m statistic --mode random',
];

/** Damage about `rate` of the rule lines of `text`, deterministically for `seed`. */
function damage(text: string, seed: number, rate: number): string {
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith(':') && rnd() < rate) return damageChainLine(line, rnd);
      if (!/^(\[\d+:\d+\] )?-A /.test(line) || rnd() >= rate) return line;
      const words = line.split(' ');
      const head = line.startsWith('[') ? 3 : 2; // keep the counters, -A and the chain name
      if (words.length <= head) return line;
      const k = head + Math.floor(rnd() * (words.length - head));
      switch (Math.floor(rnd() * 6)) {
        case 0:
          words[k] = pick(NASTY);
          break;
        case 1:
          words.splice(k, 1);
          break;
        case 2:
          words.splice(k, 0, words[k]);
          break;
        case 3:
          if (k + 1 < words.length) [words[k], words[k + 1]] = [words[k + 1], words[k]];
          break;
        case 4:
          words.splice(k, 0, '!');
          break;
        default:
          words.splice(k, 0, pick(INSERTS));
      }
      return words.join(' ');
    })
    .join('\n');
}

/** Damage a `:CHAIN POLICY [p:b]` declaration (read by the parser's own fast path when intact). */
function damageChainLine(line: string, rnd: () => number): string {
  const [name, policy, counters] = line.split(' ');
  switch (Math.floor(rnd() * 8)) {
    case 0:
      return `${name} BOGUS ${counters}`;
    case 1:
      return `${name} ACCEPT ${counters}`;
    case 2:
      return `${name} ${policy} [x:1]`;
    case 3:
      return `${name} ${policy}`;
    case 4:
      return `${line} extra`;
    case 5:
      return `${line}\n${line}`;
    case 6:
      return `${name}  ${policy} ${counters}`;
    default:
      return `: ${name.slice(1)} ${policy} ${counters}`;
  }
}

/** Parse both ways and compare everything a consumer can see. */
function expectSame(text: string, file: string): { rules: number; lazyKept: number } {
  const lazy = parseRuleset(text, { file });
  const eager = parseRuleset(text, { file, lazy: false });
  expect(lazy.diagnostics.map(diagnosticJson)).toEqual(eager.diagnostics.map(diagnosticJson));
  expect(lazy.ruleset.family).toBe(eager.ruleset.family);
  let rules = 0;
  let lazyKept = 0;
  for (const r of allRules(lazy.ruleset)) {
    rules++;
    if (!(r as ParsedRule).materialized) lazyKept++;
  }
  for (const r of allRules(eager.ruleset)) expect((r as ParsedRule).materialized).toBe(true);
  // References are counted while linking, before anything is materialised.
  const refs = (rs: typeof lazy.ruleset): string[] => [...rs.tables.values()].flatMap((t) => [...t.chains.values()].map((c) => `${t.name}:${c.name}:${c.references}`));
  expect(refs(lazy.ruleset)).toEqual(refs(eager.ruleset));
  // Materialise (ruleJson reads ip, matches, target and their typed values) and compare.
  const lj = JSON.stringify(rulesetJson(lazy.ruleset));
  const ej = JSON.stringify(rulesetJson(eager.ruleset));
  if (lj !== ej) {
    let i = 0;
    while (i < lj.length && lj[i] === ej[i]) i++;
    console.log('DIFF at', i, '\nlazy :', lj.slice(Math.max(0, i - 300), i + 200), '\neager:', ej.slice(Math.max(0, i - 300), i + 200));
  }
  expect(lj).toBe(ej);
  return { rules, lazyKept };
}

describe('lazy rules are indistinguishable from rules parsed in full', () => {
  it('a generated kube-proxy dump: same model, and nearly every rule kept lazily until touched', () => {
    const text = generateKubeProxyDump({ services: 60, endpoints: 4, seed: 3, counters: true });
    const { rules, lazyKept } = expectSame(text, 'kp.rules');
    expect(rules).toBeGreaterThan(500);
    // Only the first rule of each shape is parsed while reading (a few dozen shapes).
    expect(lazyKept / rules).toBeGreaterThan(0.9);
  });

  it('touching a rule parses it once: the same objects on every later access', () => {
    const { ruleset } = parseRuleset(generateKubeProxyDump({ services: 5, endpoints: 2, seed: 1 }), { file: 'kp' });
    const lazyRule = [...allRules(ruleset)].find((r) => !(r as ParsedRule).materialized) as ParsedRule;
    expect(lazyRule).toBeDefined();
    const m = lazyRule.matches;
    expect(lazyRule.materialized).toBe(true);
    expect(lazyRule.matches).toBe(m);
    expect(lazyRule.target).toBe(lazyRule.target);
    expect(lazyRule.target?.kind).toMatch(/^(chain|verdict|extension)$/);
  });

  for (const seed of Array.from({ length: 24 }, (_, i) => i + 1)) {
    it(`a generated dump with seeded damage on 8% of its rule lines (seed ${seed})`, () => {
      const text = damage(generateKubeProxyDump({ services: 40, endpoints: 3, seed, counters: seed % 2 === 0 }), seed, 0.08);
      const { rules, lazyKept } = expectSame(text, `damaged-${seed}.rules`);
      expect(rules).toBeGreaterThan(300);
      expect(lazyKept).toBeGreaterThan(0);
    });
  }

  it('an IPv6 dump generated from an IPv4 one, damaged', () => {
    const v4 = generateKubeProxyDump({ services: 30, endpoints: 3, seed: 9 });
    const v6 = v4
      .replace('iptables-save', 'ip6tables-save')
      .replace(/\b10\.(\d+)\.(\d+)\.(\d+)\b/g, 'fd00::$1:$2:$3')
      .replace(/--to-destination fd00::([\d:]+):(\d+)\b/g, '--to-destination [fd00::$1]:$2');
    for (const seed of [11, 12, 13]) expectSame(damage(v6, seed, 0.1), `v6-${seed}.rules`);
  });

  describe.skipIf(!present)('real-world dumps (../shared/dumps)', () => {
    for (const f of dumpFiles()) {
      const name = f.slice(DUMPS.length + 1);
      it(`${name}: as it is, and damaged`, () => {
        const text = readFileSync(f, 'utf8');
        expectSame(text, name);
        for (const seed of [21, 22]) expectSame(damage(text, seed, 0.1), `${name}#${seed}`);
      });
    }
  });
});

describe('shape hashes that collide', () => {
  it('two shapes with the same cheap hash both get plans, and neither is mistaken for the other', () => {
    // `-m abcde` and `-m abcXe` (modules iptscope does not know: kept generically) have the same
    // length, first, third and last characters: the same shape hash.
    const lines = ['# Generated by iptables-save v1.8.9', '*filter', ':INPUT ACCEPT [0:0]', ':X - [0:0]'];
    for (let i = 0; i < 50; i++) {
      lines.push(`-A X -s 10.0.${i}.1/32 -m abcde --opt v${i} -j ACCEPT`);
      lines.push(`-A X -s 10.1.${i}.1/32 -m abcXe --opt v${i} -j DROP`);
    }
    lines.push('COMMIT', '');
    const text = lines.join('\n');
    const { rules, lazyKept } = expectSame(text, 'collide.rules');
    expect(rules).toBe(100);
    expect(lazyKept).toBe(98);
    const { ruleset } = parseRuleset(text, { file: 'collide.rules' });
    const modules = ruleset.tables.get('filter')!.chains.get('X')!.rules.map((r) => r.matches[0].module);
    expect(modules.slice(0, 4)).toEqual(['abcde', 'abcXe', 'abcde', 'abcXe']);
    expect(new Set(modules)).toEqual(new Set(['abcde', 'abcXe']));
  });
});

describe('restore commands over lazily kept rules', () => {
  it('-I, -D (by number and by specification), -R, -F, -X, -N, -P, -Z behave as with rules parsed in full', () => {
    const lines = ['# Generated by iptables-save v1.8.9', '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':A - [0:0]', ':B - [0:0]', ':C - [0:0]'];
    for (let i = 0; i < 30; i++) lines.push(`[${i}:${i * 60}] -A A -s 10.0.${i}.0/24 -p tcp -m tcp --dport ${1000 + i} -m comment --comment "rule ${i}" -j B`);
    for (let i = 0; i < 10; i++) lines.push(`-A B -d 10.9.${i}.1/32 -j ACCEPT`);
    lines.push(
      '-I A 3 -s 192.168.0.0/16 -j DROP',
      '-D A 5',
      '-D A -s 10.0.7.0/24 -p tcp -m tcp --dport 1007 -m comment --comment "rule 7" -j B',
      '-D A -s 10.0.99.0/24 -p tcp -m tcp --dport 1099 -m comment --comment "rule 99" -j B',
      '-R A 10 -s 172.16.0.0/12 -j RETURN',
      '-A C -j B',
      '-F C',
      '-X C',
      '-N D',
      '-A D -s 10.0.0.1/32 -j B',
      '-P FORWARD ACCEPT',
      '-Z A',
      '-A A -s 10.0.200.1/32 -j NOPE',
      '-A A -s 10.0.201.1/32 -g ACCEPT',
      'COMMIT',
      '',
    );
    const text = lines.join('\n');
    const { rules } = expectSame(text, 'restore.rules');
    expect(rules).toBe(30 + 1 - 2 + 10 + 1 + 2);
    // -D by specification compared A's rules (so they were parsed); B's, after the first of their
    // shape, are still raw text.
    const { ruleset } = parseRuleset(text, { file: 'restore.rules' });
    const lazyIn = (c: string): number => ruleset.tables.get('filter')!.chains.get(c)!.rules.filter((r) => !(r as ParsedRule).materialized).length;
    expect(lazyIn('A')).toBe(0);
    expect(lazyIn('B')).toBe(9);
  });
});

describe('shared matches keep what makes them different', () => {
  it('with two -j, the rule keeps its last target whatever earlier rules shared (found by the damage fuzz)', () => {
    const text = ['*filter', ':INPUT ACCEPT [0:0]', ':X - [0:0]', '-A INPUT -s 10.0.0.1/32 -j X', '-A INPUT -s 10.0.0.2/32 -j X -j LOG --log-prefix p', 'COMMIT', ''].join('\n');
    for (const lazy of [true, false]) {
      const { ruleset, diagnostics } = parseRuleset(text, { file: 't', lazy });
      const rules = ruleset.tables.get('filter')!.chains.get('INPUT')!.rules;
      expect(rules[0].target?.name).toBe('X');
      expect(rules[1].target?.name).toBe('LOG');
      expect(diagnostics.map((d) => d.code)).toEqual(['duplicate-option']);
    }
  });

  it('a comment match loaded implicitly (`-p comment --comment x`) is not shared with `-m comment --comment x` (found by the damage fuzz)', () => {
    const text = ['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -p comment --comment x -j ACCEPT', '-A INPUT -m comment --comment x -j ACCEPT', 'COMMIT', ''].join('\n');
    for (const lazy of [true, false]) {
      const { ruleset } = parseRuleset(text, { file: 't', lazy });
      const rules = ruleset.tables.get('filter')!.chains.get('INPUT')!.rules;
      expect(rules[0].matches.map((m) => [m.module, m.implicit === true])).toEqual([['comment', true]]);
      expect(rules[1].matches.map((m) => [m.module, m.implicit === true])).toEqual([['comment', false]]);
    }
  });
});

describe('lines the fast paths leave to the tokenizer', () => {
  const base = generateKubeProxyDump({ services: 20, endpoints: 2, seed: 4 });
  const variants: [string, (t: string) => string][] = [
    ['CRLF line endings', (t) => t.replace(/\n/g, '\r\n')],
    ['tabs between some words', (t) => t.split('\n').map((l, i) => (i % 7 === 3 ? l.replace(' -j ', '\t-j ') : l)).join('\n')],
    ['escaped quotes in some comments', (t) => t.split('\n').map((l, i) => (i % 5 === 1 ? l.replace(/--comment "([^"]*)"/, '--comment "a \\"q\\" $1"') : l)).join('\n')],
    ['a stray CR inside a line', (t) => t.split('\n').map((l, i) => (i % 11 === 2 ? l.replace(' -m ', ' \r-m ') : l)).join('\n')],
    ['double spaces and trailing spaces', (t) => t.split('\n').map((l, i) => (i % 3 === 0 ? l.replace(' ', '  ') + ' ' : l)).join('\n')],
  ];
  it.each(variants)('%s: the same as the full parse', (_name, change) => {
    const { rules } = expectSame(change(base), 'variant.rules');
    expect(rules).toBeGreaterThan(100);
  });
});
