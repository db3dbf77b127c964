/**
 * The rule model as plain JSON (for `show --json`, `lint --json` and anyone exporting a ruleset).
 * Maps become arrays in model order, addresses become their canonical text, and typed extension
 * values are converted generically (ipaddr.js objects → text, Map/Set → arrays, bigint → string).
 * Schema: see docs in README ("show --json").
 */
import type { Chain, Diagnostic, Match, MatchOption, ParseResult, Rule, Ruleset, Span, Table, Target } from '../model.js';

/** Version of the JSON schema below; bump on incompatible changes. */
export const JSON_SCHEMA_VERSION = 1;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Convert any typed extension value to JSON deterministically. */
export function toJsonValue(v: unknown, depth = 0): Json {
  if (depth > 20) return null;
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'bigint':
      return v.toString();
    case 'function':
    case 'symbol':
      return null;
  }
  if (Array.isArray(v)) return v.map((x) => toJsonValue(x, depth + 1));
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [toJsonValue(k, depth + 1), toJsonValue(x, depth + 1)]);
  if (v instanceof Set) return [...v].map((x) => toJsonValue(x, depth + 1));
  const o = v as Record<string, unknown> & { kind?: () => string; toString(): string };
  // ipaddr.js IPv4/IPv6 objects: their text form.
  if (typeof o.kind === 'function' && (o.kind() === 'ipv4' || o.kind() === 'ipv6') && ('octets' in o || 'parts' in o)) {
    return o.toString();
  }
  const out: { [k: string]: Json } = {};
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (x === undefined || typeof x === 'function') continue;
    out[k] = toJsonValue(x, depth + 1);
  }
  return out;
}

function spanJson(s: Span | undefined): Json {
  if (!s) return null;
  const o: { [k: string]: Json } = { file: s.file, line: s.line, column: s.column };
  if (s.endColumn !== undefined) o.endColumn = s.endColumn;
  return o;
}

function optionJson(o: MatchOption): Json {
  return { name: o.name, negated: o.negated, args: o.args };
}

function matchJson(m: Match): Json {
  const o: { [k: string]: Json } = { module: m.module, implicit: m.implicit === true, options: m.options.map(optionJson) };
  if (m.typed !== undefined) o.typed = toJsonValue(m.typed);
  return o;
}

function targetJson(t: Target | null): Json {
  if (!t) return null;
  const o: { [k: string]: Json } = { name: t.name, kind: t.kind, goto: t.goto, options: t.options.map(optionJson) };
  if (t.typed !== undefined) o.typed = toJsonValue(t.typed);
  return o;
}

function neg<T>(v: { negated: boolean; value: T } | undefined, f: (x: T) => Json): Json {
  return v ? { negated: v.negated, value: f(v.value) } : null;
}

/** One rule as JSON. */
export function ruleJson(r: Rule): Json {
  return {
    table: r.table,
    chain: r.chain,
    position: r.position,
    counters: r.counters ? { packets: r.counters.packets, bytes: r.counters.bytes } : null,
    ip: {
      src: neg(r.ip.src, (c) => c.text),
      dst: neg(r.ip.dst, (c) => c.text),
      iif: neg(r.ip.iif, (s) => s),
      oif: neg(r.ip.oif, (s) => s),
      proto: neg(r.ip.proto, (p) => ({ name: p.name, number: p.number })),
      fragment: r.ip.fragment ? { negated: r.ip.fragment.negated } : null,
    },
    matches: r.matches.map(matchJson),
    target: targetJson(r.target),
    line: r.span.line,
    column: r.span.column,
    raw: r.raw,
  };
}

/** One chain as JSON (with or without its rules). */
export function chainJson(c: Chain, withRules = true): Json {
  const o: { [k: string]: Json } = {
    name: c.name,
    table: c.table,
    builtin: c.builtin,
    policy: c.policy,
    counters: c.counters ? { packets: c.counters.packets, bytes: c.counters.bytes } : null,
    references: c.references,
    ruleCount: c.rules.length,
    declared: spanJson(c.span),
  };
  if (withRules) o.rules = c.rules.map(ruleJson);
  return o;
}

/** One table as JSON. */
export function tableJson(t: Table, chainFilter?: (c: Chain) => boolean, withRules = true): Json {
  return {
    name: t.name,
    line: t.span?.line ?? null,
    chains: [...t.chains.values()].filter((c) => !chainFilter || chainFilter(c)).map((c) => chainJson(c, withRules)),
  };
}

/** A diagnostic as JSON (the model's fields, in a fixed order). */
export function diagnosticJson(d: Diagnostic): Json {
  return { severity: d.severity, code: d.code, file: d.file, line: d.line, column: d.column, message: d.message, text: d.text };
}

/** A ruleset as JSON. */
export function rulesetJson(rs: Ruleset, opts: { table?: string; chain?: string; rules?: boolean } = {}): Json {
  return {
    family: rs.family,
    source: rs.source,
    tables: [...rs.tables.values()]
      .filter((t) => !opts.table || t.name === opts.table)
      .filter((t) => !opts.chain || t.chains.has(opts.chain))
      .map((t) => tableJson(t, opts.chain ? (c) => c.name === opts.chain : undefined, opts.rules ?? true)),
  };
}

/** A parse result (ruleset + diagnostics) as JSON. */
export function parseResultJson(p: ParseResult, opts: { table?: string; chain?: string; rules?: boolean } = {}): Json {
  const o = rulesetJson(p.ruleset, opts) as { [k: string]: Json };
  o.diagnostics = p.diagnostics.map(diagnosticJson);
  return o;
}
