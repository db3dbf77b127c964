import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/errors.js';
import { interfacesFromIp, loadLive, notASaveDump, routesFromIp, type LiveOptions } from '../../src/sources/live.js';
import {
  DUMP4, DUMP6, IP_ADDR, IP_ROUTE4, LEGACY4, PROC_SYS, ipStandin, makeProcSys, makeStandins, saveStandin,
  type StandinSpec, type Standins,
} from './standins.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** Stand-ins + fake /proc/sys; loadLive options that see only them. */
function host(spec: StandinSpec, sys: Record<string, string> = PROC_SYS): { s: Standins; opts: LiveOptions } {
  const s = makeStandins(spec);
  const p = makeProcSys(sys);
  cleanups.push(s.cleanup, p.cleanup);
  return { s, opts: { env: { PATH: s.bin }, sbinFallback: false, procSys: p.dir, timeoutMs: 3000 } };
}

const nftHost = (): StandinSpec => ({
  'iptables-nft-save': saveStandin(DUMP4),
  'ip6tables-nft-save': saveStandin(DUMP6, 'ip6tables-nft-save v1.8.9 (nf_tables)'),
  'iptables-legacy-save': saveStandin('', 'iptables-save v1.8.9 (legacy)'),
  'ip6tables-legacy-save': saveStandin('', 'ip6tables-save v1.8.9 (legacy)'),
  ip: ipStandin(),
});

