/**
 * Factory for modules the engine keeps but cannot decide from the packet description (payload,
 * time of day, rate state, IPsec SAs …): options are attributed and kept, evaluate says why it
 * is unknown. Each such module still has its own file (one file per -m/-j module) that calls this.
 */
import type { MatchOption } from '../model.js';
import type { ExtensionBase } from './types.js';
import { keepOptions, optionsText, unknown } from './util.js';

/** Kept options of an opaque module. */
export interface Opaque {
  options: MatchOption[];
}

/** A parse-only match module whose evaluation is unknown with `reason`. */
export function opaqueMatch(
  name: string,
  spec: { options: readonly string[]; flags?: readonly string[]; twoArgs?: readonly string[]; reason: string },
): ExtensionBase<Opaque> {
  return {
    name,
    optionNames: spec.options,
    ...(spec.flags ? { flagOptions: spec.flags } : {}),
    ...(spec.twoArgs ? { twoArgOptions: spec.twoArgs } : {}),
    parse: (options) => keepOptions(options),
    describe: (v) => `${name} ${optionsText(v.options)}`.trim(),
    evaluate: (v) => unknown(`-m ${name} ${optionsText(v.options)}: ${spec.reason}`.replace(/ +:/, ':')),
  };
}
