/**
 * `iptscope [SOURCE]` and `iptscope live`: the full-screen explorer.
 *
 * Loads the source before the screen opens (with a progress line on stderr, so a 434k-line dump
 * never shows a frozen screen), then starts the blessed screen on the store + controller, and
 * wires the SOURCES effects: file watching (reload keeping the view, changed rules highlighted,
 * "file is gone", last good ruleset with diagnostics) and, for the live host, counter polling
 * (packets/s and bytes/s per rule and chain, sparklines, sort by rate).
 *
 * With no SOURCE: the live host when `iptables-save` is present and readable AND holds rules;
 * otherwise the built-in demo scenario with a banner saying why (a host with no rules at all has
 * nothing to explore, so the demo is more useful; `iptscope live` still opens the empty host).
 */
import { openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ReadStream } from 'node:tty';
import type { LoadPayload } from '../app/actions.js';
import type { Engine } from '../app/controller.js';
import { createController } from '../app/controller.js';
import { grouped } from '../app/human.js';
import type { ChainLive, SourceInfo } from '../app/state.js';
import { createStore } from '../app/store.js';
import type { CounterSample, SourceCallbacks, SourceChanges } from '../app/effects/types.js';
import type { Family, Ruleset } from '../core/model.js';
import type { HostContext } from '../core/netfilter/types.js';
import type { DiffLine } from '../app/state.js';
import type { ScenarioPacket } from '../core/scenario.js';
import type { LoadedSource } from '../sources/types.js';
import { CliError } from './errors.js';
import type { CliIO } from './io.js';

const HELP = `usage: iptscope [SOURCE] [--family ipv4|ipv6] [--interval SECONDS] [--no-watch] [--demo]
       iptscope live [--interval SECONDS]

Open the explorer. SOURCE: an iptables-save / ip6tables-save dump, - for stdin, live, a capture
bundle, a directory of dumps, or a scenario folder (its packets become presets).
With no SOURCE: the live host when iptables-save is present, permitted and holds rules;
otherwise the built-in demo (a kube-proxy node), with a banner saying so.

  --family F       which ruleset of a two-family source to show (default: ipv4 when it has rules)
  --interval S     live counter polling interval in seconds (default 2)
  --no-watch       do not watch a file source for changes
  --demo           open the demo scenario

Press ? in the explorer for every key.
`;

interface TuiArgs {
  source?: string;
  family?: Family;
  intervalS: number;
  watch: boolean;
  demo: boolean;
}

function parseArgs(args: string[]): TuiArgs | 'help' {
  const out: TuiArgs = { intervalS: 2, watch: true, demo: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') return 'help';
    else if (a === '--no-watch') out.watch = false;
    else if (a === '--demo') out.demo = true;
    else if (a === '--interval') {
      const v = Number(args[++i]);
      if (!(v > 0)) throw new CliError(`--interval needs a positive number of seconds (got ${JSON.stringify(args[i] ?? '')})`, 2);
      out.intervalS = v;
    } else if (a === '--family') {
      const v = args[++i];
      if (v !== 'ipv4' && v !== 'ipv6') throw new CliError(`--family must be ipv4 or ipv6 (got ${JSON.stringify(v ?? '')})`, 2);
      out.family = v;
    } else if (a.startsWith('-') && a !== '-') throw new CliError(`unknown option ${a} (see iptscope --help)`, 2);
    else if (out.source === undefined) out.source = a;
    else throw new CliError(`one SOURCE only (got ${JSON.stringify(out.source)} and ${JSON.stringify(a)})`, 2);
  }
  return out;
}

/** The engine (src/core/netfilter) as the controller uses it. */
export async function loadEngine(): Promise<Engine | null> {
  const mod = await import('../core/netfilter/index.js');
  return { trace: mod.trace, resolveContext: mod.resolveContext, validatePacket: mod.validatePacket };
}

/** Which family to show: the asked one, else ipv4 when it has rules, else ipv6 when present. */
export function pickFamily(source: LoadedSource, want?: Family): Family {
  if (want) {
    if (!source.rulesets[want]) throw new CliError(`${source.label}: no ${want} ruleset in this source`, 2);
    return want;
  }
  const count = (f: Family) => {
    let n = 0;
    for (const t of source.rulesets[f]?.ruleset.tables.values() ?? []) for (const c of t.chains.values()) n += c.rules.length;
    return n;
  };
  if (source.rulesets.ipv4 && (count('ipv4') > 0 || !source.rulesets.ipv6 || count('ipv6') === 0)) return 'ipv4';
  return source.rulesets.ipv6 ? 'ipv6' : 'ipv4';
}

