/**
 * The registry of match and target extensions. One file per extension under ./matches and
 * ./targets, each exporting its definition; this index lists them. The parser asks it for
 * option arity and typed parsing; the engine asks it for evaluators.
 */
import type { ExtensionBase } from './types.js';

const matches = new Map<string, ExtensionBase<unknown>>();
const targets = new Map<string, ExtensionBase<unknown>>();

/** Register a match extension (module name is the key). */
export function registerMatch<T>(ext: ExtensionBase<T>): void {
  matches.set(ext.name, ext as ExtensionBase<unknown>);
}

/** Register a target extension (target name is the key). */
export function registerTarget<T>(ext: ExtensionBase<T>): void {
  targets.set(ext.name, ext as ExtensionBase<unknown>);
}

/** The match extension for a module name, if iptscope knows it. */
export function findMatch(name: string): ExtensionBase<unknown> | undefined {
  return matches.get(name);
}

/** The target extension for a target name, if iptscope knows it. */
export function findTarget(name: string): ExtensionBase<unknown> | undefined {
  return targets.get(name);
}
