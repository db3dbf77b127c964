/**
 * Generated kube-proxy dumps: a resync (one Service gains an endpoint, another loses one) shows as
 * the rules it changes; a dump with 1 % of its rules mutated shows exactly those mutations.
 */
import { describe, expect, it } from 'vitest';
import { generateKubeProxyDump } from '../../../src/gen/kubeproxy.js';
import { parseRuleset } from '../../../src/core/parse/index.js';
import { diffStructural } from '../../../src/core/diff/structural.js';
import { mutateDump } from '../../../src/bench/diff-mutate.js';
import type { Ruleset } from '../../../src/core/model.js';

function parse(text: string, file: string): Ruleset {
  const r = parseRuleset(text, { file });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.ruleset;
}

/** The Service chains of a generated dump and, for each, its endpoint (SEP) chains in rule order. */
function services(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of text.matchAll(/^(?:\[\d+:\d+\] )?-A (KUBE-SVC-\w+) .*-j (KUBE-SEP-\w+)$/gm)) {
    const l = out.get(m[1]) ?? [];
    l.push(m[2]);
    out.set(m[1], l);
  }
  return out;
}

/**
 * kube-proxy's resync when the first endpoint of `svc` goes away: its SEP chain and the SVC rule
 * jumping to it disappear; the remaining rules' probabilities 1/(E-1), … are already right.
 */
function removeFirstEndpoint(text: string, sep: string): string {
  return text
    .split('\n')
    .filter((l) => !l.includes(sep))
    .join('\n');
}

/** A new endpoint put first in `svc`: probability 1/(E+1), then the existing rules unchanged. */
function addEndpointFirst(text: string, svc: string, firstSep: string, endpoints: number): string {
  const sep = 'KUBE-SEP-ZZZZNEWENDPOINTZ';
  const lines = text.split('\n');
  const out: string[] = [];
  for (const l of lines) {
    if (l === `:${firstSep} - [0:0]`) out.push(`:${sep} - [0:0]`);
    const jump = new RegExp(`^(\\[\\d+:\\d+\\] )?-A ${svc} -m comment --comment "([^"]+) -> [^"]+" .*-j ${firstSep}$`).exec(l);
    if (jump) {
      const p = (1 / (endpoints + 1)).toFixed(11);
      out.push(`[0:0] -A ${svc} -m comment --comment "${jump[2]} -> 10.244.250.250:8080" -m statistic --mode random --probability ${p} -j ${sep}`);
    }
    if (new RegExp(`^(\\[\\d+:\\d+\\] )?-A ${firstSep} -s `).test(l)) {
      out.push(`[0:0] -A ${sep} -s 10.244.250.250/32 -m comment --comment "new endpoint" -j KUBE-MARK-MASQ`);
      out.push(`[0:0] -A ${sep} -p tcp -m comment --comment "new endpoint" -m tcp -j DNAT --to-destination 10.244.250.250:8080`);
    }
    out.push(l);
  }
  return out.join('\n');
}

describe('generated kube-proxy dumps', () => {
  const E = 4;
  const old = generateKubeProxyDump({ services: 200, endpoints: E, seed: 7 });
  const svcs = [...services(old)];

  it('a resync (one endpoint added, one removed) is shown as the rules it changes', () => {
    const [svcA, sepsA] = svcs[10];
    const [svcB, sepsB] = svcs[150];
    const next = addEndpointFirst(removeFirstEndpoint(old, sepsB[0]), svcA, sepsA[0], E);
    const d = diffStructural(parse(old, 'old.rules'), parse(next, 'new.rules'));
    const picture = d.tables.flatMap((t) => t.chains.map((c) => `${t.table} ${c.chain} ${c.status} ${c.changes.map((x) => x.kind).join(',')}`));
    expect(picture.sort()).toEqual(
      [
        `nat ${sepsB[0]} removed removed,removed`,
        `nat ${svcA} modified added`,
        `nat ${svcB} modified removed`,
        'nat KUBE-SEP-ZZZZNEWENDPOINTZ added added,added',
      ].sort(),
    );
    expect(d.summary).toMatchObject({ rulesAdded: 3, rulesRemoved: 3, rulesChanged: 0, rulesMoved: 0, chainsAdded: 1, chainsRemoved: 1 });
    // Counters are on both sides and did not move: no deltas reported.
    expect(d.counters).toBe(true);
    expect(d.summary.countersChanged).toBe(0);
  });

  it('regenerating with the same seed is identical', () => {
    const d = diffStructural(parse(old, 'a'), parse(generateKubeProxyDump({ services: 200, endpoints: E, seed: 7 }), 'b'));
    expect(d.identical).toBe(true);
  });

  it('1 % of rules mutated (edited, deleted, inserted): the diff reports exactly those', () => {
    const big = generateKubeProxyDump({ services: 500, endpoints: 10, seed: 3 });
    const m = mutateDump(big, 0.01);
    expect(Math.abs(m.edited + m.deleted + m.inserted - m.rules / 100)).toBeLessThanOrEqual(1);
    const d = diffStructural(parse(big, 'old.rules'), parse(m.text, 'new.rules'));
    expect(d.summary).toMatchObject({ rulesChanged: m.edited, rulesRemoved: m.deleted, rulesAdded: m.inserted, rulesMoved: 0, chainsAdded: 0, chainsRemoved: 0 });
  });
});