/** A LoadedSource as the state's load payload. */
export function toPayload(
  source: LoadedSource,
  opts: { family?: Family; demo?: boolean; watching?: boolean; presets?: ScenarioPacket[]; notes?: string[]; changes?: SourceChanges } = {},
): LoadPayload {
  const family = pickFamily(source, opts.family);
  const parse = source.rulesets[family]!;
  const info: SourceInfo = {
    kind: source.kind,
    label: source.label,
    path: source.path,
    capturedAt: source.capturedAt,
    notes: [...(opts.notes ?? []), ...source.notes],
    demo: opts.demo ?? false,
    watching: opts.watching ?? false,
    families: (['ipv4', 'ipv6'] as Family[]).filter((f) => source.rulesets[f] !== undefined),
    entries: source.entries?.map((e) => ({ name: e.name, path: e.path })),
  };
  const payload: LoadPayload = { info, family, parse, text: source.texts[family] ?? '', context: source.context ?? {}, presets: opts.presets ?? [], at: Date.now() };
  // The effect's change summary for the family shown (the reducer does not compare again).
  if (opts.changes) payload.changes = opts.changes.rules[family] ?? [];
  return payload;
}

function totalRules(source: LoadedSource): number {
  let n = 0;
  for (const r of Object.values(source.rulesets)) for (const t of r?.ruleset.tables.values() ?? []) for (const c of t.chains.values()) n += c.rules.length;
  return n;
}

/** The demo scenario as a payload (its packets as presets), with a banner note saying why. */
export async function loadDemo(why: string): Promise<LoadPayload> {
  const { loadScenario, demoScenarioDir } = await import('../sources/scenario.js');
  const loaded = await loadScenario(demoScenarioDir());
  return scenarioPayload(loaded, { demo: true, notes: [`DEMO — ${why}`] });
}

function scenarioPayload(
  loaded: Awaited<ReturnType<typeof import('../sources/scenario.js').loadScenario>>,
  opts: { demo: boolean; notes?: string[] },
): LoadPayload {
  const info: SourceInfo = {
    kind: 'demo',
    label: opts.demo ? `demo: ${loaded.scenario.name} (a kube-proxy node)` : `scenario ${loaded.scenario.name}`,
    path: loaded.rulesPath,
    notes: opts.notes ?? [],
    demo: opts.demo,
    watching: false,
  };
  return {
    info,
    family: loaded.scenario.family,
    parse: loaded.parse,
    text: loaded.rulesText,
    context: loaded.scenario.context,
    presets: loaded.scenario.packets,
    at: Date.now(),
  };
}

/**
 * The default source: the live host when readable and not empty, else the demo. Returns the
 * payload and, for live, the LoadedSource (to poll counters against).
 */
async function defaultSource(io: CliIO, progress: (t: string) => void): Promise<{ payload: LoadPayload; live?: LoadedSource }> {
  const { resolveBinary, loadLive } = await import('../sources/live.js');
  const bin = await resolveBinary('iptables-save', { env: io.env });
  if (!bin) return { payload: await loadDemo('iptables-save is not installed here, so this is the built-in kube-proxy demo, not your host') };
  progress('reading the live host (iptables-save)…');
  try {
    const live = await loadLive({ env: io.env, timeoutMs: 10_000 });
    if (totalRules(live) === 0) {
      return { payload: await loadDemo('this host has no iptables rules, so this is the built-in kube-proxy demo; `iptscope live` opens the empty host') };
    }
    return { payload: toPayload(live), live };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { payload: await loadDemo(`the live host could not be read (${msg}); this is the built-in kube-proxy demo`) };
  }
}

/** Route SOURCES' effect callbacks into the store (exported for tests). */
export function sourceCallbacks(
  store: ReturnType<typeof createStore>,
  controller: ReturnType<typeof createController>,
  opts: { family: () => Family; watching: boolean; demo: boolean; onSource?: (s: LoadedSource) => void },
): SourceCallbacks {
  return {
    onLoaded(source: LoadedSource, changes?: SourceChanges) {
      opts.onSource?.(source);
      try {
        controller.loaded(
          toPayload(source, { family: source.rulesets[opts.family()] ? opts.family() : undefined, watching: opts.watching, demo: opts.demo, presets: store.getState().presets, changes }),
        );
      } catch (err) {
        store.dispatch({ type: 'reloadFailed', message: err instanceof Error ? err.message : String(err), diagnostics: [] });
      }
    },
    onError(message: string, source?: LoadedSource) {
      const r = source?.rulesets[opts.family()];
      store.dispatch({ type: 'reloadFailed', message, diagnostics: r?.diagnostics ?? [], text: source?.texts[opts.family()] });
    },
    onGone(path: string) {
      store.dispatch({ type: 'gone', path });
    },
    onCounters(sample: CounterSample) {
      const fam = opts.family();
      // Per chain, as the sample holds them (no entry per rule: a 320k-rule host polls cheaply).
      const rules = new Map<string, ChainLive>();
      const chains = new Map<string, { pps: number; bps: number }>();
      const policies = new Map<string, { pps: number; bps: number }>();
      for (const c of sample.chainRules.values()) {
        if (c.family !== fam) continue;
        rules.set(`${c.table}:${c.chain}`, { packets: c.packets, bytes: c.bytes, pps: c.pps, bps: c.bps });
      }
      for (const c of sample.chains.values()) {
        if (c.family !== fam) continue;
        chains.set(`${c.table}:${c.chain}`, { pps: c.pps ?? 0, bps: c.bps ?? 0 });
        if (c.policyPps !== null) policies.set(`${c.table}:${c.chain}`, { pps: c.policyPps, bps: c.policyBps ?? 0 });
      }
      const at = Date.parse(sample.at);
      store.dispatch({ type: 'countersSampled', at: Number.isFinite(at) ? at : Date.now(), rules, chains, policies });
    },
  };
}

