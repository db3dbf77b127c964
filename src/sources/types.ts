/**
 * What a SOURCE (file, `-`, `live`, a capture bundle, the demo) loads into. One source may carry
 * an IPv4 and an IPv6 ruleset (live hosts and bundles do) and the host context.
 */
import type { Family, ParseResult } from '../core/model.js';
import type { HostContext } from '../core/netfilter/types.js';

export type SourceKind = 'file' | 'stdin' | 'live' | 'bundle' | 'demo' | 'directory';

export interface LoadedSource {
  kind: SourceKind;
  /** What to show the user: a path, `stdin`, `live host NAME`, `demo: kube-proxy`. */
  label: string;
  /** Path of the file (file, bundle, directory entry) when there is one; used for watching. */
  path?: string;
  /** Parsed rulesets by family; at least one is present. */
  rulesets: Partial<Record<Family, ParseResult>>;
  /** The source text per family (for code frames of diagnostics). */
  texts: Partial<Record<Family, string>>;
  /** Host context carried by the source (live, bundle, scenario); absent for a bare dump. */
  context?: Partial<HostContext>;
  /** When the state was read (live/bundle), ISO 8601. */
  capturedAt?: string;
  /** Warnings about the source itself (e.g. both nft and legacy tables hold rules). */
  notes: string[];
  /**
   * Directory sources: the directory and its dumps/bundles (sorted by name). The loaded entry is
   * `path`; switch with `loadDirectoryEntry(source, entryPath)` from src/sources/directory.ts (or watcher.select).
   */
  directory?: string;
  entries?: { path: string; name: string }[];
}
