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
export class ParsedRule implements Rule {
  position = 0;
  /** The body once parsed (always set for rules parsed eagerly). */
  body: RuleBody | null;
  /** Lazily parsed rules: where the target's name is in `raw` ([jumpStart, jumpEnd)), -1 when none. */
  jumpStart = -1;
  jumpEnd = -1;
  /** JUMP_* flags of the target. */
  jumpFlags = 0;

  constructor(
    readonly ctx: ChainContext,
    public counters: Counters | undefined,
    readonly raw: string,
    /** 1-based line and column (of the command word) in the file. */
    readonly line: number,
    readonly column: number,
    body: RuleBody | null,
  ) {
    this.body = body;
  }

  get table(): TableName {
    return this.ctx.table;
  }

  get chain(): string {
    return this.ctx.chain;
  }

  get ip(): IpMatch {
    return (this.body ?? this.ctx.source.materialize(this)).ip;
  }

  get matches(): Match[] {
    return (this.body ?? this.ctx.source.materialize(this)).matches;
  }

  get target(): Target | null {
    return (this.body ?? this.ctx.source.materialize(this)).target;
  }

  get span(): Span {
    return { file: this.ctx.source.file, line: this.line, column: this.column, endColumn: this.raw.length + 1 };
  }

  /** True when the body has been built (for tests and measurements). */
  get materialized(): boolean {
    return this.body !== null;
  }
}
