/**
 * The iptables-save / iptables-restore file parser: `*table` … `COMMIT` blocks, `:CHAIN POLICY
 * [p:b]` declarations, `[p:b]` rule counters, `#` comments, and the commands restore files use
 * (-A -I -D -R -N -P -F -X -Z). Line by line; a bad line becomes a diagnostic and the parser
 * resumes at the next one. Linking (positions, references, target kinds, typed extension parsing)
 * happens in ./link.ts once the whole file (and so the family) is known.
 */
import type { Chain, Counters, Diagnostic, Family, Negatable, ParseResult, Policy, Rule, Ruleset, Span, Table, TableName } from '../model.js';
import { TABLE_HOOKS, TABLE_NAMES } from '../model.js';
import { diag, type DiagnosticCode } from './diagnostics.js';
import { MAX_CHAIN_NAME } from './known.js';
import { Linker, linkRuleset } from './link.js';
import { JUMP_GOTO, JUMP_HAS_OPTIONS, parsedRule, type ChainContext, type ParsedRule, type RuleMaterializer } from './parsed-rule.js';
import { checkPlan, createScannedWords, fillValues, makePlan, sameShape, scanRule, shapeOfScan, type Plan, type PlanEnv, type Shape } from './plan.js';
import { cidrOk, parseCidr, type AddressParse } from './address.js';
import { counterValue, exact, isDigitsWord, RuleSpecParser, type RecordedOwner, type RuleBody, type RuleExtra, type RuleParseEnv, type WordRole } from './rule.js';
import { SpecCache } from './specs.js';
import { createWords, tokenize, type Words } from './tokenize.js';

/** Options of parseRuleset. */
export interface ParseOptions {
  /** Name used in spans and diagnostics (a path, `-`, `live`). */
  file: string;
  /** Family when the caller knows it; otherwise detected (header, addresses, ip6-only modules; default ipv4). */
  family?: Family;
  /** Stop recording diagnostics after this many (default 1000); a final one says how many were dropped. */
  maxDiagnostics?: number;
  /**
   * Keep rules whose shape and values have been checked as raw text, parsed on first access
   * (default true). The diagnostics are the same either way; false builds every rule's objects
   * while reading and reads every line through the tokenizer (the reference the fast paths are
   * tested against).
   */
  lazy?: boolean;
}

/** Table state while parsing. */
export interface TableBuild {
  table: Table;
  /**
   * The table's chains (its `table.chains`): the builtin chains first (always all of them, created
   * implicitly, in hook order), then user chains in declaration order.
   */
  chains: Map<string, Chain>;
  /** The chains in insertion order (the order iptables-save prints their rules in), while no chain was deleted. */
  order: Chain[] | null;
  /** The rules' context of each chain of `order`. */
  contexts: ChainContext[];
  committed: boolean;
  headerLine: number;
}

const HASH = 35;
const STAR = 42;
const COLON = 58;
const BRACKET = 91;
const DASH = 45;
const SPACE_CODE = 32;
const QUOTE_CODE = 34;

function isBuiltinName(name: string): boolean {
  return name === 'PREROUTING' || name === 'INPUT' || name === 'FORWARD' || name === 'OUTPUT' || name === 'POSTROUTING';
}

/** Parse `[pkts:bytes]`; null when malformed. */
function parseCounters(s: string): Counters | null {
  if (s.length < 5 || s.charCodeAt(0) !== BRACKET || s.charCodeAt(s.length - 1) !== 93) return null;
  const colon = s.indexOf(':');
  if (colon < 0) return null;
  const p = s.slice(1, colon);
  const b = s.slice(colon + 1, s.length - 1);
  if (!isDigitsWord(p) || !isDigitsWord(b)) return null;
  return counterValue(Number(p), Number(b));
}


/**
 * True when the line holds NUL bytes: no text dump has them (binary data). Other control
 * characters and U+FFFD are kept: a quoted comment may hold them and iptables accepts that.
 */
function hasBinary(line: string): boolean {
  return line.indexOf('\0') >= 0;
}

/**
 * Parse a whole dump. Never throws on input: every problem is a diagnostic, and the ruleset holds
 * everything that could be read.
 */