async function liveError(opts: LiveOptions): Promise<CliError> {
  try {
    await loadLive(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('loadLive did not fail');
}

describe('loadLive on an nft host (stand-in binaries)', () => {
  it('reads both families, the context and the versions', async () => {
    const { opts } = host(nftHost());
    const src = await loadLive(opts);
    expect(src.kind).toBe('live');
    expect(src.meta.variant).toBe('nft');
    expect(src.label).toBe('live host node-7 (iptables-nft)');
    expect(src.texts.ipv4).toBe(DUMP4);
    expect(src.texts.ipv6).toBe(DUMP6);
    const filter = src.rulesets.ipv4!.ruleset.tables.get('filter')!;
    expect(filter.chains.get('INPUT')!.rules.map((r) => r.counters)).toEqual([
      { packets: 20, bytes: 1200 },
      { packets: 4, bytes: 240 },
    ]);
    expect(src.rulesets.ipv6!.ruleset.family).toBe('ipv6');
    expect(src.meta.commands).toEqual({ ipv4: 'iptables-nft-save -c', ipv6: 'ip6tables-nft-save -c' });
    expect(src.meta.versions).toMatchObject({
      iptables: 'iptables-nft-save v1.8.9 (nf_tables)',
      iproute2: 'ip utility, iproute2-6.1.0, libbpf 1.1.2',
      kernel: '6.1.0-test',
    });
    const ctx = src.context!;
    expect(ctx.hostname).toBe('node-7');
    expect(ctx.sysctl).toEqual({
      ipForward: true, ipv6Forward: false, bridgeNfCallIptables: true, bridgeNfCallIp6tables: false,
      routeLocalnet: true, rpFilter: 0, rpFilterIface: { eth0: 2 }, sendRedirects: false,
    });
    expect(ctx.interfaces!.map((i) => [i.name, i.kind, i.addresses])).toEqual([
      ['lo', 'loopback', ['127.0.0.1/8', '::1/128']],
      ['eth0', 'ether', ['192.0.2.2/24', '2001:db8::2/64']],
      ['cni0', 'bridge', ['10.244.1.1/24']],
      ['veth1', 'veth', []],
    ]);
    expect(ctx.interfaces!.find((i) => i.name === 'cni0')).toMatchObject({ ports: ['veth1'], hairpin: true });
    expect(ctx.routes).toContainEqual({ dst: '192.0.2.2/32', dev: 'eth0', src: '192.0.2.2', table: 'local', type: 'local' });
    expect(ctx.routes).toContainEqual({ dst: 'default', dev: 'eth0', via: '2001:db8::1' });
    expect(ctx.routes).toContainEqual({ dst: '::1/128', dev: 'lo', table: 'local', type: 'local' });
    expect(src.meta.policyRules).toContain('ipv4 100: from 10.244.0.0/16 lookup 100');
    expect(src.notes.some((n) => /policy routing: 1 ip rule/.test(n))).toBe(true);
    expect(src.notes.some((n) => /rp_filter: conf.all=0, but eth0=2 .*recorded per interface/.test(n))).toBe(true);
    expect(src.notes.some((n) => /multipath/.test(n))).toBe(true);
    expect(src.notes.some((n) => /both iptables-nft and iptables-legacy/.test(n))).toBe(false);
  });

  it('rulesOnly reads only the dumps', async () => {
    const { s, opts } = host(nftHost());
    const src = await loadLive({ ...opts, rulesOnly: true, variant: 'nft' });
    expect(src.context).toBeUndefined();
    expect(s.calls().sort()).toEqual(['ip6tables-nft-save -c', 'iptables-nft-save -c']);
  });
});

describe('nft vs legacy', () => {
  const rows: { name: string; nft4: string; legacy4: string; variant: string; both: boolean; shown: string }[] = [
    { name: 'only legacy holds rules', nft4: '', legacy4: LEGACY4, variant: 'legacy', both: false, shown: LEGACY4 },
    { name: 'only nft holds rules', nft4: DUMP4, legacy4: '', variant: 'nft', both: false, shown: DUMP4 },
    { name: 'both hold rules: the larger set is shown, and said', nft4: DUMP4, legacy4: LEGACY4, variant: 'nft', both: true, shown: DUMP4 },
  ];
  it.each(rows)('$name', async ({ nft4, legacy4, variant, both, shown }) => {
    const { opts } = host({
      'iptables-nft-save': saveStandin(nft4),
      'iptables-legacy-save': saveStandin(legacy4, 'iptables-save v1.8.9 (legacy)'),
      'ip6tables-nft-save': saveStandin(''),
      'ip6tables-legacy-save': saveStandin(''),
      ip: ipStandin(),
    });
    const src = await loadLive(opts);
    expect(src.meta.variant).toBe(variant);
    expect(src.texts.ipv4).toBe(shown);
    expect(src.rulesets.ipv6).toBeUndefined(); // no IPv6 tables: not shown
    const note = src.notes.find((n) => n.startsWith('both iptables-nft and iptables-legacy hold rules'));
    expect(note !== undefined).toBe(both);
    if (both) expect(note).toContain('nft: 5 rules, legacy: 1');
  });

  it('no rules anywhere, but legacy has tables (a DROP policy): legacy is shown', async () => {
    const policyOnly = '*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';
    const { opts } = host({
      'iptables-nft-save': saveStandin(''),
      'iptables-legacy-save': saveStandin(policyOnly),
      'iptables-save': saveStandin('', 'iptables-save v1.8.9 (nf_tables)'),
      ip: ipStandin(),
    });
    const src = await loadLive(opts);
    expect(src.meta.variant).toBe('legacy');
    expect(src.rulesets.ipv4!.ruleset.tables.get('filter')!.chains.get('INPUT')!.policy).toBe('DROP');
  });

  it('an empty host: the system default variant (iptables-save -V)', async () => {
    const { opts } = host({
      'iptables-nft-save': saveStandin(''),
      'iptables-legacy-save': saveStandin(''),
      'iptables-save': saveStandin('', 'iptables-save v1.8.9 (legacy)'),
      ip: ipStandin(),
    });
    expect((await loadLive(opts)).meta.variant).toBe('legacy');
  });

  it('an old host with only iptables-save (no -nft/-legacy) is read with it', async () => {
    const { s, opts } = host({ 'iptables-save': saveStandin(LEGACY4, 'iptables-save v1.6.1'), ip: ipStandin() });
    const src = await loadLive(opts);
    expect(src.meta.variant).toBe('unknown');
    expect(src.texts.ipv4).toBe(LEGACY4);
    expect(s.calls()).toContain('iptables-save -c');
    expect(src.notes).toContain('ip6tables-save not found: IPv6 rules not shown');
  });
});

describe('error paths: one line with the cause and the remedy, exit 2', () => {
  const rows: { name: string; spec: StandinSpec; message: RegExp }[] = [
    {
      name: 'iptables missing',
      spec: { ip: ipStandin() },
      message: /^cannot read the live rules: iptables-save not found — install iptables/,
    },
    {
      name: 'not root (nft)',
      spec: {
        'iptables-nft-save': { '-c': { code: 4, stderr: 'iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n' }, '-V': { stdout: 'v\n' } },
        ip: ipStandin(),
      },
      message: /^cannot read the live rules: iptables-nft-save -c: .*Permission denied \(you must be root\).* — run as root: sudo/,
    },
    {
      name: 'permission denied (legacy)',
      spec: {
        'iptables-legacy-save': { '-c': { code: 1, stderr: 'Failed to list table names in /proc/net/ip_tables_names: Permission denied\n' }, '-V': { stdout: 'v\n' } },
      },
      message: /iptables-legacy-save -c: Failed to list table names .*Permission denied.* — run as root: sudo/,
    },
    {
      name: 'exits 1',
      spec: { 'iptables-nft-save': { '-c': { code: 1, stderr: 'iptables-nft-save: something broke\n' }, '-V': { stdout: 'v\n' } } },
      message: /^cannot read the live rules: iptables-nft-save -c: exit status 1: iptables-nft-save: something broke — check that iptables works/,
    },
    {
      name: 'prints garbage',
      spec: { 'iptables-nft-save': { '-c': { stdout: 'hello\x01world\nthis is not a dump\n' }, '-V': { stdout: 'v\n' } } },
      message: /iptables-nft-save -c: printed something that is not an iptables-save dump \(line 1: "hello.world"\)/,
    },
    {
      name: 'hangs past the timeout',
      spec: { 'iptables-nft-save': { '-c': { hang: true }, '-V': { stdout: 'v\n' } } },
      message: /^cannot read the live rules: iptables-nft-save -c: no answer within 0.5 s — .*retry/,
    },
  ];
  it.each(rows)('$name', async ({ spec, message }) => {
    const { opts } = host(spec);
    const t0 = Date.now();
    const err = await liveError({ ...opts, timeoutMs: 500 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err.code).toBe(2);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
  });

  it('a failing legacy variant beside a working nft one is a note, not a failure', async () => {
    const { opts } = host({
      'iptables-nft-save': saveStandin(DUMP4),
      'iptables-legacy-save': { '-c': { code: 1, stderr: "iptables-legacy-save: can't initialize iptables table `filter': Table does not exist\n" }, '-V': { stdout: 'v\n' } },
      ip: ipStandin(),
    });
    const src = await loadLive(opts);
    expect(src.meta.variant).toBe('nft');
    expect(src.notes.some((n) => n.includes('iptables-legacy-save -c: exit status 1'))).toBe(true);
  });

  it('a failing variant beside an empty one is the answer (it may hold the rules)', async () => {
    const { opts } = host({
      'iptables-nft-save': { '-c': { code: 1, stderr: 'iptables-nft-save: netlink: broken\n' }, '-V': { stdout: 'v\n' } },
      'iptables-legacy-save': saveStandin(''),
      ip: ipStandin(),
    });
    const err = await liveError(opts);
    expect(err.message).toMatch(/^cannot read the live rules: iptables-nft-save -c: exit status 1: iptables-nft-save: netlink: broken/);
  });

  it('context failures are notes: ip missing, ip garbage', async () => {
    const a = host({ 'iptables-nft-save': saveStandin(DUMP4) });
    const src = await loadLive(a.opts);
    expect(src.context!.interfaces).toEqual([]);
    expect(src.notes.some((n) => /ip not found — install iproute2/.test(n))).toBe(true);
    const b = host({ 'iptables-nft-save': saveStandin(DUMP4), ip: { '*': { stdout: 'not json' } } });
    const src2 = await loadLive(b.opts);
    expect(src2.notes.some((n) => /ip -d -j addr show printed something that is not JSON/.test(n))).toBe(true);
  });

  it('absent sysctls: defaults and notes (br_netfilter not loaded)', async () => {
    const { opts } = host(nftHost(), { 'kernel/hostname': 'h' });
    const src = await loadLive(opts);
    expect(src.context!.sysctl).toEqual({ ipForward: false, ipv6Forward: false, bridgeNfCallIptables: false, bridgeNfCallIp6tables: false });
    expect(src.notes.some((n) => n.startsWith('br_netfilter is not loaded'))).toBe(true);
  });
});

describe('converters', () => {
  it('foreignTables: everything but iptables-nft\'s own ip/ip6 tables', async () => {
    const { foreignTables } = await import('../../src/sources/live.js');
    expect(foreignTables('table ip filter\ntable ip6 nat\ntable inet firewalld\ntable ip kube-proxy\ntable bridge filter\ntable ip6 security\n')).toEqual([
      'inet firewalld', 'ip kube-proxy', 'bridge filter',
    ]);
  });
  it('notASaveDump accepts every line iptables-save prints and names the first other one', () => {
    expect(notASaveDump(DUMP4)).toBeUndefined();
    expect(notASaveDump(`${DUMP4}oops\n`)).toEqual({ line: DUMP4.split('\n').length, text: 'oops' });
  });
  it('interfacesFromIp skips junk entries', () => {
    expect(interfacesFromIp([null, 3, {}, ...JSON.parse(IP_ADDR)]).map((i) => i.name)).toEqual(['lo', 'eth0', 'cni0', 'veth1']);
  });
  it('routesFromIp: host routes get a prefix, blackholes attach to lo, main is implicit', () => {
    const notes: string[] = [];
    const r = routesFromIp(JSON.parse(IP_ROUTE4), 'ipv4', notes);
    expect(r).toContainEqual({ dst: '203.0.113.0/24', dev: 'lo', type: 'blackhole' });
    expect(r).toContainEqual({ dst: '198.51.100.0/24', dev: 'eth0', via: '192.0.2.5', table: '100' });
    expect(r).toContainEqual({ dst: '127.0.0.1/32', dev: 'lo', src: '127.0.0.1', table: 'local', type: 'local' });
    expect(notes).toEqual(['1 multipath ipv4 route(s): the first next hop of each is recorded']);
  });
});
