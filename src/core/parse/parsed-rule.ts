/**
 * The parser's Rule objects. A rule's cheap parts (table, chain, position, counters, raw text,
 * line) are fields; its parsed parts (base match, matches, target) are either parsed when the
 * file is read, or — for rules whose shape the parser has already seen and whose values it has
 * checked (./plan.ts) — parsed again from the raw line on first access. Either way every
 * diagnostic is found while the file is read; laziness only defers building the objects, which is
 * what a 400k-rule dump spends its time and memory on.
 */
import type { Counters, IpMatch, Match, Rule, Span, TableName, Target } from '../model.js';
import type { RuleBody } from './rule.js';

/** Where a lazily parsed rule gets its body from. */
export interface RuleMaterializer {
  /** Name used in spans. */
  readonly file: string;
  /** The text that was parsed: rules keep offsets into it, not a copy of their line. */
  readonly text: string;
  /** Parse and link the rule's body (no diagnostics: they were reported when the file was read). */
  materialize(rule: ParsedRule): RuleBody;
}

/** What the rules of one chain share (one object per chain, not three fields per rule). */
export interface ChainContext {
  readonly table: TableName;
  readonly chain: string;
  readonly source: RuleMaterializer;
}

/** Target flags of a lazily parsed rule (what linking needs without the body). */
export const JUMP_GOTO = 1;
export const JUMP_HAS_OPTIONS = 2;

/**
 * A rule as the parser returns it (implements the model's Rule). Kept small: a 400k-rule dump
 * holds one per rule, and every byte of it is copied by the garbage collector while reading.
 */
export interface ParsedRule extends Rule {
  readonly ctx: ChainContext;
  /** The body once parsed (always set for rules parsed eagerly). */
  body: RuleBody | null;
  /** The rule's line in the parsed text: [rawStart, rawEnd) (without a trailing CR). */
  readonly rawStart: number;
  readonly rawEnd: number;
  /** Lazily parsed rules: where the target's name is in the parsed text ([jumpStart, jumpEnd)), -1 when none. */
  jumpStart: number;
  jumpEnd: number;
  /** JUMP_* flags of the target. */
  jumpFlags: number;
  /** 1-based line and column (of the command word) in the file. */
  readonly line: number;
  readonly column: number;
  /** True when the body has been built (for tests and measurements). */
  readonly materialized: boolean;
}

/** What every ParsedRule inherits: the parts computed from its fields (never constructed). */
abstract class RuleParts {
  declare ctx: ChainContext;
  declare body: RuleBody | null;
  declare rawStart: number;
  declare rawEnd: number;
  declare line: number;
  declare column: number;

  /** The source line as written (a slice of the parsed text, made when asked for). */
  get raw(): string {
    return this.ctx.source.text.slice(this.rawStart, this.rawEnd);
  }

  get table(): TableName {
    return this.ctx.table;
  }

  get chain(): string {
    return this.ctx.chain;
  }

  get ip(): IpMatch {
    return (this.body ?? this.ctx.source.materialize(this as unknown as ParsedRule)).ip;
  }

  get matches(): Match[] {
    return (this.body ?? this.ctx.source.materialize(this as unknown as ParsedRule)).matches;
  }

  get target(): Target | null {
    return (this.body ?? this.ctx.source.materialize(this as unknown as ParsedRule)).target;
  }

  get span(): Span {
    return { file: this.ctx.source.file, line: this.line, column: this.column, endColumn: this.rawEnd - this.rawStart + 1 };
  }

  get materialized(): boolean {
    return this.body !== null;
  }
}
const PROTO = RuleParts.prototype;

/**
 * Make a rule. An object literal rather than `new` of a class: V8 allocates literals of a site
 * whose objects live long straight into the old generation (allocation-site pretenuring), while
 * class instances are copied through the young generation first — on a 320k-rule dump that was
 * a third of the time spent collecting garbage.
 */
export function parsedRule(ctx: ChainContext, counters: Counters | undefined, rawStart: number, rawEnd: number, line: number, column: number, body: RuleBody | null): ParsedRule {
  return { __proto__: PROTO, ctx, position: 0, counters, rawStart, rawEnd, line, column, body, jumpStart: -1, jumpEnd: -1, jumpFlags: 0 } as unknown as ParsedRule;
}
