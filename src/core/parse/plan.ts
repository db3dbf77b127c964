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
import { MAX_IFNAME } from './known.js';
import type { RecordedOwner, WordRole } from './rule.js';

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
  /** The shape: kind and literal of every word. */
  kinds: Uint8Array;
  literals: (string | null)[];
  hash: number;
  /** Offsets of every word the checks read. */
  valueWords: number[];
  /** Another plan whose shape has the same hash (hashes are cheap and may collide). */
  next: Plan | null;
}

/** What checking needs from the parse. */
export interface PlanEnv {
  family: Family;
  /** Would `-s`/`-d` with this text parse (in this family)? */
  addressOk(text: string): boolean;
}

/** Words after these (unquoted) are names that shape the parse and stay in the shape. */
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
 * What a word is in a shape. Literal words (options, `!`, module/protocol/target-extension names)
 * must be equal; the others only of the same kind.
 */
export const enum WordKind {
  Literal = 1,
  QuotedLiteral = 2,
  QuotedBlankTarget = 3,
  BlankTarget = 4,
  QuotedValue = 5,
  Value = 6,
}

/** The shape of a rule's words (after its chain name): kinds, literals and a hash of both. */
export interface Shape {
  kinds: Uint8Array;
  literals: (string | null)[];
  hash: number;
}

const FNV = 16777619;

/** The shape `scanRule` just read (hash `hash`), kept by a plan: kinds and literal texts. */
export function shapeOfScan(text: string, w: ScannedWords, hash: number): Shape {
  const kinds = w.kinds.slice(0, w.count);
  const literals: (string | null)[] = new Array(w.count).fill(null);
  for (let k = 0; k < w.count; k++) if (kinds[k] <= WordKind.QuotedLiteral) literals[k] = text.slice(w.start[k], w.end[k]);
  return { kinds, literals, hash };
}

/** Words of a rule line read by `scanRule`: boundaries and kinds; `text` holds only the words cut out. */
export interface ScannedWords {
  count: number;
  start: Int32Array;
  end: Int32Array;
  kinds: Uint8Array;
  text: string[];
}

export function createScannedWords(): ScannedWords {
  return { count: 0, start: new Int32Array(64), end: new Int32Array(64), kinds: new Uint8Array(64), text: [] };
}

function grow(w: ScannedWords): void {
  const n = w.kinds.length * 2;
  const kinds = new Uint8Array(n);
  kinds.set(w.kinds);
  const start = new Int32Array(n);
  start.set(w.start);
  const end = new Int32Array(n);
  end.set(w.end);
  w.kinds = kinds;
  w.start = start;
  w.end = end;
}

const SPACE = 32;
const QUOTE = 34;


/**
 * Read the rule words of text[i, n) (one line of the parsed text) straight from its characters:
 * boundaries, kinds and the shape hash (the same as `shapeOf` of the tokenized words), without
 * cutting the words out. `-1` when the line needs the full tokenizer (a quote inside a word or
 * not closed) — the caller then takes the general path; the caller has made sure the line holds no
 * tab, CR or backslash. `start`/`end` of a quoted word are those of its content (inside the
 * quotes). `nextQuote(i)` is the position of the first `"` at or after i in the text (or its
 * length): a search that does not run past the line on every call.
 */
export function scanRule(
  text: string,
  i: number,
  n: number,
  w: ScannedWords,
  isTargetExtension: (name: string) => boolean,
  maxTargetName: number,
  nextQuote: (from: number) => number,
): number {
  let count = 0;
  let h = 0x811c9dc5 | 0;
  let sel = 0;
  let quote = nextQuote(i);
  while (i < n) {
    const c0 = text.charCodeAt(i);
    if (c0 === SPACE) {
      i++;
      continue;
    }
    let start = i;
    let end: number;
    let q = false;
    if (i === quote) {
      const close = nextQuote(i + 1);
      if (close >= n) return -1;
      const after = close + 1;
      if (after < n && text.charCodeAt(after) !== SPACE) return -1;
      start = i + 1;
      end = close;
      q = true;
      i = after;
      quote = nextQuote(i);
    } else {
      end = text.indexOf(' ', i);
      if (end < 0 || end > n) end = n;
      if (end > quote) return -1; // a quote inside the word
      i = end;
    }
    let kind: WordKind;
    const len = end - start;
    if (sel !== 0) {
      // (A name longer than every target extension's is not one: no need to cut it out.)
      kind = sel === 2 && (len > maxTargetName || !isTargetExtension(text.slice(start, end))) ? (q ? WordKind.QuotedBlankTarget : WordKind.BlankTarget) : q ? WordKind.QuotedLiteral : WordKind.Literal;
      sel = 0;
    } else if (!q && ((len === 1 && c0 === 33) || (len > 1 && c0 === DASH))) {
      kind = WordKind.Literal;
      sel = selectorAt(text, start, len);
    } else kind = q ? WordKind.QuotedValue : WordKind.Value;
    if (count >= w.kinds.length) grow(w);
    w.kinds[count] = kind;
    w.start[count] = start;
    w.end[count] = end;
    count++;
    h = Math.imul(h ^ kind, FNV);
    if (kind <= WordKind.QuotedLiteral) h = literalHash(h, text, start, end);
  }
  w.count = count;
  return h;
}

