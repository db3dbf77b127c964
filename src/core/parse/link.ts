/**
 * The linker: once a whole file is read (and its family known), number rules, resolve each
 * target's kind (verdict, user chain, extension), count references, report jumps to missing chains
 * and family mismatches, and give every known match/target its typed structure through the
 * extension registry.
 */
import { findMatch, findTarget } from '../extensions/index.js';
import type { ExtensionBase } from '../extensions/types.js';
import type { Diagnostic, Match, Rule, Ruleset, Target } from '../model.js';
import { matchColumn, optionColumn, targetColumn } from './locate.js';
import { diag } from './diagnostics.js';
import { FAMILY_ONLY_MATCHES, VERDICTS } from './known.js';
import type { RuleExtra } from './rule.js';
import type { SpecCache } from './specs.js';

/** What the parser hands the linker. */
export interface LinkEnv {
  report(d: Diagnostic): void;
  extras: Map<Rule, RuleExtra>;
  specs: SpecCache;
}

/** Link a parsed ruleset in place. */
export function linkRuleset(ruleset: Ruleset, env: LinkEnv): void {
  const family = ruleset.family;
  // Per module, everything the linker needs in one lookup: the extension usable in this family
  // (or null) and the family the module is restricted to (or null).
  const moduleInfo = new Map<string, { ext: ExtensionBase<unknown> | null; only: 'ipv4' | 'ipv6' | null }>();
  const infoOf = (n: string): { ext: ExtensionBase<unknown> | null; only: 'ipv4' | 'ipv6' | null } => {
    let info = moduleInfo.get(n);
    if (info === undefined) {
      const ext = findMatch(n);
      info = {
        ext: ext && (!ext.families || ext.families.includes(family)) ? ext : null,
        only: Object.hasOwn(FAMILY_ONLY_MATCHES, n) ? FAMILY_ONLY_MATCHES[n] : null,
      };
      moduleInfo.set(n, info);
    }
    return info;
  };
  const extCacheT = new Map<string, ExtensionBase<unknown> | undefined>();
  const extT = (n: string): ExtensionBase<unknown> | undefined => {
    if (!extCacheT.has(n)) extCacheT.set(n, findTarget(n));
    return extCacheT.get(n);
  };

  // Comment matches may be shared by many rules (see RuleSpecParser): parse each object once,
  // but report a failure for every rule that uses it.
  const failures = new Map<Match | Target, { ok: false; message: string; option?: string }>();
  const typed = (owner: Match | Target, name: string, ext: ExtensionBase<unknown>, rule: Rule, what: string): void => {
    if (owner.typed !== undefined) return; // a shared object parsed for an earlier rule
    let r: ReturnType<ExtensionBase<unknown>['parse']> | undefined = failures.size > 0 ? failures.get(owner) : undefined;
    if (r === undefined) {
      try {
        r = ext.parse(owner.options, family);
      } catch (err) {
        // An extension must not throw, but a bug there must not take the parser down either.
        r = { ok: false, message: `internal error in ${what} ${name}: ${err instanceof Error ? err.message : String(err)}` };
      }
      if (!r.ok) failures.set(owner, r);
    }
    if (r.ok) {
      owner.typed = r.value;
      return;
    }
    const failed = r.option;
    const opt = failed !== undefined ? owner.options.find((o) => o.name === failed || `--${o.name}` === failed) : undefined;
    const span = rule.span;
    const column = (opt && optionColumn(rule.raw, opt)) || ('module' in owner ? matchColumn(rule, owner) : targetColumn(rule));
    env.report(
      diag('bad-extension-option', span.file, span.line, column, r.message.startsWith(`${name}:`) ? r.message : `${what} ${name}: ${r.message}`, opt ? `--${opt.name}${opt.args.length ? ' ' + opt.args.join(' ') : ''}` : rule.raw),
    );
  };

  for (const table of ruleset.tables.values()) {
    const chains = table.chains;
    for (const chain of chains.values()) {
      const rules = chain.rules;
      for (let p = 0; p < rules.length; p++) {
        const rule = rules[p];
        rule.position = p + 1;
        const extra = env.extras.size > 0 ? env.extras.get(rule) : undefined;
        const flawed = extra?.flawed ?? null;
        const span = rule.span;
        if (rule.ip.fragment && family === 'ipv6') {
          env.report(diag('family-mismatch', span.file, span.line, span.column, '-f (fragment) exists only in iptables (IPv4), not ip6tables', rule.raw));
        }
        const matches = rule.matches;
        for (let k = 0; k < matches.length; k++) {
          const m = matches[k];
          if (m.typed !== undefined) continue; // a shared match, parsed for an earlier rule
          const info = infoOf(m.module);
          const only = info.only;
          if (only !== null && only !== family) {
            const s = { ...span, column: matchColumn(rule, m) };
            env.report(
              diag('family-mismatch', s.file, s.line, s.column, `match ${m.module} exists only in ${only === 'ipv6' ? 'ip6tables' : 'iptables'}, not in this ${family === 'ipv6' ? 'IPv6' : 'IPv4'} ruleset`, `-m ${m.module}`),
            );
            continue;
          }
          if (flawed !== null && flawed.has(m)) continue;
          const ext = info.ext;
          if (ext === null) continue;
          typed(m, m.module, ext, rule, 'match');
        }
        const t = rule.target;
        if (!t) continue;
        const verdict = VERDICT_NAMES.get(t.name);
        if (verdict !== undefined) {
          t.kind = 'verdict';
          t.name = verdict;
          if (t.goto) env.report(diag('bad-goto', span.file, span.line, targetColumn(rule), `-g needs a user chain; ${t.name} is a verdict (use -j ${t.name})`, t.name));
          if (t.options.length) {
            env.report(diag('unknown-option', span.file, span.line, optionColumn(rule.raw, t.options[0]) || targetColumn(rule), `verdict ${t.name} takes no options`, `--${t.options[0].name}`));
          }
          continue;
        }
        const target = chains.get(t.name);
        if (target === undefined || target.builtin) {
          // Not a user chain: an extension target? (iptables refuses chain names that clash with
          // target names, so a declared user chain is always the chain.)
          const spec = env.specs.target(t.name);
          if (spec !== null) {
            t.kind = 'extension';
            t.name = spec.name;
            if (t.goto) env.report(diag('bad-goto', span.file, span.line, targetColumn(rule), `-g needs a user chain; ${t.name} is a target extension`, t.name));
            if (flawed?.has(t)) continue;
            const ext = extT(t.name);
            if (ext && (!ext.families || ext.families.includes(family))) typed(t, t.name, ext, rule, 'target');
            continue;
          }
        }
        if (!target && t.options.length > 0) {
          // Not a chain and not a target iptscope knows, but it has options: a chain cannot take
          // options, so this is an extension target (xtables-addons and the like), kept generically.
          t.kind = 'extension';
          continue;
        }
        t.kind = 'chain';
        if (!target) {
          env.report(
            diag('undefined-chain', span.file, span.line, targetColumn(rule), `${t.goto ? 'goto' : 'jump'} to chain ${t.name}, which does not exist in table ${table.name}`, t.name),
          );
        } else if (target.builtin) {
          env.report(diag('jump-to-builtin', span.file, span.line, targetColumn(rule), `cannot ${t.goto ? 'goto' : 'jump to'} builtin chain ${t.name}`, t.name));
        } else {
          target.references++;
          // Share the chain's name string instead of one copy per jumping rule.
          t.name = target.name;
        }
        if (t.options.length && !flawed?.has(t)) {
          env.report(
            diag('unknown-option', span.file, span.line, optionColumn(rule.raw, t.options[0]) || targetColumn(rule), `jump to chain ${t.name} takes no options ("--${t.options[0].name}")`, `--${t.options[0].name}`),
          );
        }
      }
    }
  }
}

/** Verdict name → the shared string. */
const VERDICT_NAMES: ReadonlyMap<string, string> = new Map([...VERDICTS].map((v) => [v, v]));
