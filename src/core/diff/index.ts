/**
 * Diff of two rulesets: structural (what changed in the rules, per table and chain) and
 * behavioural (which packets now meet a different fate). Used by `iptscope diff` and the TUI diff
 * view; both render the same result structures (./types.ts).
 *
 * Pure: imports nothing from fs, child_process, blessed or chokidar.
 */
export * from './types.js';
export { diffStructural, isHashedChain, similarity, wordDiff, CHANGE_SIMILARITY } from './structural.js';
export type { StructuralOptions } from './structural.js';
export { diffBehaviour, summariseTrace, summariseOutcome, compareOutcomes, probesOf, DEFAULT_MAX_PROBES } from './behaviour.js';
export { deriveProbes, userProbe, GENERIC_NODE_CONTEXT, GENERIC_NODE_TEXT } from './probes.js';
export type { UserPacket } from './probes.js';
export { formatStructuralText, formatBehaviourText, summaryLine, formatDelta } from './text.js';
export type { TextOptions } from './text.js';
