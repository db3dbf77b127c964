/** `iptscope capture` through the CLI dispatcher: output file, stdout, flags and error lines. */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';
import { parseBundle } from '../../src/sources/bundle.js';
import { DUMP4, DUMP6, ipStandin, makeStandins, saveStandin, type StandinSpec } from './standins.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function setup(spec: StandinSpec) {
  const s = makeStandins(spec);
  const dir = mkdtempSync(path.join(tmpdir(), 'iptscope-capcli-'));
  cleanups.push(s.cleanup, () => rmSync(dir, { recursive: true, force: true }));
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => void out.push(t), err: (t) => void err.push(t), readStdin: async () => Buffer.alloc(0), isTTY: false, env: { PATH: s.bin } };
  return { s, dir, io, out, err };
}

const good: StandinSpec = {
  'iptables-nft-save': saveStandin(DUMP4),
  'ip6tables-nft-save': saveStandin(DUMP6),
  'iptables-legacy-save': saveStandin(''),
  'ip6tables-legacy-save': saveStandin(''),
  ip: ipStandin(),
};

describe('iptscope capture', () => {
  it('-o FILE writes a bundle that opens, and says what it captured', async () => {
    const { dir, io, err } = setup(good);
    const file = path.join(dir, 'n.bundle');
    expect(await main(['capture', '-o', file], io)).toBe(0);
    const b = parseBundle(readFileSync(file, 'utf8'), file);
    expect(b.texts.ipv4!.replace(/^\n+/, '')).toBe(DUMP4);
    expect(err.join('')).toMatch(new RegExp(`iptscope: wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ipv4 5 rules, ipv6 1 rule; 4 interfaces, \\d+ routes; iptables-nft\\n`, 'm'));
    expect(readdirSync(dir)).toEqual(['n.bundle']); // no temp file left
    // …and every command takes it: show.
    const out: string[] = [];
    const code = await main(['show', file], { ...io, out: (t) => void out.push(t) });
    expect(code).toBe(0);
    expect(out.join('')).toMatch(/INPUT/);
  });

  it('every command takes the bundle as SOURCE (show, lint, diff, trace)', async () => {
    const { dir, io } = setup(good);
    const file = path.join(dir, 'n.bundle');
    expect(await main(['capture', '-o', file], io)).toBe(0);
    const runs: [string[], RegExp][] = [
      [['show', file, '--table', 'filter', '--chain', 'INPUT'], /dpt:22|--dport 22/],
      [['lint', file], /./],
      [['diff', file, file], /^/], // identical: nothing to report
      [['trace', file, '--proto', 'tcp', '--src', '192.0.2.9', '--sport', '4000', '--dst', '192.0.2.2', '--dport', '22', '--iif', 'eth0'], /ACCEPT/],
    ];
    for (const [args, expected] of runs) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(args, { ...io, out: (t) => void out.push(t), err: (t) => void err.push(t) });
      expect(err.join(''), args.join(' ')).not.toMatch(/damaged|not a source|internal error/);
      expect(code, `${args[0]}: ${err.join('')}`).toBeLessThan(2);
      expect(out.join(''), args.join(' ')).toMatch(expected);
    }
  });

  it('-o - writes to stdout', async () => {
    const { io, out } = setup(good);
    expect(await main(['capture', '-o', '-'], io)).toBe(0);
    expect(out.join('')).toMatch(/^# iptscope capture bundle/);
    expect(parseBundle(out.join(''), '-').kind).toBe('bundle');
  });

  const errors: { name: string; spec: StandinSpec; args: string[]; message: RegExp }[] = [
    { name: 'bad flag', spec: good, args: ['--frobnicate'], message: /^iptscope: capture: unexpected argument "--frobnicate" \(see iptscope capture --help\)\n$/ },
    { name: 'bad timeout', spec: good, args: ['--timeout', 'soon'], message: /^iptscope: --timeout: "soon" is not a positive number of seconds\n$/ },
    { name: '-o without a file', spec: good, args: ['-o'], message: /^iptscope: -o needs a file name\n$/ },
    { name: 'unwritable target', spec: good, args: ['-o', '/nonexistent-dir/x.bundle'], message: /^iptscope: cannot write \/nonexistent-dir\/x\.bundle: no such directory\n$/ },
    {
      name: 'iptables exits 1',
      spec: { ...good, 'iptables-nft-save': { '-c': { code: 1, stderr: 'boom\n' }, '-V': { stdout: 'v\n' } } },
      args: ['-o', '-'],
      message: /^iptscope: cannot read the live rules: iptables-nft-save -c: exit status 1: boom — check that iptables works on this host .*\n$/,
    },
    {
      name: 'iptables hangs',
      spec: { ...good, 'iptables-nft-save': { '-c': { hang: true }, '-V': { stdout: 'v\n' } } },
      args: ['--timeout', '0.3', '-o', '-'],
      message: /^iptscope: cannot read the live rules: iptables-nft-save -c: no answer within 0.3 s — .*\n$/,
    },
  ];
  it.each(errors)('$name: one line, exit 2', async ({ spec, args, message }) => {
    const { io, err, out } = setup(spec);
    expect(await main(['capture', ...args], io)).toBe(2);
    expect(err.join('')).toMatch(message);
    expect(out.join('')).toBe('');
  });

  it('--help', async () => {
    const { io, out } = setup(good);
    expect(await main(['capture', '--help'], io)).toBe(0);
    expect(out.join('')).toMatch(/^usage: iptscope capture \[-o FILE\]/);
    expect(existsSync('x')).toBe(false);
  });
});
