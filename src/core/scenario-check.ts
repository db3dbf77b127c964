/**
 * Checking a trace against a scenario's expected outcomes (pure).
 *
 * A packet expects one outcome, or a set of outcomes (statistic branches, explored unknowns) in
 * any order. Each expected outcome must be matched by a distinct actual outcome on every field it
 * names; the sets must have the same size. Probabilities compare to 1e-6. `path` is the sequence
 * of decisive steps (`table:CHAIN:N` / `table:CHAIN:policy`), the same shape the kernel harness
 * reads from `nft monitor trace`.
 */
import ipaddr from 'ipaddr.js';
import type { ExpectedOutcome, ScenarioPacket } from './scenario.js';
import type { Outcome, Step, TraceResult } from './netfilter/types.js';

/** Tolerance for probabilities (statistic --probability is stored by the kernel as a u32 fraction). */
export const PROBABILITY_EPSILON = 1e-6;

/** One difference between what a scenario expects and what the trace gave. */
export interface Mismatch {
  /** Index of the expected outcome (0-based) it concerns, or null for the outcome set as a whole. */
  expected: number | null;
  /** Index of the actual outcome it was compared with (the closest one), or null. */
  actual: number | null;
  /** The field: `verdict`, `disposition`, `iface`, `dst`, `src`, `mark`, `probability`, `path`, `count`. */
  field: string;
  want: string;
  got: string;
  /** One readable line (`outcome 2: dst want 10.244.1.12:80, got 10.244.1.11:80`). */
  message: string;
}

/** The fields of an expected outcome that are checked, in report order. */
const FIELDS = ['verdict', 'disposition', 'iface', 'dst', 'src', 'mark', 'probability', 'path'] as const;
type Field = (typeof FIELDS)[number];

/** Whether a step's rule was taken on this outcome: matched, or unknown and assumed to match. */
function taken(step: Step, outcome: Outcome): boolean {
  if (step.matched === true) return true;
  if (step.matched !== 'unknown' || step.rule === null) return false;
  const a = outcome.assumptions.find(
    (x) => x.table === step.table && x.chain === step.chain && x.rule === step.rule && x.line === (step.line ?? x.line),
  );
  return a?.choice === 'match';
}

/**
 * The decisive steps of an outcome, in order: every rule that matched (whatever its target —
 * `nft monitor trace` prints each matched rule, also those that continue) as `table:CHAIN:N`, and
 * every policy that decided as `table:CHAIN:policy`. Implicit returns, routing and conntrack steps
 * are left out (the kernel does not print them).
 */
export function outcomePath(outcome: Outcome): string[] {
  const path: string[] = [];
  for (const step of outcome.steps) {
    if (step.table === null || step.chain === null) continue;
    if (step.kind === 'policy') path.push(`${step.table}:${step.chain}:policy`);
    else if (step.kind === 'rule' && step.rule !== null && taken(step, outcome)) {
      path.push(`${step.table}:${step.chain}:${step.rule}`);
    }
  }
  return path;
}

/** Parse `ip`, `ip:port` or `[ipv6]:port` into a normalised address text and optional port. */
export function parseEndpoint(text: string): { addr: string; port?: number } | null {
  let host = text.trim();
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracket) {
    host = bracket[1];
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (host.split(':').length === 2) {
    const [h, p] = host.split(':');
    if (!/^\d+$/.test(p)) return null;
    host = h;
    port = Number(p);
  }
  if (!ipaddr.isValid(host)) return null;
  return { addr: ipaddr.parse(host).toNormalizedString(), port };
}

function endpointText(addr: string, port: number | undefined): string {
  const a = addr.includes(':') ? `[${addr}]` : addr;
  return port === undefined ? addr : `${a}:${port}`;
}

/** Compare one field; returns [want, got] texts when they differ, else null. */
function compareField(field: Field, want: ExpectedOutcome, o: Outcome): [string, string] | null {
  switch (field) {
    case 'verdict':
      return want.verdict === undefined || want.verdict === o.verdict ? null : [want.verdict, o.verdict];
    case 'disposition':
      return want.disposition === undefined || want.disposition === o.disposition.kind
        ? null
        : [want.disposition, o.disposition.kind];
    case 'iface':
      return want.iface === undefined || want.iface === o.disposition.iface
        ? null
        : [want.iface, o.disposition.iface ?? '(none)'];
    case 'dst':
    case 'src': {
      const w = want[field];
      if (w === undefined) return null;
      const addr = field === 'dst' ? o.packet.dst : o.packet.src;
      const port = field === 'dst' ? o.packet.dport : o.packet.sport;
      const parsed = parseEndpoint(w);
      const gotAddr = ipaddr.isValid(addr) ? ipaddr.parse(addr).toNormalizedString() : addr;
      const gotText = endpointText(addr, parsed?.port === undefined ? undefined : port);
      if (!parsed) return [w, gotText];
      if (parsed.addr !== gotAddr) return [w, gotText];
      if (parsed.port !== undefined && parsed.port !== port) return [w, gotText];
      return null;
    }
    case 'mark':
      return want.mark === undefined || want.mark === o.packet.mark
        ? null
        : [`0x${want.mark.toString(16)}`, `0x${o.packet.mark.toString(16)}`];
    case 'probability':
      return want.probability === undefined || Math.abs(want.probability - o.probability) <= PROBABILITY_EPSILON
        ? null
        : [fmtP(want.probability), fmtP(o.probability)];
    case 'path': {
      if (want.path === undefined) return null;
      const got = outcomePath(o);
      return sameList(want.path, got) ? null : [want.path.join(' '), got.join(' ')];
    }
  }
}

