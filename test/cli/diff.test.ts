import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parsePacketArg } from '../../src/cli/diff.js';
import type { CliIO } from '../../src/cli/io.js';

const dir = mkdtempSync(join(tmpdir(), 'iptscope-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function cli(args: string[], opts: { tty?: boolean; env?: Record<string, string>; stdin?: string } = {}) {
  let out = '';
  let err = '';
  const io: CliIO = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    readStdin: async () => Buffer.from(opts.stdin ?? ''),
    isTTY: opts.tty ?? false,
    env: opts.env ?? {},
  };
  const code = await main(['diff', ...args], io);
  return { code, out, err };
}

const fw = (policy: string, rules: string[], counters = false) =>
  `*filter\n:INPUT ${policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules.map((r) => r + '\n').join('')}COMMIT\n`;

const base = ['-A INPUT -i lo -j ACCEPT', '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT'];
const OLD = file('old.rules', fw('DROP', base));
const SAME = file('same.rules', fw('DROP', base));
const NEW = file('new.rules', fw('DROP', [base[0], base[1], base[3]]));
const POLICY = file('policy.rules', fw('ACCEPT', base));
const BAD = file('bad.rules', '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --bogus-option 1 -j ACCEPT\nCOMMIT\n');
const GARBAGE = file('garbage.txt', 'hello world\nthis is not a dump\n');
const C1 = file('c1.rules', `*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[1:60] -A INPUT -i lo -j ACCEPT\n[10:600] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n`);
const C2 = file('c2.rules', `*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[1:60] -A INPUT -i lo -j ACCEPT\n[15:900] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n`);

describe('iptscope diff: exit codes like diff(1)', () => {
  it.each([
    { name: 'identical files', args: [OLD, SAME], code: 0 },
    { name: 'a rule removed', args: [OLD, NEW], code: 1 },
    { name: 'a policy changed', args: [OLD, POLICY], code: 1 },
    { name: 'counters only', args: [C1, C2, '--no-behaviour'], code: 0 },
    { name: 'missing file', args: [OLD, join(dir, 'nope.rules')], code: 2 },
    { name: 'not a dump', args: [GARBAGE, OLD], code: 2 },
    { name: 'binary file', args: [OLD, file('bin.rules', Buffer.from([0, 1, 2, 3, 0, 255, 0]).toString('latin1'))], code: 2 },
    { name: 'both sides stdin', args: ['-', '-'], code: 2 },
    { name: 'one source only', args: [OLD], code: 2 },
    { name: 'unknown option', args: [OLD, NEW, '--frobnicate'], code: 2 },
    { name: 'bad --max-probes', args: [OLD, NEW, '--max-probes', 'many'], code: 2 },
    { name: 'bad --packet', args: [OLD, NEW, '--packet', 'tcp 10.0.0.1'], code: 2 },
    { name: 'missing --context file', args: [OLD, NEW, '--context', join(dir, 'none.json')], code: 2 },
    { name: '--context not JSON', args: [OLD, NEW, '--context', file('ctx-bad.json', '{interfaces')], code: 2 },
    { name: '--context with interfaces not a list', args: [OLD, NEW, '--context', file('ctx-bad2.json', '{"interfaces": 5}')], code: 2 },
  ])('$name → $code', async ({ args, code }) => {
    const r = await cli(args);
    expect(r.code).toBe(code);
    if (code === 2) {
      // One line naming the problem, no stack trace.
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/^iptscope: /);
      expect(r.err).not.toMatch(/\n\s+at /);
    } else expect(r.err).toBe('');
  });

  it('identical files print nothing', async () => {
    expect((await cli([OLD, SAME])).out).toBe('');
  });

  it('a file that is not a dump is reported as file:line:col', async () => {
    const r = await cli([GARBAGE, OLD]);
    expect(r.err).toMatch(new RegExp(`^iptscope: ${GARBAGE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:1: .*not an iptables-save dump\n$`));
  });

  it('a dump with a bad rule is compared as parsed, with a one-line warning naming file:line', async () => {
    const r = await cli([BAD, OLD, '--no-behaviour']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^iptscope: warning: .*bad\.rules:3:\d+: .*compared as parsed \(run iptscope lint\)\n$/);
    expect(r.out).toContain('@@ filter INPUT @@');
  });

  it('a missing file is named', async () => {
    const r = await cli([OLD, join(dir, 'nope.rules')]);
    expect(r.err).toContain('nope.rules');
  });
});

