/**
 * `iptscope scenario run`: passes on the shipped scenarios, exits 1 with a readable diff when an
 * expectation or a golden trace is wrong, writes golden files only with --update-golden.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';
import { lineDiff } from '../../src/cli/scenario.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

async function run(args: string[]) {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), readStdin: async () => Buffer.from(''), isTTY: false, env: {} };
  const code = await main(['scenario', ...args], io);
  return { code, out, err };
}

/**
 * A private copy of one shipped scenario to break. Its golden traces are refreshed first, so these
 * tests are about the command, not about golden files lagging behind the engine (scenarios.test.ts
 * checks the shipped golden files).
 */
async function copyScenario(name: string): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'iptscope-scn-')), name);
  cpSync(join(ROOT, 'scenarios', name), dir, { recursive: true });
  const r = await run(['run', '--update-golden', dir]);
  expect(r.code, r.out).toBe(0);
  return dir;
}

describe('iptscope scenario run', () => {
  it('passes on a scenario whose expectations and golden traces hold', async () => {
    const r = await run(['run', await copyScenario('seed-input-drop')]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/1 scenario\(s\), 5 packet\(s\): 5 passed, 0 failed/);
    expect(r.code).toBe(0);
  });

  it('exits 1 with a diff when an expected outcome is wrong', async () => {
    const dir = await copyScenario('seed-input-drop');
    const file = join(dir, 'scenario.json');
    const sc = JSON.parse(readFileSync(file, 'utf8'));
    sc.packets[0].expect.verdict = 'ACCEPT';
    sc.packets[0].expect.path = ['filter:INPUT:policy'];
    writeFileSync(file, JSON.stringify(sc));
    const r = await run(['run', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/✗ blocked-ssh/);
    expect(r.out).toMatch(/verdict want ACCEPT, got DROP/);
    expect(r.out).toMatch(/≠ filter:INPUT:policy\s+filter:INPUT:1/);
    expect(r.out).toMatch(/4 passed, 1 failed/);
  });

  it('exits 1 with a line diff when a golden trace differs, and --update-golden fixes it', async () => {
    const dir = await copyScenario('seed-input-drop');
    const golden = join(dir, 'golden', 'allowed-ssh.txt');
    const original = readFileSync(golden, 'utf8');
    writeFileSync(golden, original.replace('policy ACCEPT', 'policy DROP'));
    const r = await run(['run', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/golden trace .*allowed-ssh\.txt differs/);
    expect(r.out).toMatch(/^\s+- .*policy DROP/m);
    expect(r.out).toMatch(/^\s+\+ .*policy ACCEPT/m);
    const u = await run(['run', '--update-golden', dir]);
    expect(u.code).toBe(0);
    expect(u.out).toMatch(/1 golden trace\(s\) written/);
    expect(readFileSync(golden, 'utf8')).toBe(original);
  });

  it('reports a missing golden file and removes stale ones on update', async () => {
    const dir = await copyScenario('seed-input-drop');
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'golden', 'blocked-ping.txt'));
    writeFileSync(join(dir, 'golden', 'gone.txt'), 'old');
    const r = await run(['run', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/blocked-ping\.txt is missing/);
    const u = await run(['run', dir, '--update-golden']);
    expect(u.code).toBe(0);
    expect(existsSync(join(dir, 'golden', 'blocked-ping.txt'))).toBe(true);
    expect(readdirSync(join(dir, 'golden'))).not.toContain('gone.txt');
  });

  it('--json report', async () => {
    const r = await run(['run', '--json', await copyScenario('seed-nodeport')]);
    const j = JSON.parse(r.out);
    expect(j.ok).toBe(true);
    expect(j.scenarios[0].name).toBe('seed-nodeport');
    expect(j.scenarios[0].packets.every((p: { ok: boolean; golden: string }) => p.ok && p.golden === 'ok')).toBe(true);
  });

  it('a folder of scenarios runs each of them', async () => {
    const parent = dirname(await copyScenario('seed-clusterip'));
    cpSync(dirname(await copyScenario('seed-nodeport')) + '/seed-nodeport', join(parent, 'seed-nodeport'), { recursive: true });
    const r = await run(['run', parent]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/2 scenario\(s\)/);
  });

  it('bad input: one line, exit 2', async () => {
    const dir = await copyScenario('seed-input-drop');
    writeFileSync(join(dir, 'scenario.json'), '{"name": 1}');
    for (const args of [['run', dir], ['run', '/nonexistent/scn'], ['frob'], ['run', '--frob']]) {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });

  it('lineDiff shows the first differing region', () => {
    expect(lineDiff('a\nb\nc\nd', 'a\nb\nX\nd')).toBe('@@ line 3 @@\n  a\n  b\n- c\n+ X\n  d');
  });
});
