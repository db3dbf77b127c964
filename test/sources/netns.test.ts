/**
 * Live mode against a real network namespace (root only; the test creates and deletes its own):
 * rules loaded with iptables-nft-restore (and, when the kernel has it, a legacy set too), capture
 * inside the namespace with the built CLI, then:
 * - the bundle holds exactly the namespace's dumps, its interfaces, routes and sysctls;
 * - `trace BUNDLE …` gives the same JSON as `trace live …` run inside the namespace.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBundle } from '../../src/sources/bundle.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/iptscope.js');
const NS = `iptscope-src-${process.pid}`;

function canNetns(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) return 'dist/ not built (npm run build)';
  for (const b of ['ip', 'iptables-nft-restore', 'iptables-nft-save']) {
    if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) return `${b} missing`;
  }
  const probe = `iptscope-probe-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', probe]).status !== 0) return 'cannot create a network namespace';
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}
const skip = canNetns();
if (skip) console.info(`test/sources/netns.test.ts skipped: ${skip}`);

const RULES4 = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
[12:720] -A PREROUTING -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j SVC
-A OUTPUT -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j SVC
-A SVC -p tcp -j DNAT --to-destination 10.50.0.20:8080
-A POSTROUTING -s 10.50.0.0/24 -o dummy1 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
[5:300] -A INPUT -p tcp -m tcp --dport 23 -j DROP
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -d 10.50.0.20/32 -p tcp -m tcp --dport 8080 -j ACCEPT
-A FORWARD -s 10.60.0.0/16 -j REJECT --reject-with icmp-port-unreachable
-A OUTPUT -p udp -m udp --dport 5555 -j ACCEPT
COMMIT
`;
const RULES6 = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p ipv6-icmp -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j DROP
COMMIT
`;
const LEGACY4 = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -s 192.0.2.0/24 -j DROP
COMMIT
`;

function nsExec(args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', NS, ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}
function sh(...args: string[]): void {
  execFileSync(args[0], args.slice(1), { stdio: 'pipe' });
}

/** Packets stepped both ways. */
const PACKETS: { name: string; args: string[] }[] = [
  { name: 'to the service, DNAT then forwarded', args: ['--proto', 'tcp', '--src', '10.60.1.5', '--sport', '40000', '--dst', '10.96.0.10', '--dport', '80', '--iif', 'dummy1'] },
  { name: 'telnet to the host, dropped', args: ['--proto', 'tcp', '--src', '10.50.0.9', '--sport', '40001', '--dst', '10.50.0.1', '--dport', '23', '--iif', 'dummy0'] },
  { name: 'forwarded from 10.60/16, rejected', args: ['--proto', 'udp', '--src', '10.60.1.5', '--sport', '5353', '--dst', '10.50.0.30', '--dport', '53', '--iif', 'dummy1'] },
  { name: 'local to the service', args: ['--proto', 'tcp', '--src', '10.50.0.1', '--sport', '40002', '--dst', '10.96.0.10', '--dport', '80', '--local'] },
  { name: 'IPv6 ssh, dropped', args: ['--proto', 'tcp', '--src', '2001:db8:50::9', '--sport', '40003', '--dst', '2001:db8:50::1', '--dport', '22', '--iif', 'dummy0'] },
];

