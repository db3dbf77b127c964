import { describe, expect, it } from 'vitest';
import { parseRuleset } from '../../../src/core/parse/index.js';
import { diffStructural } from '../../../src/core/diff/structural.js';
import type { ChainDiff, DiffSummary, StructuralDiff } from '../../../src/core/diff/types.js';
import type { Ruleset } from '../../../src/core/model.js';
import { ZERO_SUMMARY } from './summary.js';

function parse(text: string, file: string): Ruleset {
  const r = parseRuleset(text, { file });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  expect(errors, `${file} parses`).toEqual([]);
  return r.ruleset;
}

const diff = (a: string, b: string): StructuralDiff => diffStructural(parse(a, 'old.rules'), parse(b, 'new.rules'));

function chain(d: StructuralDiff, table: string, name: string): ChainDiff {
  const t = d.tables.find((x) => x.table === table);
  const c = t?.chains.find((x) => x.chain === name);
  if (!c) throw new Error(`no diff for ${table} ${name}: ${JSON.stringify(d.tables.map((x) => [x.table, x.chains.map((y) => y.chain)]))}`);
  return c;
}

const zero = ZERO_SUMMARY;

const filter = (body: string, policy = 'ACCEPT', extraChains = '') =>
  `*filter\n:INPUT ${policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${extraChains}${body}COMMIT\n`;

const five = [
  '-A INPUT -i lo -j ACCEPT',
  '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
  '-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT',
  '-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT',
  '-A INPUT -p udp -m udp --dport 53 -j ACCEPT',
];
const lines = (rules: string[]) => rules.map((r) => r + '\n').join('');

interface Row {
  name: string;
  old: string;
  new: string;
  summary: Partial<DiffSummary>;
  check?: (d: StructuralDiff) => void;
}

