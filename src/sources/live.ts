/**
 * The live host, read-only: `iptables-save -c` / `ip6tables-save -c` in the variant the host
 * actually uses (nf_tables or legacy), plus the host context the engine consults (interfaces and
 * addresses, routes of every table, sysctls), converted into a HostContext.
 *
 * iptscope never changes rules. Every binary it may run is listed in `LIVE_READS` with its fixed
 * argument vectors; `read()` refuses anything else, and binaries run through execFile (no shell)
 * with a timeout. test/sources/readonly.test.ts proves that only these reads happen.
 */
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Family, ParseResult } from '../core/model.js';
import type { HostContext, InterfaceSpec, IpsetSpec, RouteSpec, SysctlSpec } from '../core/netfilter/types.js';
import { parseRuleset } from '../core/parse/index.js';
import { CliError } from '../cli/errors.js';
import type { LoadedSource } from './types.js';

/** Why running a binary failed. */
export type RunFailureKind = 'missing' | 'permission' | 'timeout' | 'failed';

/** A failed run, classified so the user gets the cause and the remedy. */
export class RunFailure extends Error {
  constructor(
    readonly kind: RunFailureKind,
    /** The command as the user would type it (`iptables-nft-save -c`). */
    readonly command: string,
    /** The cause in a few words (first stderr line, exit status, the timeout). */
    readonly detail: string,
  ) {
    super(`${command}: ${detail}`);
    this.name = 'RunFailure';
  }
}

/** What a successful run printed. */
export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs one binary by name with fixed arguments; resolves on exit status 0, rejects with a
 * RunFailure otherwise. Injectable so tests can stand in for the host.
 */
export type Runner = (cmd: string, args: readonly string[], timeoutMs: number) => Promise<RunResult>;

/**
 * Every command iptscope may run, with every argument vector it may pass. All are reads: `*-save`
 * dumps, `-V` versions, `ip -j … show`, `ipset save`. Nothing here restores, inserts, deletes,
 * flushes, zeroes or sets a policy.
 */
export const LIVE_READS: Readonly<Record<string, readonly (readonly string[])[]>> = Object.freeze({
  'iptables-nft-save': [['-c'], ['-V']],
  'iptables-legacy-save': [['-c'], ['-V']],
  'iptables-save': [['-c'], ['-V']],
  'ip6tables-nft-save': [['-c'], ['-V']],
  'ip6tables-legacy-save': [['-c'], ['-V']],
  'ip6tables-save': [['-c'], ['-V']],
  ip: [
    ['-V'],
    ['-d', '-j', 'addr', 'show'],
    ['-4', '-j', 'route', 'show', 'table', 'all'],
    ['-6', '-j', 'route', 'show', 'table', 'all'],
    ['-4', '-j', 'rule', 'show'],
    ['-6', '-j', 'rule', 'show'],
  ],
  ipset: [['save']],
  nft: [['list', 'tables']],
});

/** Run one of the LIVE_READS (and nothing else) through `run`. */
export function read(run: Runner, cmd: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  const allowed = Object.hasOwn(LIVE_READS, cmd) ? LIVE_READS[cmd] : undefined;
  if (!allowed || !allowed.some((a) => a.length === args.length && a.every((w, i) => w === args[i]))) {
    // A programming error, never user input: the read-only promise is enforced here.
    throw new Error(`refusing to run ${cmd} ${args.join(' ')}: not a read-only command iptscope knows`);
  }
  return run(cmd, args, timeoutMs);
}

/** Directories where iptables usually lives, searched after PATH (sudo and cron PATHs may lack them). */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Options of the default runner. */
export interface RunnerOptions {
  /** Environment of the children; its PATH is searched. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Also search /usr/local/sbin, /usr/sbin, /sbin after PATH. Default true. */
  sbinFallback?: boolean;
}