function fmtP(p: number): string {
  return String(Number(p.toFixed(9)));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** All differing fields between an expected and an actual outcome. */
function differences(want: ExpectedOutcome, o: Outcome): { field: Field; want: string; got: string }[] {
  const out: { field: Field; want: string; got: string }[] = [];
  for (const f of FIELDS) {
    const d = compareField(f, want, o);
    if (d) out.push({ field: f, want: d[0], got: d[1] });
  }
  return out;
}

/** The expected outcomes of a packet as a list. */
export function expectedOutcomes(expect: ScenarioPacket['expect']): ExpectedOutcome[] {
  return 'outcomes' in expect && Array.isArray((expect as { outcomes?: unknown }).outcomes)
    ? (expect as { outcomes: ExpectedOutcome[] }).outcomes
    : [expect as ExpectedOutcome];
}

/**
 * Find a one-to-one assignment of expected outcomes to actual outcomes where every field agrees
 * (a small bipartite matching; outcome sets are tiny). Returns expected index → actual index, or
 * null when there is none.
 */
function perfectMatching(ok: boolean[][], nActual: number): number[] | null {
  const owner: number[] = new Array<number>(nActual).fill(-1);
  const tryAssign = (e: number, seen: boolean[]): boolean => {
    for (let a = 0; a < nActual; a++) {
      if (!ok[e][a] || seen[a]) continue;
      seen[a] = true;
      if (owner[a] === -1 || tryAssign(owner[a], seen)) {
        owner[a] = e;
        return true;
      }
    }
    return false;
  };
  for (let e = 0; e < ok.length; e++) {
    if (!tryAssign(e, new Array<boolean>(nActual).fill(false))) return null;
  }
  const result = new Array<number>(ok.length).fill(-1);
  owner.forEach((e, a) => {
    if (e >= 0) result[e] = a;
  });
  return result;
}

/**
 * Compare a trace with a packet's expectation. Empty array: it holds. Otherwise one Mismatch per
 * differing field of each expected outcome that found no partner (compared with its closest actual
 * outcome), plus a `count` mismatch when the number of outcomes differs.
 */
export function checkPacket(result: TraceResult, expect: ScenarioPacket['expect']): Mismatch[] {
  const wanted = expectedOutcomes(expect);
  const actual = result.outcomes;
  const mismatches: Mismatch[] = [];
  if (wanted.length !== actual.length) {
    mismatches.push({
      expected: null,
      actual: null,
      field: 'count',
      want: String(wanted.length),
      got: String(actual.length),
      message: `expected ${wanted.length} outcome(s), got ${actual.length}`,
    });
  }
  const diffs = wanted.map((w) => actual.map((o) => differences(w, o)));
  const ok = diffs.map((row) => row.map((d) => d.length === 0));
  const matching = wanted.length === actual.length ? perfectMatching(ok, actual.length) : null;
  if (matching) return mismatches;
  // Report each expected outcome that cannot be paired: against the actual outcome it is closest to
  // among those not claimed by an exact match of another expected outcome.
  const exactClaimed = new Set<number>();
  const exactFor = new Map<number, number>();
  ok.forEach((row, e) => {
    const a = row.findIndex((v, i) => v && !exactClaimed.has(i));
    if (a >= 0) {
      exactClaimed.add(a);
      exactFor.set(e, a);
    }
  });
  wanted.forEach((_, e) => {
    if (exactFor.has(e)) return;
    if (actual.length === 0) {
      mismatches.push({ expected: e, actual: null, field: 'count', want: 'an outcome', got: 'none', message: `outcome ${e + 1}: no actual outcome` });
      return;
    }
    let best = -1;
    for (let a = 0; a < actual.length; a++) {
      if (exactClaimed.has(a)) continue;
      if (best === -1 || diffs[e][a].length < diffs[e][best].length) best = a;
    }
    if (best === -1) best = 0;
    for (const d of diffs[e][best]) {
      mismatches.push({
        expected: e,
        actual: best,
        field: d.field,
        want: d.want,
        got: d.got,
        message: `outcome ${e + 1} (closest actual ${best + 1}): ${d.field} want ${d.want}, got ${d.got}`,
      });
    }
  });
  return mismatches;
}

/** A readable multi-line diff of mismatches (paths as aligned side-by-side lists). */
export function formatMismatches(mismatches: readonly Mismatch[]): string {
  const lines: string[] = [];
  for (const m of mismatches) {
    if (m.field !== 'path') {
      lines.push(m.message);
      continue;
    }
    const want = m.want === '' ? [] : m.want.split(' ');
    const got = m.got === '' ? [] : m.got.split(' ');
    const head = m.expected === null ? 'path' : `outcome ${m.expected + 1} (closest actual ${(m.actual ?? 0) + 1}): path`;
    lines.push(`${head} differs:`);
    const width = Math.max(8, ...want.map((s) => s.length));
    lines.push(`    ${'expected'.padEnd(width)}   actual`);
    const n = Math.max(want.length, got.length);
    for (let i = 0; i < n; i++) {
      const w = want[i] ?? '';
      const g = got[i] ?? '';
      const mark = w === g ? ' ' : '≠';
      lines.push(`  ${mark} ${w.padEnd(width)}   ${g}`);
    }
  }
  return lines.join('\n');
}
