/**
 * The scenario format (top-level scenarios/<name>/scenario.json plus a rules file).
 *
 * One description serves three readers: the engine (`iptscope scenario run`), the kernel
 * harness (test/kernel: builds namespaces from `context`, including `context.peers`, loads
 * `rules`, sends each packet) and the TUI (presets). Pure types and validation only.
 */
import type { Family } from './model.js';
import type { DispositionKind, HostContext, PacketSpec, Verdict } from './netfilter/types.js';

/** What one outcome of a packet should be. Every field present is checked; absent ones are not. */
export interface ExpectedOutcome {
  verdict?: Verdict;
  disposition?: DispositionKind;
  /** Output interface of a forwarded / sent packet. */
  iface?: string;
  /** Final destination `ip:port` (or `ip`) after DNAT / REDIRECT. */
  dst?: string;
  /** Final source `ip:port` (or `ip`) after SNAT / MASQUERADE. */
  src?: string;
  /** Final skb mark. */
  mark?: number;
  /** Probability of this outcome (compared to 1e-6). */
  probability?: number;
  /**
   * The decisive steps in order: matched rules and deciding policies as `table:CHAIN:N` or
   * `table:CHAIN:policy`. This is what the kernel harness compares with nft trace output.
   */
  path?: string[];
}

/** A named packet of a scenario with what should happen to it. */
export interface ScenarioPacket {
  name: string;
  description?: string;
  packet: PacketSpec;
  /** A single expected outcome, or several (statistic branches), in any order. */
  expect: ExpectedOutcome | { outcomes: ExpectedOutcome[] };
  /** Source lines to decide for unknown matches (`match`/`nomatch`) or unknown targets (`continue`/`stop`), as `--assume`. */
  assume?: Record<string, 'match' | 'nomatch' | 'continue' | 'stop'>;
  /** Why the kernel harness cannot replay this packet, if it cannot (shown, never silent). */
  kernelSkip?: string;
}

/** A scenario: rules, the host they run on, packets and their expected fates. */
export interface Scenario {
  name: string;
  description: string;
  family: Family;
  /** Rules file, relative to the scenario folder (iptables-save format). */
  rules: string;
  /** Host context; the kernel harness builds namespaces from it (interfaces, peers, sysctls). */
  context: Partial<HostContext>;
  packets: ScenarioPacket[];
}
