/**
 * Typed values of matches and targets, parsed by the extension from the generic options once per
 * Match/Target object and cached (parse errors are values).
 *
 * Pure: no IO.
 */
import type { Family, Match, Target } from '../model.js';
import type { ExtParse, ExtensionBase } from '../extensions/types.js';

/** Cache slot on the model object (a symbol: invisible to JSON and to other code). */
const SLOT: unique symbol = Symbol('iptscope.typed');
type Cached = { [SLOT]?: ExtParse<unknown> };

/** The typed value of a match or target for its extension (parse errors are values). */
export function typedOf(m: Match | Target, ext: ExtensionBase<unknown>, family: Family): ExtParse<unknown> {
  let r = (m as Cached)[SLOT];
  if (r) return r;
  // Always parsed here from the generic options with the same extension: the engine does not
  // depend on how (or whether) the parser filled `typed`.
  r = ext.parse(m.options, family);
  (m as Cached)[SLOT] = r;
  return r;
}