/** Find an executable by name in the search path; undefined when absent. */
export async function resolveBinary(cmd: string, opts: RunnerOptions = {}): Promise<string | undefined> {
  const env = opts.env ?? process.env;
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  if (opts.sbinFallback !== false) for (const d of SBIN_DIRS) if (!dirs.includes(d)) dirs.push(d);
  for (const dir of dirs) {
    const file = path.join(dir, cmd);
    try {
      await access(file, fsConstants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Classify a non-zero exit from its stderr. */
function classifyExit(command: string, code: number | string | null, stderr: string): RunFailure {
  const first = stderr.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  if (/permission denied|you must be root|operation not permitted/i.test(stderr)) {
    return new RunFailure('permission', command, first || 'permission denied');
  }
  const status = typeof code === 'number' ? `exit status ${code}` : `killed by ${code ?? 'a signal'}`;
  return new RunFailure('failed', command, first ? `${status}: ${first}` : status);
}

/** The real runner: execFile (no shell), fixed arguments, a timeout that kills the child. */
export function createRunner(opts: RunnerOptions = {}): Runner {
  const env = opts.env ?? process.env;
  return async (cmd, args, timeoutMs) => {
    const command = [cmd, ...args].join(' ');
    const file = await resolveBinary(cmd, opts);
    if (!file) throw new RunFailure('missing', command, 'not found');
    return new Promise<RunResult>((resolve, reject) => {
      let done = false;
      const child = execFile(
        file,
        [...args],
        { env, encoding: 'utf8', maxBuffer: 1 << 30, killSignal: 'SIGKILL', windowsHide: true },
        (err, stdout, stderr) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          if (!err) return resolve({ stdout, stderr });
          const e = err as NodeJS.ErrnoException & { code?: number | string; signal?: string | null };
          if (e.code === 'ENOENT') return reject(new RunFailure('missing', command, 'not found'));
          if (e.code === 'EACCES') return reject(new RunFailure('permission', command, 'permission denied executing it'));
          if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(new RunFailure('failed', command, 'output larger than 1 GiB'));
          reject(classifyExit(command, typeof e.code === 'number' ? e.code : (e.signal ?? null), stderr ?? ''));
        },
      );
      // Our own timer, so a hung child (or one whose grandchild holds the pipe) cannot hold us.
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        child.kill('SIGKILL');
        reject(new RunFailure('timeout', command, `no answer within ${formatSeconds(timeoutMs)}`));
      }, timeoutMs);
      child.stdin?.end();
    });
  };
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/** Which iptables implementation a dump came from. */
export type Variant = 'nft' | 'legacy' | 'unknown';

/** What was read besides the rules: for the bundle header and the user. */
export interface CaptureMeta {
  hostname: string;
  capturedAt: string;
  /** The variant shown (`nft`, `legacy`, or `unknown` for an old plain iptables-save). */
  variant: Variant;
  /** The command that produced each family's dump (`iptables-nft-save -c`). */
  commands: Partial<Record<Family, string>>;
  /** Tool versions: `iptables`, `iproute2`, `kernel`, `iptscope`. */
  versions: Record<string, string>;
  /** Policy routing rules (`ip rule`), one line each (`0: from all lookup local`), both families. */
  policyRules: string[];
}

/** A live (or bundle) source with its capture metadata. */
export interface CapturedSource extends LoadedSource {
  meta: CaptureMeta;
}

/** Options of loadLive. */
export interface LiveOptions {
  /** Runs the binaries; default: execFile through createRunner({ env }). */
  run?: Runner;
  /** Per-command timeout; default 20 s. */
  timeoutMs?: number;
  /** Environment for the default runner (its PATH is searched). */
  env?: NodeJS.ProcessEnv;
  /** Search /usr/sbin etc. after PATH (default true). */
  sbinFallback?: boolean;
  /** Where sysctls are read (default /proc/sys). */
  procSys?: string;
  /** Read only the rules (counter polling): skip context, versions and ipsets. */
  rulesOnly?: boolean;
  /**
   * false: return the dump texts only, unparsed (`rulesets` stays empty) — counter polling scans
   * counters without a full parse and parses only when the rules changed. Default true.
   */
  parse?: boolean;
  /** Restrict to this variant (counter polling keeps the variant chosen at start). */
  variant?: Variant;
}

/** iptscope's own version, recorded in bundles. */
export const IPTSCOPE_VERSION = '0.1.0';

const DEFAULT_TIMEOUT_MS = 20_000;

/** The save commands per family and variant. */
const SAVE: Record<Family, Record<Variant, string>> = {
  ipv4: { nft: 'iptables-nft-save', legacy: 'iptables-legacy-save', unknown: 'iptables-save' },
  ipv6: { nft: 'ip6tables-nft-save', legacy: 'ip6tables-legacy-save', unknown: 'ip6tables-save' },
};

/** Number of rules (`-A` lines) and tables in an iptables-save text. */
export function countRules(text: string): { rules: number; tables: number } {
  let rules = 0;
  let tables = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('-A ') || /^\[\d+:\d+\] -A /.test(line)) rules++;
    else if (line.startsWith('*')) tables++;
  }
  return { rules, tables };
}

