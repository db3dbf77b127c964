/** Expected-value helper shared by the diff tests: a summary with nothing changed. */
import type { DiffSummary } from '../../../src/core/diff/types.js';

/** Written out literally (not taken from src) so the tests state what "nothing changed" means. */
export const ZERO_SUMMARY: Readonly<DiffSummary> = Object.freeze({
  tablesAdded: 0,
  tablesRemoved: 0,
  chainsAdded: 0,
  chainsRemoved: 0,
  chainsRenamed: 0,
  policiesChanged: 0,
  rulesAdded: 0,
  rulesRemoved: 0,
  rulesMoved: 0,
  rulesChanged: 0,
  countersChanged: 0,
});
