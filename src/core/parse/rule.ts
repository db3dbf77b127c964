/**
 * Parse a rule specification (the words after `-A CHAIN`) into a Rule: the base match
 * (-s -d -i -o -p -f), `-m` matches with their options, the `-j`/`-g` target with its options,
 * in any order iptables accepts — including match options after the target
 * (`-j LOG --log-prefix x -m limit --limit 3/min`) and `-p tcp --dport 80` without `-m tcp`.
 *
 * Option attribution, like iptables' getopt over the options of every loaded extension: an option
 * belongs to the most recent match or target that has it; if none does, to the most recent module
 * iptscope does not know (generic parsing); else `-p PROTO` loads the protocol's match implicitly;
 * else it is an unknown option (diagnostic, kept on the most recent module so nothing is lost).
 */
import type { Counters, Diagnostic, Family, IpMatch, Match, MatchOption, Negatable, Rule, Span, TableName, Target } from '../model.js';
import type { parseCidr } from './address.js';
import { diag, type DiagnosticCode } from './diagnostics.js';
import { FAMILY_ONLY_MATCHES, implicitProtocolModule, MAX_IFNAME, PROTOCOL_NUMBERS, isSaveString } from './known.js';
import { arityOf, resolveOption, type Arity, type ResolvedSpec, type SpecCache } from './specs.js';
import type { Words } from './tokenize.js';

/** What the rule parser needs from the surrounding parse. */
export interface RuleParseEnv {
  file: string;
  /** The ruleset's family when known so far (header, option, earlier address). */
  family: Family | undefined;
  specs: SpecCache;
  report(d: Diagnostic): void;
  /** Called with the family of each address seen (the first one decides when nothing else did). */
  sawAddress(family: Family): void;
  /** Weak family evidence (ip6-only module, proto 58). */
  hint(family: Family): void;
  /** Interned strings: repeated words share one string (memory on 400k-line dumps). */
  intern(s: string): string;
  /** Parse an address (cached by text: the same address in many rules is one Cidr). */
  address(text: string): ReturnType<typeof parseCidr>;
  /** A shared `{negated, value}` for an immutable value (Cidr, Protocol, interface name). */
  negatable<T>(value: T, negated: boolean): Negatable<T>;
  /** Shared Protocol value for a lower-case name or number (immutable, one object per protocol). */
  protocol(name: string, number: number | null): { name: string; number: number | null };
}

/** One option owner while parsing: a match or the target, with its resolved option spec. */
interface Owner {
  kind: 'match' | 'target';
  name: string;
  options: MatchOption[];
  /** undefined: not looked up yet. */
  spec: ResolvedSpec | null | undefined;
  /** Set when the parser reported a problem with this module's options (skip typed parsing). */
  flawed: boolean;
  match?: Match;
  target?: Target;
  /** Position in the rule's owner list (for recording). */
  index: number;
}

/** Per-rule side information the linker uses (not part of the model). */
export interface RuleExtra {
  /** Matches/target whose options the parser already complained about (typed parse is skipped for them). */
  flawed: Set<Match | Target> | null;
}

/** The parsed parts of a rule (what a lazily parsed rule materialises on first access). */
export interface RuleBody {
  ip: IpMatch;
  matches: Match[];
  target: Target | null;
}

/**
 * What a word of a rule was, recorded while parsing (for shape plans, ./plan.ts): a value slot of
 * the base match, the target's name, or argument `arg` of option `opt` of owner `owner` (owners
 * numbered in the order the parser created them: matches in rule order, the target where it was
 * given). Words not recorded are structural (options, `!`, module and protocol names).
 */
export type WordRole =
  | { role: 'src' | 'dst' | 'iif' | 'oif' | 'target' }
  | { role: 'arg'; owner: number; opt: number; arg: number };

/** One owner of a recorded parse: its kind, name and options (canonical names, negation, arity). */
export interface RecordedOwner {
  kind: 'match' | 'target';
  name: string;
  implicit: boolean;
  options: { name: string; negated: boolean; args: number }[];
}

const DASH = 45;

/**
 * Shared immutable values: a 400k-rule dump would otherwise hold hundreds of thousands of identical
 * empty arrays and zero counters. They are frozen so that an accidental mutation fails loudly
 * instead of changing every rule.
 */