const rows: Row[] = [
  {
    name: 'identical files',
    old: filter(lines(five)),
    new: filter(lines(five)),
    summary: {},
    check: (d) => {
      expect(d.identical).toBe(true);
      expect(d.tables).toEqual([]);
    },
  },
  {
    name: 'a rule inserted at the top is one addition',
    old: filter(lines(five)),
    new: filter(lines(['-A INPUT -s 10.0.0.0/8 -j DROP', ...five])),
    summary: { rulesAdded: 1 },
    check: (d) => {
      const c = chain(d, 'filter', 'INPUT');
      expect(c.status).toBe('modified');
      expect(c.changes).toHaveLength(1);
      expect(c.changes[0].kind).toBe('added');
      expect(c.changes[0].new).toMatchObject({ position: 1, line: 5, text: '-A INPUT -s 10.0.0.0/8 -j DROP' });
      expect(c.hunks).toHaveLength(1);
      const h = c.hunks[0];
      expect(h.lines.map((l) => l.op)).toEqual(['added', 'context', 'context', 'context']);
      expect([h.oldStart, h.oldCount, h.newStart, h.newCount]).toEqual([1, 3, 1, 4]);
      // Context rules carry both sides' positions.
      expect(h.lines[1].old?.position).toBe(1);
      expect(h.lines[1].new?.position).toBe(2);
    },
  },
  {
    name: 'a rule removed from the middle',
    old: filter(lines(five)),
    new: filter(lines([five[0], five[1], five[3], five[4]])),
    summary: { rulesRemoved: 1 },
    check: (d) => {
      const c = chain(d, 'filter', 'INPUT');
      expect(c.changes).toEqual([{ kind: 'removed', old: expect.objectContaining({ position: 3, line: 7 }) }]);
      expect(c.changes[0].old!.text).toContain('--dport 80');
    },
  },
  {
    name: 'a rule moved from the top to the bottom',
    old: filter(lines(five)),
    new: filter(lines([five[1], five[2], five[3], five[4], five[0]])),
    summary: { rulesMoved: 1 },
    check: (d) => {
      const c = chain(d, 'filter', 'INPUT');
      expect(c.changes).toHaveLength(1);
      expect(c.changes[0]).toMatchObject({ kind: 'moved', old: { position: 1 }, new: { position: 5 } });
      const ops = c.hunks.flatMap((h) => h.lines.filter((l) => l.op !== 'context'));
      expect(ops.map((l) => [l.op, l.movedTo ?? l.movedFrom])).toEqual([
        ['removed', 5],
        ['added', 1],
      ]);
    },
  },
  {
    name: 'a rule changed in place (port)',
    old: filter(lines(five)),
    new: filter(lines([five[0], five[1], '-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT', five[3], five[4]])),
    summary: { rulesChanged: 1 },
    check: (d) => {
      const c = chain(d, 'filter', 'INPUT');
      expect(c.changes).toHaveLength(1);
      const ch = c.changes[0];
      expect(ch.kind).toBe('changed');
      expect(ch.old!.position).toBe(3);
      expect(ch.new!.position).toBe(3);
      expect(ch.words).toEqual({ removed: ['80'], added: ['8080'] });
      expect(ch.similarity).toBeGreaterThan(0.5);
      expect(c.hunks[0].lines.filter((l) => l.op !== 'context').map((l) => [l.op, l.change])).toEqual([
        ['removed', 0],
        ['added', 0],
      ]);
    },
  },
  {
    name: 'a dissimilar rule in the same place is a removal and an addition',
    old: filter(lines(five)),
    new: filter(lines([five[0], five[1], '-A INPUT -m conntrack --ctstate INVALID -j DROP', five[3], five[4]])),
    summary: { rulesAdded: 1, rulesRemoved: 1 },
  },
  {
    name: 'policy change',
    old: filter(lines(five)),
    new: filter(lines(five), 'DROP'),
    summary: { policiesChanged: 1 },
    check: (d) => {
      const c = chain(d, 'filter', 'INPUT');
      expect(c.policy).toEqual({ old: 'ACCEPT', new: 'DROP' });
      expect(c.changes).toEqual([]);
      expect(c.declared).toEqual({ old: 2, new: 2 });
    },
  },
  {
    name: 'chain added (with the rule jumping to it)',
    old: filter(lines(five)),
    new: filter(lines([...five, '-A INPUT -j LOGDROP', '-A LOGDROP -j LOG --log-prefix "drop: "', '-A LOGDROP -j DROP']), 'ACCEPT', ':LOGDROP - [0:0]\n'),
    summary: { chainsAdded: 1, rulesAdded: 3 },
    check: (d) => {
      const c = chain(d, 'filter', 'LOGDROP');
      expect(c.status).toBe('added');
      expect(c.rules).toEqual({ old: 0, new: 2 });
      expect(c.changes.map((x) => x.kind)).toEqual(['added', 'added']);
      expect(c.declared.new).toBe(5);
      expect(chain(d, 'filter', 'INPUT').changes).toHaveLength(1);
    },
  },
  {
    name: 'chain removed',
    old: filter(lines([...five, '-A EMPTY -j RETURN']), 'ACCEPT', ':EMPTY - [0:0]\n'),
    new: filter(lines(five)),
    summary: { chainsRemoved: 1, rulesRemoved: 1 },
    check: (d) => {
      const c = chain(d, 'filter', 'EMPTY');
      expect(c.status).toBe('removed');
      expect(c.changes[0].old).toMatchObject({ position: 1, text: '-A EMPTY -j RETURN' });
    },
  },
  {
    name: 'table added',
    old: filter(lines(five)),
    new: filter(lines(five)) + '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p udp -m udp --dport 53 -j NOTRACK\nCOMMIT\n',
    summary: { tablesAdded: 1, chainsAdded: 2, rulesAdded: 1 },
    check: (d) => {
      expect(d.tables.map((t) => [t.table, t.status])).toEqual([
        ['raw', 'added'],
      ]);
      expect(chain(d, 'raw', 'PREROUTING').policy).toEqual({ old: null, new: 'ACCEPT' });
    },
  },
  {
    name: 'counters only: identical rules, per-rule deltas',
    old: `*filter\n:INPUT ACCEPT [10:1000]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[5:300] -A INPUT -i lo -j ACCEPT\n[7:700] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n`,
    new: `*filter\n:INPUT ACCEPT [12:1100]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[5:300] -A INPUT -i lo -j ACCEPT\n[19:1900] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n`,
    summary: { countersChanged: 1 },
    check: (d) => {
      expect(d.identical).toBe(true);
      expect(d.counters).toBe(true);
      const c = chain(d, 'filter', 'INPUT');
      expect(c.status).toBe('unchanged');
      expect(c.changes).toEqual([]);
      expect(c.counters).toEqual([
        expect.objectContaining({ delta: { packets: 12, bytes: 1200 }, old: expect.objectContaining({ position: 2 }) }),
      ]);
      expect(c.chainCounters).toEqual({ packets: 2, bytes: 100 });
    },
  },
  {
    name: 'counters never affect identity: a changed rule still pairs, with its delta',
    old: `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[1:10] -A INPUT -i lo -j ACCEPT\n[7:700] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n`,
    new: `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[1:10] -A INPUT -i lo -j ACCEPT\n[9:900] -A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT\nCOMMIT\n`,
    summary: { rulesChanged: 1, countersChanged: 1 },
    check: (d) => {
      expect(chain(d, 'filter', 'INPUT').changes[0]).toMatchObject({ kind: 'changed', delta: { packets: 2, bytes: 200 } });
    },
  },
  {
    name: 'one side without counters: no deltas',
    old: `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[5:300] -A INPUT -i lo -j ACCEPT\nCOMMIT\n`,
    new: filter('-A INPUT -i lo -j ACCEPT\n'),
    summary: {},
    check: (d) => {
      expect(d.counters).toBe(false);
      expect(d.identical).toBe(true);
    },
  },
];

