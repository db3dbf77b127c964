/**
 * Running a scenario's packets through the engine and checking them (pure: the rules are already
 * parsed; golden files are the CLI's and the tests' business).
 */
import type { Ruleset } from './model.js';
import type { Scenario, ScenarioPacket } from './scenario.js';
import { checkPacket, type Mismatch } from './scenario-check.js';
import { resolveContext, trace, validatePacket } from './netfilter/index.js';
import type { TraceOptions, TraceResult } from './netfilter/types.js';

/** The result of one scenario packet. */
export interface PacketRun {
  name: string;
  entry: ScenarioPacket;
  /** Invalid packet (validatePacket) or engine failure: the packet could not be traced. */
  errors: string[];
  result?: TraceResult;
  mismatches: Mismatch[];
}

/** The trace options a scenario packet asks for (its `assume` map). */
export function packetTraceOptions(entry: ScenarioPacket): TraceOptions {
  const assume: NonNullable<TraceOptions['assume']> = new Map();
  for (const [line, v] of Object.entries(entry.assume ?? {})) assume.set(Number(line), v);
  return { assume };
}

/** Trace every packet of a scenario against its rules and context and check the expectations. */
export function runScenario(scenario: Scenario, ruleset: Ruleset): PacketRun[] {
  const { context } = resolveContext(scenario.context);
  return scenario.packets.map((entry): PacketRun => {
    const errors = validatePacket(entry.packet, scenario.family, context);
    if (errors.length) return { name: entry.name, entry, errors, mismatches: [] };
    const result = trace(ruleset, context, entry.packet, packetTraceOptions(entry));
    return { name: entry.name, entry, errors: [], result, mismatches: checkPacket(result, entry.expect) };
  });
}
