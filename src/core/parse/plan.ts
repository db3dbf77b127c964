/**
 * Shape plans: how the parser checks a rule completely without building its objects.
 *
 * A rule's *shape* is its words with the values blanked out: options, `!`, module names, protocol
 * names and target-extension names kept; addresses, interface names, option arguments and chain
 * names replaced by a placeholder. Everything the rule parser decides about structure — which
 * module an option belongs to, how many arguments it takes, negations, implicit protocol matches,
 * duplicate options, unknown options — depends only on the shape. So the first rule of each shape
 * is parsed in full (recording which word went where); if that produced no diagnostic, the shape
 * gets a plan, and every later rule of the same shape is checked by the plan: its values only
 * (addresses parse in the ruleset's family, interface names fit, each known extension's typed
 * parse accepts its arguments). A rule that passes would parse without a diagnostic, so it is kept
 * as raw text and parsed on first access; a rule that fails any check is parsed in full at once,
 * which reports exactly what the full parser reports.
 *
 * Kubernetes dumps have a few dozen shapes for hundreds of thousands of rules.
 */
import type { ExtensionBase } from '../extensions/types.js';
import type { Family, MatchOption } from '../model.js';
import type { AddressParse } from './address.js';
import { MAX_IFNAME } from './known.js';
import type { RecordedOwner, WordRole } from './rule.js';
import type { Words } from './tokenize.js';

const DASH = 45;

/** A known extension whose typed parse each rule of the shape must pass. */
interface PlanOwner {
  ext: ExtensionBase<unknown>;
  /** The owner's options: canonical name, negation, and the word offsets of its arguments. */
  options: { name: string; negated: boolean; args: number[] }[];
  /** Offset of the single argument when the owner has exactly one (fast key), else -1. */
  single: number;
  /** Verdicts of the typed parse by argument text (bounded), for modules whose values repeat. */
  cache: Map<string, boolean> | null;
  lastKey: string | null;
  lastOk: boolean;
}

/** A plan for one shape. */
export interface Plan {
  /** Word offsets (from the first word after the chain name) of -s/-d values. */
  addresses: number[];
  /** Word offsets of -i/-o values. */
  interfaces: number[];
  /** Word offset of the target's name, or -1. */
  target: number;
  /** JUMP_* flags for the target (goto, has options). */
  targetFlags: number;
  /** Extensions whose typed parse must accept the rule's values. */
  typed: PlanOwner[];
}

/** What checking needs from the parse. */
export interface PlanEnv {
  family: Family;
  address(text: string): AddressParse;
}

/** Words after these (unquoted) are names that shape the parse and stay in the key. */
function selector(word: string): number {
  switch (word) {
    case '-m':
    case '--match':
    case '-p':
    case '--protocol':
      return 1;
    case '-j':
    case '--jump':
    case '-g':
    case '--goto':
      return 2;
    default:
      return 0;
  }
}

/**
 * The shape key of words [from, w.count). `isTargetExtension` tells whether a target name is an
 * extension iptscope has an option table for (its options then shape the parse); any other target
 * (a chain, a verdict, an unknown extension) takes options the same way and is blanked.
 */
export function shapeKey(w: Words, from: number, isTargetExtension: (name: string) => boolean): string {
  const text = w.text;
  const quoted = w.quoted;
  const n = w.count;
  let key = '';
  let sel = 0;
  for (let k = from; k < n; k++) {
    const word = text[k];
    const q = quoted[k];
    if (sel !== 0) {
      if (sel === 2) key += isTargetExtension(word) ? (q ? '\u0002' : '\u0001') + word : q ? '\u0003' : '\u0004';
      else key += (q ? '\u0002' : '\u0001') + word;
      sel = 0;
      continue;
    }
    if (!q && (word === '!' || (word.length > 1 && word.charCodeAt(0) === DASH))) {
      key += '\u0001' + word;
      sel = selector(word);
    } else key += q ? '\u0005' : '\u0006';
  }
  return key;
}

