/**
 * Every real-world dump (../shared/dumps): against itself it is identical; one rule deleted, one
 * inserted at the top of a chain, or one moved to the end of its chain is exactly that one change.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseRuleset } from '../../../src/core/parse/index.js';
import { diffStructural } from '../../../src/core/diff/structural.js';
import { ZERO_SUMMARY } from './summary.js';

const ROOT = fileURLToPath(new URL('../../../../shared/dumps/', import.meta.url));
const files = ['real', 'generated'].flatMap((d) => (existsSync(ROOT + d) ? readdirSync(ROOT + d).filter((f) => f.endsWith('.rules')).map((f) => `${d}/${f}`) : []));
if (files.length === 0) console.warn(`[diff] no dumps under ${ROOT}: real-dump diff tests skipped`);

const zero = ZERO_SUMMARY;

const RULE = /^(?:\[\d+:\d+\] )?-A (\S+) /;

/** Indices of the rule lines of the chain with the most rules (within one table block). */
function biggestChain(lines: string[]): number[] {
  let best: number[] = [];
  let cur = new Map<string, number[]>();
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('*')) cur = new Map();
    const m = RULE.exec(lines[i]);
    if (!m) continue;
    const l = cur.get(m[1]) ?? [];
    l.push(i);
    cur.set(m[1], l);
    if (l.length > best.length) best = l;
  }
  return best;
}

describe.skipIf(files.length === 0)('real dumps', () => {
  it.each(files)('%s', (name) => {
    const text = readFileSync(ROOT + name, 'utf8');
    const parse = (t: string) => parseRuleset(t, { file: name }).ruleset;
    const a = parse(text);
    expect(diffStructural(a, parse(text)).identical).toBe(true);
    const lines = text.split('\n');
    const chain = biggestChain(lines);
    expect(chain.length).toBeGreaterThan(0);
    const chainName = RULE.exec(lines[chain[0]])![1];

    const mid = chain[chain.length >> 1];
    const deleted = lines.filter((_, i) => i !== mid).join('\n');
    expect(diffStructural(a, parse(deleted)).summary).toEqual({ ...zero, rulesRemoved: 1 });

    const family = a.family === 'ipv6' ? '2001:db8:ffff::99/128' : '192.0.2.99/32';
    const inserted = [...lines.slice(0, chain[0]), `-A ${chainName} -s ${family} -j DROP`, ...lines.slice(chain[0])].join('\n');
    const ins = diffStructural(a, parse(inserted));
    expect(ins.summary).toEqual({ ...zero, rulesAdded: 1 });
    expect(ins.tables[0].chains[0].changes[0].new!.position).toBe(1);

    if (chain.length >= 3) {
      const last = chain[chain.length - 1];
      const moved = [...lines.slice(0, last + 1), lines[chain[0]], ...lines.slice(last + 1)].filter((_, i) => i !== chain[0]).join('\n');
      const mv = diffStructural(a, parse(moved));
      const s = mv.summary;
      // The first rule now last: one move — unless the chain holds a copy of it, then maybe none.
      const strip = (l: string) => l.replace(/^\[\d+:\d+\] /, '');
      const hasCopy = chain.slice(1).some((i) => strip(lines[i]) === strip(lines[chain[0]]));
      if (hasCopy) expect(s.rulesMoved).toBeLessThanOrEqual(1);
      else expect(s.rulesMoved).toBe(1);
      expect({ ...s, rulesMoved: 0 }).toEqual(zero);
    }
  });
});
