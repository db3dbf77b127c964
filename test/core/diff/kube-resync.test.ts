/**
 * A real kube-proxy dump (kubernetes' TestOverallIPTablesRules) against itself after a resync in
 * which one Service gained an endpoint and another lost one: the diff must be the handful of
 * rules kube-proxy really rewrote, nothing else.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRuleset } from '../../../src/core/parse/index.js';
import { diffStructural } from '../../../src/core/diff/structural.js';
import { formatStructuralText } from '../../../src/core/diff/text.js';
import type { StructuralDiff } from '../../../src/core/diff/types.js';

import { KUBE_OVERALL as FILE, kubeOverallPresent as present, resync } from './resync.js';

if (!present) console.warn(`[diff] ${FILE} not found: real kube-proxy resync tests skipped`);

function parse(text: string, file: string) {
  const r = parseRuleset(text, { file });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.ruleset;
}

/** `nat KUBE-SVC-…: changed@2 added@3` — a compact picture of what the diff says. */
function picture(d: StructuralDiff): string[] {
  return d.tables.flatMap((t) =>
    t.chains.map((c) => `${t.table} ${c.chain} ${c.status}: ${c.changes.map((x) => `${x.kind}@${(x.new ?? x.old)!.position}`).join(' ')}`),
  );
}

describe.skipIf(!present)('kube-proxy resync on a real dump (kube-proxy-overall.rules)', () => {
  const oldText = present ? readFileSync(FILE, 'utf8') : '';

  it('shows only the rules the resync changed', () => {
    const d = diffStructural(parse(oldText, 'old.rules'), parse(resync(oldText), 'new.rules'));
    expect(picture(d)).toEqual([
      'nat KUBE-SEP-ZZNEWENDPOINT9AA added: added@1 added@2',
      'nat KUBE-SVC-4SW47YFZTEDKD3PK modified: changed@2 removed@3',
      'nat KUBE-SVC-XPGD46QRK7WJZT7O modified: changed@2 added@3',
      'nat KUBE-SEP-C6EBXVWJJZMIWKLZ removed: removed@1 removed@2',
    ]);
    expect(d.summary).toMatchObject({ chainsAdded: 1, chainsRemoved: 1, rulesAdded: 3, rulesRemoved: 3, rulesChanged: 2, rulesMoved: 0, chainsRenamed: 0 });
    const svc1 = d.tables[0].chains.find((c) => c.chain === 'KUBE-SVC-XPGD46QRK7WJZT7O')!;
    expect(svc1.changes[0].words).toEqual({ removed: [], added: ['-m', 'statistic', '--mode', 'random', '--probability', '0.5000000000'] });
  });

  it('renders as a unified diff grouped by table and chain', () => {
    const d = diffStructural(parse(oldText, 'old.rules'), parse(resync(oldText), 'new.rules'));
    const text = formatStructuralText(d, { color: false });
    const lines = text.split('\n');
    expect(lines[0]).toBe('--- old.rules');
    expect(lines[1]).toBe('+++ new.rules');
    expect(lines.filter((l) => l.startsWith('@@ nat '))).toEqual([
      '@@ nat KUBE-SEP-ZZNEWENDPOINT9AA @@ chain added (2 rules)',
      '@@ nat KUBE-SVC-4SW47YFZTEDKD3PK @@ 1 removed, 1 changed',
      '@@ nat KUBE-SVC-XPGD46QRK7WJZT7O @@ 1 added, 1 changed',
      '@@ nat KUBE-SEP-C6EBXVWJJZMIWKLZ @@ chain removed (2 rules)',
    ]);
    expect(lines.filter((l) => l.startsWith('+-A ')).length).toBe(5); // 3 added + 2 changed (new side)
    expect(lines.filter((l) => l.startsWith('--A ')).length).toBe(5);
    expect(text).not.toContain('\x1b[');
    expect(formatStructuralText(d, { color: true })).toContain('\x1b[31m--A KUBE-SEP-C6EBXVWJJZMIWKLZ');
  });

  it('a global rename of a hashed chain (SVC, and FW referenced from a filter comment) is only renames', () => {
    let t = oldText.replaceAll('KUBE-SVC-XPGD46QRK7WJZT7O', 'KUBE-SVC-RENAMEDXPGD46QRK');
    t = t.replaceAll('KUBE-FW-NUKIZ6OKUXPJNT4C', 'KUBE-FW-RENAMEDNUKIZ6OKUX');
    const d = diffStructural(parse(oldText, 'old.rules'), parse(t, 'new.rules'));
    expect(d.summary).toMatchObject({ chainsRenamed: 2, rulesAdded: 0, rulesRemoved: 0, rulesChanged: 0, rulesMoved: 0, chainsAdded: 0, chainsRemoved: 0 });
    expect(d.tables.flatMap((x) => x.renames.map((r) => `${r.table}:${r.from}>${r.to}`)).sort()).toEqual([
      'nat:KUBE-FW-NUKIZ6OKUXPJNT4C>KUBE-FW-RENAMEDNUKIZ6OKUX',
      'nat:KUBE-SVC-XPGD46QRK7WJZT7O>KUBE-SVC-RENAMEDXPGD46QRK',
    ]);
  });

  it('the same dump is identical', () => {
    const d = diffStructural(parse(oldText, 'a'), parse(oldText, 'b'));
    expect(d.identical).toBe(true);
    expect(d.tables).toEqual([]);
  });
});