export function parseRuleset(text: string, opts: ParseOptions): ParseResult {
  const file = opts.file;
  const maxDiags = opts.maxDiagnostics ?? 1000;
  const diagnostics: Diagnostic[] = [];
  let dropped = 0;
  // Quiet while a lazily kept rule is materialised: its diagnostics were found when it was read.
  let quiet = false;
  const report = (d: Diagnostic): void => {
    if (quiet) return;
    if (diagnostics.length < maxDiags) diagnostics.push(d);
    else dropped++;
  };
  const at = (code: DiagnosticCode, line: number, column: number, message: string, t: string): void =>
    report(diag(code, file, line, column, message, t));

  let family: Family | undefined = opts.family;
  let familyStrong = family !== undefined;
  let hint: Family | undefined;
  const tables = new Map<TableName, TableBuild>();
  const extras = new Map<Rule, RuleExtra>();
  const internMap = new Map<string, string>();
  const protocols = new Map<string | number, { name: string; number: number | null }>();
  const addresses = new Map<string, AddressParse>();
  let addressFamily: Family | undefined = family;
  const negatables = new Map<unknown, [Negatable<unknown>, Negatable<unknown>]>();
  const sharedValues = new WeakSet<object>();
  const intern = (s: string): string => {
    if (s.length > 32) return s;
    const got = internMap.get(s);
    if (got !== undefined) return got;
    // Flatten a sliced string so the interned copy does not keep the whole line alive.
    const flat = (' ' + s).slice(1);
    if (internMap.size < 200_000) internMap.set(flat, flat);
    return flat;
  };
  const env: RuleParseEnv = {
    file,
    family,
    specs: new SpecCache(),
    report,
    sawAddress(f) {
      // The first address decides the family when no header said it; later ones are checked against it.
      if (!familyStrong) {
        family = f;
        familyStrong = true;
        env.family = f;
      }
    },
    hint(f) {
      hint ??= f;
    },
    intern,
    address(t) {
      // The result depends on the family (mismatch errors): the cache is for one family state.
      // Only network prefixes are cached: they repeat (`! -s 10.244.0.0/16` in every Service
      // chain), while host addresses are mostly unique and a cache would only cost time.
      const host = t.endsWith('/32') || t.endsWith('/128');
      if (host) return parseCidr(t, env.family);
      if (addressFamily !== env.family) {
        addresses.clear();
        addressFamily = env.family;
      }
      let r = addresses.get(t);
      if (r === undefined) {
        r = parseCidr(t, env.family);
        addresses.set(t, r);
        if (r.ok) sharedValues.add(r.cidr);
      }
      return r;
    },
    negatable<T>(value: T, negated: boolean): Negatable<T> {
      // Shared pairs only for values that are themselves shared (strings, protocols, cached
      // prefixes); a one-off value gets its own small object.
      if (typeof value === 'object' && value !== null && !sharedValues.has(value)) return { negated, value };
      let pair = negatables.get(value) as [Negatable<T>, Negatable<T>] | undefined;
      if (!pair) {
        pair = [Object.freeze({ negated: false, value }), Object.freeze({ negated: true, value })];
        negatables.set(value, pair);
      }
      return pair[negated ? 1 : 0];
    },
    protocol(name, number) {
      const key = number === null ? name : number === 58 || number === 0 ? name : number;
      let p = protocols.get(key);
      if (!p) {
        p = { name: intern(name), number };
        protocols.set(key, p);
        sharedValues.add(p);
      }
      return p;
    },
  };

  const ruleParser = new RuleSpecParser(env);
  const lazy = opts.lazy !== false;

  // Lazily kept rules are parsed again from their raw line on first access: during the parse
  // (a `-D` that compares rules) only parsed — the linker links that body later, reporting —;
  // after it, parsed and linked quietly.
  const materialWords: Words = createWords();
  let quietLinker: Linker | null = null;
  let finalRuleset: Ruleset | null = null;
  const parseBody = (rule: ParsedRule): RuleBody => {
    const w = tokenize(rule.raw, materialWords, 0);
    const wi = w.count > 0 && !w.quoted[0] && w.text[0].charCodeAt(0) === BRACKET ? 1 : 0;
    return ruleParser.parse(w, wi + 2, rule.table, file, rule.line, rule.raw);
  };
  const materializer: RuleMaterializer = {
    file,
    text,
    materialize(rule: ParsedRule): RuleBody {
      const wasQuiet = quiet;
      quiet = true;
      try {
        const body = parseBody(rule);
        rule.body = body;
        const table = finalRuleset?.tables.get(rule.table);
        if (quietLinker !== null && table !== undefined) quietLinker.linkBody(rule, body, rule.table, table.chains, null);
        return body;
      } finally {
        quiet = wasQuiet;
      }
    },
  };

  // One context per chain, shared by its rules.
  const contexts = new Map<Chain, ChainContext>();
  let lastContext: ChainContext | null = null;
  let lastContextChain: Chain | null = null;
  const newContext = (chain: Chain): ChainContext => ({ table: chain.table, chain: chain.name, source: materializer });
  const contextOf = (chain: Chain): ChainContext => {
    if (chain === lastContextChain) return lastContext!;
    let c: ChainContext | undefined;
    const t = tables.get(chain.table);
    if (t !== undefined && t.order !== null && cursor >= 0 && t.order[cursor] === chain) c = t.contexts[cursor];
    else {
      c = contexts.get(chain);
      if (c === undefined) {
        c = newContext(chain);
        contexts.set(chain, c);
      }
    }
    lastContextChain = chain;
    lastContext = c;
    return c;
  };

  // Shape plans (./plan.ts), once the family is settled (addresses and typed values depend on it).
  const plans = new Map<number, Plan>();
  const scanned = createScannedWords();
  const planEnv: PlanEnv = { family: 'ipv4', addressOk: (t) => cidrOk(t, planEnv.family) };
  let planLinker: Linker | null = null;
  const isTargetExtension = (name: string): boolean => env.specs.hasTarget(name);
  const learn = (shape: Shape, record: (WordRole | undefined)[], owners: RecordedOwner[], body: RuleBody): Plan | null => {
    const fam = family!;
    if (body.ip.fragment && fam === 'ipv6') return null;
    if (planLinker === null || planLinker.family !== fam) planLinker = new Linker(fam, env.specs, null);
    const linker = planLinker;
    for (const o of owners) {
      if (o.kind !== 'match') continue;
      const only = linker.infoOf(o.name).only;
      if (only !== null && only !== fam) return null;
    }
    const t = body.target;
    const flags = t === null ? 0 : (t.goto ? JUMP_GOTO : 0) | (t.options.length > 0 ? JUMP_HAS_OPTIONS : 0);
    return makePlan(shape, record, owners, (o) => (o.kind === 'match' ? linker.infoOf(o.name).ext : isTargetExtension(o.name) ? linker.targetExtOf(o.name) : null), flags);
  };
  let current: TableBuild | null = null;
  let skippingUnknown = false;
  let sawCrlf = false;
  const words: Words = createWords();

  const newTable = (name: TableName, line: number): TableBuild => {
    const chains = new Map<string, Chain>();
    for (const hook of TABLE_HOOKS[name]) {
      chains.set(hook, { name: hook, table: name, builtin: true, policy: 'ACCEPT', counters: undefined, rules: [], references: 0, span: undefined });
    }
    return {
      table: { name, chains, span: { file, line, column: 1 } },
      chains,
      order: [...chains.values()],
      contexts: [...chains.values()].map(newContext),
      committed: false,
      headerLine: line,
    };
  };

  const closeUnfinished = (endLine: number, reason: string): void => {
    if (current && !current.committed) {
      at(
        'missing-commit',
        current.headerLine,
        1,
        `table ${current.table.name} (line ${current.headerLine}) is not closed by COMMIT before ${reason} (line ${endLine}); iptables-restore would not apply it`,
        `*${current.table.name}`,
      );
    }
  };

  /** Find a chain for a command; reports and creates it (as a user chain) when undeclared. */
  let lastChain: Chain | undefined;
  let lastTable: TableBuild | undefined;
  /**
   * The rules of the chain being left get an exact-size array: a pushed-to array keeps spare
   * capacity (17 slots after one push), and a kube-proxy dump has 100k chains of two rules.
   */
  const leaveChain = (): void => {
    if (lastChain === undefined) return;
    const n = lastChain.rules.length;
    if (n > 0 && n <= 4) lastChain.rules = exact(lastChain.rules);
  };
  /** Index of lastChain in lastTable.order when known, else -1 (see fastRule). */
  let cursor = -1;
  const chainFor = (t: TableBuild, name: string, lineNo: number, column: number, create: boolean): Chain | undefined => {
    // Dumps list a chain's rules together: the previous rule's chain is the usual answer.
    // (Reset whenever chains are deleted or a table starts.)
    if (lastChain !== undefined && lastTable === t && lastChain.name === name) return lastChain;
    leaveChain();
    const found = chainLookup(t, name, lineNo, column, create);
    cursor = found !== undefined && t.order !== null ? locate(t.order, found, lastTable === t ? cursor : -1) : -1;
    lastChain = found;
    lastTable = t;
    return found;
  };
  const chainLookup = (t: TableBuild, name: string, lineNo: number, column: number, create: boolean): Chain | undefined => {
    const found = t.chains.get(name);
    if (found) return found;
    if (!create) return undefined;
    if (isBuiltinName(name)) {
      at('no-such-hook', lineNo, column, `table ${t.table.name} has no builtin chain ${name} (its builtin chains: ${TABLE_HOOKS[t.table.name].join(', ')})`, name);
    } else {
      at('undeclared-chain', lineNo, column, `chain ${name} is not declared in table ${t.table.name} (add ":${name} - [0:0]" or "-N ${name}")`, name);
    }
    const c: Chain = { name, table: t.table.name, builtin: false, policy: null, counters: undefined, rules: [], references: 0, span: undefined };
    t.chains.set(name, c);
    if (t.order !== null) {
      t.order.push(c);
      t.contexts.push(newContext(c));
    }
    return c;
  };

  /** Declare a chain (`:NAME` / `-N NAME`). A chain counts as declared when it has a span. */
  const declareChain = (t: TableBuild, name: string, lineNo: number, column: number, span: Span): Chain | undefined => {
    if (name.length === 0 || name.length > MAX_CHAIN_NAME || name.charCodeAt(0) === DASH || name === '!') {
      at('bad-chain-name', lineNo, column, name.length > MAX_CHAIN_NAME ? `chain name "${name}" is longer than ${MAX_CHAIN_NAME} characters` : `invalid chain name "${name}"`, name);
      if (name.length === 0) return undefined;
    }
    const existing = t.chains.get(name);
    if (existing !== undefined && existing.span !== undefined) {
      at('duplicate-chain', lineNo, column, `chain ${name} is declared twice in table ${t.table.name}`, name);
      return existing;
    }
    if (existing !== undefined) {
      // Builtin chains exist from the start; a user chain may have been created by an earlier
      // rule (reported as undeclared there).
      existing.span = span;
      return existing;
    }
    if (isBuiltinName(name)) {
      at('no-such-hook', lineNo, column, `table ${t.table.name} has no builtin chain ${name} (its builtin chains: ${TABLE_HOOKS[t.table.name].join(', ')}); it is created as a user chain`, name);
    }
    const c: Chain = { name, table: t.table.name, builtin: false, policy: null, counters: undefined, rules: [], references: 0, span };
    t.chains.set(name, c);
    if (t.order !== null) {
      t.order.push(c);
      t.contexts.push(newContext(c));
    }
    return c;
  };

  let pos = 0;
  let lineNo = 0;
  // One scan of the whole text instead of one per line (binary data is rare).
  const textHasNul = text.indexOf('\0') >= 0;
  // Where the next tab, CR and backslash are (they change how iptables splits words, so a rule line
  // holding one takes the tokenizer): found once and moved forward, not searched for in every line.
  let nextTab = text.indexOf('\t');
  let nextCr = text.indexOf('\r');
  let nextBackslash = text.indexOf('\\');
  // The first `"` at or after a position (or the text's length), remembered between calls: the
  // readers ask in increasing order, so the whole text is searched about once.
  let quoteFrom = 0;
  let quoteAt = -1;
  const nextQuote = (from: number): number => {
    if (quoteAt < 0 || from < quoteFrom || from > quoteAt) {
      const q = text.indexOf('"', from);
      quoteAt = q < 0 ? text.length : q;
      quoteFrom = from;
    }
    return quoteAt;
  };
  /** Where the line being read starts in the text (rules keep offsets, not copies). */
  let curLineStart = 0;
  const plainUpTo = (from: number, to: number): boolean => {
    if (nextTab >= 0 && nextTab < from) nextTab = text.indexOf('\t', from);
    if (nextCr >= 0 && nextCr < from) nextCr = text.indexOf('\r', from);
    if (nextBackslash >= 0 && nextBackslash < from) nextBackslash = text.indexOf('\\', from);
    return (nextTab < 0 || nextTab >= to) && (nextCr < 0 || nextCr >= to) && (nextBackslash < 0 || nextBackslash >= to);
  };
  const len = text.length;
  while (pos < len) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = len;
    lineNo++;
    const lineStart = pos;
    curLineStart = lineStart;
    pos = end + 1;
    // The common lines, read straight from the text without cutting the line out (the general
    // path below reads everything else, and these too when the fast readers decline).
    if (lazy && current !== null && !current.committed && !skippingUnknown && !textHasNul && end > lineStart) {
      const c = text.charCodeAt(lineStart);
      if (c === DASH || c === BRACKET) {
        if (familyStrong && plans.size > 0 && plainUpTo(lineStart, end) && fastRule(current, lineStart, end, lineNo)) continue;
      } else if (c === COLON && plainUpTo(lineStart, end) && fastChainLine(current, lineStart, end, lineNo)) continue;
    }
    let line = text.slice(lineStart, end);
    if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) {
      line = line.slice(0, -1);
      if (!sawCrlf) {
        sawCrlf = true;
        at('crlf', lineNo, line.length + 1, 'CRLF line endings: iptables-restore would read the CR as part of the last word (read here as LF)', line);
      }
    }
    // Skip leading white space (iptables-restore does not, but it is harmless to accept).
    let first = 0;
    while (first < line.length && (line.charCodeAt(first) === 32 || line.charCodeAt(first) === 9)) first++;
    if (first === line.length) continue;
    const c0 = line.charCodeAt(first);
    if (c0 === HASH) {
      // Comments, including `# Generated by ip6tables-save` (family) and nf_tables warnings.
      if (!familyStrong && lineNo <= 3 && line.startsWith('# Generated by ')) {
        const f: Family | undefined = /\bip6tables(-nft|-legacy)?-save\b/.test(line)
          ? 'ipv6'
          : /\biptables(-nft|-legacy)?-save\b/.test(line)
            ? 'ipv4'
            : undefined;
        if (f) {
          family = f;
          familyStrong = true;
          env.family = f;
        }
      }
      continue;
    }
    if (textHasNul && hasBinary(line)) {
      at('binary-data', lineNo, firstBinaryColumn(line), 'binary data (NUL bytes): this is not an iptables-save text line', line);
      continue;
    }
    if (skippingUnknown) {
      if (line.trim() === 'COMMIT') {
        skippingUnknown = false;
        continue;
      }
      if (c0 !== STAR) continue;
    }
    if (c0 === STAR) {
      const name = line.slice(first + 1).trim().split(/[ \t]/)[0] ?? '';
      if (current && !current.committed) closeUnfinished(lineNo, `the next table starts`);
      current = null;
      if (!(TABLE_NAMES as readonly string[]).includes(name)) {
        at('unknown-table', lineNo, first + 2, `unknown table "${name}" (tables: ${TABLE_NAMES.join(', ')}); its block is skipped`, line);
        skippingUnknown = true;
        continue;
      }
      skippingUnknown = false;
      const tname = name as TableName;
      if (tables.has(tname)) {
        at('duplicate-table', lineNo, first + 2, `table ${tname} appears again (first at line ${tables.get(tname)!.headerLine}); iptables-restore flushes it, so this block replaces the earlier one`, line);
      }
      current = newTable(tname, lineNo);
      lastChain = undefined;
      tables.set(tname, current);
      continue;
    }
    if (c0 === 67 /* C */ && line.trim() === 'COMMIT') {
      if (!current || current.committed) {
        at('commit-without-table', lineNo, first + 1, 'COMMIT without an open *table', line);
      } else current.committed = true;
      continue;
    }
    const t = current && !current.committed ? current : null;
    if (c0 === COLON) {
      if (!t) {
        at('no-table', lineNo, first + 1, 'chain declaration outside a *table … COMMIT block', line);
        continue;
      }
      tokenize(line, words, first + 1);
      if (words.count === 0) {
        at('bad-chain-line', lineNo, first + 1, 'chain declaration without a name', line);
        continue;
      }
      const name = words.text[0];
      const chain = declareChain(t, name, lineNo, words.start[0] + 1, { file, line: lineNo, column: first + 1 });
      if (!chain) continue;
      if (words.count < 2) {
        at('bad-chain-line', lineNo, words.end[0] + 1, `chain ${name}: missing policy (":${name} ACCEPT [0:0]" or ":${name} - [0:0]")`, line);
        continue;
      }
      chainPolicy(chain, name, words.text[1], words.start[1] + 1, lineNo);
      if (words.count >= 3) chainCounters(chain, words.text[2], words.start[2] + 1, lineNo);
      if (words.count > 3) at('bad-chain-line', lineNo, words.start[3] + 1, `unexpected "${words.text[3]}" after the chain's counters`, words.text[3]);
      continue;
    }
    if (c0 === BRACKET || c0 === DASH) {
      tokenize(line, words, first);
      if (words.unterminatedQuote >= 0) {
        at('unterminated-quote', lineNo, words.unterminatedQuote + 1, 'quote is not closed before the end of the line', line);
      }
      let wi = 0;
      let counters: Counters | undefined;
      if (c0 === BRACKET) {
        const ct = parseCounters(words.text[0]);
        if (!ct) {
          at('bad-counters', lineNo, words.start[0] + 1, `invalid counters "${words.text[0]}" (expected [packets:bytes])`, words.text[0]);
        } else counters = ct;
        wi = 1;
      }
      if (wi >= words.count) {
        at('unexpected-line', lineNo, first + 1, 'counters without a rule', line);
        continue;
      }
      if (!t) {
        at('no-table', lineNo, words.start[wi] + 1, 'rule or command outside a *table … COMMIT block', line);
        continue;
      }
      handleCommand(t, line, lineNo, wi, counters);
      continue;
    }
    at('unexpected-line', lineNo, first + 1, `unexpected line: expected *table, :CHAIN, a rule (-A …), COMMIT or a # comment`, line);
  }
  if (current && !current.committed) {
    at(
      'missing-commit',
      current.headerLine,
      1,
      `table ${current.table.name} (line ${current.headerLine}) is not closed by COMMIT before the end of the file (line ${lineNo}); iptables-restore would not apply it`,
      `*${current.table.name}`,
    );
  }

  /** The policy word of a chain declaration. */
  function chainPolicy(chain: Chain, name: string, pol: string, col: number, lineNo: number): void {
    if (pol === '-') {
      if (chain.builtin) {
        at('builtin-without-policy', lineNo, col, `builtin chain ${name} without policy: iptables-restore keeps the current one (ACCEPT on a fresh table)`, pol);
      }
    } else if (pol === 'ACCEPT' || pol === 'DROP') {
      if (chain.builtin) chain.policy = pol as Policy;
      else if (isBuiltinName(name)) {
        // Already reported as no-such-hook: a builtin name in a table without that hook.
      } else at('policy-on-user-chain', lineNo, col, `user chain ${name} cannot have a policy ("${pol}"); use "-"`, pol);
    } else {
      at('bad-policy', lineNo, col, `invalid policy "${pol}" (ACCEPT, DROP, or - for user chains)`, pol);
    }
  }

  /** The counters word of a chain declaration. */
  function chainCounters(chain: Chain, text: string, col: number, lineNo: number): void {
    const ct = parseCounters(text);
    if (ct) chain.counters = ct;
    else at('bad-counters', lineNo, col, `invalid counters "${text}" (expected [packets:bytes])`, text);
  }

  /**
   * `:NAME POLICY [p:b]` read straight from the characters (a kube-proxy dump declares 100k
   * chains). False, having done nothing, for any other form: the tokenizer then reads the line.
   */
  function fastChainLine(t: TableBuild, ls: number, le: number, lineNo: number): boolean {
    // text[ls, le) is one line starting with ':' and holding no tab, CR or backslash (checked).
    const nameStart = ls + 1;
    const sp1 = text.indexOf(' ', nameStart);
    if (sp1 <= nameStart || sp1 >= le) return false;
    const sp2 = text.indexOf(' ', sp1 + 1);
    if (sp2 <= sp1 + 1 || sp2 + 1 >= le) return false;
    const sp3 = text.indexOf(' ', sp2 + 1);
    if (sp3 >= 0 && sp3 < le) return false;
    if (nextQuote(ls) < le) return false;
    const name = text.slice(nameStart, sp1);
    const chain = declareChain(t, name, lineNo, 2, { file, line: lineNo, column: 1 });
    if (chain) {
      chainPolicy(chain, name, text.slice(sp1 + 1, sp2), sp1 - ls + 2, lineNo);
      chainCounters(chain, text.slice(sp2 + 1, le), sp2 - ls + 2, lineNo);
    }
    return true;
  }

  /**
   * The common case read straight from the characters: `[p:b] -A CHAIN …` of a declared chain,
   * whose words have the shape of a plan and whose values pass its checks. False (nothing done)
   * for anything else: the general path then reads the line.
   */
  function fastRule(t: TableBuild, ls: number, le: number, lineNo: number): boolean {
    // text[ls, le) is one line starting with '-' or '[' and holding no tab, CR or backslash.
    let i = ls;
    let counters: Counters | undefined;
    if (text.charCodeAt(i) === BRACKET) {
      let p = 0;
      let b = 0;
      let j = i + 1;
      const p0 = j;
      for (let c = text.charCodeAt(j); c >= 48 && c <= 57; c = text.charCodeAt(++j)) p = p * 10 + (c - 48);
      if (j === p0 || j - p0 > 15 || text.charCodeAt(j) !== COLON) return false;
      const b0 = ++j;
      for (let c = text.charCodeAt(j); c >= 48 && c <= 57; c = text.charCodeAt(++j)) b = b * 10 + (c - 48);
      if (j === b0 || j - b0 > 15 || text.charCodeAt(j) !== 93 || j + 1 >= le || text.charCodeAt(j + 1) !== SPACE_CODE) return false;
      counters = counterValue(p, b);
      i = j + 2;
      while (i < le && text.charCodeAt(i) === SPACE_CODE) i++;
    }
    if (i + 3 > le || text.charCodeAt(i) !== DASH || text.charCodeAt(i + 1) !== 65 || text.charCodeAt(i + 2) !== SPACE_CODE) return false;
    const cmdCol = i - ls + 1;
    i += 3;
    while (i < le && text.charCodeAt(i) === SPACE_CODE) i++;
    const end = text.indexOf(' ', i);
    if (end < 0 || end >= le || text.charCodeAt(i) === QUOTE_CODE) return false;
    let chain: Chain | undefined;
    if (lastChain !== undefined && lastTable === t && sameText(text, i, end, lastChain.name)) chain = lastChain;
    else {
      // iptables-save prints rules chain by chain in declaration order: the next chain is usually
      // the next one declared (no hash lookup).
      const order = t.order;
      if (order !== null) {
        const from = lastTable === t && cursor >= 0 ? cursor + 1 : 0;
        const to = Math.min(order.length, from + 4);
        for (let k = from; k < to; k++) {
          if (sameText(text, i, end, order[k].name)) {
            chain = order[k];
            cursor = k;
            break;
          }
        }
      }
      if (chain === undefined) {
        if (nextQuote(i) < end) return false;
        chain = t.chains.get(text.slice(i, end));
        if (chain === undefined) return false;
        cursor = order !== null ? locate(order, chain, cursor) : -1;
      }
      leaveChain();
      lastChain = chain;
      lastTable = t;
    }
    const h = scanRule(text, end + 1, le, scanned, isTargetExtension, env.specs.maxTargetName, nextQuote);
    if (h === -1) return false;
    let plan: Plan | null | undefined = plans.get(h);
    while (plan !== undefined && plan !== null && !sameShape(plan, text, scanned)) plan = plan.next;
    if (plan === undefined || plan === null) return false;
    fillValues(plan, text, scanned);
    planEnv.family = family!;
    if (!checkPlan(plan, scanned.text, 0, planEnv)) return false;
    const rule = parsedRule(contextOf(chain), counters, ls, le, lineNo, cmdCol, null);
    if (plan.target >= 0) {
      rule.jumpStart = scanned.start[plan.target];
      rule.jumpEnd = scanned.end[plan.target];
      rule.jumpFlags = plan.targetFlags;
    }
    chain.rules.push(rule);
    return true;
  }

  function handleCommand(t: TableBuild, line: string, lineNo: number, wi: number, counters: Counters | undefined): void {
    const cmd = words.text[wi];
    const cmdCol = words.start[wi] + 1;
    // Fast path for the line every dump is made of: `-A CHAIN …` (no closures allocated per line).
    if (cmd === '-A' && wi + 1 < words.count) {
      const chain = chainFor(t, words.text[wi + 1], lineNo, words.start[wi + 1] + 1, true)!;
      const from = wi + 2;
      let scanHash = -1;
      let record: (WordRole | undefined)[] | undefined;
      // The same shape reader as the fast path (on the text itself), so a shape is defined once.
      // A line it declines (tabs, backslashes, odd quotes) gets no plan: it is parsed in full.
      const le = curLineStart + line.length;
      if (lazy && familyStrong && words.unterminatedQuote < 0 && plainUpTo(curLineStart, le)) {
        const h = scanRule(text, curLineStart + words.end[wi + 1], le, scanned, isTargetExtension, env.specs.maxTargetName, nextQuote);
        if (h !== -1 && scanned.count === words.count - from) {
          scanHash = h;
          let plan: Plan | null | undefined = plans.get(h);
          while (plan !== undefined && plan !== null && !sameShape(plan, text, scanned)) plan = plan.next;
          if (plan === undefined || plan === null) record = [];
          else {
            fillValues(plan, text, scanned);
            planEnv.family = family!;
            if (checkPlan(plan, scanned.text, 0, planEnv)) {
              const rule = parsedRule(contextOf(chain), counters, curLineStart, le, lineNo, cmdCol, null);
              if (plan.target >= 0) {
                rule.jumpStart = scanned.start[plan.target];
                rule.jumpEnd = scanned.end[plan.target];
                rule.jumpFlags = plan.targetFlags;
              }
              chain.rules.push(rule);
              return;
            }
          }
        }
      }
      const before = diagnostics.length + dropped;
      const body = ruleParser.parse(words, from, t.table.name, file, lineNo, line, record);
      const rule = parsedRule(contextOf(chain), ruleParser.counters ?? counters, curLineStart, curLineStart + line.length, lineNo, cmdCol, body);
      if (ruleParser.flawed !== null) extras.set(rule, { flawed: ruleParser.flawed });
      else if (record !== undefined && diagnostics.length + dropped === before && ruleParser.counters === undefined) {
        const plan = learn(shapeOfScan(text, scanned, scanHash), record, ruleParser.recordedOwners, body);
        if (plan !== null) {
          plan.next = plans.get(plan.hash) ?? null;
          plans.set(plan.hash, plan);
        }
      }
      chain.rules.push(rule);
      return;
    }
    handleOtherCommand(t, line, lineNo, wi, counters, cmd, cmdCol);
  }

  function handleOtherCommand(t: TableBuild, line: string, lineNo: number, wi: number, counters: Counters | undefined, cmd: string, cmdCol: number): void {
    const chainName = wi + 1 < words.count ? words.text[wi + 1] : undefined;
    const chainCol = wi + 1 < words.count ? words.start[wi + 1] + 1 : cmdCol;
    const needChain = (): boolean => {
      if (chainName === undefined) {
        at('missing-argument', lineNo, cmdCol, `${cmd} needs a chain name`, line);
        return false;
      }
      return true;
    };
    const parseRule = (chain: Chain, from: number): Rule => {
      const body = ruleParser.parse(words, from, t.table.name, file, lineNo, line);
      const rule = parsedRule(contextOf(chain), ruleParser.counters ?? counters, curLineStart, curLineStart + line.length, lineNo, cmdCol, body);
      if (ruleParser.flawed !== null) extras.set(rule, { flawed: ruleParser.flawed });
      return rule;
    };
    switch (cmd) {
      case '-A':
      case '--append': {
        if (!needChain()) return;
        const chain = chainFor(t, chainName!, lineNo, chainCol, true)!;
        chain.rules.push(parseRule(chain, wi + 2));
        return;
      }
      case '-I':
      case '--insert': {
        if (!needChain()) return;
        const chain = chainFor(t, chainName!, lineNo, chainCol, true)!;
        let from = wi + 2;
        let index = 1;
        if (from < words.count && isDigitsWord(words.text[from])) {
          index = Number(words.text[from]);
          if (index < 1 || index > chain.rules.length + 1) {
            at('no-such-rule', lineNo, words.start[from] + 1, `cannot insert at position ${index}: chain ${chain.name} has ${chain.rules.length} rule(s) at this point`, words.text[from]);
            index = Math.min(Math.max(1, index), chain.rules.length + 1);
          }
          from++;
        }
        chain.rules.splice(index - 1, 0, parseRule(chain, from));
        return;
      }
      case '-D':
      case '--delete':
      case '-R':
      case '--replace': {
        if (!needChain()) return;
        const replace = cmd === '-R' || cmd === '--replace';
        const chain = chainFor(t, chainName!, lineNo, chainCol, false);
        if (!chain) {
          at('undeclared-chain', lineNo, chainCol, `chain ${chainName} does not exist in table ${t.table.name}`, chainName!);
          return;
        }
        let from = wi + 2;
        let index = -1;
        if (from < words.count && isDigitsWord(words.text[from])) {
          index = Number(words.text[from]) - 1;
          if (index < 0 || index >= chain.rules.length) {
            at('no-such-rule', lineNo, words.start[from] + 1, `chain ${chain.name} has no rule ${index + 1} (it has ${chain.rules.length})`, words.text[from]);
            return;
          }
          from++;
          if (!replace && from < words.count) {
            at('unexpected-argument', lineNo, words.start[from] + 1, `-D with a rule number takes nothing else`, words.text[from]);
          }
        } else if (replace) {
          at('missing-argument', lineNo, cmdCol, `${cmd} needs a rule number`, line);
          return;
        }
        if (replace) {
          chain.rules[index] = parseRule(chain, from);
          return;
        }
        if (index < 0) {
          // Delete by specification: the first rule that formats the same.
          const probe = parseRule(chain, from);
          const key = ruleKey(probe);
          index = chain.rules.findIndex((r) => ruleKey(r) === key);
          if (index < 0) {
            at('no-such-rule', lineNo, cmdCol, `no rule in chain ${chain.name} matches this -D specification`, line);
            return;
          }
        }
        chain.rules.splice(index, 1);
        return;
      }
      case '-N':
      case '--new-chain': {
        if (!needChain()) return;
        const created = declareChain(t, chainName!, lineNo, chainCol, { file, line: lineNo, column: cmdCol });
        // A chain made by -N starts with zero counters (what iptables-save would then print).
        if (created && created.counters === undefined) created.counters = counterValue(0, 0);
        extraWords(wi + 2);
        return;
      }
      case '-P':
      case '--policy': {
        if (!needChain()) return;
        const chain = chainFor(t, chainName!, lineNo, chainCol, false);
        const pol = wi + 2 < words.count ? words.text[wi + 2] : undefined;
        if (!chain || !chain.builtin) {
          at(chain ? 'policy-on-user-chain' : 'no-such-hook', lineNo, chainCol, `-P needs a builtin chain of table ${t.table.name} (${TABLE_HOOKS[t.table.name].join(', ')})`, chainName!);
          return;
        }
        if (pol !== 'ACCEPT' && pol !== 'DROP') {
          at('bad-policy', lineNo, pol ? words.start[wi + 2] + 1 : cmdCol, `invalid policy "${pol ?? ''}" (ACCEPT or DROP)`, pol ?? line);
          return;
        }
        chain.policy = pol;
        extraWords(wi + 3);
        return;
      }
      case '-F':
      case '--flush':
      case '-Z':
      case '--zero': {
        const flush = cmd === '-F' || cmd === '--flush';
        const targets = chainName === undefined ? [...t.chains.values()] : [chainFor(t, chainName, lineNo, chainCol, false)];
        if (targets[0] === undefined) {
          at('undeclared-chain', lineNo, chainCol, `chain ${chainName} does not exist in table ${t.table.name}`, chainName!);
          return;
        }
        for (const c of targets as Chain[]) {
          if (flush) c.rules = [];
          else {
            if (c.counters) c.counters = { packets: 0, bytes: 0 };
            for (const r of c.rules) if (r.counters) r.counters = { packets: 0, bytes: 0 };
          }
        }
        extraWords(wi + 2);
        return;
      }
      case '-X':
      case '--delete-chain': {
        const names = chainName === undefined ? [...t.chains.values()].filter((c) => !c.builtin).map((c) => c.name) : [chainName];
        for (const name of names) {
          const c = t.chains.get(name);
          if (!c || c.builtin) {
            at(c ? 'jump-to-builtin' : 'undeclared-chain', lineNo, chainCol, c ? `cannot delete builtin chain ${name}` : `chain ${name} does not exist in table ${t.table.name}`, name);
            continue;
          }
          if (c.rules.length > 0 && chainName !== undefined) {
            at('chain-in-use', lineNo, chainCol, `chain ${name} still has ${c.rules.length} rule(s); flush it (-F) before deleting`, name);
            continue;
          }
          t.chains.delete(name);
          t.order = null;
          lastChain = undefined;
        }
        extraWords(wi + 2);
        return;
      }
      default:
        at(
          'unknown-command',
          lineNo,
          cmdCol,
          cmd.startsWith('-t') || cmd === '--table'
            ? '-t is not allowed in restore input: the table comes from the *table line'
            : `unknown command "${cmd}" (restore input uses -A, -I, -D, -R, -N, -P, -F, -X, -Z)`,
          cmd,
        );
    }
    function extraWords(from: number): void {
      if (from < words.count) at('unexpected-argument', lineNo, words.start[from] + 1, `unexpected "${words.text[from]}"`, words.text[from]);
    }
  }

  if (tables.size === 0 && diagnostics.length === 0) {
    at('no-tables', Math.max(1, lineNo), 1, lineNo === 0 ? 'empty input: no tables' : 'no *table block in the input', '');
  }
  const finalFamily: Family = family ?? hint ?? 'ipv4';
  env.family = finalFamily;
  const ruleset: Ruleset = { family: finalFamily, tables: new Map(), source: file };
  for (const name of TABLE_NAMES) {
    const t = tables.get(name);
    if (!t) continue;
    ruleset.tables.set(name, t.table);
  }
  linkRuleset(ruleset, { report, extras, specs: env.specs, parseBody });
  finalRuleset = ruleset;
  quietLinker = new Linker(finalFamily, env.specs, null);
  // The materialiser keeps this closure alive as long as the ruleset: drop what only reading needed.
  plans.clear();
  contexts.clear();
  extras.clear();
  addresses.clear();
  internMap.clear();
  tables.clear();
  lastChain = undefined;
  lastTable = undefined;
  lastContextChain = null;
  lastContext = null;
  if (dropped > 0) {
    diagnostics.push(diag('too-many-diagnostics', file, diagnostics[diagnostics.length - 1]?.line ?? 1, 1, `${dropped} more diagnostic(s) not shown`, ''));
  }
  return { ruleset, diagnostics };
}

