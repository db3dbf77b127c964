/**
 * The rule model: Ruleset → Table → Chain → Rule.
 *
 * Everything the parser reads ends up here, and everything else (engine, diff, TUI, CLI) reads
 * only this. Nothing in the model is lost relative to the source text: every rule keeps its raw
 * text and span, every option keeps its negation, and modules/targets the engine does not know
 * keep a generic {name, options} form.
 *
 * Pure: imports nothing from fs, child_process, blessed or chokidar.
 */
import type { IPv4, IPv6 } from 'ipaddr.js';

/** Address family of a ruleset: iptables-save (ipv4) or ip6tables-save (ipv6). */
export type Family = 'ipv4' | 'ipv6';

/** The five iptables tables. */
export type TableName = 'raw' | 'mangle' | 'nat' | 'filter' | 'security';

/** The five netfilter hooks, named as iptables names its builtin chains. */
export type HookName = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

/** Policy of a builtin chain (user chains have none: `-` in iptables-save). */
export type Policy = 'ACCEPT' | 'DROP';

export const TABLE_NAMES: readonly TableName[] = ['raw', 'mangle', 'nat', 'filter', 'security'];
export const HOOK_NAMES: readonly HookName[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/**
 * Which builtin chains each table has (like iptable_*.c valid_hooks; nat's INPUT exists since 2.6.36).
 * Order here is hook order, which is how Chains are listed.
 */
export const TABLE_HOOKS: Readonly<Record<TableName, readonly HookName[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** Where something came from: 1-based line and column; endColumn exclusive when known. */
export interface Span {
  file: string;
  line: number;
  column: number;
  endColumn?: number;
}

/** Packet and byte counters as iptables-save -c prints them (`[pkts:bytes]`). */
export interface Counters {
  packets: number;
  bytes: number;
}

/** A value with its `!` negation kept as data. */
export interface Negatable<T> {
  negated: boolean;
  value: T;
}

/**
 * An address with a prefix, parsed once (ipaddr.js objects; no string comparison of addresses).
 * `text` is the canonical form iptables-save prints (e.g. `10.0.0.0/8`, `2001:db8::1/128`).
 * `mask` is set only when the mask is not a contiguous prefix (iptables prints `/255.0.255.0`).
 */
export interface Cidr {
  family: Family;
  addr: IPv4 | IPv6;
  prefix: number;
  mask?: IPv4 | IPv6;
  text: string;
}

/** A protocol as `-p` names it: a name from /etc/protocols or a number. `all` is number 0. */
export interface Protocol {
  name: string;
  number: number | null;
}

/** The base match every rule has (struct ipt_ip / ip6t_ip6): -s -d -i -o -p -f. */
export interface IpMatch {
  src?: Negatable<Cidr>;
  dst?: Negatable<Cidr>;
  /** Interface name, possibly ending in `+` (prefix wildcard). */
  iif?: Negatable<string>;
  oif?: Negatable<string>;
  proto?: Negatable<Protocol>;
  /** -f (IPv4 only): second and further fragments. */
  fragment?: Negatable<true>;
}

/**
 * One option of a match or target as written: `--dport 80`, `! --syn`, `--tcp-flags SYN,ACK SYN`.
 * `name` is the long name without dashes (`dport`); `args` are the raw argument words (unquoted).
 */
export interface MatchOption {
  name: string;
  negated: boolean;
  args: string[];
  span?: Span;
}

/**
 * A `-m module` match (or an implicit protocol match enabled by `-p tcp`).
 * `typed` holds the extension's parsed structure when the module is in the extension registry
 * (see src/core/extensions); otherwise only the generic options are kept.
 */
export interface Match {
  module: string;
  options: MatchOption[];
  /** True when the module was loaded implicitly by `-p tcp` etc. without `-m`. */
  implicit?: boolean;
  typed?: unknown;
  span?: Span;
}

/** How a rule's target is interpreted. */
export type TargetKind =
  /** ACCEPT, DROP, RETURN (standard verdicts), QUEUE. */
  | 'verdict'
  /** A user chain (jump or goto). */
  | 'chain'
  /** An extension target: REJECT, DNAT, MARK, LOG… (known or not). */
  | 'extension';

/** A rule's `-j` / `-g` target. */
export interface Target {
  name: string;
  kind: TargetKind;
  /** True for `-g` (goto): the chain does not return to the caller. */
  goto: boolean;
  options: MatchOption[];
  typed?: unknown;
  span?: Span;
}

/** One rule of a chain. */
export interface Rule {
  table: TableName;
  chain: string;
  /** 1-based position in its chain, as `iptables -L --line-numbers` counts. Set when linked. */
  position: number;
  counters?: Counters;
  ip: IpMatch;
  matches: Match[];
  /** null: a rule with no target (it only counts packets). */
  target: Target | null;
  span: Span;
  /** The source line as written (without the trailing newline). */
  raw: string;
}

/** A chain: builtin (with a policy) or user-defined. */
export interface Chain {
  name: string;
  table: TableName;
  builtin: boolean;
  /** Policy of a builtin chain; null for user chains. */
  policy: Policy | null;
  counters?: Counters;
  rules: Rule[];
  /** Number of rules in the ruleset that jump or goto this chain. Set when linked. */
  references: number;
  /** Where the chain was declared (`:NAME …` or `-N NAME`); absent for implicitly created builtins. */
  span?: Span;
}

/** A table block (`*nat` … `COMMIT`). */
export interface Table {
  name: TableName;
  /** Chains in display order: builtin chains in hook order first, then user chains in declaration order. */
  chains: Map<string, Chain>;
  span?: Span;
}

/** A parsed dump: the tables it declares (only those present). */
export interface Ruleset {
  family: Family;
  /** Tables in kernel order (raw, mangle, nat, filter, security), only those present. */
  tables: Map<TableName, Table>;
  /** Where it came from (a file path, `-` for stdin, `live`, a bundle path). */
  source: string;
}

/** Severity of a diagnostic. */
export type Severity = 'error' | 'warning' | 'info';

/** A problem found in input. Diagnostics are values: the parser never throws on input. */
export interface Diagnostic {
  severity: Severity;
  /** Stable machine code, e.g. `unknown-table`, `missing-commit`, `undefined-chain`. */
  code: string;
  file: string;
  line: number;
  column: number;
  message: string;
  /** The offending text (the token or the line). */
  text: string;
}

/** What the parser returns: always a ruleset, plus what it found wrong. */
export interface ParseResult {
  ruleset: Ruleset;
  diagnostics: Diagnostic[];
}

/** Look up a chain; undefined when the table or chain is absent. */
export function getChain(ruleset: Ruleset, table: TableName, chain: string): Chain | undefined {
  return ruleset.tables.get(table)?.chains.get(chain);
}

/** Every rule of the ruleset in table, chain, position order. */
export function* allRules(ruleset: Ruleset): Generator<Rule> {
  for (const table of ruleset.tables.values()) {
    for (const chain of table.chains.values()) yield* chain.rules;
  }
}

/** First `-m comment --comment` value of a rule, if any (kube-proxy puts Service names there). */
export function ruleComment(rule: Rule): string | undefined {
  for (const m of rule.matches) {
    if (m.module !== 'comment') continue;
    const opt = m.options.find((o) => o.name === 'comment');
    if (opt) return opt.args.join(' ');
  }
  return undefined;
}

/** Exhaustiveness helper for switches over closed unions. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
