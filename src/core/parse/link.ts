/**
 * The linker: once a whole file is read (and its family known), number rules, resolve each
 * target's kind (verdict, user chain, extension), count references, report jumps to missing chains
 * and family mismatches, and give every known match/target its typed structure through the
 * extension registry.
 *
 * Rules kept as raw text (./plan.ts) are linked from their target name alone; one that needs a
 * diagnostic is parsed on the spot and linked like any other. The same per-rule code, with
 * reporting off, links a lazily parsed rule's body when it is first accessed.
 */
import { findMatch, findTarget } from '../extensions/index.js';
import type { ExtensionBase } from '../extensions/types.js';
import type { Chain, Diagnostic, Family, Match, Rule, Ruleset, Target } from '../model.js';
import { matchColumn, optionColumn, targetColumn } from './locate.js';
import { diag } from './diagnostics.js';
import { FAMILY_ONLY_MATCHES, VERDICTS } from './known.js';
import { JUMP_GOTO, JUMP_HAS_OPTIONS, type ParsedRule } from './parsed-rule.js';
import type { RuleBody, RuleExtra } from './rule.js';
import type { SpecCache } from './specs.js';

/** What the parser hands the linker. */
export interface LinkEnv {
  report(d: Diagnostic): void;
  extras: Map<Rule, RuleExtra>;
  specs: SpecCache;
  /** Parse a lazily kept rule's body now (no linking, no diagnostics). */
  parseBody(rule: ParsedRule): RuleBody;
}

interface ModuleInfo {
  ext: ExtensionBase<unknown> | null;
  only: Family | null;
}

/** A recent answer of linkLazy for one target name. */
interface RecentJump {
  name: string;
  verdict: boolean;
  target: Chain | undefined;
  /** Not a user chain: is it a target extension? */
  spec: boolean;
}

/** True when text[start, end) is `s`. */
function sameText(text: string, start: number, end: number, s: string): boolean {
  if (end - start !== s.length) return false;
  for (let k = s.length - 1; k >= 0; k--) if (text.charCodeAt(start + k) !== s.charCodeAt(k)) return false;
  return true;
}

/** Verdict name → the shared string. */
const VERDICT_NAMES: ReadonlyMap<string, string> = new Map([...VERDICTS].map((v) => [v, v]));

/**
 * Links rules of one ruleset (one family). `report` false: the quiet linker of lazily parsed
 * rules (their diagnostics were reported when the file was read) — it neither reports nor counts
 * references.
 */
export class Linker {
  private readonly moduleInfo = new Map<string, ModuleInfo>();
  private readonly targetExt = new Map<string, ExtensionBase<unknown> | null>();
  /** Typed-parse failures of shared objects: reported for every rule using them. */
  private readonly failures = new Map<Match | Target, { ok: false; message: string; option?: string }>();

  constructor(
    readonly family: Family,
    private readonly specs: SpecCache,
    private readonly report: ((d: Diagnostic) => void) | null,
  ) {}

  /** The extension a match module is typed-parsed with in this family (null: none), and its family restriction. */
  infoOf(n: string): ModuleInfo {
    let info = this.moduleInfo.get(n);
    if (info === undefined) {
      const ext = findMatch(n);
      info = {
        ext: ext && (!ext.families || ext.families.includes(this.family)) ? ext : null,
        only: Object.hasOwn(FAMILY_ONLY_MATCHES, n) ? FAMILY_ONLY_MATCHES[n] : null,
      };
      this.moduleInfo.set(n, info);
    }
    return info;
  }

  /** The extension a target is typed-parsed with in this family, or null. */
  targetExtOf(n: string): ExtensionBase<unknown> | null {
    let ext = this.targetExt.get(n);
    if (ext === undefined) {
      const e = findTarget(n);
      ext = e && (!e.families || e.families.includes(this.family)) ? e : null;
      this.targetExt.set(n, ext);
    }
    return ext;
  }