/** True when line[start, end) is `text` (compared from the end: chain names share prefixes like KUBE-SEP-). */
function sameText(line: string, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let k = text.length - 1; k >= 0; k--) if (line.charCodeAt(start + k) !== text.charCodeAt(k)) return false;
  return true;
}

/** Index of `chain` in `order`, looked for just after `cursor` (then from the start), or -1. */
function locate(order: Chain[], chain: Chain, cursor: number): number {
  const from = cursor + 1;
  for (let k = from; k < order.length && k < from + 16; k++) if (order[k] === chain) return k;
  for (let k = 0; k < order.length && k < 16; k++) if (order[k] === chain) return k;
  return -1;
}

function firstBinaryColumn(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0) return i + 1;
  }
  return 1;
}

/** Identity of a rule for `-D rulespec`: everything but position, counters, span and raw text. */
function ruleKey(r: Rule): string {
  return JSON.stringify([r.ip.src?.negated, r.ip.src?.value.text, r.ip.dst?.negated, r.ip.dst?.value.text, r.ip.iif, r.ip.oif, r.ip.proto, r.ip.fragment,
    r.matches.map((m) => [m.module, m.options.map((o) => [o.name, o.negated, o.args])]),
    r.target && [r.target.name, r.target.goto, r.target.options.map((o) => [o.name, o.negated, o.args])]]);
}