/**
 * The first line that cannot come from iptables-save (which prints only comments, `*table`,
 * `:chain` lines, `[n:n] -A` / `-A` rules and COMMIT); undefined when all lines could.
 */
export function notASaveDump(text: string): { line: number; text: string } | undefined {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (l === '' || l.startsWith('#') || l.startsWith('*') || l.startsWith(':') || l === 'COMMIT') continue;
    if (l.startsWith('-A ') || l.startsWith('-N ') || /^\[\d+:\d+\]\s+-A /.test(l)) continue;
    return { line: i + 1, text: l.length > 60 ? `${l.slice(0, 57)}…` : l };
  }
  return undefined;
}

/** One clear line: the cause and the remedy. */
export function liveErrorMessage(f: RunFailure): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  switch (f.kind) {
    case 'missing':
      return `cannot read the live rules: ${f.command.split(' ')[0]} not found — install iptables (e.g. apt install iptables) or open a dump file instead`;
    case 'permission':
      return `cannot read the live rules: ${f.command}: ${f.detail}${uid !== undefined && uid !== 0 ? ` (running as uid ${uid})` : ''} — run as root: sudo iptscope …`;
    case 'timeout':
      return `cannot read the live rules: ${f.command}: ${f.detail} — the host may be busy or the xtables lock held; retry, raise --timeout, or save a dump with iptables-save and open that`;
    case 'failed':
      return `cannot read the live rules: ${f.command}: ${f.detail} — check that iptables works on this host (iptables-save), or open a dump file instead`;
  }
}

/** Outcome of reading one save command. */
type SaveRead = { ok: true; text: string; command: string } | { ok: false; failure: RunFailure };

async function readSave(run: Runner, cmd: string, timeoutMs: number): Promise<SaveRead> {
  try {
    const r = await read(run, cmd, ['-c'], timeoutMs);
    const bad = notASaveDump(r.stdout);
    if (bad) {
      return {
        ok: false,
        failure: new RunFailure('failed', `${cmd} -c`, `printed something that is not an iptables-save dump (line ${bad.line}: "${bad.text}")`),
      };
    }
    return { ok: true, text: r.stdout, command: `${cmd} -c` };
  } catch (err) {
    if (err instanceof RunFailure) return { ok: false, failure: err };
    throw err;
  }
}

/** Most useful failure to report when several variants failed: permission > timeout > failed > missing. */
function worst(failures: RunFailure[]): RunFailure {
  const rank: Record<RunFailureKind, number> = { permission: 0, timeout: 1, failed: 2, missing: 3 };
  return [...failures].sort((a, b) => rank[a.kind] - rank[b.kind])[0];
}

/** Does this binary exist? (A runner that is not the default one is asked by running `-V`.) */
async function has(cmd: string, opts: LiveOptions, run: Runner, timeoutMs: number): Promise<boolean> {
  if (!opts.run) return (await resolveBinary(cmd, { env: opts.env, sbinFallback: opts.sbinFallback })) !== undefined;
  try {
    await read(run, cmd, ['-V'], timeoutMs);
    return true;
  } catch (err) {
    return !(err instanceof RunFailure && err.kind === 'missing');
  }
}

/**
 * Read the host's rules (and, unless rulesOnly, its context). Throws CliError (exit 2) with one
 * line naming the cause and the remedy when the IPv4 rules cannot be read.
 */
