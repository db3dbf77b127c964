/**
 * `iptscope diff OLD NEW` — compare two rulesets: a unified diff grouped by table and chain, then
 * the probe packets whose fate differs. OLD and NEW are any SOURCE (file, `-`, bundle, live…).
 * Exit status like diff(1): 0 same, 1 different, 2 trouble.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Family, ParseResult, Ruleset } from '../core/model.js';
import type { HostContext, PacketSpec } from '../core/netfilter/types.js';
// The engine (behaviour) is loaded only when probes are traced: --no-behaviour stays light.
import { diffStructural } from '../core/diff/structural.js';
import { formatBehaviourText, formatStructuralText } from '../core/diff/text.js';
import { GENERIC_NODE_CONTEXT, GENERIC_NODE_TEXT } from '../core/diff/probes.js';
import type { BehaviourDiff, StructuralDiff } from '../core/diff/types.js';
import type { UserPacket } from '../core/diff/probes.js';
import { openSource } from '../sources/index.js';
import type { LoadedSource } from '../sources/types.js';
import { CliError } from './errors.js';
import type { CliIO } from './io.js';

/** Default bound on derived probes (same as the core's DEFAULT_MAX_PROBES). */
const DEFAULT_MAX_PROBES = 2000;
/** Version of the `diff --json` document (README); bumped on incompatible changes. */
export const JSON_SCHEMA_VERSION = 1;
/** Differing packets whose full traces go into the JSON by default (a trace can be large). */
const DEFAULT_TRACES = 10;

const HELP = `usage: iptscope diff OLD NEW [options]

Compare two rulesets (each a dump file, - for stdin, a capture bundle, or live): what changed in
the rules, per table and chain (rules matched by content: added, removed, moved, changed; chains
added, removed, renamed; policies), and which probe packets now meet a different fate.

options:
  --json               machine-readable output (schema in the README)
  --context FILE       host context JSON (interfaces, routes, sysctls) for both sides
  --packet SPEC        also trace this packet (repeatable): 'tcp 10.244.0.5:40000 10.96.0.10:80 in=cni0'
                       (PROTO SRC[:SPORT] DST[:DPORT] [in=IF] [out=IF] [local] [mark=N] [state=S]) or a JSON PacketSpec
  --packets FILE       also trace these packets: a JSON array of PacketSpec, a scenario.json or
                       a scenario folder
  --max-probes N       bound on derived probe packets (default ${DEFAULT_MAX_PROBES})
  --traces N|all       JSON: full traces of the first N differing packets (default ${DEFAULT_TRACES})
  --no-behaviour       structural diff only
  -U, --unified N      context rules around changes (default 3)
  --counters, --no-counters
                       list counter deltas (both dumps with counters), or not; default: only
                       when the rules are identical (always in --json)
  --color, --no-color  force colour on or off (default: on a terminal, unless NO_COLOR is set)

exit status: 0 same rules (counters may differ), 1 different, 2 error.
`;

interface Options {
  sources: string[];
  json: boolean;
  contextFile?: string;
  packets: PacketSpec[];
  packetFiles: string[];
  maxProbes: number;
  traces: number;
  behaviour: boolean;
  unified: number;
  counters?: boolean;
  color?: boolean;
}

function intArg(flag: string, v: string | undefined, min: number): number {
  if (v === undefined) throw new CliError(`diff: ${flag} needs a value`);
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new CliError(`diff: ${flag} ${v}: expected an integer ≥ ${min}`);
  return n;
}