  private typed(owner: Match | Target, name: string, ext: ExtensionBase<unknown>, rule: Rule, what: string): void {
    if (owner.typed !== undefined) return; // a shared object parsed for an earlier rule
    let r: ReturnType<ExtensionBase<unknown>['parse']> | undefined = this.failures.size > 0 ? this.failures.get(owner) : undefined;
    if (r === undefined) {
      try {
        r = ext.parse(owner.options, this.family);
      } catch (err) {
        // An extension must not throw, but a bug there must not take the parser down either.
        r = { ok: false, message: `internal error in ${what} ${name}: ${err instanceof Error ? err.message : String(err)}` };
      }
      if (!r.ok) this.failures.set(owner, r);
    }
    if (r.ok) {
      owner.typed = r.value;
      return;
    }
    if (this.report === null) return;
    const failed = r.option;
    const opt = failed !== undefined ? owner.options.find((o) => o.name === failed || `--${o.name}` === failed) : undefined;
    const span = rule.span;
    const column = (opt && optionColumn(rule.raw, opt)) || ('module' in owner ? matchColumn(rule, owner) : targetColumn(rule));
    this.report(
      diag('bad-extension-option', span.file, span.line, column, r.message.startsWith(`${name}:`) ? r.message : `${what} ${name}: ${r.message}`, opt ? `--${opt.name}${opt.args.length ? ' ' + opt.args.join(' ') : ''}` : rule.raw),
    );
  }

  /**
   * Link one rule whose body is parsed: family checks, typed structures, target kind; with
   * reporting on, its diagnostics and the reference it makes to a user chain.
   */
  linkBody(rule: Rule, body: RuleBody, tableName: string, chains: ReadonlyMap<string, Chain>, flawed: Set<Match | Target> | null): void {
    const family = this.family;
    const report = this.report;
    const span = report !== null ? rule.span : null;
    if (body.ip.fragment && family === 'ipv6' && span !== null) {
      report!(diag('family-mismatch', span.file, span.line, span.column, '-f (fragment) exists only in iptables (IPv4), not ip6tables', rule.raw));
    }
    const matches = body.matches;
    for (let k = 0; k < matches.length; k++) {
      const m = matches[k];
      if (m.typed !== undefined) continue; // a shared match, parsed for an earlier rule
      const info = this.infoOf(m.module);
      const only = info.only;
      if (only !== null && only !== family) {
        if (span !== null) {
          report!(
            diag('family-mismatch', span.file, span.line, matchColumn(rule, m), `match ${m.module} exists only in ${only === 'ipv6' ? 'ip6tables' : 'iptables'}, not in this ${family === 'ipv6' ? 'IPv6' : 'IPv4'} ruleset`, `-m ${m.module}`),
          );
        }
        continue;
      }
      if (flawed !== null && flawed.has(m)) continue;
      const ext = info.ext;
      if (ext === null) continue;
      this.typed(m, m.module, ext, rule, 'match');
    }
    const t = body.target;
    if (!t) return;
    const verdict = VERDICT_NAMES.get(t.name);
    if (verdict !== undefined) {
      t.kind = 'verdict';
      t.name = verdict;
      if (span === null) return;
      if (t.goto) report!(diag('bad-goto', span.file, span.line, targetColumn(rule), `-g needs a user chain; ${t.name} is a verdict (use -j ${t.name})`, t.name));
      if (t.options.length) {
        report!(diag('unknown-option', span.file, span.line, optionColumn(rule.raw, t.options[0]) || targetColumn(rule), `verdict ${t.name} takes no options`, `--${t.options[0].name}`));
      }
      return;
    }
    const target = chains.get(t.name);
    if (target === undefined || target.builtin) {
      // Not a user chain: an extension target? (iptables refuses chain names that clash with
      // target names, so a declared user chain is always the chain.)
      const spec = this.specs.target(t.name);
      if (spec !== null) {
        t.kind = 'extension';
        t.name = spec.name;
        if (t.goto && span !== null) report!(diag('bad-goto', span.file, span.line, targetColumn(rule), `-g needs a user chain; ${t.name} is a target extension`, t.name));
        if (flawed?.has(t)) return;
        const ext = this.targetExtOf(t.name);
        if (ext !== null) this.typed(t, t.name, ext, rule, 'target');
        return;
      }
    }
    if (!target && t.options.length > 0) {
      // Not a chain and not a target iptscope knows, but it has options: a chain cannot take
      // options, so this is an extension target (xtables-addons and the like), kept generically.
      t.kind = 'extension';
      return;
    }
    t.kind = 'chain';
    if (!target) {
      if (span !== null) {
        report!(diag('undefined-chain', span.file, span.line, targetColumn(rule), `${t.goto ? 'goto' : 'jump'} to chain ${t.name}, which does not exist in table ${tableName}`, t.name));
      }
    } else if (target.builtin) {
      if (span !== null) report!(diag('jump-to-builtin', span.file, span.line, targetColumn(rule), `cannot ${t.goto ? 'goto' : 'jump to'} builtin chain ${t.name}`, t.name));
    } else {
      if (report !== null) target.references++;
      // Share the chain's name string instead of one copy per jumping rule.
      t.name = target.name;
    }
    if (t.options.length && !flawed?.has(t) && span !== null) {
      report!(
        diag('unknown-option', span.file, span.line, optionColumn(rule.raw, t.options[0]) || targetColumn(rule), `jump to chain ${t.name} takes no options ("--${t.options[0].name}")`, `--${t.options[0].name}`),
      );
    }
  }