export async function loadLive(opts: LiveOptions = {}): Promise<CapturedSource> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const run = opts.run ?? createRunner({ env: opts.env, sbinFallback: opts.sbinFallback });
  const startedAt = new Date();
  const notes: string[] = [];

  // Which save commands exist (per family and variant).
  const variants: Variant[] = opts.variant ? [opts.variant] : ['nft', 'legacy', 'unknown'];
  const present = new Map<string, boolean>();
  await Promise.all(
    (['ipv4', 'ipv6'] as Family[]).flatMap((f) =>
      variants.map(async (v) => present.set(SAVE[f][v], await has(SAVE[f][v], opts, run, timeoutMs))),
    ),
  );
  // Prefer the explicit nft/legacy commands; the plain one only when neither exists (iptables < 1.8).
  const candidates = (f: Family): Variant[] => {
    const explicit = (['nft', 'legacy'] as Variant[]).filter((v) => variants.includes(v) && present.get(SAVE[f][v]));
    if (explicit.length > 0) return explicit;
    return variants.includes('unknown') && present.get(SAVE[f].unknown) ? ['unknown'] : [];
  };
  const v4Candidates = candidates('ipv4');
  if (v4Candidates.length === 0) {
    throw new CliError(liveErrorMessage(new RunFailure('missing', `${SAVE.ipv4[opts.variant ?? 'unknown']} -c`, 'not found')), 2);
  }
  const v6Candidates = candidates('ipv6');

  // Read every candidate dump in parallel.
  const reads = new Map<string, SaveRead>();
  await Promise.all(
    [
      ...v4Candidates.map((v) => SAVE.ipv4[v]),
      ...v6Candidates.map((v) => SAVE.ipv6[v]),
    ].map(async (cmd) => reads.set(cmd, await readSave(run, cmd, timeoutMs))),
  );
  const okFor = (f: Family, v: Variant): SaveRead | undefined => reads.get(SAVE[f][v]);
  const v4ok = v4Candidates.filter((v) => okFor('ipv4', v)?.ok);
  const v4failures = v4Candidates
    .map((v) => okFor('ipv4', v))
    .filter((r): r is SaveRead & { ok: false } => !!r && !r.ok)
    .map((r) => r.failure);
  // A variant that failed may be the one holding the rules: unless another variant read fine AND
  // holds rules, a failure is the answer (an empty ruleset would be a lie). Permission problems
  // always are.
  const v4withRules = v4ok.filter((v) => {
    const r = okFor('ipv4', v);
    return r !== undefined && r.ok && countRules(r.text).tables > 0;
  });
  if (v4ok.length === 0 || (v4failures.length > 0 && (v4withRules.length === 0 || v4failures.some((f) => f.kind === 'permission')))) {
    throw new CliError(liveErrorMessage(worst(v4failures)), 2);
  }
  for (const f of ['ipv4', 'ipv6'] as Family[]) {
    for (const v of f === 'ipv4' ? v4Candidates : v6Candidates) {
      const r = okFor(f, v);
      if (r && !r.ok) notes.push(`${r.failure.message} (ignored: ${f === 'ipv6' ? 'IPv6 rules not shown' : 'the other variant holds the rules'})`);
    }
  }

  // The variant in use: the one holding rules; when both do, the one holding more (like kube-proxy's
  // iptables-wrapper), and say so — the kernel runs both sets.
  const count = (v: Variant, what: 'rules' | 'tables'): number =>
    (['ipv4', 'ipv6'] as Family[]).reduce((n, f) => {
      const r = okFor(f, v);
      return n + (r && r.ok ? countRules(r.text)[what] : 0);
    }, 0);
  let variant: Variant = v4ok[0];
  if (v4ok.includes('nft') && v4ok.includes('legacy')) {
    const nft = count('nft', 'rules');
    const legacy = count('legacy', 'rules');
    // More rules wins; then more tables (empty chains with a DROP policy matter too); then the
    // system's default `iptables-save`.
    const nftTables = count('nft', 'tables');
    const legacyTables = count('legacy', 'tables');
    variant =
      legacy !== nft
        ? legacy > nft ? 'legacy' : 'nft'
        : legacyTables !== nftTables
          ? legacyTables > nftTables ? 'legacy' : 'nft'
          : await defaultVariant(run, timeoutMs, 'nft');
    if (nft > 0 && legacy > 0) {
      notes.push(
        `both iptables-nft and iptables-legacy hold rules (nft: ${nft} rule${nft === 1 ? '' : 's'}, legacy: ${legacy}); the kernel runs both sets, ` +
          `shown: ${variant} — mixing them is what kube-proxy warns about; see the other with iptables-${variant === 'nft' ? 'legacy' : 'nft'}-save`,
      );
    }
  }

  const rulesets: Partial<Record<Family, ParseResult>> = {};
  const texts: Partial<Record<Family, string>> = {};
  const commands: Partial<Record<Family, string>> = {};
  for (const f of ['ipv4', 'ipv6'] as Family[]) {
    const r = okFor(f, variant) ?? (f === 'ipv6' && v6Candidates.length === 1 ? okFor(f, v6Candidates[0]) : undefined);
    if (!r || !r.ok) continue;
    const cmd = r.command.split(' ')[0];
    // ipv6 is shown only when it has tables, ipv4 always (a LoadedSource has at least one ruleset).
    if (f === 'ipv6' && countRules(r.text).tables === 0) continue;
    if (opts.parse !== false) rulesets[f] = parseRuleset(r.text, { file: cmd, family: f });
    texts[f] = r.text;
    commands[f] = r.command;
  }
  if (v6Candidates.length === 0 && !opts.rulesOnly) notes.push('ip6tables-save not found: IPv6 rules not shown');

  const meta: CaptureMeta = {
    hostname: '',
    capturedAt: startedAt.toISOString(),
    variant,
    commands,
    versions: { iptscope: IPTSCOPE_VERSION },
    policyRules: [],
  };
  let context: HostContext | undefined;
  if (!opts.rulesOnly) {
    const procSys = opts.procSys ?? '/proc/sys';
    const [hostname, kernel, ctx, iptVersion, ipVersion, ipsets] = await Promise.all([
      readText(path.join(procSys, 'kernel/hostname')),
      readText(path.join(procSys, 'kernel/osrelease')),
      readContext(run, timeoutMs, procSys, notes),
      read(run, SAVE.ipv4[variant], ['-V'], timeoutMs).then((r) => firstLine(r.stdout || r.stderr), () => undefined),
      read(run, 'ip', ['-V'], timeoutMs).then((r) => firstLine(r.stdout || r.stderr), () => undefined),
      readIpsets(run, timeoutMs, notes),
      foreignNftTables(run, timeoutMs, notes),
    ]);
    meta.hostname = hostname ?? '';
    if (kernel) meta.versions.kernel = kernel;
    if (iptVersion) meta.versions.iptables = iptVersion;
    if (ipVersion) meta.versions.iproute2 = ipVersion;
    meta.policyRules = ctx.policyRules;
    context = ctx.context;
    if (hostname) context.hostname = hostname;
    if (ipsets && ipsets.length > 0) context.ipsets = ipsets;
  }

  return {
    kind: 'live',
    label: `live host ${meta.hostname || '(unknown)'}${variant === 'unknown' ? '' : ` (iptables-${variant})`}`,
    rulesets,
    texts,
    context,
    capturedAt: meta.capturedAt,
    notes,
    meta,
  };
}

