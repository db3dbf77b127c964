/**
 * Validation of scenario.json (pure): the shape of src/core/scenario.ts, with unknown keys in
 * packets and expectations reported (a misspelt `verdic` would otherwise silently check nothing).
 */
import type { Scenario } from './scenario.js';

/** Keys a scenario may have, by object kind. */
const SCENARIO_KEYS = ['name', 'description', 'family', 'rules', 'context', 'packets'];
const PACKET_ENTRY_KEYS = ['name', 'description', 'packet', 'expect', 'assume', 'kernelSkip'];
const OUTCOME_KEYS = ['verdict', 'disposition', 'iface', 'dst', 'src', 'mark', 'probability', 'path'];
const PACKET_SPEC_KEYS = [
  'proto', 'src', 'dst', 'sport', 'dport', 'icmpType', 'icmpCode', 'tcpFlags', 'iif', 'local', 'oif', 'mark',
  'ctState', 'reply', 'length', 'ttl', 'srcMac', 'uid', 'gid', 'fragment', 'packetNumber', 'physIn', 'physOut', 'ctMark', 'flow', 'related',
];
const VERDICTS = ['ACCEPT', 'DROP', 'REJECT'];
const DISPOSITIONS = ['delivered', 'forwarded', 'sent', 'dropped', 'rejected', 'no-route', 'queued', 'stolen'];
const PATH_RE = /^(raw|mangle|nat|filter|security):[^:\s]+:(\d+|policy)$/;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function unknownKeys(obj: Record<string, unknown>, allowed: string[], where: string, errors: string[]): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) errors.push(`${where}: unknown key "${k}"`);
}

