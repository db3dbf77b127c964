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
import type { Counters, Diagnostic, Family, IpMatch, Match, MatchOption, Rule, Span, TableName, Target } from '../model.js';
import { parseCidr } from './address.js';
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
}

/** One option owner while parsing: a match or the target, with its resolved option spec. */
interface Owner {
  kind: 'match' | 'target';
  name: string;
  options: MatchOption[];
  spec: ResolvedSpec | null;
  /** Set when the parser reported a problem with this module's options (skip typed parsing). */
  flawed: boolean;
  match?: Match;
  target?: Target;
}

/** Per-rule side information the linker uses (not part of the model). */
export interface RuleExtra {
  /** Owners whose options the parser already complained about (typed parse is skipped for them). */
  flawed: Set<Match | Target> | null;
  /** 1-based column of the target name word. */
  targetColumn: number;
}

const DASH = 45;

/** Base options (struct ipt_entry / ip6t_entry) by every spelling iptables accepts. */
const BASE: ReadonlyMap<string, string> = new Map([
  ['-s', 's'],
  ['--source', 's'],
  ['--src', 's'],
  ['-d', 'd'],
  ['--destination', 'd'],
  ['--dst', 'd'],
  ['-i', 'i'],
  ['--in-interface', 'i'],
  ['-o', 'o'],
  ['--out-interface', 'o'],
  ['-p', 'p'],
  ['--protocol', 'p'],
  ['-f', 'f'],
  ['--fragment', 'f'],
  ['-m', 'm'],
  ['--match', 'm'],
  ['-j', 'j'],
  ['--jump', 'j'],
  ['-g', 'g'],
  ['--goto', 'g'],
  ['-c', 'c'],
  ['--set-counters', 'c'],
]);

const BASE_LONG_NAMES: Record<string, string> = {
  s: '-s',
  d: '-d',
  i: '-i',
  o: '-o',
  p: '-p',
  f: '-f',
  m: '-m',
  j: '-j',
  g: '-g',
  c: '-c',
};

/**
 * Parse words [from, w.count) of a rule line. Never throws; problems become diagnostics and the
 * rule keeps whatever could be read.
 */