export const EMPTY_OPTIONS: MatchOption[] = Object.freeze([]) as unknown as MatchOption[];
export const EMPTY_MATCHES: Match[] = Object.freeze([]) as unknown as Match[];
/** Match modules whose option values repeat across rules (worth sharing one object per distinct value). */
const SHARED_MODULES: ReadonlySet<string> = new Set([
  'tcp',
  'udp',
  'sctp',
  'icmp',
  'icmp6',
  'statistic',
  'mark',
  'connmark',
  'addrtype',
  'conntrack',
  'state',
  'multiport',
  'limit',
  'pkttype',
  'physdev',
  'owner',
  'set',
  'length',
  'ttl',
  'hl',
  'rt',
  'socket',
  'rpfilter',
]);

const EMPTY_ARGS: string[] = Object.freeze([]) as unknown as string[];
export const ZERO_COUNTERS: Counters = Object.freeze({ packets: 0, bytes: 0 });
export const EMPTY_IP: IpMatch = Object.freeze({});
const FRAGMENT: Negatable<true> = Object.freeze({ negated: false, value: true as const });
const FRAGMENT_NEG: Negatable<true> = Object.freeze({ negated: true, value: true as const });

/**
 * Base options (struct ipt_entry / ip6t_entry) by every spelling iptables accepts, as one letter
 * (s d i o p f m j g c), or 0 when the word is not a base option. A switch instead of a Map: no
 * string hashing for every word of every rule.
 */
function baseOption(word: string): number {
  if (word.length === 2) {
    const c = word.charCodeAt(1);
    switch (c) {
      case 115: // s
      case 100: // d
      case 105: // i
      case 111: // o
      case 112: // p
      case 102: // f
      case 109: // m
      case 106: // j
      case 103: // g
      case 99: // c
        return c;
      default:
        return 0;
    }
  }
  if (word.charCodeAt(1) !== DASH) return 0;
  switch (word) {
    case '--source':
    case '--src':
      return 115;
    case '--destination':
    case '--dst':
      return 100;
    case '--in-interface':
      return 105;
    case '--out-interface':
      return 111;
    case '--protocol':
      return 112;
    case '--fragment':
      return 102;
    case '--match':
      return 109;
    case '--jump':
      return 106;
    case '--goto':
      return 103;
    case '--set-counters':
      return 99;
    default:
      return 0;
  }
}