  /**
   * Link a rule kept as raw text from its target name and flags. Its values were checked when
   * it was read; false when linking would report something (the caller then parses it and links
   * the body, which reports).
   */
  linkLazy(rule: ParsedRule, chains: ReadonlyMap<string, Chain>): boolean {
    const start = rule.jumpStart;
    if (start < 0) return true;
    const raw = rule.ctx.source.text;
    const end = rule.jumpEnd;
    const flags = rule.jumpFlags;
    // The names a big dump jumps to most (KUBE-MARK-MASQ, DNAT, ACCEPT…) recur rule after rule:
    // a few recent answers, compared in place, save cutting the name out and hashing it.
    if (this.recentChains !== chains) {
      this.recentChains = chains;
      this.recent.fill(null);
    }
    let hit: RecentJump | null = null;
    for (let k = 0; k < this.recent.length; k++) {
      const r = this.recent[k];
      if (r !== null && sameText(raw, start, end, r.name)) {
        hit = r;
        break;
      }
    }
    if (hit === null) {
      const name = raw.slice(start, end);
      hit = { name, verdict: VERDICT_NAMES.has(name), target: chains.get(name), spec: false };
      if (!hit.verdict && (hit.target === undefined || hit.target.builtin)) hit.spec = this.specs.target(name) !== null;
      this.recent[this.next] = hit;
      this.next = (this.next + 1) % this.recent.length;
    }
    if (hit.verdict) return (flags & (JUMP_GOTO | JUMP_HAS_OPTIONS)) === 0;
    const target = hit.target;
    if (target === undefined || target.builtin) {
      if (hit.spec) return (flags & JUMP_GOTO) === 0;
      return target === undefined && (flags & JUMP_HAS_OPTIONS) !== 0;
    }
    if ((flags & JUMP_HAS_OPTIONS) !== 0) return false;
    target.references++;
    return true;
  }

  private recent: (RecentJump | null)[] = [null, null, null, null];
  private next = 0;
  private recentChains: ReadonlyMap<string, Chain> | null = null;
}

/** Link a parsed ruleset in place. */
export function linkRuleset(ruleset: Ruleset, env: LinkEnv): Linker {
  const linker = new Linker(ruleset.family, env.specs, env.report);
  for (const table of ruleset.tables.values()) {
    const chains = table.chains;
    for (const chain of chains.values()) {
      const rules = chain.rules as ParsedRule[];
      for (let p = 0; p < rules.length; p++) {
        const rule = rules[p];
        rule.position = p + 1;
        let body = rule.body;
        if (body === null) {
          if (linker.linkLazy(rule, chains)) continue;
          body = rule.body = env.parseBody(rule);
        }
        const extra = env.extras.size > 0 ? env.extras.get(rule) : undefined;
        linker.linkBody(rule, body, table.name, chains, extra?.flawed ?? null);
      }
    }
  }
  return linker;
}
