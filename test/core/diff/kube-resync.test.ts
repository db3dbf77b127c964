/**
 * A real kube-proxy dump (kubernetes' TestOverallIPTablesRules) against itself after a resync in
 * which one Service gained an endpoint and another lost one: the diff must be the handful of
 * rules kube-proxy really rewrote, nothing else.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseRuleset } from '../../../src/core/parse/index.js';
import { diffStructural } from '../../../src/core/diff/structural.js';
import { formatStructuralText } from '../../../src/core/diff/text.js';
import type { StructuralDiff } from '../../../src/core/diff/types.js';

const DUMPS = fileURLToPath(new URL('../../../../shared/dumps/real/', import.meta.url));
const FILE = DUMPS + 'kube-proxy-overall.rules';
const present = existsSync(FILE);
if (!present) console.warn(`[diff] ${FILE} not found: real kube-proxy resync tests skipped`);

/** Replace exactly one occurrence (the test fails loudly if the dump is not what it expects). */
function replaceOnce(text: string, from: string, to: string): string {
  const k = text.indexOf(from);
  if (k < 0 || text.indexOf(from, k + 1) >= 0) throw new Error(`expected exactly one occurrence of: ${from}`);
  return text.slice(0, k) + to + text.slice(k + from.length);
}

/** The resync: ns1/svc1 gains endpoint 10.180.0.9, ns4/svc4 loses 10.180.0.5. */
function resync(old: string): string {
  let t = old;
  // svc1: new SEP chain declared next to the others, its two rules, and the SVC chain now picks 1 of 2.
  t = replaceOnce(t, ':KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]\n', ':KUBE-SEP-UKSFD7AGPMPPLUHC - [0:0]\n:KUBE-SEP-ZZNEWENDPOINT9AA - [0:0]\n');
  t = replaceOnce(
    t,
    '-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4',
    '-A KUBE-SEP-ZZNEWENDPOINT9AA -m comment --comment ns1/svc1:p80 -s 10.180.0.9 -j KUBE-MARK-MASQ\n' +
      '-A KUBE-SEP-ZZNEWENDPOINT9AA -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.9:80\n' +
      '-A KUBE-SEP-UKSFD7AGPMPPLUHC -m comment --comment ns4/svc4:p80 -s 10.180.0.4',
  );
  t = replaceOnce(
    t,
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ\n',
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-SXIVWICOYRO3J4NJ\n' +
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.9:80" -j KUBE-SEP-ZZNEWENDPOINT9AA\n',
  );
  // svc4: endpoint 10.180.0.5 gone: its SEP chain, its SVC rule, and the statistic on the survivor.
  t = replaceOnce(t, ':KUBE-SEP-C6EBXVWJJZMIWKLZ - [0:0]\n', '');
  t = replaceOnce(t, '-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -s 10.180.0.5 -j KUBE-MARK-MASQ\n', '');
  t = replaceOnce(t, '-A KUBE-SEP-C6EBXVWJJZMIWKLZ -m comment --comment ns4/svc4:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.5:80\n', '');
  t = replaceOnce(t, '-A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.5:80" -j KUBE-SEP-C6EBXVWJJZMIWKLZ\n', '');
  t = replaceOnce(
    t,
    '"ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC',
    '"ns4/svc4:p80 -> 10.180.0.4:80" -j KUBE-SEP-UKSFD7AGPMPPLUHC',
  );
  return t;
}

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
