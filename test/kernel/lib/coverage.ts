/**
 * Coverage of the kernel suite: which match modules and targets the kernel confirmed, i.e. which
 * appear in a rule the kernel reported as matched on a packet whose kernel path equals the engine's.
 * Written as markdown when IPTSCOPE_KERNEL_COVERAGE names a file (scripts/kernel-coverage.sh).
 */
import type { Ruleset, TableName } from '../../../src/core/model.js';
import type { PacketSpec } from '../../../src/core/netfilter/types.js';

/** What the engine claims (issue 3): every one should be confirmed by the kernel at least once. */
export const CLAIMED: readonly string[] = [
  // base match of every rule
  '-s/-d', '-i/-o', '-i/-o wildcard (+)', '-p', 'negation (!)',
  // match modules
  '-m tcp', '-m udp', '-m multiport', '-m icmp', '-m icmp6', '-m iprange', '-m addrtype', '-m mark', '-m connmark',
  '-m conntrack', '-m state', '-m comment', '-m statistic', '-m mac', '-m physdev', '-m length', '-m ttl', '-m hl',
  '-m owner', '-m set', '-m limit', '-m hashlimit', '-m recent', '-m connlimit', '-m connbytes',
  // targets
  'ACCEPT', 'DROP', 'REJECT', 'RETURN', 'jump', 'goto', 'policy ACCEPT', 'policy DROP', 'LOG', 'NFLOG', 'TRACE', 'AUDIT',
  'MARK', 'CONNMARK', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'NOTRACK', 'CT', 'TPROXY', 'CLASSIFY', 'TOS',
  'DSCP', 'TTL', 'HL', 'TCPMSS',
];

/** Not replayable (said in the README): `-f` needs a lone non-first fragment, which conntrack reassembles first. */
export const NOT_REPLAYABLE: Record<string, string> = {
  '-f': 'a non-first fragment is held by conntrack defragmentation before any rule sees it',
};

interface Hit {
  scenario: string;
  packet: string;
  family: string;
  kind: string;
}

export class Coverage {
  readonly hits = new Map<string, Hit[]>();
  readonly kinds = new Map<string, Hit[]>();

  private add(feature: string, h: Hit): void {
    const list = this.hits.get(feature) ?? [];
    list.push(h);
    this.hits.set(feature, list);
  }

  /** Record a kernel-confirmed path. */
  record(scenario: string, packetName: string, spec: PacketSpec, family: string, ruleset: Ruleset, path: string[]): void {
    const kind = spec.related
      ? `RELATED ICMP error (${spec.related.dir === 'original' ? 'original' : 'reply'} direction)`
      : spec.reply
        ? 'reply'
        : spec.ctState === 'ESTABLISHED'
          ? 'ESTABLISHED'
          : spec.ctState ?? 'NEW';
    const h: Hit = { scenario, packet: packetName, family, kind };
    const kl = this.kinds.get(`${family} ${kind}`) ?? [];
    kl.push(h);
    this.kinds.set(`${family} ${kind}`, kl);
    for (const step of path) {
      const [table, chain, pos] = step.split(':') as [TableName, string, string];
      const c = ruleset.tables.get(table)?.chains.get(chain);
      if (!c) continue;
      if (pos === 'policy') {
        this.add(`policy ${c.policy}`, h);
        continue;
      }
      const rule = c.rules[Number(pos) - 1];
      if (!rule) continue;
      const ip = rule.ip;
      if (ip.src || ip.dst) this.add('-s/-d', h);
      if (ip.iif || ip.oif) this.add('-i/-o', h);
      if (ip.iif?.value.endsWith('+') || ip.oif?.value.endsWith('+')) this.add('-i/-o wildcard (+)', h);
      if (ip.proto) this.add('-p', h);
      if (ip.fragment) this.add('-f', h);
      const negated =
        [ip.src, ip.dst, ip.iif, ip.oif, ip.proto].some((x) => x?.negated) || rule.matches.some((m) => m.options.some((o) => o.negated));
      if (negated) this.add('negation (!)', h);
      for (const m of rule.matches) {
        const name = m.module === 'icmpv6' || m.module === 'ipv6-icmp' ? 'icmp6' : m.module;
        this.add(`-m ${name}`, h);
      }
      const t = rule.target;
      if (t) this.add(t.kind === 'chain' ? (t.goto ? 'goto' : 'jump') : t.name, h);
    }
  }

  /** Markdown: claimed features with the packets that confirm them, then what is missing. */
  markdown(): string {
    const out: string[] = [];
    out.push('| module / target | kernel-confirmed packets (scenario / packet, family) |');
    out.push('| --- | --- |');
    const missing: string[] = [];
    const fmt = (hs: Hit[]): string => {
      const seen = new Set<string>();
      const uniq = hs.filter((h) => {
        const k = `${h.scenario}/${h.packet}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      const fams = [...new Set(uniq.map((h) => h.family))].sort().join(', ');
      const shown = uniq.slice(0, 3).map((h) => `${h.scenario} / ${h.packet}`);
      return `${shown.join('; ')}${uniq.length > 3 ? `; +${uniq.length - 3} more` : ''} (${fams})`;
    };
    for (const f of CLAIMED) {
      const hs = this.hits.get(f);
      if (!hs || hs.length === 0) {
        missing.push(f);
        out.push(`| ${f} | **not confirmed** |`);
      } else out.push(`| ${f} | ${fmt(hs)} |`);
    }
    const extra = [...this.hits.keys()].filter((k) => !CLAIMED.includes(k)).sort();
    for (const f of extra) out.push(`| ${f} (also) | ${fmt(this.hits.get(f)!)} |`);
    out.push('');
    out.push('| packet kind | kernel-confirmed packets |');
    out.push('| --- | --- |');
    for (const k of [...this.kinds.keys()].sort()) out.push(`| ${k} | ${this.kinds.get(k)!.length}: ${fmt(this.kinds.get(k)!)} |`);
    out.push('');
    for (const [f, why] of Object.entries(NOT_REPLAYABLE)) out.push(`Not replayable: \`${f}\` — ${why}.`);
    if (missing.length) out.push(`Not confirmed by the kernel in this run: ${missing.join(', ')}.`);
    return out.join('\n') + '\n';
  }
}
