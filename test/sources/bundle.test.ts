import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CliError } from '../../src/cli/errors.js';
import { BUNDLE_VERSION, isBundle, parseBundle, writeBundle } from '../../src/sources/bundle.js';
import { loadLive } from '../../src/sources/live.js';
import { openSource } from '../../src/sources/index.js';
import type { CliIO } from '../../src/cli/io.js';
import { DUMP4, DUMP6, PROC_SYS, ipStandin, makeProcSys, makeStandins, saveStandin } from './standins.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A bundle captured from stand-in binaries (a realistic source with context and notes). */
async function captured(): Promise<string> {
  const s = makeStandins({
    'iptables-nft-save': saveStandin(DUMP4),
    'ip6tables-nft-save': saveStandin(DUMP6),
    ip: ipStandin(),
  });
  const p = makeProcSys(PROC_SYS);
  cleanups.push(s.cleanup, p.cleanup);
  const src = await loadLive({ env: { PATH: s.bin }, sbinFallback: false, procSys: p.dir });
  return writeBundle(src);
}

function damagedMessage(text: string): string {
  try {
    parseBundle(text, 'n.bundle');
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).code).toBe(2);
    return (err as CliError).message;
  }
  throw new Error('parseBundle accepted it');
}

const io: CliIO = { out: () => undefined, err: () => undefined, readStdin: async () => Buffer.alloc(0), isTTY: false, env: {} };