describe('iptscope diff: text output', () => {
  it('is a unified diff grouped by table and chain', async () => {
    const r = await cli([OLD, NEW, '--no-behaviour']);
    expect(r.out.split('\n')).toEqual([
      `--- ${OLD}`,
      `+++ ${NEW}`,
      '@@ filter INPUT @@ 1 removed',
      '@@ -1,4 +1,3 @@',
      ' -A INPUT -i lo -j ACCEPT',
      ' -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '--A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
      ' -A INPUT -p tcp -m tcp --dport 443 -j ACCEPT',
      '# 1 rule removed',
      '',
    ]);
  });

  it('shows a policy change as the declaration lines', async () => {
    const r = await cli([OLD, POLICY, '--no-behaviour']);
    expect(r.out).toContain('@@ filter INPUT @@ policy DROP → ACCEPT\n-:INPUT DROP\n+:INPUT ACCEPT\n');
  });

  it('counters only with --no-counters: exit 0, nothing printed', async () => {
    expect(await cli([C1, C2, '--no-behaviour', '--no-counters'])).toEqual({ code: 0, out: '', err: '' });
  });

  it('counters only: exit 0 with the deltas', async () => {
    const r = await cli([C1, C2, '--no-behaviour']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('@@ filter INPUT @@ counters only');
    expect(r.out).toMatch(/# {2}\+5 pkts \+300 bytes\s+-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT/);
  });

  it('rules and counters changed: counters summarised, listed with --counters', async () => {
    const c3 = file('c3.rules', `*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[9:540] -A INPUT -i lo -j ACCEPT\n[15:900] -A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT\nCOMMIT\n`);
    const plain = await cli([C1, c3, '--no-behaviour']);
    expect(plain.code).toBe(1);
    expect(plain.out).not.toContain('# counters moved');
    expect(plain.out).toContain('+-A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT  # +5 pkts +300 bytes');
    expect(plain.out).toContain('# 1 rule changed, 2 counter changes (--counters lists them)');
    const listed = await cli([C1, c3, '--no-behaviour', '--counters']);
    expect(listed.out).toMatch(/# counters moved on 1 rule\n# {2}\+8 pkts \+480 bytes\s+-A INPUT -i lo -j ACCEPT/);
  });

  it.each<{ name: string; tty: boolean; env: Record<string, string>; args: string[]; color: boolean }>([
    { name: 'terminal', tty: true, env: {}, args: [], color: true },
    { name: 'terminal with NO_COLOR', tty: true, env: { NO_COLOR: '1' }, args: [], color: false },
    { name: 'pipe', tty: false, env: {}, args: [], color: false },
    { name: 'pipe with --color', tty: false, env: {}, args: ['--color'], color: true },
    { name: 'terminal with --no-color', tty: true, env: {}, args: ['--no-color'], color: false },
  ])('colour: $name', async ({ tty, env, args, color }) => {
    const r = await cli([OLD, NEW, '--no-behaviour', ...args], { tty, env });
    expect(r.out.includes('\x1b[')).toBe(color);
  });

  it('reads one side from stdin', async () => {
    const r = await cli(['-', NEW, '--no-behaviour'], { stdin: fw('DROP', base) });
    expect(r.code).toBe(1);
    expect(r.out).toContain('--A INPUT -p tcp -m tcp --dport 22 -j ACCEPT');
  });
});

describe('iptscope diff --json', () => {
  it('documents the structural diff per family', async () => {
    const r = await cli([OLD, NEW, '--json', '--no-behaviour']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.identical).toBe(false);
    expect(doc.old).toEqual({ label: expect.stringContaining('old.rules'), kind: 'file' });
    expect(doc.families).toHaveLength(1);
    const f = doc.families[0];
    expect(f.family).toBe('ipv4');
    expect(f.behaviour).toBeNull();
    expect(f.structural.summary.rulesRemoved).toBe(1);
    const chain = f.structural.tables[0].chains[0];
    expect(chain).toMatchObject({ table: 'filter', chain: 'INPUT', status: 'modified' });
    expect(chain.changes).toEqual([{ kind: 'removed', old: { position: 3, line: 7, text: '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT' } }]);
  });

  it('identical: exit 0 and identical true', async () => {
    const r = await cli([OLD, SAME, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).identical).toBe(true);
  });
});

describe('--packet', () => {
  it.each([
    { spec: 'tcp 10.244.0.5:40000 10.96.0.10:80 in=cni0', want: { proto: 'tcp', src: '10.244.0.5', sport: 40000, dst: '10.96.0.10', dport: 80, iif: 'cni0' } },
    { spec: 'udp 192.168.0.2 > 8.8.8.8:53 local', want: { proto: 'udp', src: '192.168.0.2', dst: '8.8.8.8', dport: 53, local: true } },
    { spec: 'tcp [2001:db8::1]:1234 [2001:db8::2]:443 in=eth0 mark=16384 state=established', want: { proto: 'tcp', src: '2001:db8::1', sport: 1234, dst: '2001:db8::2', dport: 443, iif: 'eth0', mark: 16384, ctState: 'ESTABLISHED' } },
    { spec: 'icmp 10.0.0.1 10.0.0.2 in=eth0', want: { proto: 'icmp', src: '10.0.0.1', dst: '10.0.0.2', iif: 'eth0' } },
    { spec: '{"proto":"tcp","src":"1.2.3.4","dst":"5.6.7.8","dport":80,"iif":"eth0"}', want: { proto: 'tcp', src: '1.2.3.4', dst: '5.6.7.8', dport: 80, iif: 'eth0' } },
  ])('$spec', ({ spec, want }) => {
    expect(parsePacketArg(spec)).toEqual(want);
  });

  it.each(['tcp 10.0.0.1', 'tcp 10.0.0.1:99999 10.0.0.2:80', 'tcp 1.1.1.1 2.2.2.2 colour=red', '{"proto":"tcp"}', '{bad json'])('rejects %s', (spec) => {
    expect(() => parsePacketArg(spec)).toThrow(/--packet/);
  });
});

describe('iptscope diff: behaviour', () => {
  const SSH = 'outside 203.0.113.10 → 192.168.0.2:22/tcp';

  it('lists the packets whose fate differs, with both traces in JSON', async () => {
    const r = await cli([OLD, NEW, '--json']);
    expect(r.code).toBe(1);
    expect(r.out).not.toContain('ruleRef');
    const doc = JSON.parse(r.out);
    const b = doc.families[0].behaviour;
    expect(b.probesTraced).toBeGreaterThan(0);
    const c = b.changes.find((x: { probe: { label: string } }) => x.probe.label === SSH);
    expect(c.differences).toEqual(['verdict ACCEPT → DROP', 'disposition delivered → dropped']);
    expect(c.old[0].path).toEqual(['filter:INPUT:3']);
    expect(c.new[0].path).toEqual(['filter:INPUT:policy']);
    expect(c.oldTrace.outcomes[0].verdict).toBe('ACCEPT');
    expect(c.newTrace.outcomes[0].verdict).toBe('DROP');
    expect(doc.notes.some((n: string) => n.startsWith('no host context given'))).toBe(true);
  });

  it('--traces 0 keeps outcomes and paths but drops the full traces', async () => {
    const doc = JSON.parse((await cli([OLD, NEW, '--json', '--traces', '0'])).out);
    const b = doc.families[0].behaviour;
    expect(b.changes.length).toBeGreaterThan(0);
    expect(b.tracesOmitted).toBe(b.changes.length);
    expect(b.changes.every((c: object) => !('oldTrace' in c) && !('newTrace' in c))).toBe(true);
  });

  it('text: a behaviour section after the unified diff', async () => {
    const r = await cli([OLD, NEW]);
    expect(r.out).toMatch(/# behaviour \(ipv4\): \d+ of \d+ probes behave differently/);
    expect(r.out).toContain(`! ${SSH}`);
    expect(r.out).toContain('    verdict ACCEPT → DROP\n    disposition delivered → dropped\n    path filter:INPUT:3 → filter:INPUT:policy\n');
    expect(r.out).toContain('# no host context given');
  });

  it('--context FILE replaces the generic node', async () => {
    const ctx = file('ctx.json', JSON.stringify({ interfaces: [{ name: 'lo', kind: 'loopback', addresses: ['127.0.0.1/8'] }, { name: 'ens3', addresses: ['172.16.5.9/24'] }], routes: [{ dst: 'default', dev: 'ens3', via: '172.16.5.1' }, { dst: '172.16.5.0/24', dev: 'ens3' }] }));
    const r = await cli([OLD, NEW, '--context', ctx]);
    expect(r.out).toContain('! outside 203.0.113.10 → 172.16.5.9:22/tcp');
    expect(r.out).not.toContain('no host context given');
  });

  it('--packet is traced on both sides even when the rules are the same', async () => {
    const r = await cli([OLD, SAME, '--packet', 'tcp 203.0.113.5:1000 192.168.0.2:22 in=eth0', '--json']);
    expect(r.code).toBe(0);
    const b = JSON.parse(r.out).families[0].behaviour;
    expect(b.probesTraced).toBe(1);
    expect(b.changes).toEqual([]);
  });

  it('--packet whose outcome changes is listed as a user packet', async () => {
    const r = await cli([OLD, NEW, '--packet', 'tcp 203.0.113.5:1000 192.168.0.2:22 in=eth0']);
    expect(r.out).toContain('! user (in eth0) 203.0.113.5 → 192.168.0.2:22/tcp  (from user)');
  });

  it('--packets FILE (a scenario-like object)', async () => {
    const f = file('packets.json', JSON.stringify({ packets: [{ name: 'ssh', packet: { proto: 'tcp', src: '203.0.113.6', sport: 1000, dst: '192.168.0.2', dport: 22, iif: 'eth0' } }] }));
    const r = await cli([OLD, NEW, '--packets', f, '--json']);
    const b = JSON.parse(r.out).families[0].behaviour;
    expect(b.changes.some((c: { probe: { origin: string; packet: { src: string } } }) => c.probe.origin === 'user' && c.probe.packet.src === '203.0.113.6')).toBe(true);
  });

  it('an invalid --packet for the host is skipped with the reason, not a crash', async () => {
    const r = await cli([OLD, NEW, '--packet', 'tcp 203.0.113.5:1000 192.168.0.2:22 in=nosuchif', '--json']);
    const b = JSON.parse(r.out).families[0].behaviour;
    expect(b.skipped.map((s: { probe: { origin: string } }) => s.probe.origin)).toEqual(['user']);
    expect(b.skipped[0].reason).toContain('nosuchif');
  });
});

describe('iptscope diff: any SOURCE kind (a capture bundle with both families)', () => {
  const v4 = fw('DROP', base);
  const v6 = '*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n';
  const context = {
    hostname: 'node-9',
    interfaces: [
      { name: 'lo', kind: 'loopback', addresses: ['127.0.0.1/8', '::1/128'] },
      { name: 'ens5', addresses: ['172.31.9.9/20', '2001:db8:9::9/64'] },
    ],
    routes: [
      { dst: 'default', dev: 'ens5', via: '172.31.0.1' },
      { dst: '172.31.0.0/20', dev: 'ens5' },
    ],
  };

  async function bundle(name: string): Promise<string> {
    const { writeBundle } = await import('../../src/sources/bundle.js');
    const { parseRuleset } = await import('../../src/core/parse/index.js');
    const text = writeBundle({
      kind: 'live',
      label: 'live host node-9',
      rulesets: { ipv4: parseRuleset(v4, { file: 'ipv4' }), ipv6: parseRuleset(v6, { file: 'ipv6', family: 'ipv6' }) },
      texts: { ipv4: v4, ipv6: v6 },
      context,
      capturedAt: '2026-11-27T06:00:00Z',
      notes: [],
    });
    return file(name, text);
  }

  it('compares each family; the family missing on one side is all removed; the bundle context is used', async () => {
    const b = await bundle('node.bundle');
    const r = await cli([b, NEW, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(doc.old.kind).toBe('bundle');
    expect(doc.families.map((f: { family: string }) => f.family)).toEqual(['ipv4', 'ipv6']);
    const [f4, f6] = doc.families;
    expect(f4.structural.summary).toMatchObject({ rulesRemoved: 1, rulesAdded: 0 });
    expect(f6.structural.summary).toMatchObject({ tablesRemoved: 1, rulesRemoved: 1 });
    expect(doc.notes.some((n: string) => n.startsWith('no host context'))).toBe(false);
    // Probes start from the bundle's host: its uplink and address.
    const labels = f4.behaviour.changes.map((c: { probe: { label: string } }) => c.probe.label);
    expect(labels).toContain('outside 203.0.113.10 → 172.31.9.9:22/tcp');
  });

  it('a bundle against itself is identical', async () => {
    const b = await bundle('same.bundle');
    const r = await cli([b, b]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
  });

  it('text output heads each family when there are two', async () => {
    const r = await cli([await bundle('x.bundle'), NEW, '--no-behaviour']);
    expect(r.out).toContain('# ipv4\n--- ');
    expect(r.out).toContain('# ipv6\n--- ');
    expect(r.out).toContain('# table filter removed');
  });
});

describe('--packets with a scenario folder', () => {
  it('traces the scenario\'s named packets on both sides', async () => {
    const scen = join(dir, 'scen');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(scen, { recursive: true });
    writeFileSync(join(scen, 'scenario.json'), JSON.stringify({ name: 's', packets: [{ name: 'ssh', packet: { proto: 'tcp', src: '203.0.113.7', sport: 1000, dst: '192.168.0.2', dport: 22, iif: 'eth0' }, expect: {} }] }));
    const r = await cli([OLD, NEW, '--packets', scen, '--json', '--max-probes', '0']);
    const b = JSON.parse(r.out).families[0].behaviour;
    expect(b.changes.map((c: { probe: { label: string } }) => c.probe.label)).toEqual(['user "ssh" (in eth0) 203.0.113.7 → 192.168.0.2:22/tcp']);
  });
});