export function parseRuleSpec(
  w: Words,
  from: number,
  table: TableName,
  chain: string,
  span: Span,
  raw: string,
  counters: Counters | undefined,
  env: RuleParseEnv,
): { rule: Rule; extra: RuleExtra } {
  const ip: IpMatch = {};
  const matches: Match[] = [];
  let target: Target | null = null;
  const rule: Rule = { table, chain, position: 0, ip, matches, target: null, span, raw };
  if (counters) rule.counters = counters;
  const extra: RuleExtra = { flawed: null, targetColumn: 0 };
  const owners: Owner[] = [];
  const line = span.line;
  const file = span.file;
  const text = w.text;
  const starts = w.start;
  const quoted = w.quoted;
  const n = w.count;

  const report = (code: DiagnosticCode, i: number, message: string, t?: string): void => {
    const col = i < n ? starts[i] + 1 : i === n && n > 0 ? w.end[n - 1] + 1 : 1;
    env.report(diag(code, file, line, col, message, t ?? (i < n ? text[i] : raw)));
  };
  const markFlawed = (o: Owner | undefined): void => {
    if (!o) return;
    o.flawed = true;
    (extra.flawed ??= new Set()).add((o.match ?? o.target)!);
  };

  let negated = false;
  let negIndex = -1;
  let i = from;
  while (i < n) {
    const word = text[i];
    if (!quoted[i] && word === '!') {
      if (negated) report('bad-negation', i, 'double negation ("! !")');
      negated = true;
      negIndex = i;
      i++;
      continue;
    }
    if (quoted[i] || word.length < 2 || word.charCodeAt(0) !== DASH) {
      // A bare word where an option is expected. Unquoted multi-word values of string options
      // (kube-proxy's fake iptables writes `--comment kubernetes service portals`) are joined.
      const last = owners.length ? owners[owners.length - 1] : undefined;
      const lastOpt = last && last.options.length ? last.options[last.options.length - 1] : undefined;
      if (lastOpt && isSaveString(last!.name, lastOpt.name) && lastOpt.args.length === 1 && !negated) {
        const first = i;
        let joined = lastOpt.args[0];
        while (i < n && !(quoted[i] === false && (text[i] === '!' || (text[i].length > 1 && text[i].charCodeAt(0) === DASH)))) {
          joined += ' ' + text[i];
          i++;
        }
        lastOpt.args[0] = joined;
        report(
          'unquoted-argument',
          first,
          `unquoted words after --${lastOpt.name}: read as one value "${joined}"; iptables-restore would reject this line (quote the value)`,
        );
        continue;
      }
      report('unexpected-argument', i, `unexpected word "${word}" (iptables: Bad argument)`);
      if (negated) negated = false;
      i++;
      continue;
    }
    const base = BASE.get(word);
    const wordIndex = i;
    if (base !== undefined) {
      i++;
      const neg = negated;
      negated = false;
      // Options that take an argument; the old form `-s ! ADDR` is still accepted by iptables.
      const takeArg = (): { value: string; index: number; neg: boolean } | null => {
        let oldNeg = false;
        if (i < n && !quoted[i] && text[i] === '!' && base !== 'j' && base !== 'g' && base !== 'm') {
          report('intrapositioned-negation', i, `"${word} ! value" is the old negation form; iptables-save prints "! ${BASE_LONG_NAMES[base]} value"`);
          oldNeg = true;
          i++;
        }
        if (i >= n) {
          report('missing-argument', wordIndex, `${word} needs an argument`);
          return null;
        }
        const r = { value: text[i], index: i, neg: oldNeg };
        i++;
        return r;
      };
      switch (base) {
        case 's':
        case 'd': {
          const a = takeArg();
          if (!a) break;
          const key = base === 's' ? 'src' : 'dst';
          if (ip[key]) report('duplicate-option', wordIndex, `${word} given twice (multiple addresses need separate rules)`);
          if (a.value.includes(',')) {
            report('bad-address', a.index, `address lists ("${a.value}") expand to several rules in iptables; write one rule per address`);
            break;
          }
          const r = parseCidr(a.value, env.family);
          if (!r.ok) {
            report(r.message.includes('ruleset') ? 'family-mismatch' : 'bad-address', a.index, r.message);
            break;
          }
          ip[key] = { negated: neg || a.neg, value: r.cidr };
          env.sawAddress(r.cidr.family);
          break;
        }
        case 'i':
        case 'o': {
          const a = takeArg();
          if (!a) break;
          const key = base === 'i' ? 'iif' : 'oif';
          if (ip[key]) report('duplicate-option', wordIndex, `${word} given twice`);
          if (a.value.length > MAX_IFNAME || a.value.length === 0) {
            report('bad-interface', a.index, `interface name "${a.value}" is longer than ${MAX_IFNAME} characters`);
          }
          ip[key] = { negated: neg || a.neg, value: env.intern(a.value) };
          break;
        }
        case 'p': {
          const a = takeArg();
          if (!a) break;
          if (ip.proto) report('duplicate-option', wordIndex, `${word} given twice`);
          const lower = a.value.toLowerCase();
          let num: number | null = null;
          if (/^[0-9]+$/.test(lower)) {
            num = Number(lower);
            if (num > 255) {
              report('bad-protocol', a.index, `protocol number ${num} out of range (0-255)`);
              break;
            }
          } else {
            const k = PROTOCOL_NUMBERS.get(lower);
            if (k === undefined) {
              report('bad-protocol', a.index, `unknown protocol "${a.value}"`);
              // Keep it by name (null number) so nothing is lost.
            } else num = k;
          }
          if (num === 58) env.hint('ipv6');
          ip.proto = { negated: neg || a.neg, value: { name: env.intern(lower), number: num } };
          break;
        }
        case 'f': {
          if (ip.fragment) report('duplicate-option', wordIndex, `${word} given twice`);
          ip.fragment = { negated: neg, value: true };
          env.hint('ipv4');
          break;
        }
        case 'm': {
          if (neg) report('bad-negation', negIndex, '"!" cannot negate -m (negate the module\'s options instead)');
          if (i >= n) {
            report('missing-argument', wordIndex, `${word} needs a module name`);
            break;
          }
          const name = env.intern(text[i]);
          i++;
          if (Object.hasOwn(FAMILY_ONLY_MATCHES, name)) env.hint(FAMILY_ONLY_MATCHES[name]);
          const m: Match = { module: name, options: [], span: { file, line, column: starts[wordIndex] + 1 } };
          matches.push(m);
          owners.push({ kind: 'match', name, options: m.options, spec: env.specs.match(name), flawed: false, match: m });
          break;
        }
        case 'j':
        case 'g': {
          if (neg) report('bad-negation', negIndex, `"!" cannot negate ${word}`);
          if (i >= n) {
            report('missing-argument', wordIndex, `${word} needs a target name`);
            break;
          }
          if (target) report('duplicate-option', wordIndex, `a rule has one target; "${target.name}" was already given`);
          const name = env.intern(text[i]);
          extra.targetColumn = starts[i] + 1;
          i++;
          const t: Target = {
            name,
            kind: 'extension',
            goto: base === 'g',
            options: [],
            span: { file, line, column: starts[wordIndex] + 1 },
          };
          target = t;
          rule.target = t;
          owners.push({ kind: 'target', name, options: t.options, spec: env.specs.target(name), flawed: false, target: t });
          break;
        }
        case 'c': {
          // -c PKTS BYTES inside the rule (iptables-restore accepts it like the [p:b] prefix).
          if (i + 1 >= n || !/^[0-9]+$/.test(text[i]) || !/^[0-9]+$/.test(text[i + 1])) {
            report('bad-counters', wordIndex, `${word} needs two numbers (packets bytes)`);
            i = Math.min(n, i + 2);
            break;
          }
          rule.counters = { packets: Number(text[i]), bytes: Number(text[i + 1]) };
          i += 2;
          break;
        }
      }
      continue;
    }

    // An extension option: --name or -x.
    const isLong = word.charCodeAt(1) === DASH;
    const optName = isLong ? word.slice(2) : word.slice(1);
    const neg = negated;
    negated = false;
    let owner: Owner | undefined;
    let canonical: string | null = null;
    // 1. The most recent known module that has the option.
    for (let k = owners.length - 1; k >= 0; k--) {
      const o = owners[k];
      if (o.spec === null) continue;
      const c = resolveOption(o.spec, optName, !isLong);
      if (c !== null) {
        owner = o;
        canonical = c;
        break;
      }
    }
    // 2. The most recent module nobody knows (it may take anything).
    if (!owner) {
      for (let k = owners.length - 1; k >= 0; k--) {
        if (owners[k].spec === null) {
          owner = owners[k];
          canonical = optName;
          break;
        }
      }
    }
    // 3. The implicit protocol match (`-p tcp --dport 80`), loaded once.
    if (!owner && ip.proto && !ip.proto.negated) {
      const mod = implicitProtocolModule(ip.proto.value.number, ip.proto.value.name);
      if (mod && !matches.some((m) => m.module === mod)) {
        const spec = env.specs.match(mod);
        const c = spec === null ? optName : resolveOption(spec, optName, !isLong);
        if (c !== null) {
          const m: Match = { module: mod, options: [], implicit: true, span: { file, line, column: starts[wordIndex] + 1 } };
          matches.push(m);
          owner = { kind: 'match', name: mod, options: m.options, spec, flawed: false, match: m };
          owners.push(owner);
          canonical = c;
        }
      }
    }
    let arity: Arity;
    if (!owner) {
      const last = owners.length ? owners[owners.length - 1] : undefined;
      report(
        'unknown-option',
        wordIndex,
        last
          ? `unknown option "${word}" (not an option of ${owners.map((o) => (o.kind === 'match' ? `-m ${o.name}` : `-j ${o.name}`)).join(', ')})`
          : `unknown option "${word}"${ip.proto ? '' : ' (a protocol option needs -p or -m)'}`,
      );
      if (!last) {
        // Nothing to keep it on: skip its arguments.
        i++;
        while (i < n && (quoted[i] || (text[i] !== '!' && !(text[i].length > 1 && text[i].charCodeAt(0) === DASH)))) i++;
        continue;
      }
      owner = last;
      markFlawed(owner);
      canonical = optName;
      arity = 'greedy';
    } else {
      arity = owner.spec === null ? 'greedy' : arityOf(owner.spec, canonical!);
    }
    i++;
    const opt: MatchOption = {
      name: env.intern(canonical!),
      negated: neg,
      args: [],
      span: { file, line, column: starts[wordIndex] + 1 },
    };
    if (arity === 'greedy') {
      while (i < n) {
        if (!quoted[i] && text[i] === '!') {
          // Old form `--opt ! value`, or `!` negating the next option.
          if (opt.args.length === 0 && i + 1 < n && (quoted[i + 1] || text[i + 1].charCodeAt(0) !== DASH)) {
            report('intrapositioned-negation', i, `"${word} ! value" is the old negation form; iptables-save prints "! ${word} value"`);
            opt.negated = true;
            i++;
            continue;
          }
          break;
        }
        if (!quoted[i] && text[i].length > 1 && text[i].charCodeAt(0) === DASH && !/^-[0-9]/.test(text[i])) break;
        opt.args.push(env.intern(text[i]));
        i++;
      }
    } else if (arity > 0) {
      if (i < n && !quoted[i] && text[i] === '!') {
        report('intrapositioned-negation', i, `"${word} ! value" is the old negation form; iptables-save prints "! ${word} value"`);
        opt.negated = true;
        i++;
      }
      for (let k = 0; k < arity; k++) {
        if (i >= n) {
          report('missing-argument', wordIndex, `${word} needs ${arity === 2 ? 'two arguments' : 'an argument'}`);
          markFlawed(owner);
          break;
        }
        opt.args.push(env.intern(text[i]));
        i++;
      }
    }
    owner.options.push(opt);
  }
  if (negated) report('bad-negation', negIndex, '"!" at the end of the rule negates nothing');
  return { rule, extra };
}