/** `iptscope [SOURCE]` / `iptscope live`: load, open the screen, wire the source effects; resolves when the user quits. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const isLiveCmd = argv[0] === 'live';
  const parsed = parseArgs(isLiveCmd ? argv.slice(1) : argv);
  if (parsed === 'help') {
    io.out(HELP);
    return 0;
  }
  if (isLiveCmd) parsed.source = 'live';
  // `iptables-save | iptscope -`: the dump comes on stdin, the keys from the controlling terminal.
  let keysIn: ReadStream | undefined;
  if (parsed.source === '-' && io.isTTY) {
    try {
      keysIn = new ReadStream(openSync('/dev/tty', 'r'));
    } catch {
      throw new CliError('the dump is on stdin but there is no terminal to read keys from (/dev/tty); save the dump to a file and open that', 2);
    }
  }
  if (!io.isTTY || (!process.stdin.isTTY && !keysIn)) {
    throw new CliError('the explorer needs a terminal (stdin and stdout); for text output use `iptscope show SOURCE` or `iptscope trace`', 2);
  }

  const started = performance.now();
  // Load the engine, the diff and the screen modules while the source is being read.
  const enginePromise = loadEngine();
  const diffPromise = loadDiff();
  const screenPromise = import('../ui/screen.js');
  const progress = (t: string) => io.err(`\r\x1b[Kiptscope: ${t}`);
  let payload: LoadPayload;
  let live: LoadedSource | undefined;
  /** The source on screen (for switching family or directory entry). */
  let current: LoadedSource | undefined;
  let watchPath: string | undefined;
  if (parsed.demo) payload = await loadDemo('opened with --demo');
  else if (parsed.source === undefined) {
    ({ payload, live } = await defaultSource(io, progress));
    current = live;
  }
  else {
    const { isScenarioDir, loadScenario } = await import('../sources/scenario.js');
    if (await isScenarioDir(parsed.source)) {
      progress(`loading scenario ${parsed.source}…`);
      payload = scenarioPayload(await loadScenario(parsed.source), { demo: false });
    } else {
      progress(parsed.source === 'live' ? 'reading the live host…' : `reading and parsing ${parsed.source}…`);
      const { openSource } = await import('../sources/index.js');
      const source = await openSource(parsed.source, io);
      current = source;
      if (source.kind === 'live') live = source;
      if ((source.kind === 'file' || source.kind === 'bundle' || source.kind === 'directory') && parsed.watch) watchPath = source.directory ?? source.path;
      payload = toPayload(source, { family: parsed.family, watching: watchPath !== undefined });
    }
  }
  const n = payload.parse.ruleset.tables.size;
  progress(`${grouped(countRules(payload))} rules in ${n} table${n === 1 ? '' : 's'} loaded in ${Math.round(performance.now() - started)} ms; opening the explorer…`);

  const engine = await enginePromise;
  const store = createStore();
  const { diffFn } = await diffPromise;
  let selectEntry: ((path: string) => Promise<void>) | undefined;
  const controller = createController(store, engine, {
    diff: diffFn,
    // blessed flushes what a render wrote in a later setImmediate: start slow work only once the
    // screen has it (the UI is idle meanwhile, so 30 ms is plenty).
    defer: (work) => void setTimeout(work, 30),
    switchFamily: (family) => {
      if (!current) return;
      try {
        store.dispatch({ type: 'loaded', payload: toPayload(current, { family, watching: watchPath !== undefined, presets: store.getState().presets }) });
      } catch (err) {
        store.dispatch({ type: 'flash', flash: { text: err instanceof Error ? err.message : String(err), level: 'error' } });
      }
    },
    selectEntry: (path) => {
      const run = selectEntry
        ? selectEntry(path)
        : import('../sources/directory.js').then(async ({ loadDirectoryEntry }) => {
            if (!current) return;
            const next = await loadDirectoryEntry(current, path);
            current = next;
            controller.loaded(toPayload(next, { watching: false }));
          });
      run.catch((err: unknown) => store.dispatch({ type: 'reloadFailed', message: err instanceof Error ? err.message : String(err), diagnostics: [] }));
    },
  });
  store.dispatch({ type: 'loaded', payload });
  const banner = payload.info.notes[0];
  if (banner) store.dispatch({ type: 'flash', flash: { text: banner + (payload.presets.length > 0 ? ' · P: packets to trace' : ''), level: 'info' } });
  if (!engine) store.dispatch({ type: 'flash', flash: { text: 'the trace engine is not in this build: browsing only', level: 'error' } });
  io.err('\r\x1b[K');

  const { startScreen } = await screenPromise;
  const ui = startScreen(store, controller, keysIn ? { input: keysIn } : {});
  const family = () => store.getState().family;
  const stops: (() => unknown)[] = [];
  const restore = () => ui.destroy();
  const onSignal = () => restore();
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    if (watchPath) {
      const { watchSource } = await import('../sources/watch.js');
      const w = watchSource(watchPath, sourceCallbacks(store, controller, { family, watching: true, demo: false, onSource: (s) => (current = s) }), { initial: current });
      selectEntry = (path) => w.select(path);
      stops.push(() => w.close());
    }
    if (live) {
      const { pollCounters } = await import('../app/effects/counters.js');
      const p = pollCounters(parsed.intervalS * 1000, sourceCallbacks(store, controller, { family, watching: false, demo: false, onSource: (s) => (current = s) }), { initial: live });
      stops.push(() => p.stop());
    }
  } catch (err) {
    store.dispatch({ type: 'flash', flash: { text: `watching failed: ${err instanceof Error ? err.message : String(err)}`, level: 'error' } });
  }
  // An exception escaping a timer or callback must not leave the terminal raw.
  const onCrash = (err: unknown) => {
    ui.destroy();
    io.err(`iptscope: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (io.env.IPTSCOPE_DEBUG && err instanceof Error) io.err(`${err.stack ?? ''}\n`);
    process.exit(70);
  };
  process.on('uncaughtException', onCrash);
  await ui.done;
  process.off('uncaughtException', onCrash);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  await Promise.all(stops.map((s) => s()));
  keysIn?.destroy();
  if (ui.error) throw ui.error;
  return 0;
}

function countRules(p: LoadPayload): number {
  let n = 0;
  for (const t of p.parse.ruleset.tables.values()) for (const c of t.chains.values()) n += c.rules.length;
  return n;
}

/** Probe budget of the explorer's diff view (the CLI's default is larger: see README, diff). */
const TUI_DIFF_MAX_PROBES = 200;

type DiffExtra = Omit<import('../app/state.js').DiffState, 'before' | 'after' | 'cursor' | 'scroll'>;

/**
 * The DIFF area's structural and behavioural diff for the diff view: the unified text of both,
 * with each packet that behaves differently pointing at its two traces.
 */
async function loadDiff(): Promise<{ diffFn: (a: Ruleset, b: Ruleset, ctx: Partial<HostContext>) => DiffExtra }> {
  const { diffStructural, diffBehaviour, formatStructuralText, formatBehaviourText, GENERIC_NODE_CONTEXT, GENERIC_NODE_TEXT } = await import('../core/diff/index.js');
  const { resolveContext } = await import('../core/netfilter/index.js');
  return {
    diffFn: (a, b, partial) => {
      const structural = diffStructural(a, b);
      const lines: DiffLine[] = formatStructuralText(structural, { color: false }).split('\n').filter((l) => l !== '').map((text) => ({ text }));
      // A bare dump has no host: probe on the DIFF area's generic node, and say so (like `iptscope diff`).
      const generic = Object.keys(partial).length === 0;
      const ctx = resolveContext(generic ? GENERIC_NODE_CONTEXT : partial).context;
      if (generic) lines.push({ text: `# ${GENERIC_NODE_TEXT}` });
      // Interactive: a smaller probe budget than the CLI's (probes named by changed rules come
      // first, so the change is still covered; the view says when it bounded).
      const behaviour = diffBehaviour(a, b, ctx, ctx, [], { structural, maxProbes: TUI_DIFF_MAX_PROBES });
      const probes = behaviour.changes.map((c) => ({ label: c.probe.label, oldTrace: c.oldTrace, newTrace: c.newTrace }));
      let n = -1;
      for (const text of formatBehaviourText(behaviour, { color: false }).split('\n')) {
        if (text === '') continue;
        if (text.startsWith('! ')) n++;
        lines.push({ text, probe: text.startsWith('! ') && n < probes.length ? n : undefined });
      }
      return { structural, behaviour, lines, probes };
    },
  };
}