describe('diffStructural: crafted pairs', () => {
  it.each(rows)('$name', (row) => {
    const d = diff(row.old, row.new);
    expect(d.summary).toEqual({ ...zero, ...row.summary });
    const structuralChange = Object.entries(row.summary).some(([k, v]) => k !== 'countersChanged' && (v ?? 0) > 0);
    expect(d.identical).toBe(!structuralChange);
    row.check?.(d);
  });
});

const kube = (svcName: string, sepA: string, sepB: string) => `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:${svcName} - [0:0]
:${sepA} - [0:0]
:${sepB} - [0:0]
:KUBE-SVC-DBDBDBDBDBDBDBDB - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -m comment --comment "default/web:http cluster IP" -d 10.96.0.100/32 -p tcp -m tcp --dport 80 -j ${svcName}
-A KUBE-SERVICES -m comment --comment "default/db:pg cluster IP" -d 10.96.0.200/32 -p tcp -m tcp --dport 5432 -j KUBE-SVC-DBDBDBDBDBDBDBDB
-A ${svcName} -m comment --comment "default/web:http -> 10.244.1.2:80" -m statistic --mode random --probability 0.5000000000 -j ${sepA}
-A ${svcName} -m comment --comment "default/web:http -> 10.244.1.3:80" -j ${sepB}
-A ${sepA} -m comment --comment "default/web:http" -p tcp -m recent --set --name ${sepA} --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.1.2:80
-A ${sepB} -m comment --comment "default/web:http" -p tcp -m tcp -j DNAT --to-destination 10.244.1.3:80
-A KUBE-SVC-DBDBDBDBDBDBDBDB -m comment --comment "default/db:pg has no endpoints" -j DROP
COMMIT
`;

