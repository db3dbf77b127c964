import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allRules, ruleComment } from '../../../src/core/model.js';
import { formatRule, parseRuleset } from '../../../src/core/parse/index.js';
import { generateKubeProxyDump, savedProbability } from '../../../src/gen/kubeproxy.js';

describe('kube-proxy dump generator', () => {
  const text = generateKubeProxyDump({ services: 100, endpoints: 10, seed: 7 });
  const parsed = parseRuleset(text, { file: 'gen' });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(generateKubeProxyDump({ services: 100, endpoints: 10, seed: 7 })).toBe(text);
    expect(generateKubeProxyDump({ services: 100, endpoints: 10, seed: 8 })).not.toBe(text);
  });

  it('parses with zero errors and round-trips every rule (canonical iptables-save text)', () => {
    expect(parsed.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    for (const r of allRules(parsed.ruleset)) expect(formatRule(r)).toBe(r.raw.replace(/^\[\d+:\d+\] /, ''));
  });

  it('has about 43 lines per Service at 10 endpoints', () => {
    const lines = text.split('\n').length - 1;
    expect(lines / 100).toBeGreaterThan(40);
    expect(lines / 100).toBeLessThan(46);
  });

  it("has kube-proxy's shape", () => {
    const nat = parsed.ruleset.tables.get('nat')!;
    const svcChains = [...nat.chains.values()].filter((c) => c.name.startsWith('KUBE-SVC-'));
    const sepChains = [...nat.chains.values()].filter((c) => c.name.startsWith('KUBE-SEP-'));
    const extChains = [...nat.chains.values()].filter((c) => c.name.startsWith('KUBE-EXT-'));
    expect(svcChains.length).toBe(99); // one Service in 97 has no endpoints
    expect(sepChains.length).toBe(990);
    expect(extChains.length).toBe(10);
    // A Service chain: masquerade off-cluster sources, then statistic rules 1/10 … 1/2, then the last endpoint.
    const svc = svcChains[0];
    expect(svc.rules).toHaveLength(11);
    expect(svc.rules[0].ip.src).toMatchObject({ negated: true, value: { text: '10.244.0.0/16' } });
    expect(svc.rules[0].target?.name).toBe('KUBE-MARK-MASQ');
    const probs = svc.rules.slice(1).map((r) => r.matches.find((m) => m.module === 'statistic')?.options.find((o) => o.name === 'probability')?.args[0]);
    expect(probs).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2].map((n): string | undefined => savedProbability(1 / n)).concat([undefined]));
    // An endpoint chain: hairpin masquerade, then DNAT.
    const sep = nat.chains.get(svc.rules[1].target!.name)!;
    expect(sep.rules.map((r) => r.target?.name)).toEqual(['KUBE-MARK-MASQ', 'DNAT']);
    expect(sep.rules[0].ip.src?.value.prefix).toBe(32);
    expect(sep.references).toBe(1);
    // The dispatch rule names the Service in its comment.
    const dispatch = nat.chains.get('KUBE-SERVICES')!.rules[0];
    expect(ruleComment(dispatch)).toMatch(/^ns-0\/svc-0:http cluster IP$/);
    expect(nat.chains.get('KUBE-SERVICES')!.rules.at(-1)!.matches.map((m) => m.module)).toEqual(['comment', 'addrtype']);
    expect(nat.chains.get('KUBE-POSTROUTING')!.rules.at(-1)!.target).toMatchObject({ name: 'MASQUERADE', options: [{ name: 'random-fully' }] });
    // Counters like iptables-save -c.
    expect([...allRules(parsed.ruleset)].every((r) => r.counters !== undefined)).toBe(true);
  });

  it('savedProbability prints what iptables-save prints', () => {
    expect(savedProbability(0.5)).toBe('0.50000000000');
    expect(savedProbability(1 / 3)).toBe('0.33333333349');
    expect(savedProbability(0.1)).toBe('0.10000000009');
  });

  const canRestore = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v iptables-restore && command -v ip']).status === 0;
  if (!canRestore) console.warn('kube-proxy generator: iptables-restore --test check skipped (needs root, iptables and iproute2)');
  it.skipIf(!canRestore)('iptables-restore --test accepts it (in a throwaway network namespace)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iptscope-gen-'));
    const ns = `iptscope-gen-${process.pid}`;
    const file = join(dir, 'kp.rules');
    writeFileSync(file, generateKubeProxyDump({ services: 50, endpoints: 3, seed: 1 }));
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    try {
      const fd = openSync(file, 'r');
      const r = spawnSync('ip', ['netns', 'exec', ns, 'iptables-restore', '--test'], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
      closeSync(fd);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
