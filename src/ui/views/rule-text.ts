/**
 * A rule as coloured segments, iptables-save style without the `-A CHAIN` and without the
 * comment (shown apart, in green): addresses cyan, protocol yellow, interfaces blue, modules
 * magenta, negation red; targets coloured by what they do.
 */
import type { MatchOption, Rule, Target } from '../../core/model.js';
import { ruleComment } from '../../core/model.js';

/** Plain text and an optional style (`green`, `red,bold`). */
export type Segment = readonly [string, string?];

function opt(o: MatchOption, out: Segment[]): void {
  if (o.negated) out.push(['! ', 'red,bold']);
  out.push([`--${o.name}`]);
  if (o.args.length > 0) out.push([' ' + o.args.join(' '), 'white']);
  out.push([' ']);
}

/** The match part of a rule (everything but target and comment). */
export function matchSegments(rule: Rule): Segment[] {
  const out: Segment[] = [];
  const ip = rule.ip;
  const neg = (n: boolean) => {
    if (n) out.push(['! ', 'red,bold']);
  };
  if (ip.src) {
    neg(ip.src.negated);
    out.push(['-s ']);
    out.push([ip.src.value.text + ' ', 'cyan']);
  }
  if (ip.dst) {
    neg(ip.dst.negated);
    out.push(['-d ']);
    out.push([ip.dst.value.text + ' ', 'cyan']);
  }
  if (ip.iif) {
    neg(ip.iif.negated);
    out.push(['-i ']);
    out.push([ip.iif.value + ' ', 'blue']);
  }
  if (ip.oif) {
    neg(ip.oif.negated);
    out.push(['-o ']);
    out.push([ip.oif.value + ' ', 'blue']);
  }
  if (ip.proto) {
    neg(ip.proto.negated);
    out.push(['-p ']);
    out.push([ip.proto.value.name + ' ', 'yellow']);
  }
  if (ip.fragment) {
    neg(ip.fragment.negated);
    out.push(['-f ']);
  }
  for (const m of rule.matches) {
    if (m.module === 'comment') continue;
    // `-m tcp` right after `-p tcp` says nothing new.
    const implicit = m.implicit || (ip.proto && !ip.proto.negated && ip.proto.value.name === m.module);
    if (!implicit) out.push([`-m ${m.module} `, 'magenta']);
    for (const o of m.options) opt(o, out);
  }
  return out;
}

/** The comment, if any (kube-proxy's Service names). */
export function commentText(rule: Rule): string | undefined {
  return ruleComment(rule);
}

/** Colour of a target by kind: verdicts, chain jumps, NAT, marks, the rest. */
export function targetColor(t: Target): string {
  switch (t.name) {
    case 'ACCEPT':
      return 'green,bold';
    case 'DROP':
    case 'REJECT':
      return 'red,bold';
    case 'RETURN':
      return 'yellow';
    case 'DNAT':
    case 'SNAT':
    case 'MASQUERADE':
    case 'REDIRECT':
    case 'NETMAP':
      return 'magenta,bold';
    case 'MARK':
    case 'CONNMARK':
    case 'CT':
    case 'NOTRACK':
      return 'cyan';
    default:
      return t.kind === 'chain' ? 'blue,bold' : 'yellow';
  }
}

/** The target part: `-j NAME` (goto as `-g`), then its options. */
export function targetSegments(rule: Rule): Segment[] {
  const t = rule.target;
  if (!t) return [['(no target: counts only)', 'gray']];
  const out: Segment[] = [[t.goto ? '⇢ ' : '→ ', 'gray'], [t.name, targetColor(t)]];
  for (const o of t.options) {
    out.push([' ']);
    if (o.negated) out.push(['! ', 'red']);
    out.push([`--${o.name}`, 'gray']);
    if (o.args.length > 0) out.push([' ' + o.args.join(' ')]);
  }
  return out;
}
