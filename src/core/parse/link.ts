/**
 * The linker: once a whole file is read (and its family known), number rules, resolve each
 * target's kind (verdict, user chain, extension), count references, report jumps to missing chains
 * and family mismatches, and give every known match/target its typed structure through the
 * extension registry.
 */
import { findMatch, findTarget } from '../extensions/index.js';
import type { ExtensionBase } from '../extensions/types.js';
import type { Diagnostic, Match, MatchOption, Rule, Ruleset, Target } from '../model.js';
import { diag } from './diagnostics.js';
import { FAMILY_ONLY_MATCHES, KNOWN_TARGETS, VERDICTS } from './known.js';
import type { RuleExtra } from './rule.js';
import type { SpecCache } from './specs.js';

/** What the parser hands the linker. */
export interface LinkEnv {
  report(d: Diagnostic): void;
  extras: Map<Rule, RuleExtra>;
  specs: SpecCache;
}

/**
 * Typed-parse results are cached by module and option text: kube-proxy dumps repeat the same
 * `-m tcp --dport 80` or `-j MARK --or-mark 0x4000` thousands of times, and the typed values are
 * immutable data, so identical option lists share one result.
 */
type TypedCache = Map<string, { ok: true; value: unknown } | { ok: false; message: string; option?: string }>;

function optionsKey(name: string, options: MatchOption[]): string {
  let k = name;
  for (const o of options) {
    k += o.negated ? '\u0001!' : '\u0001';
    k += o.name;
    for (const a of o.args) k += '\u0002' + a;
  }
  return k;
}

/** Link a parsed ruleset in place. */
export function linkRuleset(ruleset: Ruleset, env: LinkEnv): void {
  const family = ruleset.family;
  const matchCache: TypedCache = new Map();
  const targetCache: TypedCache = new Map();
  const extCacheM = new Map<string, ExtensionBase<unknown> | undefined>();
  const extCacheT = new Map<string, ExtensionBase<unknown> | undefined>();
  const extM = (n: string): ExtensionBase<unknown> | undefined => {
    if (!extCacheM.has(n)) extCacheM.set(n, findMatch(n));
    return extCacheM.get(n);
  };
  const extT = (n: string): ExtensionBase<unknown> | undefined => {
    if (!extCacheT.has(n)) extCacheT.set(n, findTarget(n));
    return extCacheT.get(n);
  };

  const typed = (
    owner: Match | Target,
    name: string,
    ext: ExtensionBase<unknown>,
    cache: TypedCache,
    rule: Rule,
    what: string,
  ): void => {
    const key = optionsKey(name, owner.options);
    let r = cache.get(key);
    if (r === undefined) {
      try {
        r = ext.parse(owner.options, family);
      } catch (err) {
        // An extension must not throw, but a bug there must not take the parser down either.
        r = { ok: false, message: `internal error in ${what} ${name}: ${err instanceof Error ? err.message : String(err)}` };
      }
      if (cache.size < 100_000) cache.set(key, r);
    }
    if (r.ok) {
      owner.typed = r.value;
      return;
    }
    const opt = r.option !== undefined ? owner.options.find((o) => o.name === r!.option || `--${o.name}` === r!.option) : undefined;
    const span = opt?.span ?? owner.span ?? rule.span;
    env.report(
      diag('bad-extension-option', span.file, span.line, span.column, `${what} ${name}: ${r.message}`, opt ? `--${opt.name}${opt.args.length ? ' ' + opt.args.join(' ') : ''}` : rule.raw),
    );
  };

  for (const table of ruleset.tables.values()) {
    const chains = table.chains;
    for (const chain of chains.values()) {
      const rules = chain.rules;
      for (let p = 0; p < rules.length; p++) {
        const rule = rules[p];
        rule.position = p + 1;
        const extra = env.extras.get(rule);
        const flawed = extra?.flawed ?? null;
        const span = rule.span;
        if (rule.ip.fragment && family === 'ipv6') {
          env.report(diag('family-mismatch', span.file, span.line, span.column, '-f (fragment) exists only in iptables (IPv4), not ip6tables', rule.raw));
        }
        for (const m of rule.matches) {
          const only = Object.hasOwn(FAMILY_ONLY_MATCHES, m.module) ? FAMILY_ONLY_MATCHES[m.module] : undefined;
          if (only && only !== family) {
            const s = m.span ?? span;
            env.report(
              diag('family-mismatch', s.file, s.line, s.column, `match ${m.module} exists only in ${only === 'ipv6' ? 'ip6tables' : 'iptables'}, not in this ${family === 'ipv6' ? 'IPv6' : 'IPv4'} ruleset`, `-m ${m.module}`),
            );
            continue;
          }
          if (flawed?.has(m)) continue;
          const ext = extM(m.module);
          if (!ext) continue;
          if (ext.families && !ext.families.includes(family)) continue;
          typed(m, m.module, ext, matchCache, rule, 'match');
        }
        const t = rule.target;
        if (!t) continue;
        const col = extra?.targetColumn || t.span?.column || span.column;
        if (VERDICTS.has(t.name)) {
          t.kind = 'verdict';
          if (t.goto) env.report(diag('bad-goto', span.file, span.line, col, `-g needs a user chain; ${t.name} is a verdict (use -j ${t.name})`, t.name));
          if (t.options.length) {
            env.report(diag('unknown-option', span.file, span.line, t.options[0].span?.column ?? col, `verdict ${t.name} takes no options`, `--${t.options[0].name}`));
          }
          continue;
        }
        const target = chains.get(t.name);
        const ext = extT(t.name);
        const knownExt = ext !== undefined || Object.hasOwn(KNOWN_TARGETS, t.name);
        if (knownExt && !(target && !target.builtin && !isExtensionName(t.name))) {
          // Like iptables' command_jump: a target extension wins over a chain of the same name.
          t.kind = 'extension';
          if (t.goto) env.report(diag('bad-goto', span.file, span.line, col, `-g needs a user chain; ${t.name} is a target extension`, t.name));
          if (flawed?.has(t)) continue;
          if (ext && (!ext.families || ext.families.includes(family))) typed(t, t.name, ext, targetCache, rule, 'target');
          continue;
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
            diag('undefined-chain', span.file, span.line, col, `${t.goto ? 'goto' : 'jump'} to chain ${t.name}, which does not exist in table ${table.name}`, t.name),
          );
        } else if (target.builtin) {
          env.report(diag('jump-to-builtin', span.file, span.line, col, `cannot ${t.goto ? 'goto' : 'jump to'} builtin chain ${t.name}`, t.name));
        } else {
          target.references++;
        }
        if (t.options.length && !flawed?.has(t)) {
          env.report(
            diag('unknown-option', span.file, span.line, t.options[0].span?.column ?? col, `jump to chain ${t.name} takes no options ("--${t.options[0].name}")`, `--${t.options[0].name}`),
          );
        }
      }
    }
  }
}

/** True for names in iptables' target extension set (all upper case by convention). */
function isExtensionName(name: string): boolean {
  return Object.hasOwn(KNOWN_TARGETS, name);
}