/**
 * The part of the shape hash of the literal text[start, end): its length and its first, third and
 * last characters (`--dport`/`--sport`, `tcp`/`udp` differ there). Cheap on purpose: shapes with
 * the same hash are told apart by `sameShape`, which compares every literal.
 */
function literalHash(h: number, text: string, start: number, end: number): number {
  const len = end - start;
  if (len === 0) return Math.imul(h, FNV);
  h = Math.imul(h ^ len, FNV);
  h = Math.imul(h ^ text.charCodeAt(start), FNV);
  h = Math.imul(h ^ text.charCodeAt(start + (len > 2 ? 2 : len - 1)), FNV);
  return Math.imul(h ^ text.charCodeAt(end - 1), FNV);
}

/** `selector` of the word at [start, start + len) without cutting it out. */
function selectorAt(line: string, start: number, len: number): number {
  if (len === 2) {
    const c = line.charCodeAt(start + 1);
    return c === 109 || c === 112 ? 1 : c === 106 || c === 103 ? 2 : 0; // m p | j g
  }
  if (len < 6 || line.charCodeAt(start + 1) !== DASH) return 0;
  return selector(line.slice(start, start + len));
}

/** True when the scanned words have exactly the plan's shape (hash collisions are possible). */
export function sameShape(plan: Plan, text: string, w: ScannedWords): boolean {
  const n = w.count;
  if (n !== plan.kinds.length) return false;
  const kinds = plan.kinds;
  for (let k = 0; k < n; k++) {
    if (w.kinds[k] !== kinds[k]) return false;
    const lit = plan.literals[k];
    if (lit === null) continue;
    const start = w.start[k];
    if (w.end[k] - start !== lit.length) return false;
    for (let c = 0; c < lit.length; c++) if (text.charCodeAt(start + c) !== lit.charCodeAt(c)) return false;
  }
  return true;
}

/** Cut out the words a plan's checks read (into `w.text`). */
export function fillValues(plan: Plan, text: string, w: ScannedWords): void {
  for (const k of plan.valueWords) w.text[k] = text.slice(w.start[k], w.end[k]);
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
  shape: Shape,
  record: readonly (WordRole | undefined)[],
  owners: readonly RecordedOwner[],
  extOf: (owner: RecordedOwner) => ExtensionBase<unknown> | null,
  targetFlags: number,
): Plan {
  const plan: Plan = { addresses: [], interfaces: [], target: -1, targetFlags, typed: [], kinds: shape.kinds, literals: shape.literals, hash: shape.hash, valueWords: [], next: null };
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
    // Options whose values the extension accepts whatever they are (a comment): nothing to check.
    const any = ext.anyValue;
    if (any !== undefined && o.options.every((x) => any.includes(x.name))) return;
    const options = o.options.map((x, j) => ({ name: x.name, negated: x.negated, args: argWords[i][j] }));
    let single = -1;
    let count = 0;
    for (const x of options) {
      count += x.args.length;
      if (x.args.length === 1) single = x.args[0];
    }
    plan.typed.push({ ext, options, single: count === 1 ? single : -1, cache: REPEATING.has(o.name) ? new Map() : null, lastKey: null, lastOk: false });
  });
  const read = new Set<number>([...plan.addresses, ...plan.interfaces, ...plan.typed.flatMap((o) => o.options.flatMap((x) => x.args))]);
  plan.valueWords = [...read].sort((a, b) => a - b);
  return plan;
}

/**
 * Check the values of a rule of this plan's shape (words [from, w.count)). True when the full
 * parse and link would report nothing for it.
 */
export function checkPlan(plan: Plan, text: readonly string[], from: number, env: PlanEnv): boolean {
  for (const k of plan.addresses) {
    const v = text[from + k];
    if (v.includes(',') || !env.addressOk(v)) return false;
  }
  for (const k of plan.interfaces) {
    const len = text[from + k].length;
    if (len === 0 || len > MAX_IFNAME) return false;
  }
  for (const o of plan.typed) if (!typedOk(o, text, from, env.family)) return false;
  return true;
}

function typedOk(o: PlanOwner, text: readonly string[], from: number, family: Family): boolean {
  let key: string;
  if (o.single >= 0) key = text[from + o.single];
  else {
    key = '';
    for (const x of o.options) for (const k of x.args) key += '\u0001' + text[from + k];
  }
  if (o.lastKey === key) return o.lastOk;
  let ok: boolean | undefined = o.cache !== null ? o.cache.get(key) : undefined;
  if (ok === undefined) {
    const options: MatchOption[] = new Array<MatchOption>(o.options.length);
    for (let j = 0; j < options.length; j++) {
      const x = o.options[j];
      const args = new Array<string>(x.args.length);
      for (let a = 0; a < args.length; a++) args[a] = text[from + x.args[a]];
      options[j] = { name: x.name, negated: x.negated, args };
    }
    try {
      ok = o.ext.check !== undefined ? o.ext.check(options, family) : o.ext.parse(options, family).ok;
    } catch {
      ok = false; // the full parse reports the internal error
    }
    if (o.cache !== null && o.cache.size < CACHE_LIMIT) o.cache.set(key, ok);
  }
  o.lastKey = key;
  o.lastOk = ok;
  return ok;
}