function parseArgs(args: string[]): Options | 'help' {
  const o: Options = { sources: [], json: false, packets: [], packetFiles: [], maxProbes: DEFAULT_MAX_PROBES, traces: DEFAULT_TRACES, behaviour: true, unified: 3 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = () => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new CliError(`diff: ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--json':
        o.json = true;
        break;
      case '--context':
        o.contextFile = value();
        break;
      case '--packet':
        o.packets.push(parsePacketArg(value()));
        break;
      case '--packets':
        o.packetFiles.push(value());
        break;
      case '--max-probes':
        o.maxProbes = intArg(flag, value(), 0);
        break;
      case '--traces': {
        const v = value();
        o.traces = v === 'all' ? Number.POSITIVE_INFINITY : intArg(flag, v, 0);
        break;
      }
      case '--no-behaviour':
      case '--no-behavior':
        o.behaviour = false;
        break;
      case '-U':
      case '--unified':
        o.unified = intArg(flag, value(), 0);
        break;
      case '--counters':
        o.counters = true;
        break;
      case '--no-counters':
        o.counters = false;
        break;
      case '--color':
      case '--colour':
        o.color = true;
        break;
      case '--no-color':
      case '--no-colour':
        o.color = false;
        break;
      default:
        if (a.startsWith('-') && a !== '-') throw new CliError(`diff: unknown option ${a} (see iptscope diff --help)`);
        o.sources.push(a);
    }
  }
  if (o.sources.length !== 2) throw new CliError(`diff: expected two sources OLD and NEW, got ${o.sources.length} (see iptscope diff --help)`);
  if (o.sources[0] === '-' && o.sources[1] === '-') throw new CliError('diff: only one side can be - (stdin)');
  return o;
}

const CT_STATES = new Set(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED']);

/** `ADDR[:PORT]` or `[V6]:PORT` or a bare IPv6 address. */
function hostPort(text: string, what: string, spec: string): { addr: string; port?: number } {
  let addr = text;
  let port: string | undefined;
  const m = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (m) {
    addr = m[1];
    port = m[2];
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [addr, port] = text.split(':');
  }
  if (port === undefined) return { addr };
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`diff: --packet '${spec}': ${what} port ${port} is not 0-65535`);
  return { addr, port: n };
}

/** A `--packet` value: a JSON PacketSpec or the compact `PROTO SRC[:SPORT] DST[:DPORT] [k=v…]`. */
export function parsePacketArg(spec: string): PacketSpec {
  const t = spec.trim();
  if (t.startsWith('{')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new CliError(`diff: --packet '${spec}': invalid JSON (${(e as Error).message})`);
    }
    return checkPacketObject(v, `--packet '${spec}'`);
  }
  const words = t.split(/\s+/).filter((w) => w !== '>' && w !== '->' && w !== '→');
  if (words.length < 3) throw new CliError(`diff: --packet '${spec}': expected PROTO SRC[:SPORT] DST[:DPORT] [in=IF] [out=IF] [local] [mark=N] [state=S]`);
  const [proto, srcW, dstW, ...rest] = words;
  const src = hostPort(srcW, 'source', spec);
  const dst = hostPort(dstW, 'destination', spec);
  const p: PacketSpec = { proto: proto.toLowerCase(), src: src.addr, dst: dst.addr };
  if (src.port !== undefined) p.sport = src.port;
  if (dst.port !== undefined) p.dport = dst.port;
  for (const w of rest) {
    const [k, v] = w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
    if (k === 'local' && v === undefined) p.local = true;
    else if (k === 'reply' && v === undefined) p.reply = true;
    else if ((k === 'in' || k === 'iif') && v) p.iif = v;
    else if ((k === 'out' || k === 'oif') && v) p.oif = v;
    else if (k === 'mark' && v) {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new CliError(`diff: --packet '${spec}': mark ${v} is not a 32-bit number`);
      p.mark = n;
    } else if (k === 'state' && v && CT_STATES.has(v.toUpperCase())) p.ctState = v.toUpperCase() as PacketSpec['ctState'];
    else throw new CliError(`diff: --packet '${spec}': unknown word ${w}`);
  }
  return p;
}

function checkPacketObject(v: unknown, where: string): PacketSpec {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CliError(`diff: ${where}: a packet must be a JSON object`);
  const o = v as Record<string, unknown>;
  for (const k of ['proto', 'src', 'dst']) {
    if (typeof o[k] !== 'string') throw new CliError(`diff: ${where}: packet field "${k}" must be a string`);
  }
  return o as unknown as PacketSpec;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError(`diff: ${what} ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`diff: ${what} ${path}: invalid JSON (${(e as Error).message})`);
  }
}

