/**
 * Option arity per module/target, combining the extension registry (asked first) with the parser's
 * own table of known modules (src/core/parse/known.ts). Resolves abbreviations the way getopt_long
 * does (a unique prefix of a long option names it) and spelling aliases (`source-port` → `sport`).
 */
import { findMatch, findTarget, targetNames } from '../extensions/index.js';
import type { ExtensionBase } from '../extensions/types.js';
import { KNOWN_MATCHES, KNOWN_TARGETS, type OptionSpec } from './known.js';

/** How many argument words an option takes: 0, 1, 2, or 'greedy' (unknown module: words up to the next option). */
export type Arity = 0 | 1 | 2 | 'greedy';

/** A module's options as the parser uses them. `null` spec: a module nobody knows (generic parsing). */
export interface ResolvedSpec {
  /** The module/target name (one shared string for every rule using it). */
  name: string;
  spec: OptionSpec;
  /** Option name → the same name as a shared string (so rules do not each keep a copy). */
  canon: ReadonlyMap<string, string>;
  /** `--name` and `--alias` as written → canonical name (no slicing on the hot path). */
  byWord: ReadonlyMap<string, string>;
  /** Short option aliases from the registry (`y` → `syn`). */
  short: Readonly<Record<string, string>>;
}

function canonMap(names: Iterable<string>): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of names) m.set(n, n);
  return m;
}

function wordMap(names: Iterable<string>, aliases: Readonly<Record<string, string>>): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of names) m.set('--' + n, n);
  // Aliases win: iptables-save prints the canonical spelling.
  for (const [a, n] of Object.entries(aliases)) m.set('--' + a, n);
  return m;
}

function merge(name: string, ext: ExtensionBase<unknown> | undefined, known: OptionSpec | undefined): ResolvedSpec | null {
  if (!ext && !known) return null;
  if (!ext) return { name, spec: known!, canon: canonMap(known!.names), byWord: wordMap(known!.names, known!.aliases), short: {} };
  const extNames = new Set(ext.optionNames);
  const flags = new Set(ext.flagOptions ?? []);
  const two = new Set(ext.twoArgOptions ?? []);
  for (const f of ext.flagOptions ?? []) extNames.add(f);
  for (const t of ext.twoArgOptions ?? []) extNames.add(t);
  const names = new Set(extNames);
  if (known) {
    for (const n of known.names) {
      if (extNames.has(n)) continue;
      names.add(n);
      if (known.flags.has(n)) flags.add(n);
      if (known.two.has(n)) two.add(n);
    }
  }
  return {
    name,
    spec: { names, flags, two, aliases: known?.aliases ?? {} },
    canon: canonMap(names),
    byWord: wordMap(names, known?.aliases ?? {}),
    short: ext.shortAliases ?? {},
  };
}

/** Caches registry lookups for one parse (the registry does not change during a parse). */
export class SpecCache {
  private readonly matches = new Map<string, ResolvedSpec | null>();
  private readonly targets = new Map<string, ResolvedSpec | null>();
  /** Every target name with an option table (registry and the parser's own table). */
  private readonly targetSet: ReadonlySet<string> = new Set([...targetNames(), ...Object.keys(KNOWN_TARGETS)]);
  /** Length of the longest name in targetSet. */
  readonly maxTargetName = Math.max(0, ...[...this.targetSet].map((n) => n.length));

  match(name: string): ResolvedSpec | null {
    let s = this.matches.get(name);
    if (s === undefined) {
      s = merge(name, findMatch(name), Object.hasOwn(KNOWN_MATCHES, name) ? KNOWN_MATCHES[name] : undefined);
      this.matches.set(name, s);
    }
    return s;
  }

  /**
   * True when `name` is a target iptscope has an option table for (`target(name) !== null`),
   * without remembering the names that are not (chain names: a big dump has 100k of them).
   */
  hasTarget(name: string): boolean {
    return this.targetSet.has(name);
  }

  target(name: string): ResolvedSpec | null {
    let s = this.targets.get(name);
    if (s === undefined) {
      s = merge(name, findTarget(name), Object.hasOwn(KNOWN_TARGETS, name) ? KNOWN_TARGETS[name] : undefined);
      this.targets.set(name, s);
    }
    return s;
  }
}

/**
 * The canonical long name for `name` in this spec: exact name, alias, or a unique prefix
 * (getopt_long accepts `--to-port` for `--to-ports`). `null` when the module does not have it.
 */
export function resolveOption(r: ResolvedSpec, name: string, short: boolean): string | null {
  if (short) return Object.hasOwn(r.short, name) ? r.short[name] : null;
  const s = r.spec;
  // Spelling aliases first: iptables-save prints `--dport`, whichever spelling the input used.
  if (Object.hasOwn(s.aliases, name)) return s.aliases[name];
  const exact = r.canon.get(name);
  if (exact !== undefined) return exact;
  let found: string | null = null;
  for (const n of s.names) {
    if (n.startsWith(name)) {
      if (found !== null) return null; // ambiguous
      found = n;
    }
  }
  if (found === null) {
    for (const [alias, n] of Object.entries(s.aliases)) {
      if (alias.startsWith(name)) {
        if (found !== null && found !== n) return null;
        found = n;
      }
    }
  }
  return found;
}

/** Arity of a canonical option name in a spec. */
export function arityOf(r: ResolvedSpec, name: string): Arity {
  if (r.spec.flags.has(name)) return 0;
  if (r.spec.two.has(name)) return 2;
  return 1;
}
