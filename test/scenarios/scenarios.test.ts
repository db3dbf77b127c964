/**
 * Every scenario under scenarios/: its rules parse cleanly, every packet is valid, the engine's
 * outcomes are the expected ones (the kernel's — test/kernel replays the same scenarios in network
 * namespaces), and the text trace equals the golden file golden/<packet>.txt
 * (`iptscope scenario run --update-golden` rewrites them, deliberately).
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatTraceText } from '../../src/cli/format-trace.js';
import { formatMismatches } from '../../src/core/scenario-check.js';
import { runScenario } from '../../src/core/scenario-run.js';
import { loadScenario } from '../../src/sources/scenario.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../scenarios');
const DIRS = readdirSync(ROOT)
  .filter((d) => existsSync(join(ROOT, d, 'scenario.json')))
  .sort();

describe('scenarios', () => {
  it('there are scenarios, the demo among them', () => {
    expect(DIRS).toContain('seed-kube-proxy');
    expect(DIRS.length).toBeGreaterThanOrEqual(10);
  });
});

describe.each(DIRS)('scenario %s', (name) => {
  const dir = join(ROOT, name);

  it('loads, and its rules parse without errors', async () => {
    const loaded = await loadScenario(dir);
    expect(loaded.scenario.name).toBe(name);
    expect(loaded.parse.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(loaded.parse.ruleset.family).toBe(loaded.scenario.family);
  });

  it('every packet has the expected outcomes', async () => {
    const loaded = await loadScenario(dir);
    const runs = runScenario(loaded.scenario, loaded.parse.ruleset);
    const failures = runs
      .filter((r) => r.errors.length || r.mismatches.length)
      .map((r) => `${r.name}:\n${r.errors.map((e) => `  invalid packet: ${e}`).join('\n')}${formatMismatches(r.mismatches)}`);
    expect(failures.join('\n\n')).toBe('');
  });

  it('every packet\'s trace equals its golden trace', async () => {
    const loaded = await loadScenario(dir);
    const runs = runScenario(loaded.scenario, loaded.parse.ruleset);
    for (const r of runs) {
      const file = join(dir, 'golden', `${r.name}.txt`);
      expect(existsSync(file), `${name}/golden/${r.name}.txt exists (iptscope scenario run --update-golden)`).toBe(true);
      expect(r.result, `${r.name} traced`).toBeDefined();
      const text = formatTraceText(r.result!, { color: false });
      expect(text, `${name}/golden/${r.name}.txt`).toBe(readFileSync(file, 'utf8'));
    }
  });

  it('has no stale golden files', async () => {
    const loaded = await loadScenario(dir);
    const names = new Set(loaded.scenario.packets.map((p) => `${p.name}.txt`));
    const golden = existsSync(join(dir, 'golden')) ? readdirSync(join(dir, 'golden')) : [];
    expect(golden.filter((g) => !names.has(g))).toEqual([]);
  });
});