/** Packets of a `--packets` file: an array of PacketSpec / {packet}, or a scenario's `packets`. */
async function readPackets(arg: string): Promise<UserPacket[]> {
  // A scenario folder stands for its scenario.json.
  let path = arg;
  try {
    if ((await stat(arg)).isDirectory()) path = join(arg, 'scenario.json');
  } catch {
    // missing: reported by readJson with the path
  }
  const v = await readJson(path, '--packets');
  const list = Array.isArray(v) ? v : typeof v === 'object' && v !== null && Array.isArray((v as { packets?: unknown }).packets) ? (v as { packets: unknown[] }).packets : null;
  if (!list) throw new CliError(`diff: --packets ${path}: expected a JSON array of packets or an object with "packets"`);
  return list.map((item, k): UserPacket => {
    const where = `--packets ${path} entry ${k + 1}`;
    if (typeof item === 'object' && item !== null && 'packet' in item) {
      const { name, packet } = item as { name?: unknown; packet: unknown };
      const spec = checkPacketObject(packet, where);
      return typeof name === 'string' && name !== '' ? { name, packet: spec } : spec;
    }
    return checkPacketObject(item, where);
  });
}

/**
 * Errors of a source: none; `usable` (some rules are wrong but tables were read — compared as
 * parsed, with a warning, like `iptscope trace`); or unusable (errors and not one table: not a dump).
 */
function sourceErrors(src: LoadedSource): { first: string; usable: boolean } | undefined {
  for (const pr of Object.values(src.rulesets) as ParseResult[]) {
    const errs = pr.diagnostics.filter((d) => d.severity === 'error');
    if (errs.length > 0) {
      const d = errs[0];
      const more = errs.length > 1 ? ` (and ${errs.length - 1} more error${errs.length > 2 ? 's' : ''})` : '';
      const usable = (Object.values(src.rulesets) as ParseResult[]).some((r) => r.ruleset.tables.size > 0);
      return { first: `${d.file}:${d.line}:${d.column}: ${d.message}${more}`, usable };
    }
  }
  return undefined;
}

/** Family of a user packet by its addresses. */
function packetFamily(u: UserPacket): Family {
  const p = 'packet' in u && typeof u.packet === 'object' ? u.packet : (u as PacketSpec);
  return p.src.includes(':') || p.dst.includes(':') ? 'ipv6' : 'ipv4';
}

function emptyRuleset(family: Family, source: string): Ruleset {
  return { family, tables: new Map(), source };
}