describe('diffStructural: kube-proxy hashed chain renames', () => {
  it('a renamed SVC chain is a rename, and the jump to it is not a change', () => {
    const d = diff(kube('KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SEP-1111111111111111', 'KUBE-SEP-2222222222222222'), kube('KUBE-SVC-BBBBBBBBBBBBBBBB', 'KUBE-SEP-1111111111111111', 'KUBE-SEP-2222222222222222'));
    expect(d.summary).toEqual({ ...zero, chainsRenamed: 1 });
    expect(d.tables[0].renames).toEqual([{ table: 'nat', from: 'KUBE-SVC-AAAAAAAAAAAAAAAA', to: 'KUBE-SVC-BBBBBBBBBBBBBBBB' }]);
    const c = chain(d, 'nat', 'KUBE-SVC-BBBBBBBBBBBBBBBB');
    expect(c).toMatchObject({ status: 'renamed', oldName: 'KUBE-SVC-AAAAAAAAAAAAAAAA', changes: [] });
    expect(d.tables[0].chains.map((x) => x.chain)).toEqual(['KUBE-SVC-BBBBBBBBBBBBBBBB']);
  });

  it('renamed SVC and SEP chains together (references between them resolved iteratively)', () => {
    const d = diff(kube('KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SEP-1111111111111111', 'KUBE-SEP-2222222222222222'), kube('KUBE-SVC-BBBBBBBBBBBBBBBB', 'KUBE-SEP-3333333333333333', 'KUBE-SEP-4444444444444444'));
    expect(d.summary).toEqual({ ...zero, chainsRenamed: 3 });
    expect(d.tables[0].renames.map((r) => `${r.from}>${r.to}`).sort()).toEqual([
      'KUBE-SEP-1111111111111111>KUBE-SEP-3333333333333333',
      'KUBE-SEP-2222222222222222>KUBE-SEP-4444444444444444',
      'KUBE-SVC-AAAAAAAAAAAAAAAA>KUBE-SVC-BBBBBBBBBBBBBBBB',
    ]);
  });

  it('a hashed chain with different content is not a rename', () => {
    const b = kube('KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SEP-1111111111111111', 'KUBE-SEP-5555555555555555').replaceAll('10.244.1.3:80', '10.244.1.9:80');
    const d = diff(kube('KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SEP-1111111111111111', 'KUBE-SEP-2222222222222222'), b);
    expect(d.summary.chainsRenamed).toBe(0);
    expect(d.summary.chainsAdded).toBe(1);
    expect(d.summary.chainsRemoved).toBe(1);
    // The SVC rule pointing at the replaced endpoint changed (target and comment).
    const svc = chain(d, 'nat', 'KUBE-SVC-AAAAAAAAAAAAAAAA');
    expect(svc.changes.map((c) => c.kind)).toEqual(['changed']);
  });

  it('non-hashed user chains are never renamed', () => {
    const a = filter('-A INPUT -j MYCHAIN\n-A MYCHAIN -p tcp -m tcp --dport 22 -j ACCEPT\n', 'ACCEPT', ':MYCHAIN - [0:0]\n');
    const b = filter('-A INPUT -j OTHER\n-A OTHER -p tcp -m tcp --dport 22 -j ACCEPT\n', 'ACCEPT', ':OTHER - [0:0]\n');
    const d = diff(a, b);
    // Jump to another chain: too different to pair (only the target differs, in a 2-word rule).
    expect(d.summary).toEqual({ ...zero, chainsAdded: 1, chainsRemoved: 1, rulesAdded: 2, rulesRemoved: 2 });
  });
});