function checkOutcome(o: unknown, where: string, errors: string[]): void {
  if (!isObject(o)) {
    errors.push(`${where}: must be an object`);
    return;
  }
  unknownKeys(o, OUTCOME_KEYS, where, errors);
  if (o.verdict !== undefined && !VERDICTS.includes(o.verdict as string)) errors.push(`${where}.verdict: "${String(o.verdict)}" is not one of ${VERDICTS.join(', ')}`);
  if (o.disposition !== undefined && !DISPOSITIONS.includes(o.disposition as string)) errors.push(`${where}.disposition: "${String(o.disposition)}" is not one of ${DISPOSITIONS.join(', ')}`);
  for (const k of ['iface', 'dst', 'src'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') errors.push(`${where}.${k}: must be a string`);
  }
  if (o.mark !== undefined && (typeof o.mark !== 'number' || !Number.isInteger(o.mark) || o.mark < 0)) errors.push(`${where}.mark: must be a non-negative integer`);
  if (o.probability !== undefined && (typeof o.probability !== 'number' || o.probability < 0 || o.probability > 1)) errors.push(`${where}.probability: must be a number in [0, 1]`);
  if (o.path !== undefined) {
    if (!Array.isArray(o.path)) errors.push(`${where}.path: must be an array`);
    else o.path.forEach((p, i) => {
      if (typeof p !== 'string' || !PATH_RE.test(p)) errors.push(`${where}.path[${i}]: "${String(p)}" is not table:CHAIN:N or table:CHAIN:policy`);
    });
  }
}

/** The parts of the context the kernel harness builds namespaces from: interfaces and peers. */
function checkContext(ctx: Record<string, unknown>, at: string, errors: string[]): void {
  const names = new Set<string>();
  if (ctx.interfaces !== undefined) {
    if (!Array.isArray(ctx.interfaces)) errors.push(`${at}.interfaces: must be an array`);
    else ctx.interfaces.forEach((i, k) => {
      if (!isObject(i) || typeof i.name !== 'string' || !Array.isArray(i.addresses)) {
        errors.push(`${at}.interfaces[${k}]: needs "name" and "addresses"`);
        return;
      }
      if (names.has(i.name)) errors.push(`${at}.interfaces[${k}]: duplicate interface "${i.name}"`);
      names.add(i.name);
    });
  }
  if (ctx.peers !== undefined) {
    if (!Array.isArray(ctx.peers)) errors.push(`${at}.peers: must be an array`);
    else ctx.peers.forEach((p, k) => {
      if (!isObject(p) || typeof p.name !== 'string' || typeof p.iface !== 'string' || !Array.isArray(p.addresses)) {
        errors.push(`${at}.peers[${k}]: needs "name", "iface" and "addresses"`);
        return;
      }
      if (names.size && !names.has(p.iface)) errors.push(`${at}.peers[${k}]: "${p.name}" sits behind "${p.iface}", which is not one of the interfaces`);
    });
  }
}

/**
 * Validate parsed scenario.json. Returns the scenario (typed) when there are no errors; `where`
 * prefixes messages (the file path).
 */
export function validateScenario(raw: unknown, where: string): { scenario?: Scenario; errors: string[] } {
  const errors: string[] = [];
  if (!isObject(raw)) return { errors: [`${where}: must be a JSON object`] };
  unknownKeys(raw, SCENARIO_KEYS, where, errors);
  for (const k of ['name', 'description', 'rules'] as const) {
    if (typeof raw[k] !== 'string' || raw[k] === '') errors.push(`${where}: "${k}" must be a non-empty string`);
  }
  if (raw.family !== 'ipv4' && raw.family !== 'ipv6') errors.push(`${where}: "family" must be "ipv4" or "ipv6"`);
  if (!isObject(raw.context)) errors.push(`${where}: "context" must be an object`);
  else checkContext(raw.context, `${where}: context`, errors);
  if (!Array.isArray(raw.packets) || raw.packets.length === 0) {
    errors.push(`${where}: "packets" must be a non-empty array`);
    return { errors };
  }
  const names = new Set<string>();
  raw.packets.forEach((p, i) => {
    const at = `${where}: packets[${i}]`;
    if (!isObject(p)) {
      errors.push(`${at}: must be an object`);
      return;
    }
    unknownKeys(p, PACKET_ENTRY_KEYS, at, errors);
    if (typeof p.name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(p.name)) {
      errors.push(`${at}: "name" must be a file-name-safe string (letters, digits, . _ -)`);
    } else if (names.has(p.name)) errors.push(`${at}: duplicate packet name "${p.name}"`);
    else names.add(p.name);
    if (!isObject(p.packet)) errors.push(`${at}: "packet" must be an object`);
    else {
      unknownKeys(p.packet, PACKET_SPEC_KEYS, `${at}.packet`, errors);
      for (const k of ['proto', 'src', 'dst']) if (typeof p.packet[k] !== 'string') errors.push(`${at}.packet: "${k}" must be a string`);
    }
    if (!isObject(p.expect)) errors.push(`${at}: "expect" must be an object`);
    else if ('outcomes' in p.expect) {
      const outs = p.expect.outcomes;
      if (Object.keys(p.expect).length !== 1) errors.push(`${at}.expect: "outcomes" cannot be combined with other keys`);
      if (!Array.isArray(outs) || outs.length === 0) errors.push(`${at}.expect.outcomes: must be a non-empty array`);
      else {
        outs.forEach((o, j) => checkOutcome(o, `${at}.expect.outcomes[${j}]`, errors));
        const probs = outs.map((o) => (isObject(o) ? o.probability : undefined));
        if (probs.every((x) => typeof x === 'number')) {
          const sum = (probs as number[]).reduce((s, x) => s + x, 0);
          // Statistic shares add up to 1 for each combination of explored unknowns: a whole number.
          if (sum < 1 - 1e-6 || Math.abs(sum - Math.round(sum)) > 1e-6) errors.push(`${at}.expect.outcomes: probabilities sum to ${sum}, not 1 (or a whole number with explored unknown matches)`);
        }
      }
    } else checkOutcome(p.expect, `${at}.expect`, errors);
    if (p.assume !== undefined) {
      if (!isObject(p.assume)) errors.push(`${at}: "assume" must be an object of LINE: "match"|"nomatch"`);
      else for (const [line, v] of Object.entries(p.assume)) {
        if (!/^\d+$/.test(line)) errors.push(`${at}.assume: key "${line}" is not a line number`);
        if (!['match', 'nomatch', 'continue', 'stop'].includes(v as string)) errors.push(`${at}.assume.${line}: must be "match", "nomatch" (unknown match), "continue" or "stop" (unknown target)`);
      }
    }
    if (p.kernelSkip !== undefined && typeof p.kernelSkip !== 'string') errors.push(`${at}: "kernelSkip" must be a string`);
  });
  return errors.length ? { errors } : { scenario: raw as unknown as Scenario, errors };
}