describe('capture bundle round trip', () => {
  it('keeps both dumps byte for byte, the context, host name, time, variant and versions', async () => {
    const text = await captured();
    expect(isBundle(text)).toBe(true);
    expect(text).toMatch(new RegExp(`^iptscope-bundle: ${BUNDLE_VERSION}$`, 'm'));
    expect(text).toMatch(/^hostname: node-7$/m);
    expect(text).toMatch(/^version\.iptables: iptables-nft-save v1\.8\.9 \(nf_tables\)$/m);
    expect(text).toMatch(/^=== end sha256:[0-9a-f]{64} ===\n$/m);
    const b = parseBundle(text, 'n.bundle');
    expect(b.kind).toBe('bundle');
    expect(b.texts.ipv4!.replace(/^\n+/, '')).toBe(DUMP4);
    expect(b.texts.ipv6!.replace(/^\n+/, '')).toBe(DUMP6);
    expect(b.context!.hostname).toBe('node-7');
    expect(b.context!.sysctl).toMatchObject({ ipForward: true, routeLocalnet: true });
    expect(b.context!.interfaces!.map((i) => i.name)).toEqual(['lo', 'eth0', 'cni0', 'veth1']);
    expect(b.meta.variant).toBe('nft');
    expect(b.meta.versions.kernel).toBe('6.1.0-test');
    expect(b.meta.policyRules).toContain('ipv4 100: from 10.244.0.0/16 lookup 100');
    expect(b.notes.some((n) => n.startsWith('policy routing'))).toBe(true);
    expect(b.label).toMatch(/^n\.bundle \(host node-7, captured \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
    // Rules parsed, counters kept.
    const input = b.rulesets.ipv4!.ruleset.tables.get('filter')!.chains.get('INPUT')!;
    expect(input.rules[1].counters).toEqual({ packets: 4, bytes: 240 });
    // Writing what was read gives the same file.
    expect(writeBundle(b)).toBe(text);
  });

  it('dump line numbers are the bundle\'s own, so diagnostics point into the bundle', async () => {
    const text = (await captured()).replace('-A CHECK -s 10.0.0.0/8 -j ACCEPT', '-A CHECK -s 10.0.0.0/8 -j NOSUCHCHAIN');
    const edited = text.replace(/=== end sha256:[0-9a-f]+ ===/, '=== end ===');
    const b = parseBundle(edited, 'n.bundle');
    const line = edited.split('\n').findIndex((l) => l.includes('NOSUCHCHAIN')) + 1;
    const rule = b.rulesets.ipv4!.ruleset.tables.get('filter')!.chains.get('CHECK')!.rules[0];
    expect(rule.span.line).toBe(line);
    expect(rule.span.file).toBe('n.bundle');
    const diag = b.rulesets.ipv4!.diagnostics.find((d) => d.text.includes('NOSUCHCHAIN') || d.line === line);
    if (diag) expect(diag.line).toBe(line);
  });

  it('a hand edit is accepted once the digest line says "=== end ==="', async () => {
    const text = (await captured()).replace('--dport 22', '--dport 2222');
    expect(damagedMessage(text)).toMatch(/n\.bundle:\d+: damaged capture bundle: sha256 digest does not match .*"=== end ==="/);
    const b = parseBundle(text.replace(/=== end sha256:[0-9a-f]+ ===/, '=== end ==='), 'n.bundle');
    expect(b.texts.ipv4).toContain('--dport 2222');
  });
});

describe('bundles carried through other tools', () => {
  it('CRLF line endings are undone (the digest still matches) and noted', async () => {
    const text = await captured();
    const b = parseBundle(text.replace(/\n/g, '\r\n'), 'n.bundle');
    expect(b.texts.ipv4!.replace(/^\n+/, '')).toBe(DUMP4);
    expect(b.notes).toContain('n.bundle: CRLF line endings converted to LF');
  });
});

describe('damaged or newer bundles: one clear line, exit 2', () => {
  const rows: { name: string; edit: (t: string) => string; message: RegExp }[] = [
    { name: 'cut short', edit: (t) => t.slice(0, Math.floor(t.length / 2)), message: /^n\.bundle:\d+: damaged capture bundle: it ends before the "=== end ===" line \(cut short\?\)$/ },
    { name: 'a changed byte', edit: (t) => t.replace('10.96.0.10', '10.96.0.11'), message: /damaged capture bundle: sha256 digest does not match/ },
    { name: 'newer format version', edit: (t) => t.replace(/^iptscope-bundle: 1$/m, 'iptscope-bundle: 7'), message: /^n\.bundle: capture bundle format version 7 is newer than this iptscope reads \(up to 1\) — upgrade iptscope$/ },
    { name: 'version not a number', edit: (t) => t.replace(/^iptscope-bundle: 1$/m, 'iptscope-bundle: one'), message: /^n\.bundle:5: damaged capture bundle: format version "one" is not a number$/ },
    { name: 'no header', edit: (t) => t.replace(/^iptscope-bundle: 1\n/m, ''), message: /damaged capture bundle: "hostname:" before the "iptscope-bundle: N" line/ },
    { name: 'garbage header line', edit: (t) => t.replace(/^hostname: node-7$/m, 'hostname node-7'), message: /^n\.bundle:6: damaged capture bundle: header line is not "key: value"/ },
    { name: 'context not JSON', edit: (t) => t.replace(/=== context ===\n\{/, '=== context ===\n{{').replace(/=== end sha256:[0-9a-f]+ ===/, '=== end ==='), message: /damaged capture bundle: context is not valid JSON/ },
    { name: 'context of the wrong shape', edit: (t) => t.replace(/"interfaces": \[/, '"interfaces": 3, "x": [').replace(/=== end sha256:[0-9a-f]+ ===/, '=== end ==='), message: /damaged capture bundle: context "interfaces" is not an array/ },
    { name: 'text after the end', edit: (t) => `${t}more\n`, message: /damaged capture bundle: text after the "=== end ===" line/ },
    { name: 'a section twice', edit: (t) => t.replace('=== ipv6 ===', '=== ipv4 ===').replace(/=== end sha256:[0-9a-f]+ ===/, '=== end ==='), message: /damaged capture bundle: section "ipv4" appears twice/ },
    {
      name: 'no dump section',
      edit: (t) => t.replace(/=== ipv4 ===[\s\S]*?(?==== context)/, '').replace(/=== end sha256:[0-9a-f]+ ===/, '=== end ==='),
      message: /damaged capture bundle: no "=== ipv4 ===" or "=== ipv6 ===" section/,
    },
  ];
  it.each(rows)('$name', async ({ edit, message }) => {
    const msg = damagedMessage(edit(await captured()));
    expect(msg).toMatch(message);
    expect(msg).not.toContain('\n');
  });
});

describe('every command accepts a bundle as SOURCE (openSource)', () => {
  it('opens a bundle file, a bundle on stdin, and reports damage with exit 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'iptscope-bundle-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const text = await captured();
    const file = path.join(dir, 'node-7.bundle');
    writeFileSync(file, text);
    const a = await openSource(file, io);
    expect(a.kind).toBe('bundle');
    expect(a.context!.hostname).toBe('node-7');
    const b = await openSource('-', { ...io, readStdin: async () => Buffer.from(text) });
    expect(b.kind).toBe('bundle');
    expect(b.texts.ipv4).toBe(a.texts.ipv4);
    writeFileSync(file, text.slice(0, 300));
    await expect(openSource(file, io)).rejects.toMatchObject({ code: 2, message: expect.stringMatching(/damaged capture bundle/) });
  });

  it('a directory source lists its dumps and bundles, loads the first, switches entries', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'iptscope-dir-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, 'a-node1.rules'), DUMP4);
    writeFileSync(path.join(dir, 'b-node2.bundle'), await captured());
    writeFileSync(path.join(dir, 'c-v6.txt'), DUMP6);
    writeFileSync(path.join(dir, 'notes.md'), '# not a dump\nhello\n');
    writeFileSync(path.join(dir, '.hidden.rules'), DUMP4);
    writeFileSync(path.join(dir, 'a-node1.rules~'), DUMP4);
    writeFileSync(path.join(dir, 'bin.dat'), Buffer.from([0, 1, 2, 42, 10]));
    mkdirSync(path.join(dir, 'sub'));
    const src = await openSource(dir, io);
    expect(src.kind).toBe('directory');
    expect(src.directory).toBe(dir);
    expect(src.entries!.map((e) => e.name)).toEqual(['a-node1.rules', 'b-node2.bundle', 'c-v6.txt']);
    expect(src.path).toBe(path.join(dir, 'a-node1.rules'));
    expect(src.texts.ipv4).toBe(DUMP4);
    expect(src.notes[0]).toBe(`${dir}/ holds 3 dumps (a-node1.rules, b-node2.bundle, c-v6.txt); showing a-node1.rules`);
    const { loadDirectoryEntry } = await import('../../src/sources/directory.js');
    const second = await loadDirectoryEntry(src, path.join(dir, 'b-node2.bundle'));
    expect(second.kind).toBe('directory');
    expect(second.path).toBe(path.join(dir, 'b-node2.bundle'));
    expect(second.context!.hostname).toBe('node-7');
    const third = await loadDirectoryEntry(src, path.join(dir, 'c-v6.txt'));
    expect(Object.keys(third.rulesets)).toEqual(['ipv6']);
    const empty = mkdtempSync(path.join(tmpdir(), 'iptscope-empty-'));
    cleanups.push(() => rmSync(empty, { recursive: true, force: true }));
    await expect(openSource(empty, io)).rejects.toMatchObject({ code: 2, message: `${empty}: no iptables-save dumps or capture bundles in this directory` });
  });
});
