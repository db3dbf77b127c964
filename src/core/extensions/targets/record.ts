/**
 * Factory for targets that change nothing the engine models (or only annotate the packet) and
 * return XT_CONTINUE: LOG, NFLOG, TRACE, AUDIT, CLASSIFY, TOS, DSCP, TCPMSS, CHECKSUM, SECMARK …
 * The trace records them with their options; the packet continues with the next rule.
 */
import type { MatchOption, TableName } from '../../model.js';
import type { ExtensionBase } from '../types.js';
import { keepOptions, optionsText } from '../util.js';

/** Kept options of a recorded target. */
export interface Recorded {
  options: MatchOption[];
}

/** A continue-target that records `what` (a sentence built from its options). */
export function recordTarget(
  name: string,
  spec: {
    options: readonly string[];
    flags?: readonly string[];
    twoArgs?: readonly string[];
    tables?: readonly TableName[];
    what?: (v: Recorded) => string;
  },
): ExtensionBase<Recorded> {
  const what = spec.what ?? ((v: Recorded) => `${name} ${optionsText(v.options)}`.trim());
  return {
    name,
    optionNames: spec.options,
    ...(spec.flags ? { flagOptions: spec.flags } : {}),
    ...(spec.twoArgs ? { twoArgOptions: spec.twoArgs } : {}),
    ...(spec.tables ? { tables: spec.tables } : {}),
    parse: (options) => keepOptions(options),
    describe: (v) => `${name} ${optionsText(v.options)}`.trim(),
    apply(v, ctx) {
      const text = what(v);
      ctx.packet.notes.push(text);
      return { verdict: 'continue', changes: [text] };
    },
  };
}

/** The argument of an option, or ''. */
export function arg(v: Recorded, name: string): string {
  return v.options.find((o) => o.name === name)?.args.join(' ') ?? '';
}