describe('diffStructural: large chains stay positional-free', () => {
  it('one insertion at the top of a 5,000-rule chain is one addition', () => {
    const rules = Array.from({ length: 5000 }, (_, k) => `-A INPUT -s 10.${(k >> 8) & 255}.${k & 255}.1/32 -j ACCEPT`);
    const d = diff(filter(lines(rules)), filter(lines(['-A INPUT -s 192.0.2.1/32 -j DROP', ...rules])));
    expect(d.summary).toEqual({ ...zero, rulesAdded: 1 });
  });

  it('duplicate rules: moving one of two identical rules', () => {
    const dup = '-A INPUT -j LOG';
    const d = diff(filter(lines([dup, five[1], dup, five[2]])), filter(lines([five[1], dup, dup, five[2]])));
    // Aligned as one less-or-equal edit: the LCS keeps three of the four rules in place.
    expect(d.summary.rulesMoved + d.summary.rulesAdded + d.summary.rulesRemoved).toBe(1);
  });
});

describe('diffStructural: renames across tables', () => {
  it('a nat rename rewrites a filter comment naming it, but not a filter chain of the same name', () => {
    const mk = (natName: string, filterRef: string) =>
      `*nat\n:PREROUTING ACCEPT [0:0]\n:${natName} - [0:0]\n-A PREROUTING -j ${natName}\n-A ${natName} -m comment --comment "ns/svc lb" -j RETURN\nCOMMIT\n` +
      `*filter\n:INPUT ACCEPT [0:0]\n:KUBE-FW-AAAAAAAAAAAAAAAA - [0:0]\n-A INPUT -m comment --comment "dropped by ${filterRef}" -j KUBE-FW-AAAAAAAAAAAAAAAA\n-A KUBE-FW-AAAAAAAAAAAAAAAA -j DROP\nCOMMIT\n`;
    // nat KUBE-FW-AAAA… renamed to …BBBB; filter has its own KUBE-FW-AAAA… chain, unchanged.
    const d = diff(mk('KUBE-FW-AAAAAAAAAAAAAAAA', 'KUBE-FW-AAAAAAAAAAAAAAAA'), mk('KUBE-FW-BBBBBBBBBBBBBBBB', 'KUBE-FW-AAAAAAAAAAAAAAAA'));
    expect(d.summary).toEqual({ ...zero, chainsRenamed: 1 });
  });
});

// Expected hunk headers are what GNU `diff -U3` (and -U0) prints for the same rule lines.
describe('diffStructural: hunks', () => {
  const twenty = Array.from({ length: 20 }, (_, k) => `-A INPUT -s 10.0.${k}.0/24 -j ACCEPT`);
  const without = (...drop: number[]) => twenty.filter((_, k) => !drop.includes(k));
  it.each([
    { name: 'changes far apart: two hunks', drop: [1, 17], hunks: [[1, 5, 1, 4], [15, 6, 14, 5]] },
    { name: 'changes 6 rules apart: one hunk', drop: [1, 8], hunks: [[1, 12, 1, 10]] },
    { name: 'changes 7 rules apart: two hunks', drop: [1, 9], hunks: [[1, 5, 1, 4], [7, 7, 6, 6]] },
    { name: 'last rule', drop: [19], hunks: [[17, 4, 17, 3]] },
  ])('$name', ({ drop, hunks }) => {
    const d = diff(filter(lines(twenty)), filter(lines(without(...drop))));
    const c = chain(d, 'filter', 'INPUT');
    expect(c.hunks.map((h) => [h.oldStart, h.oldCount, h.newStart, h.newCount])).toEqual(hunks);
    // Each hunk: context, the removal(s), context; line counts add up.
    for (const h of c.hunks) {
      expect(h.lines.filter((l) => l.op !== 'added').length).toBe(h.oldCount);
      expect(h.lines.filter((l) => l.op !== 'removed').length).toBe(h.newCount);
    }
  });

  it('-U 0: only the changed lines', () => {
    const d = diffStructural(parse(filter(lines(twenty)), 'a'), parse(filter(lines(without(5))), 'b'), { context: 0 });
    const h = chain(d, 'filter', 'INPUT').hunks;
    expect(h.map((x) => [x.oldStart, x.oldCount, x.newStart, x.newCount])).toEqual([[6, 1, 5, 0]]);
  });
});