/** The variant `iptables-save` (the system's alternative) points at, from its `-V` line. */
async function defaultVariant(run: Runner, timeoutMs: number, fallback: Variant): Promise<Variant> {
  try {
    const r = await read(run, 'iptables-save', ['-V'], timeoutMs);
    const v = `${r.stdout}${r.stderr}`;
    if (/nf_tables/.test(v)) return 'nft';
    if (/legacy/.test(v)) return 'legacy';
  } catch {
    // fall through
  }
  return fallback;
}

function firstLine(s: string): string | undefined {
  const l = s.split('\n').map((x) => x.trim()).find((x) => x !== '');
  return l;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Read one sysctl as a number; undefined when absent or not a number. */
async function readSysctl(procSys: string, name: string): Promise<number | undefined> {
  const t = await readText(path.join(procSys, name));
  if (t === undefined || !/^-?\d+$/.test(t)) return undefined;
  return Number(t);
}

/** Read sysctls into a SysctlSpec, noting absent ones and per-interface rp_filter differences. */
export async function readSysctls(procSys: string, notes: string[]): Promise<SysctlSpec> {
  const [fwd, fwd6, rp, localnet, brIp, brIp6, redirects] = await Promise.all([
    readSysctl(procSys, 'net/ipv4/ip_forward'),
    readSysctl(procSys, 'net/ipv6/conf/all/forwarding'),
    readSysctl(procSys, 'net/ipv4/conf/all/rp_filter'),
    readSysctl(procSys, 'net/ipv4/conf/all/route_localnet'),
    readSysctl(procSys, 'net/bridge/bridge-nf-call-iptables'),
    readSysctl(procSys, 'net/bridge/bridge-nf-call-ip6tables'),
    readSysctl(procSys, 'net/ipv4/conf/all/send_redirects'),
  ]);
  if (fwd === undefined) notes.push(`cannot read ${procSys}/net/ipv4/ip_forward: assuming 0`);
  if (fwd6 === undefined) notes.push(`cannot read ${procSys}/net/ipv6/conf/all/forwarding (IPv6 disabled?): assuming 0`);
  if (brIp === undefined) {
    notes.push('br_netfilter is not loaded (no net.bridge.bridge-nf-call-iptables): bridged packets do not traverse iptables');
  }
  // The kernel applies max(conf.all, conf.IFACE) per interface: record every interface's value
  // (the engine takes the larger), and say where an interface is stricter than conf.all.
  const perIface: Record<string, number> = {};
  if (rp !== undefined) {
    try {
      const ifaces = (await readdir(path.join(procSys, 'net/ipv4/conf'))).filter((n) => n !== 'all' && n !== 'default').sort();
      const stricter: string[] = [];
      for (const name of ifaces) {
        const v = await readSysctl(procSys, `net/ipv4/conf/${name}/rp_filter`);
        if (v === undefined) continue;
        perIface[name] = v;
        if (v > rp) stricter.push(`${name}=${v}`);
      }
      if (stricter.length > 0) {
        notes.push(`rp_filter: conf.all=${rp}, but ${stricter.join(', ')} (the kernel uses the larger value per interface; recorded per interface)`);
      }
    } catch {
      // no per-interface view: conf.all only
    }
  }
  const spec: SysctlSpec = {
    ipForward: fwd === 1,
    ipv6Forward: fwd6 === 1,
    bridgeNfCallIptables: brIp === 1,
    bridgeNfCallIp6tables: brIp6 === 1,
  };
  if (localnet !== undefined) spec.routeLocalnet = localnet === 1;
  if (rp !== undefined) spec.rpFilter = rp;
  if (Object.keys(perIface).length > 0) spec.rpFilterIface = perIface;
  if (redirects !== undefined) spec.sendRedirects = redirects === 1;
  return spec;
}

/** Run an `ip -j` read and parse its JSON; on failure a note and undefined. */
async function ipJson(run: Runner, args: readonly string[], timeoutMs: number, notes: string[]): Promise<unknown[] | undefined> {
  try {
    const r = await read(run, 'ip', args, timeoutMs);
    const t = r.stdout.trim();
    if (t === '') return [];
    const v: unknown = JSON.parse(t);
    if (!Array.isArray(v)) throw new SyntaxError('not a JSON array');
    return v;
  } catch (err) {
    const what = `ip ${args.join(' ')}`;
    if (err instanceof RunFailure) {
      notes.push(
        err.kind === 'missing'
          ? `${what}: ip not found — install iproute2; interfaces and routes are unknown (defaults used)`
          : `${err.message}: context incomplete`,
      );
    } else {
      notes.push(`${what} printed something that is not JSON (${err instanceof Error ? err.message : String(err)}): context incomplete`);
    }
    return undefined;
  }
}

/** The context read from `ip -j …` and /proc/sys, plus policy-routing rules for the record. */
async function readContext(
  run: Runner,
  timeoutMs: number,
  procSys: string,
  notes: string[],
): Promise<{ context: HostContext; policyRules: string[] }> {
  const [addr, r4, r6, rule4, rule6, sysctl] = await Promise.all([
    ipJson(run, LIVE_READS.ip[1], timeoutMs, notes),
    ipJson(run, LIVE_READS.ip[2], timeoutMs, notes),
    ipJson(run, LIVE_READS.ip[3], timeoutMs, notes),
    ipJson(run, LIVE_READS.ip[4], timeoutMs, notes),
    ipJson(run, LIVE_READS.ip[5], timeoutMs, notes),
    readSysctls(procSys, notes),
  ]);
  const interfaces = addr ? interfacesFromIp(addr) : [];
  const routes = [...(r4 ? routesFromIp(r4, 'ipv4', notes) : []), ...(r6 ? routesFromIp(r6, 'ipv6', notes) : [])];
  const policyRules = [...(rule4 ? policyRulesFromIp(rule4, 'ipv4') : []), ...(rule6 ? policyRulesFromIp(rule6, 'ipv6') : [])];
  const custom = policyRules.filter((r) => !/^(0|32766|32767): from all lookup (local|main|default)$/.test(r.replace(/^ipv[46] /, '')));
  if (custom.length > 0) {
    notes.push(`policy routing: ${custom.length} ip rule(s) beyond local/main/default (e.g. ${custom[0]}); the engine routes by the main and local tables`);
  }
  return { context: { interfaces, routes, sysctl }, policyRules };
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** `ip -d -j addr show` → interfaces (name, kind, addresses with prefix, mac, bridge ports). */
export function interfacesFromIp(links: unknown[]): InterfaceSpec[] {
  const out: InterfaceSpec[] = [];
  const masters = new Map<string, string[]>();
  const hairpinMasters = new Set<string>();
  for (const raw of links) {
    if (!raw || typeof raw !== 'object') continue;
    const l = raw as Json;
    const name = str(l.ifname);
    if (!name) continue;
    const linkinfo = (l.linkinfo ?? {}) as Json;
    const linkType = str(l.link_type);
    const kind = linkType === 'loopback' ? 'loopback' : (str(linkinfo.info_kind) ?? linkType);
    const addresses: string[] = [];
    for (const a of Array.isArray(l.addr_info) ? (l.addr_info as Json[]) : []) {
      const local = str(a?.local);
      const prefix = num(a?.prefixlen);
      if (local && prefix !== undefined) addresses.push(`${local}/${prefix}`);
    }
    const spec: InterfaceSpec = { name, addresses };
    if (kind) spec.kind = kind;
    const mac = str(l.address);
    if (mac && linkType === 'ether') spec.mac = mac;
    out.push(spec);
    const master = str(l.master);
    if (master) masters.set(master, [...(masters.get(master) ?? []), name]);
    const slave = (linkinfo.info_slave_data ?? {}) as Json;
    if (master && linkinfo.info_slave_kind === 'bridge' && slave.hairpin === true) hairpinMasters.add(master);
  }
  for (const i of out) {
    const ports = masters.get(i.name);
    if (ports && i.kind === 'bridge') i.ports = ports;
    if (i.kind === 'bridge' && hairpinMasters.has(i.name)) i.hairpin = true;
  }
  return out;
}

/** `ip -j route show table all` → routes (host routes get /32 or /128; main table left implicit). */
export function routesFromIp(routes: unknown[], family: Family, notes: string[]): RouteSpec[] {
  const out: RouteSpec[] = [];
  let multipath = 0;
  for (const raw of routes) {
    if (!raw || typeof raw !== 'object') continue;
    const r = raw as Json;
    let dst = str(r.dst);
    if (!dst) continue;
    if (dst !== 'default' && !dst.includes('/')) dst = `${dst}/${family === 'ipv4' ? 32 : 128}`;
    const type = str(r.type) ?? 'unicast';
    let dev = str(r.dev);
    let via = str(r.gateway);
    if (!dev && Array.isArray(r.nexthops) && r.nexthops.length > 0) {
      // Multipath: the engine takes one path; record the first and say so.
      const nh = r.nexthops[0] as Json;
      dev = str(nh.dev);
      via = str(nh.gateway);
      multipath++;
    }
    // blackhole / unreachable / prohibit routes have no device; the kernel attaches them to lo.
    if (!dev) dev = 'lo';
    const spec: RouteSpec = { dst, dev };
    if (via) spec.via = via;
    const src = str(r.prefsrc);
    if (src) spec.src = src;
    const table = str(r.table) ?? (typeof r.table === 'number' ? String(r.table) : undefined);
    if (table && table !== 'main') spec.table = table;
    if (type !== 'unicast') spec.type = type;
    out.push(spec);
  }
  if (multipath > 0) notes.push(`${multipath} multipath ${family} route(s): the first next hop of each is recorded`);
  return out;
}

/** `ip -j rule show` → `ipv4 0: from all lookup local` lines. */
export function policyRulesFromIp(rules: unknown[], family: Family): string[] {
  const out: string[] = [];
  for (const raw of rules) {
    if (!raw || typeof raw !== 'object') continue;
    const r = raw as Json;
    const parts: string[] = [];
    if (r.not === true) parts.push('not');
    const src = str(r.src) ?? 'all';
    parts.push(`from ${src}${num(r.srclen) !== undefined ? `/${r.srclen}` : ''}`);
    if (str(r.dst)) parts.push(`to ${r.dst}${num(r.dstlen) !== undefined ? `/${r.dstlen}` : ''}`);
    if (r.fwmark !== undefined) parts.push(`fwmark ${String(r.fwmark)}${r.fwmask !== undefined ? `/${String(r.fwmask)}` : ''}`);
    if (str(r.iif)) parts.push(`iif ${r.iif}`);
    if (str(r.oif)) parts.push(`oif ${r.oif}`);
    const table = str(r.table) ?? (typeof r.table === 'number' ? String(r.table) : undefined);
    if (table) parts.push(`lookup ${table}`);
    else if (str(r.action)) parts.push(String(r.action));
    out.push(`${family} ${num(r.priority) ?? 0}: ${parts.join(' ')}`);
  }
  return out;
}

/**
 * nftables tables that iptables-nft did not create (firewalld's `inet firewalld`, kube-proxy's
 * nftables mode `ip kube-proxy`, …): they see packets too, but iptables-save cannot show them.
 * A note names them; an absent `nft` binary says nothing.
 */
async function foreignNftTables(run: Runner, timeoutMs: number, notes: string[]): Promise<void> {
  let out: string;
  try {
    out = (await read(run, 'nft', ['list', 'tables'], timeoutMs)).stdout;
  } catch (err) {
    if (err instanceof RunFailure && err.kind !== 'missing') notes.push(`${err.message}: other nftables tables unknown`);
    return;
  }
  const foreign = foreignTables(out);
  if (foreign.length > 0) {
    notes.push(
      `nftables tables not made by iptables also see packets and are not shown here: ${foreign.join(', ')} (read them with nft list ruleset)`,
    );
  }
}

/** Tables of `nft list tables` output other than iptables-nft's own (ip/ip6 raw, mangle, nat, filter, security). */
export function foreignTables(listing: string): string[] {
  const own = new Set(['raw', 'mangle', 'nat', 'filter', 'security']);
  const out: string[] = [];
  for (const line of listing.split('\n')) {
    const m = /^table\s+(\S+)\s+(\S+)/.exec(line.trim());
    if (!m) continue;
    const [, family, name] = m;
    if ((family === 'ip' || family === 'ip6') && own.has(name)) continue;
    out.push(`${family} ${name}`);
  }
  return out;
}

/** `ipset save` → sets with members; absent binary is normal (no note), other failures are noted. */
async function readIpsets(run: Runner, timeoutMs: number, notes: string[]): Promise<IpsetSpec[] | undefined> {
  try {
    const r = await read(run, 'ipset', ['save'], timeoutMs);
    return ipsetsFromSave(r.stdout);
  } catch (err) {
    if (err instanceof RunFailure && err.kind !== 'missing') notes.push(`${err.message}: ipset contents unknown (-m set matches stay unknown)`);
    return undefined;
  }
}

/** Parse `ipset save` output (`create NAME TYPE …`, `add NAME MEMBER …`). */
export function ipsetsFromSave(text: string): IpsetSpec[] {
  const sets = new Map<string, IpsetSpec>();
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w[0] === 'create' && w.length >= 3) sets.set(w[1], { name: w[1], type: w[2], members: [] });
    else if (w[0] === 'add' && w.length >= 3) sets.get(w[1])?.members.push(w[2]);
  }
  return [...sets.values()];
}