describe.skipIf(skip !== undefined)('live mode in a network namespace', () => {
  let dir = '';
  let bundle = '';
  let legacyLoaded = false;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'iptscope-netns-'));
    bundle = path.join(dir, 'ns.bundle');
    sh('ip', 'netns', 'add', NS);
    sh('ip', '-n', NS, 'link', 'set', 'lo', 'up');
    for (const [dev, addr, addr6] of [['dummy0', '10.50.0.1/24', '2001:db8:50::1/64'], ['dummy1', '10.70.0.1/24', '2001:db8:70::1/64']]) {
      // veth pairs (the peer stays down inside the namespace): containers often lack the dummy module.
      sh('ip', '-n', NS, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`);
      sh('ip', '-n', NS, 'addr', 'add', addr, 'dev', dev);
      sh('ip', '-n', NS, '-6', 'addr', 'add', addr6, 'dev', dev, 'nodad');
      sh('ip', '-n', NS, 'link', 'set', dev, 'up');
    }
    sh('ip', '-n', NS, 'route', 'add', '10.60.0.0/16', 'via', '10.70.0.254');
    nsExec(['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet']);
    nsExec(['iptables-nft-restore', '-c'], RULES4);
    nsExec(['ip6tables-nft-restore'], RULES6);
    try {
      nsExec(['iptables-legacy-restore'], LEGACY4);
      legacyLoaded = true;
    } catch {
      console.info('netns test: iptables-legacy-restore failed (no legacy x_tables in this kernel); the nft+legacy note is not checked');
    }
    execFileSync('ip', ['netns', 'exec', NS, process.execPath, BIN, 'capture', '-o', bundle], { stdio: 'pipe' });
  }, 60_000);

  afterAll(() => {
    spawnSync('ip', ['netns', 'del', NS]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the bundle holds the namespace\'s dumps, interfaces, routes and sysctls', () => {
    const b = parseBundle(readFileSync(bundle, 'utf8'), bundle);
    const strip = (t: string) => t.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).join('\n');
    expect(strip(b.texts.ipv4!)).toBe(strip(nsExec(['iptables-nft-save', '-c'])));
    expect(strip(b.texts.ipv6!)).toBe(strip(nsExec(['ip6tables-nft-save', '-c'])));
    expect(b.meta.variant).toBe('nft');
    const svc = b.rulesets.ipv4!.ruleset.tables.get('nat')!.chains.get('PREROUTING')!.rules[0];
    expect(svc.counters).toEqual({ packets: 12, bytes: 720 });
    const ctx = b.context!;
    expect(ctx.interfaces!.find((i) => i.name === 'dummy0')).toMatchObject({ kind: 'veth', addresses: ['10.50.0.1/24', '2001:db8:50::1/64'] });
    expect(ctx.routes).toContainEqual({ dst: '10.60.0.0/16', dev: 'dummy1', via: '10.70.0.254' });
    expect(ctx.routes).toContainEqual(expect.objectContaining({ dst: '10.50.0.1/32', dev: 'dummy0', table: 'local', type: 'local' }));
    expect(ctx.sysctl).toMatchObject({ ipForward: true, routeLocalnet: true });
    if (legacyLoaded) {
      expect(b.notes.some((n) => n.startsWith('both iptables-nft and iptables-legacy hold rules (nft: 12 rules, legacy: 1)'))).toBe(true);
    }
  });

  it('live counters inside the namespace: the rule hit by traffic has a rate, the others none', () => {
    // A script run inside the namespace: poll every 300 ms while sending UDP to 127.0.0.1:5555.
    const script = path.join(dir, 'poll.mjs');
    writeFileSync(
      script,
      `import dgram from 'node:dgram';
const { pollCounters } = await import(${JSON.stringify(path.join(ROOT, 'dist/app/effects/counters.js'))});
const sock = dgram.createSocket('udp4');
let sent = 0;
const blast = setInterval(() => { for (let i = 0; i < 10; i++) { sock.send('x', 5555, '127.0.0.1'); sent++; } }, 10);
const out = [];
const p = pollCounters(300, {
  onLoaded: () => out.push({ loaded: true }), onError: (m) => out.push({ error: m }), onGone: () => {},
  onCounters: (s) => {
    const pick = (k) => { const r = s.rules.get(k); return r && { packets: r.packets, pps: r.pps }; };
    out.push({ seq: s.seq, sent, udp: pick('ipv4 filter OUTPUT 1'), fwd: pick('ipv4 filter FORWARD 1'),
      chain: s.chains.get('ipv4 filter OUTPUT') && { pps: s.chains.get('ipv4 filter OUTPUT').pps } });
    if (s.seq >= 4) { p.stop(); clearInterval(blast); sock.close(); console.log(JSON.stringify(out)); }
  },
});
`,
    );
    const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const samples = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seq?: number; sent: number; udp?: { packets: number; pps: number | null }; fwd?: { pps: number | null }; chain?: { pps: number | null }; error?: string }[];
    expect(samples.filter((x) => x.error)).toEqual([]);
    expect(samples[0].udp!.pps).toBeNull(); // first read: no rate yet
    for (const s of samples.slice(1)) {
      expect(s.udp!.pps!).toBeGreaterThan(100); // ~1000 packets/s are sent
      expect(s.fwd!.pps).toBe(0);
      expect(s.chain!.pps!).toBeGreaterThanOrEqual(s.udp!.pps!);
    }
    const last = samples[samples.length - 1];
    expect(last.udp!.packets).toBeGreaterThan(0);
    expect(last.udp!.packets).toBeLessThanOrEqual(last.sent);
  });

  it.each(PACKETS)('trace from the bundle = trace from the live namespace: $name', ({ args }) => {
    const fromBundle = spawnSync(process.execPath, [BIN, 'trace', bundle, ...args, '--json'], { encoding: 'utf8' });
    const fromLive = spawnSync('ip', ['netns', 'exec', NS, process.execPath, BIN, 'trace', 'live', ...args, '--json'], { encoding: 'utf8' });
    expect(fromBundle.stderr).not.toMatch(/internal error/);
    expect(fromBundle.status, fromBundle.stderr).toBe(0);
    expect(fromLive.status, fromLive.stderr).toBe(0);
    // Counters move between the capture and the live trace (the counters test sends traffic), so
    // the `[pkts:bytes]` of rule texts are left out; everything else must be equal.
    const uncount = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(uncount)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'counters').map(([k, x]) => [k, uncount(x)]))
          : typeof v === 'string'
            ? v.replace(/^\[\d+:\d+\] /, '')
            : v;
    const norm = (s: string) => {
      const v = JSON.parse(s) as Record<string, unknown>;
      delete v.source; // the label differs (a path vs `live host …`); everything else must not
      return uncount(v);
    };
    // Line numbers from a bundle are the bundle's own (its dump starts below the header): map them
    // back to the dump's lines, then everything must be equal.
    const lines = readFileSync(bundle, 'utf8').split('\n');
    const family = args.some((a) => a.includes(':')) ? 'ipv6' : 'ipv4';
    const offset = lines.indexOf(`=== ${family} ===`) + 1;
    expect(offset).toBeGreaterThan(1);
    const unshift = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(unshift);
      if (v && typeof v === 'object') {
        return Object.fromEntries(
          Object.entries(v).map(([k, x]) => [k, k === 'line' && typeof x === 'number' ? x - offset : typeof x === 'string' ? x.replace(/\(line (\d+)\)/g, (_m, n) => `(line ${Number(n) - offset})`) : unshift(x)]),
        );
      }
      return v;
    };
    const a = unshift(norm(fromBundle.stdout));
    expect(a).toEqual(norm(fromLive.stdout));
    expect(JSON.stringify(a)).toMatch(/"outcomes"/);
  });
});
