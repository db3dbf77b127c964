/**
 * iptscope never changes rules: proved twice.
 * 1. Statically: of every module the CLI can reach (static and dynamic imports from
 *    src/cli/main.ts), only src/sources/live.ts may import child_process, and the only commands it
 *    can run are the LIVE_READS allowlist, all of which are reads.
 * 2. Dynamically: loadLive and capture run against recording stand-ins for every iptables binary
 *    (including the restore/insert ones): only `*-save -c|-V`, `ip … show|-V` and `ipset save` ran.
 */
import { existsSync, readFileSync, readdirSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LIVE_READS, loadLive, read } from '../../src/sources/live.js';
import { run as capture } from '../../src/cli/capture.js';
import { DUMP4, DUMP6, PROC_SYS, ipStandin, makeProcSys, makeStandins, saveStandin } from './standins.js';

const ROOT = path.resolve(__dirname, '../..');
const SRC = path.join(ROOT, 'src');

/** Resolve a relative import of a .ts file compiled as .js. */
function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const cand of [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')]) {
    if (existsSync(cand) && statSync(cand).isFile()) return cand;
  }
  return undefined;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g)) {
    out.push(m[1] ?? m[2] ?? m[3]);
  }
  return out;
}

function reachableFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const spec of imports(f)) {
      const r = resolveImport(f, spec);
      if (r) stack.push(r);
    }
  }
  return seen;
}

function allTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allTs(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

const PROCESS_MODULES = /^(node:)?(child_process|worker_threads|cluster)$/;

describe('static: no code path the CLI can reach runs anything but the read allowlist', () => {
  it('only src/sources/live.ts (of the modules reachable from the CLI) imports child_process', () => {
    const reachable = reachableFrom(path.join(SRC, 'cli/main.ts'));
    expect(reachable.size).toBeGreaterThan(5);
    expect(reachable.has(path.join(SRC, 'sources/live.ts'))).toBe(true);
    const spawning = [...reachable].filter((f) => imports(f).some((s) => PROCESS_MODULES.test(s)));
    expect(spawning.map((f) => path.relative(ROOT, f))).toEqual(['src/sources/live.ts']);
  });

  it('every literal invocation of an iptables/ip/ipset/nft binary in reachable code is on the allowlist', () => {
    const reachable = reachableFrom(path.join(SRC, 'cli/main.ts'));
    const binaries = /['"`](ip6?tables(?:-nft|-legacy)?(?:-save|-restore)?|ip|ipset|nft|iptables-apply|xtables-(?:nft|legacy)-multi|ebtables|arptables|sysctl|modprobe)['"`]\s*,\s*\[([^\]]*)\]/g;
    let seen = 0;
    for (const f of reachable) {
      for (const m of readFileSync(f, 'utf8').matchAll(binaries)) {
        const words = [...m[2].matchAll(/['"`]([^'"`]*)['"`]/g)].map((w) => w[1]);
        const allowed = (LIVE_READS[m[1]] ?? []).some((a) => a.join(' ') === words.join(' '));
        expect(allowed, `${path.relative(ROOT, f)}: ${m[0]}`).toBe(true);
        seen++;
      }
    }
    expect(seen).toBeGreaterThan(0);
  });

  it('the allowlist holds only reads', () => {
    for (const [cmd, argvs] of Object.entries(LIVE_READS)) {
      for (const argv of argvs) {
        const line = `${cmd} ${argv.join(' ')}`;
        if (/-save$/.test(cmd)) expect(argv, line).toSatisfy((a: readonly string[]) => a.length === 1 && (a[0] === '-c' || a[0] === '-V'));
        else if (cmd === 'ip') expect(line).toMatch(/^ip (-V|-[d46] -j (addr|route|rule) show( table all)?|-d -j addr show)$/);
        else if (cmd === 'ipset') expect(argv).toEqual(['save']);
        else if (cmd === 'nft') expect(argv).toEqual(['list', 'tables']);
        else throw new Error(`unexpected command in LIVE_READS: ${cmd}`);
        expect(line).not.toMatch(/restore|\s-(I|A|D|R|F|X|Z|P|N|E)\b|--(insert|append|delete|replace|flush|zero|policy|new-chain|delete-chain|rename-chain)|\b(add|del|flush|set|change|replace|destroy|restore|create)\b/);
      }
    }
  });

  it('read() refuses anything not on the allowlist without running it', () => {
    const run = vi.fn(async () => ({ stdout: '', stderr: '' }));
    expect(() => read(run, 'iptables-restore', [], 1000)).toThrow(/refusing to run/);
    expect(() => read(run, 'iptables-nft-save', ['-F'], 1000)).toThrow(/refusing to run/);
    expect(() => read(run, 'ip', ['route', 'add', 'default', 'via', '10.0.0.1'], 1000)).toThrow(/refusing to run/);
    expect(() => read(run, 'ipset', ['flush'], 1000)).toThrow(/refusing to run/);
    expect(run).not.toHaveBeenCalled();
  });
});

describe('dynamic: recording stand-ins for every binary', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    while (cleanups.length) cleanups.pop()!();
  });

  // Every iptables-family binary a careless program could call, recording and answering anything.
  const trap = { '*': { code: 0 } };
  const spec = {
    'iptables-nft-save': saveStandin(DUMP4),
    'ip6tables-nft-save': saveStandin(DUMP6),
    'iptables-legacy-save': saveStandin(''),
    'ip6tables-legacy-save': saveStandin(''),
    'iptables-save': saveStandin(DUMP4),
    'ip6tables-save': saveStandin(DUMP6),
    ip: ipStandin(),
    ipset: { save: { stdout: 'create KUBE-CLUSTER-IP hash:ip,port family inet\nadd KUBE-CLUSTER-IP 10.96.0.10,tcp:80\n' } },
    nft: { 'list tables': { stdout: 'table ip filter\ntable ip nat\ntable inet firewalld\n' }, '*': { code: 0 } },
    ...Object.fromEntries(
      ['iptables', 'ip6tables', 'iptables-nft', 'iptables-legacy', 'ip6tables-nft', 'ip6tables-legacy', 'iptables-restore',
        'ip6tables-restore', 'iptables-nft-restore', 'iptables-legacy-restore', 'ip6tables-nft-restore', 'ip6tables-legacy-restore',
        'xtables-nft-multi', 'xtables-legacy-multi', 'sysctl', 'modprobe', 'conntrack', 'ebtables', 'arptables'].map((c) => [c, trap]),
    ),
  };

  const ALLOWED = /^(ip6?tables(-nft|-legacy)?-save (-c|-V)|ip (-V|-d -j addr show|-[46] -j (route show table all|rule show))|ipset save|nft list tables)$/;

  it('loadLive runs only reads', async () => {
    const s = makeStandins(spec);
    const p = makeProcSys(PROC_SYS);
    cleanups.push(s.cleanup, p.cleanup);
    const src = await loadLive({ env: { PATH: s.bin }, sbinFallback: false, procSys: p.dir });
    expect(src.notes).toContain('nftables tables not made by iptables also see packets and are not shown here: inet firewalld (read them with nft list ruleset)');
    expect(src.context!.ipsets).toEqual([{ name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', members: ['10.96.0.10,tcp:80'] }]);
    const calls = s.calls();
    expect(calls.length).toBeGreaterThanOrEqual(10);
    for (const c of calls) expect(c).toMatch(ALLOWED);
    // Both variants and both families were read, and the whole context.
    for (const must of ['iptables-nft-save -c', 'iptables-legacy-save -c', 'ip6tables-nft-save -c', 'ip -d -j addr show', 'ip -6 -j route show table all']) {
      expect(calls).toContain(must);
    }
  });

  it('iptscope capture runs only reads', async () => {
    const s = makeStandins(spec);
    const dir = mkdtempSync(path.join(tmpdir(), 'iptscope-cap-'));
    cleanups.push(s.cleanup, () => rmSync(dir, { recursive: true, force: true }));
    const out = path.join(dir, 'x.bundle');
    const err: string[] = [];
    const code = await capture(['-o', out], {
      out: () => undefined, err: (t) => void err.push(t), readStdin: async () => Buffer.alloc(0), isTTY: false,
      env: { PATH: s.bin },
    });
    expect(code).toBe(0);
    expect(existsSync(out)).toBe(true);
    for (const c of s.calls()) expect(c).toMatch(ALLOWED);
  });
});