/** Modules whose argument values repeat across a big dump (worth a verdict cache). */
const REPEATING: ReadonlySet<string> = new Set([
  'tcp', 'udp', 'sctp', 'icmp', 'icmp6', 'statistic', 'mark', 'connmark', 'addrtype', 'conntrack', 'state', 'multiport', 'limit', 'pkttype',
  'physdev', 'owner', 'set', 'length', 'ttl', 'hl', 'rt', 'socket', 'rpfilter', 'MARK', 'CONNMARK', 'MASQUERADE', 'REJECT', 'LOG', 'CT', 'NOTRACK',
]);
const CACHE_LIMIT = 50_000;

/**
 * Make the plan of a shape from the record of its first rule's full parse (which reported
 * nothing). `extOf` gives the extension the linker would typed-parse an owner with (null: none).
 */
export function makePlan(
  record: readonly (WordRole | undefined)[],
  owners: readonly RecordedOwner[],
  extOf: (owner: RecordedOwner) => ExtensionBase<unknown> | null,
  targetFlags: number,
): Plan {
  const plan: Plan = { addresses: [], interfaces: [], target: -1, targetFlags, typed: [] };
  const argWords: number[][][] = owners.map((o) => o.options.map((x) => new Array<number>(x.args).fill(-1)));
  for (let k = 0; k < record.length; k++) {
    const r = record[k];
    if (r === undefined) continue;
    switch (r.role) {
      case 'src':
      case 'dst':
        plan.addresses.push(k);
        break;
      case 'iif':
      case 'oif':
        plan.interfaces.push(k);
        break;
      case 'target':
        plan.target = k;
        break;
      case 'arg':
        argWords[r.owner][r.opt][r.arg] = k;
        break;
    }
  }
  owners.forEach((o, i) => {
    const ext = extOf(o);
    if (ext === null) return;
    const options = o.options.map((x, j) => ({ name: x.name, negated: x.negated, args: argWords[i][j] }));
    let single = -1;
    let count = 0;
    for (const x of options) {
      count += x.args.length;
      if (x.args.length === 1) single = x.args[0];
    }
    plan.typed.push({ ext, options, single: count === 1 ? single : -1, cache: REPEATING.has(o.name) ? new Map() : null, lastKey: null, lastOk: false });
  });
  return plan;
}

/**
 * Check the values of a rule of this plan's shape (words [from, w.count)). True when the full
 * parse and link would report nothing for it.
 */
export function checkPlan(plan: Plan, w: Words, from: number, env: PlanEnv): boolean {
  const text = w.text;
  for (const k of plan.addresses) {
    const v = text[from + k];
    if (v.includes(',') || !env.address(v).ok) return false;
  }
  for (const k of plan.interfaces) {
    const len = text[from + k].length;
    if (len === 0 || len > MAX_IFNAME) return false;
  }
  for (const o of plan.typed) if (!typedOk(o, w, from, env.family)) return false;
  return true;
}

function typedOk(o: PlanOwner, w: Words, from: number, family: Family): boolean {
  const text = w.text;
  let key: string;
  if (o.single >= 0) key = text[from + o.single];
  else {
    key = '';
    for (const x of o.options) for (const k of x.args) key += '\u0001' + text[from + k];
  }
  if (o.lastKey === key) return o.lastOk;
  let ok: boolean | undefined = o.cache !== null ? o.cache.get(key) : undefined;
  if (ok === undefined) {
    const options: MatchOption[] = o.options.map((x) => ({ name: x.name, negated: x.negated, args: x.args.map((k) => text[from + k]) }));
    try {
      ok = o.ext.parse(options, family).ok;
    } catch {
      ok = false; // the full parse reports the internal error
    }
    if (o.cache !== null && o.cache.size < CACHE_LIMIT) o.cache.set(key, ok);
  }
  o.lastKey = key;
  o.lastOk = ok;
  return ok;
}
