/**
 * The parser's public API: text → Ruleset + Diagnostic[] (never throws), formatting back to
 * canonical iptables-save text, and code frames for diagnostics.
 */
export { parseRuleset, type ParseOptions } from './parser.js';
export { formatRule, formatRuleset, saveString, type FormatRulesetOptions } from './format.js';
export { codeFrame, lineAt, DIAGNOSTIC_CODES, type DiagnosticCode } from './diagnostics.js';
export { parseCidr, formatAddress, formatIPv6 } from './address.js';
export { splitWords } from './tokenize.js';
export { PROTOCOL_NAMES, PROTOCOL_NUMBERS, VERDICTS, KNOWN_MATCHES, KNOWN_TARGETS } from './known.js';
export { matchColumn, optionColumn, targetColumn } from './locate.js';
