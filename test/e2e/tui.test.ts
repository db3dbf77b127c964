/**
 * End-to-end: the real binary (`node bin/iptscope.js`, built by `npm run build` / `npm ci`) in a
 * tmux session, driven with send-keys and read with capture-pane, on the demo scenario (a
 * kube-proxy node) and on a dump with hostile comments. Each test uses its own session and kills
 * only that one. Skips (with a note) when tmux is absent.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0;
if (!HAS_TMUX) console.warn('test/e2e/tui.test.ts: tmux not found — explorer end-to-end tests SKIPPED');

/** Each test waits on a real process; a loaded CI machine needs more than vitest's default. */
const E2E_TIMEOUT = 120_000;

let counter = 0;
const sessions: string[] = [];

/** Our own tmux server (-L): nobody else's sessions or kill-server can touch these tests. */
const SOCKET = `iptscope-e2e-${process.pid}`;

function tmux(...args: string[]): string {
  // CI may run without a locale: tmux then draws non-ASCII as `_`.
  const env = { ...process.env, LANG: process.env.LANG || 'C.UTF-8' };
  return execFileSync('tmux', ['-L', SOCKET, '-u', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Start the explorer in a fresh detached session of w×h; returns the session name. */
function start(args: string[], w = 120, h = 40, stdinFrom?: string): string {
  const name = `iptscope-e2e-${process.pid}-${++counter}`;
  sessions.push(name);
  const pipe = stdinFrom ? `cat ${shellQuote(stdinFrom)} | ` : '';
  const cmd = `cd ${shellQuote(ROOT)} && ${pipe}node bin/iptscope.js ${args.map(shellQuote).join(' ')}; echo EXIT:$?; sleep 600`;
  // The server exits with its last session; a new session racing that exit is retried.
  for (let attempt = 0; ; attempt++) {
    try {
      tmux('new-session', '-d', '-s', name, '-x', String(w), '-y', String(h), cmd);
      return name;
    } catch (err) {
      if (attempt >= 4) throw err;
      spawnSync('sleep', ['0.2']);
    }
  }
}

function screen(name: string): string {
  return tmux('capture-pane', '-p', '-t', name);
}

function keys(name: string, ...k: string[]): void {
  tmux('send-keys', '-t', name, ...k);
}

/** Type text literally (no key-name interpretation), then Enter. */
function typeLine(name: string, text: string): void {
  tmux('send-keys', '-t', name, '-l', text);
  tmux('send-keys', '-t', name, 'Enter');
}

async function waitFor(name: string, re: RegExp, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    last = screen(name);
    // Matched: wait for the frame to be complete (tmux may show a paint half-way).
    if (re.test(last)) return settle(name);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${re} on screen:\n${last}`);
}

/** Wait until the screen stops changing (the last key was handled and painted). */
async function settle(name: string): Promise<string> {
  let prev = '';
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 80));
    const cur = screen(name);
    if (cur === prev) return cur;
    prev = cur;
  }
  return prev;
}

/** The lines of a pane: the rows between the border whose title contains `title`. */
function paneText(s: string, title: string): string {
  const lines = s.split('\n');
  const top = lines.findIndex((l) => l.includes(title));
  if (top < 0) return '';
  const col = lines[top].indexOf('┌', Math.max(0, lines[top].lastIndexOf('┌', lines[top].indexOf(title))));
  const out: string[] = [];
  for (let i = top + 1; i < lines.length; i++) {
    const l = lines[i];
    if (l[col] === '└') break;
    const end = l.indexOf('│', col + 1);
    out.push(l.slice(col + 1, end < 0 ? undefined : end));
  }
  return out.join('\n');
}

describe.skipIf(!HAS_TMUX)('explorer end-to-end (tmux)', () => {
  let tmp = '';
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
    tmp = mkdtempSync(join(tmpdir(), 'iptscope-e2e-'));
  });
  afterEach(() => {
    for (const s of sessions.splice(0)) spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', s]);
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
    // Our private server exits with its last session; its socket file stays behind unless removed.
    const socketDir = join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`);
    spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
    rmSync(join(socketDir, SOCKET), { force: true });
  });

  it('opens the demo, lists chains, follows a jump and returns along the breadcrumb', async () => {
    const s = start(['--demo']);
    let out = await waitFor(s, /1 Chains/);
    expect(out).toMatch(/DEMO/);
    expect(out).toMatch(/demo: seed-kube-proxy/);
    const chains = paneText(out, '1 Chains');
    for (const c of ['▾ nat', 'PREROUTING', 'KUBE-SERVICES', 'KUBE-MARK-MASQ', '▾ filter']) expect(chains).toContain(c);
    expect(chains.indexOf('PREROUTING')).toBeLessThan(chains.indexOf('KUBE-SERVICES'));
    keys(s, '2', 'Enter');
    out = await waitFor(s, /2 Rules .*nat › PREROUTING › KUBE-SERVICES/);
    expect(paneText(out, '2 Rules')).toMatch(/-d 10\.96\.0\.100\/32 -p tcp --dport 80/);
    keys(s, 'Enter');
    out = await waitFor(s, /nat › PREROUTING › KUBE-SERVICES › KUBE-SVC-LOLE4ISW44XBNF3G/);
    expect(paneText(out, '2 Rules')).toMatch(/-m statistic --mode random --probability 0\.333/);
    keys(s, 'BSpace');
    out = await waitFor(s, /2 Rules .*nat › PREROUTING › KUBE-SERVICES · 2 rules/);
    keys(s, 'c');
    out = await waitFor(s, /Callers of nat KUBE-SERVICES/);
    expect(out).toMatch(/nat PREROUTING #1/);
    expect(out).toMatch(/nat OUTPUT #1/);
    keys(s, 'Escape');
    await waitFor(s, /^(?![\s\S]*Callers of)/); // (ESC then a key at once would read as Meta-key)
    keys(s, '1', 'G');
    out = await waitFor(s, /2 Rules .*filter › KUBE-SERVICES/);
    expect(paneText(out, '1 Chains')).toContain('KUBE-FORWARD');
  }, E2E_TIMEOUT);

  it('steps a packet to its verdict', async () => {
    const s = start(['--demo']);
    await waitFor(s, /1 Chains/);
    keys(s, ':');
    typeLine(s, 'trace tcp 10.244.1.10:40000 -> 10.96.0.100:80 iif cni0');
    let out = await waitFor(s, /4 Trace .*step 1\//);
    expect(paneText(out, '4 Trace')).toMatch(/PREROUTING/);
    keys(s, 'n', 'n', 'n');
    out = await settle(s);
    expect(out).toMatch(/4 Trace .*step 4\//);
    // the Rules pane follows the packet into KUBE-SERVICES
    expect(out).toMatch(/2 Rules .*KUBE-SERVICES/);
    keys(s, '>');
    out = await waitFor(s, /= ACCEPT: forwarded out cni0/);
    expect(paneText(out, 'State')).toMatch(/verdict ACCEPT forwarded out cni0/);
    expect(paneText(out, 'State')).toMatch(/dst 10\.96\.0\.100:80 → 10\.244\.1\.1[123]:80 \(DNAT\)/);
  }, E2E_TIMEOUT);

  it('shows the hairpin: mark 0x4000 from KUBE-MARK-MASQ, then MASQUERADE', async () => {
    const s = start(['--demo']);
    await waitFor(s, /1 Chains/);
    keys(s, ':');
    typeLine(s, 'preset hairpin-pod-b');
    await waitFor(s, /4 Trace .*step 1\//);
    let out = '';
    let sawMark = false;
    for (let i = 0; i < 30 && !sawMark; i++) {
      keys(s, 'n');
      out = await settle(s);
      sawMark = /mark 0x4000/.test(paneText(out, 'State'));
    }
    expect(sawMark).toBe(true);
    expect(out).toMatch(/KUBE-MARK-MASQ/);
    keys(s, '>');
    out = await waitFor(s, /= ACCEPT/);
    expect(paneText(out, '4 Trace')).toMatch(/MASQUERADE/);
    expect(paneText(out, 'State')).toMatch(/src 10\.244\.1\.11:40005 → 10\.244\.1\.1(:\d+)? \(SNAT\)/);
  }, E2E_TIMEOUT);

  it('quits with q and restores the terminal', async () => {
    const s = start(['--demo']);
    await waitFor(s, /1 Chains/);
    expect(tmux('display', '-p', '-t', s, '#{alternate_on}').trim()).toBe('1');
    keys(s, 'q');
    const out = await waitFor(s, /EXIT:0/);
    expect(out).not.toMatch(/1 Chains/);
    expect(tmux('display', '-p', '-t', s, '#{alternate_on}').trim()).toBe('0');
    expect(tmux('display', '-p', '-t', s, '#{cursor_flag}').trim()).toBe('1');
    // keys echo again: the tty is back in cooked mode
    keys(s, 'C-c');
  }, E2E_TIMEOUT);

  it('renders hostile comments and chain names as text', async () => {
    const ESC = '\u001b';
    const file = join(tmp, 'hostile.rules');
    writeFileSync(
      file,
      `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:{red-fg}EVIL - [0:0]\n` +
        `-A INPUT -m comment --comment "${ESC}]2;pwned${'\u0007'}{red-fg}RED{/red-fg}${ESC}[2J${ESC}[5;5HMOVED" -j {red-fg}EVIL\n` +
        `-A {red-fg}EVIL -m comment --comment "{bold}bold?{/bold}" -j ACCEPT\nCOMMIT\n`,
    );
    const s = start([file, '--no-watch']);
    let out = await waitFor(s, /1 Chains/);
    keys(s, '2');
    out = await settle(s);
    const rules = paneText(out, '2 Rules');
    expect(rules).toMatch(/\{red-fg\}RED\{\/red-fg\}/);
    expect(rules).toMatch(/MOVED/);
    expect(out).toMatch(/1 Chains/); // the screen was not cleared
    expect(tmux('display', '-p', '-t', s, '#{pane_title}')).not.toMatch(/pwned/);
    keys(s, 'Enter');
    out = await waitFor(s, /filter › INPUT › \{red-fg\}EVIL/);
    expect(paneText(out, '2 Rules')).toContain('{bold}bold?{/bold}');
  }, E2E_TIMEOUT);

  it('reads a dump from stdin and keys from the terminal', async () => {
    const s = start(['-'], 120, 30, join(ROOT, 'scenarios/seed-kube-proxy/iptables.rules'));
    const out = await waitFor(s, /1 Chains/);
    expect(out).toMatch(/iptscope · stdin · 38 rules/);
    keys(s, 'q');
    await waitFor(s, /EXIT:0/);
  }, E2E_TIMEOUT);

  it('reloads a watched file keeping the view, marks and lists the change, diffs it, says when the file is gone', async () => {
    const file = join(tmp, 'watched.rules');
    const original = readFileSync(join(ROOT, 'scenarios/seed-kube-proxy/iptables.rules'), 'utf8');
    writeFileSync(file, original);
    const s = start([file]);
    await waitFor(s, /watching/);
    keys(s, ':');
    typeLine(s, 'chain nat KUBE-SERVICES');
    await waitFor(s, /2 Rules .*KUBE-SERVICES/);
    writeFileSync(file, original.replace('-d 10.96.0.100/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC', '-d 10.96.0.100/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 8080 -j KUBE-SVC'));
    let out = await waitFor(s, /1 change \(C\)/);
    expect(out).toMatch(/2 Rules .*nat › .*KUBE-SERVICES/);
    expect(paneText(out, '2 Rules')).toMatch(/~\s+1 .*--dport 8080/);
    keys(s, 'C');
    out = await waitFor(s, /Changed by the last reload/);
    expect(out).toMatch(/~ nat KUBE-SERVICES #1/);
    keys(s, 'Escape');
    await waitFor(s, /^(?![\s\S]*Changed by the last reload)/);
    keys(s, 'd');
    out = await waitFor(s, /Diff · /);
    expect(out).toMatch(/^│-.*--dport 80 /m);
    expect(out).toMatch(/^│\+.*--dport 8080 /m);
    expect(out).toMatch(/behave differently/);
    keys(s, 'd');
    await waitFor(s, /2 Rules/);
    keys(s, 'C');
    await waitFor(s, /Changed by the last reload/);
    rmSync(file);
    out = await waitFor(s, /FILE GONE/);
    keys(s, 'Escape');
    out = await waitFor(s, /^(?![\s\S]*Changed by the last reload)/);
    expect(paneText(out, '2 Rules')).toMatch(/--dport 8080/);
  }, E2E_TIMEOUT);

  it('is usable at 80×24 and follows resizes', async () => {
    const s = start(['--demo'], 80, 24);
    let out = await waitFor(s, /1 Chains/);
    for (const l of out.split('\n')) expect([...l].length).toBeLessThanOrEqual(80);
    expect(out).toMatch(/2 Rules/);
    expect(out).toMatch(/4 Trace/);
    keys(s, '3');
    out = await waitFor(s, /3 Packet/);
    keys(s, '5');
    out = await waitFor(s, /5 Map/);
    expect(out).toMatch(/PREROUTING ─▶ \(route\) ─▶ FORWARD/);
    tmux('resize-window', '-t', s, '-x', '140', '-y', '40');
    out = await waitFor(s, /3 Packet[\s\S]*5 Map|5 Map[\s\S]*3 Packet/);
    expect(out).toMatch(/State/);
    keys(s, '?');
    out = await waitFor(s, /Help — keys and commands/);
    expect(out).toMatch(/callers: who jumps to this chain/);
  }, E2E_TIMEOUT);
});
