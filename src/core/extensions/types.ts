/**
 * The extension interface: each `-m` match module and each `-j` target is one file exporting one
 * of these, registered in ./index.ts. Adding a module touches one file plus the index.
 *
 * The parser calls `parse` to turn the generic options into the typed structure stored in
 * `Match.typed` / `Target.typed`; the engine calls `evaluate` / `apply` with that structure.
 * Evaluators return true | false | 'unknown' — never a guess.
 */
import type { Family, MatchOption } from '../model.js';

/** Result of parsing a module's options: the typed value, or an error naming the option. */
export type ExtParse<T> =
  | { ok: true; value: T }
  | { ok: false; message: string; option?: string };

/** Shared shape of match and target extensions. */
export interface ExtensionBase<T> {
  /** Module / target name as iptables spells it (`tcp`, `conntrack`, `DNAT`). */
  name: string;
  /** Families it exists in (icmp: ipv4 only; icmp6: ipv6 only). */
  families?: readonly Family[];
  /** Long option names (without dashes) the module accepts, for attributing options to modules. */
  optionNames: readonly string[];
  /** Options taking no argument (`syn`, `rsource`, `save-mark`…); all others take one unless listed in twoArgOptions. */
  flagOptions?: readonly string[];
  /** Options taking two arguments (`tcp-flags MASK COMP`). */
  twoArgOptions?: readonly string[];
  /** Short option aliases → long names (`y` → `syn` is not used by save; kept for restore input). */
  shortAliases?: Readonly<Record<string, string>>;
  parse(options: MatchOption[], family: Family): ExtParse<T>;
  /** Short human text for views (`tcp dpt:80`, `ctstate NEW,ESTABLISHED`). */
  describe?(value: T): string;
}