/** Strip what is not JSON (rule objects referenced from trace steps). */
function jsonReplacer(key: string, value: unknown): unknown {
  if (key === 'ruleRef') return undefined;
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const opts = parseArgs(args);
  if (opts === 'help') {
    io.out(HELP);
    return 0;
  }
  const color = opts.color ?? (io.isTTY && !io.env.NO_COLOR);
  const [oldSrc, newSrc] = [await openSource(opts.sources[0], io), await openSource(opts.sources[1], io)];
  const notes: string[] = [...oldSrc.notes.map((n) => `old: ${n}`), ...newSrc.notes.map((n) => `new: ${n}`)];
  for (const s of [oldSrc, newSrc]) {
    const e = sourceErrors(s);
    if (!e) continue;
    if (!e.usable) throw new CliError(`${e.first}; not an iptables-save dump`, 2);
    const warning = `${e.first}; compared as parsed (run iptscope lint)`;
    io.err(`iptscope: warning: ${warning}\n`);
    notes.push(warning);
  }

  // Host contexts: --context for both sides, else each source's own, else a generic node.
  let given: Partial<HostContext> | undefined;
  if (opts.contextFile) {
    // The same reader (and one-line errors) as `iptscope trace --context`.
    const { readContextFile } = await import('./trace.js');
    given = await readContextFile(opts.contextFile);
  }
  const extra: UserPacket[] = [...opts.packets];
  for (const f of opts.packetFiles) extra.push(...(await readPackets(f)));
  const families = (['ipv4', 'ipv6'] as const).filter((f) => oldSrc.rulesets[f] || newSrc.rulesets[f]);
  const results: Array<{ family: Family; structural: StructuralDiff; behaviour: BehaviourDiff | null }> = [];
  const pairs: Array<[Ruleset, Ruleset]> = [];
  for (const family of families) {
    const a = oldSrc.rulesets[family]?.ruleset ?? emptyRuleset(family, oldSrc.label);
    const b = newSrc.rulesets[family]?.ruleset ?? emptyRuleset(family, newSrc.label);
    if (!a.source) a.source = oldSrc.label;
    if (!b.source) b.source = newSrc.label;
    pairs.push([a, b]);
    results.push({ family, structural: diffStructural(a, b, { context: opts.unified }), behaviour: null });
  }

  // Behaviour: only where the rules differ (or the user asked about packets); the engine is
  // loaded only then.
  const wanted = results.filter((r) => !r.structural.identical || extra.some((p) => packetFamily(p) === r.family));
  if (opts.behaviour && wanted.length > 0) {
    const { resolveContext } = await import('../core/netfilter/index.js');
    const { diffBehaviour } = await import('../core/diff/behaviour.js');
    const partA = given ?? oldSrc.context ?? newSrc.context;
    const partB = given ?? newSrc.context ?? oldSrc.context;
    if (!partA && !partB) notes.push(GENERIC_NODE_TEXT);
    const ctxA: HostContext = resolveContext(partA ?? GENERIC_NODE_CONTEXT).context;
    const ctxB: HostContext = resolveContext(partB ?? GENERIC_NODE_CONTEXT).context;
    for (const r of wanted) {
      const [a, b] = pairs[results.indexOf(r)];
      const mine = extra.filter((p) => packetFamily(p) === r.family);
      // Same rules on the same host: derived probes cannot differ, only the user's packets are traced.
      const derive = !r.structural.identical || JSON.stringify(ctxA) !== JSON.stringify(ctxB);
      r.behaviour = diffBehaviour(a, b, ctxA, ctxB, mine, { maxProbes: opts.maxProbes, structural: r.structural, derive });
    }
  }
  const different = results.some((r) => !r.structural.identical || (r.behaviour?.changes.length ?? 0) > 0);

  if (opts.json) {
    // Full traces for the first --traces differing packets; the rest keep their outcome summaries
    // and decisive paths (a trace through a big ruleset runs to megabytes).
    let budget = opts.traces;
    const families = results.map((r) => {
      if (!r.behaviour) return r;
      let omitted = 0;
      const changes = r.behaviour.changes.map((c) => {
        if (budget > 0) {
          budget--;
          return c;
        }
        omitted++;
        const { oldTrace: _o, newTrace: _n, ...rest } = c;
        return rest;
      });
      return { ...r, behaviour: { ...r.behaviour, changes, tracesOmitted: omitted } };
    });
    const doc = {
      schemaVersion: JSON_SCHEMA_VERSION,
      old: { label: oldSrc.label, kind: oldSrc.kind },
      new: { label: newSrc.label, kind: newSrc.kind },
      identical: !different,
      families,
      notes,
    };
    io.out(JSON.stringify(doc, jsonReplacer, 2) + '\n');
    return different ? 1 : 0;
  }
  const text: string[] = [];
  for (const r of results) {
    const part = formatStructuralText(r.structural, { color, counters: opts.counters }) + (r.behaviour ? formatBehaviourText(r.behaviour, { color }) : '');
    if (part.length === 0) continue;
    if (families.length > 1) text.push(`# ${r.family}\n`);
    text.push(part);
  }
  if (text.length > 0) for (const n of notes) text.push(`# ${n}\n`);
  io.out(text.join(''));
  return different ? 1 : 0;
}
