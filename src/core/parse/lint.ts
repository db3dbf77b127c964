/**
 * Static checks over a linked ruleset, beyond what the parser reports: user chains nothing jumps
 * to, rules that can never be reached because an earlier rule of the chain matches everything and
 * ends the chain, jumps to empty chains, and duplicate rules. Findings are Diagnostics, like the
 * parser's, so every renderer (CLI, JSON, TUI) treats them alike.
 */
import type { Diagnostic, Rule, Ruleset } from '../model.js';
import { diag } from './diagnostics.js';
import { formatRule } from './format.js';
import { targetColumn } from './locate.js';

/**
 * Targets after which a packet never reaches the next rule of the chain (when the rule matches):
 * the verdicts and the extension targets that return a verdict (like NF_ACCEPT / NF_DROP).
 */
const TERMINAL_TARGETS: ReadonlySet<string> = new Set([
  'ACCEPT',
  'DROP',
  'RETURN',
  'QUEUE',
  'REJECT',
  'NFQUEUE',
  'DNAT',
  'SNAT',
  'MASQUERADE',
  'REDIRECT',
  'NETMAP',
  'TPROXY',
  'SYNPROXY',
  'MIRROR',
]);

/** Match modules that never make a rule conditional (they only annotate or count). */
const ALWAYS_MATCH: ReadonlySet<string> = new Set(['comment', 'nfacct']);

/** True when the rule matches every packet (no base match, only annotating matches). */
export function isUnconditional(r: Rule): boolean {
  const ip = r.ip;
  if (ip.src || ip.dst || ip.iif || ip.oif || ip.fragment) return false;
  if (ip.proto && !(ip.proto.value.number === 0 && !ip.proto.negated)) return false;
  return r.matches.every((m) => ALWAYS_MATCH.has(m.module));
}

/** True when a matching rule ends the chain's traversal (verdict, terminal extension, or goto). */
export function endsChain(r: Rule): boolean {
  const t = r.target;
  if (!t) return false;
  if (t.goto) return true;
  return TERMINAL_TARGETS.has(t.name);
}

function ruleIdentity(r: Rule): string {
  return formatRule(r).slice(3 + r.chain.length);
}

/** Run every check; findings in table, chain, rule order. */
export function lintRuleset(rs: Ruleset): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const table of rs.tables.values()) {
    for (const chain of table.chains.values()) {
      if (!chain.builtin && chain.references === 0) {
        const s = chain.span;
        out.push(
          diag(
            'unreferenced-chain',
            s?.file ?? rs.source,
            s?.line ?? table.span?.line ?? 1,
            s?.column ?? 1,
            `chain ${chain.name} in table ${table.name} is never jumped to (${chain.rules.length} rule(s) unused unless a rule outside this dump jumps there)`,
            chain.name,
          ),
        );
      }
      let shadowedBy: Rule | null = null;
      const seen = new Map<string, Rule>();
      for (const r of chain.rules) {
        if (shadowedBy) {
          out.push(
            diag(
              'shadowed-rule',
              r.span.file,
              r.span.line,
              r.span.column,
              `rule ${r.position} of ${table.name} ${chain.name} can never match: rule ${shadowedBy.position} (line ${shadowedBy.span.line}) matches every packet and ends the chain with ${shadowedBy.target!.goto ? 'goto ' : ''}${shadowedBy.target!.name}`,
              r.raw,
            ),
          );
        } else if (isUnconditional(r) && endsChain(r)) {
          shadowedBy = r;
        }
        const id = ruleIdentity(r);
        const first = seen.get(id);
        if (first) {
          out.push(
            diag(
              'duplicate-rule',
              r.span.file,
              r.span.line,
              r.span.column,
              `rule ${r.position} of ${table.name} ${chain.name} repeats rule ${first.position} (line ${first.span.line})`,
              r.raw,
            ),
          );
        } else seen.set(id, r);
        const t = r.target;
        if (t && t.kind === 'chain') {
          const target = table.chains.get(t.name);
          if (target && !target.builtin && target.rules.length === 0) {
            out.push(
              diag(
                'jump-to-empty-chain',
                r.span.file,
                r.span.line,
                targetColumn(r),
                `${t.goto ? 'goto' : 'jump'} to chain ${t.name}, which has no rules (${t.goto ? 'the packet continues as if the calling chain had ended' : 'it returns at once'})`,
                t.name,
              ),
            );
          }
        }
      }
    }
  }
  return out;
}