/** True for a non-empty run of decimal digits. */
export function isDigitsWord(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * An exact-size copy of a small array made with array literals: unlike `.slice()`, literals have
 * allocation sites, so V8 can allocate these long-lived arrays straight in old space
 * (pretenuring) instead of copying them through the young generation.
 */
export function exact<T>(a: T[]): T[] {
  switch (a.length) {
    case 1:
      return [a[0]];
    case 2:
      return [a[0], a[1]];
    case 3:
      return [a[0], a[1], a[2]];
    case 4:
      return [a[0], a[1], a[2], a[3]];
    default:
      return a.slice();
  }
}

/** Counters, sharing one frozen object for the common [0:0]. */
export function counterValue(packets: number, bytes: number): Counters {
  return packets === 0 && bytes === 0 ? ZERO_COUNTERS : { packets, bytes };
}

/**
 * Parses rule specifications; one instance per parse, reused for every rule (no per-rule closures).
 * State of the rule being parsed lives in fields reset by `parse`.
 */
export class RuleSpecParser {
  private w!: Words;
  private n = 0;
  private i = 0;
  private raw = '';
  private from = 0;
  private rec: (WordRole | undefined)[] | null = null;
  /** `-c PKTS BYTES` given inside the last parsed rule, else undefined. */
  counters: Counters | undefined = undefined;
  /** Owners of the last parsed rule when it was parsed with a record. */
  recordedOwners: RecordedOwner[] = [];
  private ip!: IpMatch;
  private matches: Match[] = [];
  /** Owners of the current rule (reused array) and a pool of owner objects reused between rules. */
  private owners: Owner[] = [];
  private ownerPool: Owner[] = [];
  private poolUsed = 0;
  /** Shared comment matches by comment text. */
  private readonly comments = new Map<string, Match>();
  private lastComment: Match | null = null;
  private lastCommentText = '';
  /** Shared matches of SHARED_MODULES by module, then by their options. */
  private readonly sharedMatches = new Map<string, Map<string, Match>>();
  /** Shared option-less targets of the current table, by name. */
  private readonly sharedJumps = new Map<string, Target>();
  private readonly sharedGotos = new Map<string, Target>();
  private sharedTargetsTable: TableName | null = null;
  /** Shared address-less IpMatch objects by their -p, -i and -o pairs. */
  private readonly sharedIps = new Map<unknown, Map<unknown, Map<unknown, IpMatch>>>();
  /** Matches/target of the last parsed rule whose options the parser complained about, or null. */
  flawed: Set<Match | Target> | null = null;
  private file = '';
  private line = 0;

  constructor(private readonly env: RuleParseEnv) {}

  private report(code: DiagnosticCode, i: number, message: string, t?: string): void {
    const w = this.w;
    const n = this.n;
    const col = i < n ? w.start[i] + 1 : i === n && n > 0 ? w.end[n - 1] + 1 : 1;
    this.env.report(diag(code, this.file, this.line, col, message, t ?? (i < n ? w.text[i] : this.raw)));
  }

  private markFlawed(o: Owner | undefined): void {
    if (!o) return;
    o.flawed = true;
    (this.flawed ??= new Set()).add((o.match ?? o.target)!);
  }

  /** An owner object from the pool (its options scratch array emptied). */
  private owner(kind: 'match' | 'target', name: string, spec: ResolvedSpec | null | undefined, match: Match | undefined, target: Target | undefined): Owner {
    let o = this.ownerPool[this.poolUsed];
    if (o === undefined) {
      o = { kind, name, options: [], spec, flawed: false, match, target, index: this.owners.length };
      this.ownerPool.push(o);
    } else {
      o.kind = kind;
      o.name = name;
      o.options.length = 0;
      o.spec = spec;
      o.flawed = false;
      o.match = match;
      o.target = target;
      o.index = this.owners.length;
    }
    this.poolUsed++;
    return o;
  }

  /** The spec of an owner, looked up on first need (most targets are chains and never need one). */
  private specOf(o: Owner): ResolvedSpec | null {
    if (o.spec === undefined) o.spec = o.kind === 'match' ? this.env.specs.match(o.name) : this.env.specs.target(o.name);
    return o.spec;
  }

  /**
   * The argument of a base option at this.i: its index, or -1 when missing. Handles the old
   * `-s ! ADDR` form (sets this.oldNeg).
   */
  private oldNeg = false;
  private takeArg(wordIndex: number, word: string, allowOldNeg: boolean): number {
    const w = this.w;
    this.oldNeg = false;
    if (allowOldNeg && this.i < this.n && !w.quoted[this.i] && w.text[this.i] === '!') {
      this.report('intrapositioned-negation', this.i, `"${word} ! value" is the old negation form; iptables-save prints "! ${word} value"`);
      this.oldNeg = true;
      this.i++;
    }
    if (this.i >= this.n) {
      this.report('missing-argument', wordIndex, `${word} needs an argument`);
      return -1;
    }
    return this.i++;
  }

  /**
   * Parse words [from, w.count) of a rule line into its body (base match, matches, target).
   * Never throws; problems become diagnostics and the body keeps whatever could be read. A `-c
   * PKTS BYTES` inside the rule is left in `this.counters` (undefined when absent). With `record`,
   * the role of every value word is written there (index = word index - from) and the owners into
   * `this.recordedOwners`.
   */
  parse(w: Words, from: number, table: TableName, file: string, line: number, raw: string, record?: (WordRole | undefined)[]): RuleBody {
    const env = this.env;
    this.w = w;
    this.n = w.count;
    this.i = from;
    this.from = from;
    this.file = file;
    this.line = line;
    this.raw = raw;
    this.rec = record ?? null;
    this.counters = undefined;
    const ip: IpMatch = {};
    this.ip = ip;
    const matches: Match[] = [];
    this.matches = matches;
    const owners = this.owners;
    owners.length = 0;
    this.poolUsed = 0;
    this.flawed = null;
    // All fields in the literal (one hidden class, no out-of-object property store).
    const rule: RuleBody = { ip, matches: EMPTY_MATCHES, target: null };
    const text = w.text;
    const quoted = w.quoted;
    const n = w.count;

    let negated = false;
    let negIndex = -1;
    while (this.i < n) {
      const i = this.i;
      const word = text[i];
      if (!quoted[i] && word === '!') {
        if (negated) this.report('bad-negation', i, 'double negation ("! !")');
        negated = true;
        negIndex = i;
        this.i++;
        continue;
      }
      if (quoted[i] || word.length < 2 || word.charCodeAt(0) !== DASH) {
        this.bareWord(negated);
        negated = false;
        continue;
      }
      const base = baseOption(word);
      const wordIndex = i;
      if (base !== 0) {
        this.i++;
        const neg = negated;
        negated = false;
        switch (base) {
          case 115: // -s
          case 100: {
            // -d
            const a = this.takeArg(wordIndex, word, true);
            if (a < 0) break;
            const value = text[a];
            const key = base === 115 ? 'src' : 'dst';
            if (this.rec !== null) this.rec[a - this.from] = { role: key };
            if (ip[key]) this.report('duplicate-option', wordIndex, `${word} given twice (multiple addresses need separate rules)`);
            if (value.includes(',')) {
              this.report('bad-address', a, `address lists ("${value}") expand to several rules in iptables; write one rule per address`);
              break;
            }
            const r = env.address(value);
            if (!r.ok) {
              this.report(r.message.includes('ruleset') ? 'family-mismatch' : 'bad-address', a, r.message);
              break;
            }
            ip[key] = env.negatable(r.cidr, neg || this.oldNeg);
            env.sawAddress(r.cidr.family);
            break;
          }
          case 105: // -i
          case 111: {
            // -o
            const a = this.takeArg(wordIndex, word, true);
            if (a < 0) break;
            const value = text[a];
            const key = base === 105 ? 'iif' : 'oif';
            if (this.rec !== null) this.rec[a - this.from] = { role: key };
            if (ip[key]) this.report('duplicate-option', wordIndex, `${word} given twice`);
            if (value.length > MAX_IFNAME || value.length === 0) {
              this.report('bad-interface', a, `interface name "${value}" is longer than ${MAX_IFNAME} characters`);
            }
            ip[key] = env.negatable(env.intern(value), neg || this.oldNeg);
            break;
          }
          case 112: {
            // -p
            const a = this.takeArg(wordIndex, word, true);
            if (a < 0) break;
            const value = text[a];
            if (ip.proto) this.report('duplicate-option', wordIndex, `${word} given twice`);
            let num: number | null = null;
            let lower = value;
            if (isDigitsWord(value)) {
              num = Number(value);
              if (num > 255) {
                this.report('bad-protocol', a, `protocol number ${num} out of range (0-255)`);
                break;
              }
            } else {
              let k = PROTOCOL_NUMBERS.get(value);
              if (k === undefined) {
                lower = value.toLowerCase();
                k = PROTOCOL_NUMBERS.get(lower);
              }
              // Unknown: kept by name (null number) so nothing is lost.
              if (k === undefined) this.report('bad-protocol', a, `unknown protocol "${value}"`);
              else num = k;
            }
            if (num === 58) env.hint('ipv6');
            ip.proto = env.negatable(env.protocol(lower, num), neg || this.oldNeg);
            break;
          }
          case 102: // -f
            if (ip.fragment) this.report('duplicate-option', wordIndex, `${word} given twice`);
            ip.fragment = neg ? FRAGMENT_NEG : FRAGMENT;
            env.hint('ipv4');
            break;
          case 109: {
            // -m
            if (neg) this.report('bad-negation', negIndex, '"!" cannot negate -m (negate the module\'s options instead)');
            if (this.i >= n) {
              this.report('missing-argument', wordIndex, `${word} needs a module name`);
              break;
            }
            const spec = env.specs.match(text[this.i]);
            const name = spec ? spec.name : env.intern(text[this.i]);
            this.i++;
            if (Object.hasOwn(FAMILY_ONLY_MATCHES, name)) env.hint(FAMILY_ONLY_MATCHES[name]);
            const m: Match = { module: name, options: EMPTY_OPTIONS, implicit: undefined, typed: undefined };
            matches.push(m);
            owners.push(this.owner('match', name, spec, m, undefined));
            break;
          }
          case 106: // -j
          case 103: {
            // -g
            if (neg) this.report('bad-negation', negIndex, `"!" cannot negate ${word}`);
            if (this.i >= n) {
              this.report('missing-argument', wordIndex, `${word} needs a target name`);
              break;
            }
            if (rule.target) this.report('duplicate-option', wordIndex, `a rule has one target; "${rule.target.name}" was already given`);
            // Extension names are made shared strings, chain names the chain's own string, when linked.
            const name = text[this.i];
            if (this.rec !== null) this.rec[this.i - this.from] = { role: 'target' };
            const t: Target = {
              name,
              kind: 'extension',
              goto: base === 103,
              options: EMPTY_OPTIONS,
              typed: undefined,
            };
            this.i++;
            rule.target = t;
            owners.push(this.owner('target', name, undefined, undefined, t));
            break;
          }
          case 99: {
            // -c PKTS BYTES inside the rule (iptables-restore accepts it like the [p:b] prefix).
            const j = this.i;
            if (j + 1 >= n || !isDigitsWord(text[j]) || !isDigitsWord(text[j + 1])) {
              this.report('bad-counters', wordIndex, `${word} needs two numbers (packets bytes)`);
              this.i = Math.min(n, j + 2);
              break;
            }
            this.counters = counterValue(Number(text[j]), Number(text[j + 1]));
            this.i += 2;
            break;
          }
        }
        continue;
      }
      this.extensionOption(word, wordIndex, negated);
      negated = false;
    }
    if (negated) this.report('bad-negation', negIndex, '"!" at the end of the rule negates nothing');
    if (this.rec !== null) {
      this.recordedOwners = owners.map((o) => ({
        kind: o.kind,
        name: o.name,
        implicit: o.match?.implicit === true,
        options: o.options.map((x) => ({ name: x.name, negated: x.negated, args: x.args.length })),
      }));
    }
    // Hand the options over in exact-size arrays (pushed-to arrays keep spare capacity).
    let mi = -1;
    for (const o of owners) {
      if (o.match) mi++;
      if (!o.flawed) {
        // Identical low-cardinality matches (`-m tcp`, `-m statistic --mode random --probability
        // 0.1…`, `-m mark ! --mark 0x4000/0x4000`) and option-less targets (`-j KUBE-MARK-MASQ`,
        // `-j ACCEPT`) are shared, immutable objects: big dumps repeat them hundreds of thousands
        // of times. Modules with mostly unique values (DNAT addresses…) are not worth a lookup.
        if (o.match && SHARED_MODULES.has(o.name)) {
          let key = o.match.implicit ? '+' : '-';
          for (const opt of o.options) {
            key += (opt.negated ? '!' : ' ') + opt.name;
            for (const a of opt.args) key += '\u0001' + a;
            key += '\u0002';
          }
          let map = this.sharedMatches.get(o.name);
          if (map === undefined) this.sharedMatches.set(o.name, (map = new Map()));
          const got = map.get(key);
          if (got !== undefined) {
            matches[mi] = got;
            continue;
          }
          map.set(key, o.match);
        } else if (o.target && o.target === rule.target && o.options.length === 0) {
          if (this.sharedTargetsTable !== table) {
            // A target's kind depends on the table's chains: share within one table only.
            this.sharedJumps.clear();
            this.sharedGotos.clear();
            this.sharedTargetsTable = table;
          }
          const map = o.target.goto ? this.sharedGotos : this.sharedJumps;
          const got = map.get(o.target.name);
          if (got !== undefined) rule.target = got;
          else map.set(o.target.name, o.target);
          continue;
        }
      }
      if (o.options.length === 0) continue;
      if (o.match && o.name === 'comment' && !o.flawed && o.options.length === 1 && !o.match.implicit) {
        // `-m comment --comment TEXT` is in nearly every kube-proxy rule and the same TEXT repeats
        // across a Service's rules: one shared (immutable) Match per distinct comment.
        const opt = o.options[0];
        if (opt.name === 'comment' && !opt.negated && opt.args.length === 1) {
          const c = opt.args[0];
          // Consecutive rules (a KUBE-SEP chain's two rules) usually carry the same comment: compare
          // with the previous one before hashing into the big map.
          if (this.lastComment !== null && this.lastCommentText === c) {
            matches[mi] = this.lastComment;
            continue;
          }
          let got = this.comments.get(c);
          if (got === undefined) {
            o.match.options = [opt];
            this.comments.set(c, o.match);
            got = o.match;
          } else {
            matches[mi] = got;
          }
          this.lastComment = got;
          this.lastCommentText = c;
          continue;
        }
      }
      if (o.match) o.match.options = exact(o.options);
      else if (o.target) o.target.options = exact(o.options);
    }
    if (matches.length > 0) rule.matches = exact(matches);
    if (ip.src === undefined && ip.dst === undefined && ip.fragment === undefined) {
      if (ip.iif === undefined && ip.oif === undefined && ip.proto === undefined) rule.ip = EMPTY_IP;
      else rule.ip = this.sharedIp(ip);
    }
    return rule;
  }

  /** Record words [first, first + count) as the arguments of the option being added to `owner`. */
  private recordArgs(owner: Owner, first: number, count: number): void {
    const rec = this.rec!;
    for (let k = 0; k < count; k++) rec[first + k - this.from] = { role: 'arg', owner: owner.index, opt: owner.options.length, arg: k };
  }

  /**
   * One shared, frozen IpMatch per combination of (shared, frozen) -p/-i/-o pairs: most rules of
   * big dumps have no address and only `-p tcp` (kube-proxy's DNAT rules), so one object serves
   * them all instead of one per rule.
   */
  private sharedIp(ip: IpMatch): IpMatch {
    const { proto, iif, oif } = ip;
    if ((proto && !Object.isFrozen(proto)) || (iif && !Object.isFrozen(iif)) || (oif && !Object.isFrozen(oif))) return ip;
    let byIif = this.sharedIps.get(proto ?? null);
    if (byIif === undefined) this.sharedIps.set(proto ?? null, (byIif = new Map()));
    let byOif = byIif.get(iif ?? null);
    if (byOif === undefined) byIif.set(iif ?? null, (byOif = new Map()));
    const got = byOif.get(oif ?? null);
    if (got !== undefined) return got;
    byOif.set(oif ?? null, Object.freeze(ip));
    return ip;
  }

  /** A word where an option is expected (at this.i). */
  private bareWord(negated: boolean): void {
    const w = this.w;
    const text = w.text;
    const quoted = w.quoted;
    const n = this.n;
    const owners = this.owners;
    // Unquoted multi-word values of string options (kube-proxy's fake iptables writes
    // `--comment kubernetes service portals`) are joined into one value.
    const last = owners.length ? owners[owners.length - 1] : undefined;
    const lastOpt = last && last.options.length ? last.options[last.options.length - 1] : undefined;
    if (last && lastOpt && isSaveString(last.name, lastOpt.name) && lastOpt.args.length === 1 && !negated) {
      const first = this.i;
      let joined = lastOpt.args[0];
      while (this.i < n && !(quoted[this.i] === false && (text[this.i] === '!' || (text[this.i].length > 1 && text[this.i].charCodeAt(0) === DASH)))) {
        joined += ' ' + text[this.i];
        this.i++;
      }
      lastOpt.args = [joined];
      this.report(
        'unquoted-argument',
        first,
        `unquoted words after --${lastOpt.name}: read as one value "${joined}"; iptables-restore would reject this line (quote the value)`,
      );
      return;
    }
    this.report('unexpected-argument', this.i, `unexpected word "${text[this.i]}" (iptables: Bad argument)`);
    this.i++;
  }

  /** An extension option `--name` / `-x` at this.i: find its owner, read its arguments. */
  private extensionOption(word: string, wordIndex: number, neg: boolean): void {
    const env = this.env;
    const w = this.w;
    const text = w.text;
    const quoted = w.quoted;
    const n = this.n;
    const owners = this.owners;
    const ip = this.ip;
    const isLong = word.charCodeAt(1) === DASH;
    let owner: Owner | undefined;
    let canonical: string | null = null;
    // 1. The most recent known module that has the option (exact spelling: one map lookup).
    if (isLong) {
      for (let k = owners.length - 1; k >= 0; k--) {
        const o = owners[k];
        const spec = this.specOf(o);
        if (spec === null) continue;
        const c = spec.byWord.get(word);
        if (c !== undefined) {
          owner = o;
          canonical = c;
          break;
        }
      }
    }
    const optName = isLong ? word.slice(2) : word.slice(1);
    // 1b. Abbreviations (getopt prefixes) and short aliases.
    if (!owner) {
      for (let k = owners.length - 1; k >= 0; k--) {
        const o = owners[k];
        const spec = this.specOf(o);
        if (spec === null) continue;
        const c = resolveOption(spec, optName, !isLong);
        if (c !== null) {
          owner = o;
          canonical = c;
          break;
        }
      }
    }
    // 2. The most recent module nobody knows (it may take anything).
    if (!owner) {
      for (let k = owners.length - 1; k >= 0; k--) {
        if (this.specOf(owners[k]) === null) {
          owner = owners[k];
          canonical = env.intern(optName);
          break;
        }
      }
    }
    // 3. The implicit protocol match (`-p tcp --dport 80`), loaded once.
    if (!owner && ip.proto && !ip.proto.negated) {
      const mod = implicitProtocolModule(ip.proto.value.number, ip.proto.value.name);
      if (mod && !this.matches.some((m) => m.module === mod)) {
        const spec = env.specs.match(mod);
        const c = spec === null ? env.intern(optName) : resolveOption(spec, optName, !isLong);
        if (c !== null) {
          const m: Match = {
            module: spec ? spec.name : mod,
            options: EMPTY_OPTIONS,
            implicit: true,
            typed: undefined,
          };
          this.matches.push(m);
          owner = this.owner('match', m.module, spec, m, undefined);
          owners.push(owner);
          canonical = c;
        }
      }
    }
    let arity: Arity;
    if (!owner) {
      const last = owners.length ? owners[owners.length - 1] : undefined;
      this.report(
        'unknown-option',
        wordIndex,
        last
          ? `unknown option "${word}" (not an option of ${owners.map((o) => (o.kind === 'match' ? `-m ${o.name}` : `-j ${o.name}`)).join(', ')})`
          : `unknown option "${word}"${ip.proto ? '' : ' (a protocol option needs -p or -m)'}`,
      );
      this.i++;
      if (!last) {
        // Nothing to keep it on: skip its arguments.
        while (this.i < n && (quoted[this.i] || (text[this.i] !== '!' && !(text[this.i].length > 1 && text[this.i].charCodeAt(0) === DASH)))) this.i++;
        return;
      }
      owner = last;
      this.markFlawed(owner);
      canonical = env.intern(optName);
      arity = 'greedy';
    } else {
      this.i++;
      const spec = this.specOf(owner);
      arity = spec === null ? 'greedy' : arityOf(spec, canonical!);
    }
    const opt: MatchOption = { name: canonical!, negated: neg, args: EMPTY_ARGS };
    let i = this.i;
    if (arity === 'greedy') {
      const args: string[] = [];
      while (i < n) {
        if (!quoted[i] && text[i] === '!') {
          // Old form `--opt ! value`, or `!` negating the next option.
          if (args.length === 0 && i + 1 < n && (quoted[i + 1] || text[i + 1].charCodeAt(0) !== DASH)) {
            this.report('intrapositioned-negation', i, `"${word} ! value" is the old negation form; iptables-save prints "! ${word} value"`);
            opt.negated = true;
            i++;
            continue;
          }
          break;
        }
        if (!quoted[i] && text[i].length > 1 && text[i].charCodeAt(0) === DASH && !(text[i].charCodeAt(1) >= 48 && text[i].charCodeAt(1) <= 57)) break;
        args.push(text[i]);
        i++;
      }
      // Exact-size array (a pushed-to array keeps spare capacity; 400k rules notice).
      if (args.length > 0) opt.args = exact(args);
      if (this.rec !== null) this.recordArgs(owner, this.i, args.length);
    } else if (arity > 0) {
      if (i < n && !quoted[i] && text[i] === '!') {
        this.report('intrapositioned-negation', i, `"${word} ! value" is the old negation form; iptables-save prints "! ${word} value"`);
        opt.negated = true;
        i++;
      }
      if (i + arity > n) {
        this.report('missing-argument', wordIndex, `${word} needs ${arity === 2 ? 'two arguments' : 'an argument'}`);
        this.markFlawed(owner);
        if (i < n) opt.args = [text[i++]];
      } else if (arity === 1) {
        opt.args = [text[i]];
        if (this.rec !== null) this.recordArgs(owner, i, 1);
        i++;
      } else {
        opt.args = [text[i], text[i + 1]];
        if (this.rec !== null) this.recordArgs(owner, i, 2);
        i += 2;
      }
    }
    this.i = i;
    owner.options.push(opt);
  }
}
