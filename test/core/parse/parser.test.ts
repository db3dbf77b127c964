import { describe, expect, it } from 'vitest';
import type { Match, MatchOption, Rule } from '../../../src/core/model.js';
import { formatRule, formatRuleset } from '../../../src/core/parse/index.js';
import { targetColumn } from '../../../src/core/parse/locate.js';
import { diagList, expectRoundTrip, parseLines, parseOne, parseRules } from './helpers.js';

/** Compact view of a rule's matches: module, then `[!]name=arg,arg` per option. */
function matchView(r: Rule): string[] {
  return r.matches.map((m: Match) => [m.implicit ? `${m.module}(implicit)` : m.module, ...m.options.map(optView)].join(' '));
}
function optView(o: MatchOption): string {
  return `${o.negated ? '!' : ''}${o.name}=${o.args.join(',')}`;
}
function targetView(r: Rule): string {
  const t = r.target;
  if (!t) return '(none)';
  return [`${t.goto ? 'goto' : 'jump'}:${t.kind}:${t.name}`, ...t.options.map(optView)].join(' ');
}

describe('base match (-s -d -i -o -p -f)', () => {
  it.each([
    { line: '-A INPUT -s 10.0.0.0/8', field: 'src', text: '10.0.0.0/8', negated: false },
    { line: '-A INPUT --source 10.1.2.3/8', field: 'src', text: '10.0.0.0/8', negated: false },
    { line: '-A INPUT --src 10.1.2.3', field: 'src', text: '10.1.2.3/32', negated: false },
    { line: '-A INPUT -s 192.168.0.1', field: 'src', text: '192.168.0.1/32', negated: false },
    { line: '-A INPUT ! -s 192.168.0.0/16', field: 'src', text: '192.168.0.0/16', negated: true },
    { line: '-A INPUT -s ! 192.168.0.0/16', field: 'src', text: '192.168.0.0/16', negated: true },
    { line: '-A INPUT -d 10.0.0.0/255.0.0.0', field: 'dst', text: '10.0.0.0/8', negated: false },
    { line: '-A INPUT -d 10.1.2.3/255.0.255.0', field: 'dst', text: '10.0.2.0/255.0.255.0', negated: false },
    { line: '-A INPUT --destination 0.0.0.0/0', field: 'dst', text: '0.0.0.0/0', negated: false },
    { line: '-A INPUT ! --dst 127.0.0.0/8', field: 'dst', text: '127.0.0.0/8', negated: true },
  ])('$line', ({ line, field, text, negated }) => {
    const r = parseOne(line);
    const v = r.ip[field as 'src' | 'dst']!;
    expect(v.value.text).toBe(text);
    expect(v.negated).toBe(negated);
    expect(v.value.family).toBe('ipv4');
  });

  it('keeps a non-contiguous mask as mask and counts its bits', () => {
    const v = parseOne('-A INPUT -d 10.1.2.3/255.0.255.0').ip.dst!.value;
    expect(v.mask?.toString()).toBe('255.0.255.0');
    expect(v.prefix).toBe(16);
    expect(v.addr.toString()).toBe('10.0.2.0');
  });

  it.each([
    { line: '-A INPUT -s 2001:db8::1', text: '2001:db8::1/128' },
    { line: '-A INPUT -s 2001:db8:0:0:8d3::/128', text: '2001:db8:0:0:8d3::/128' },
    { line: '-A INPUT -s 2001:DB8::8d3:0:0:1/64', text: '2001:db8::/64' },
    { line: '-A INPUT -d ::ffff:127.0.0.1/128', text: '::ffff:127.0.0.1/128' },
    { line: '-A INPUT -d ::1/128', text: '::1/128' },
    { line: '-A INPUT -d ::/0', text: '::/0' },
  ])('IPv6 $line', ({ line, text }) => {
    const r = parseOne(line, { family: 'ipv6' });
    expect((r.ip.src ?? r.ip.dst)!.value.text).toBe(text);
  });

  it.each([
    { line: '-A INPUT -i eth0', iif: 'eth0', oif: undefined, neg: false },
    { line: '-A INPUT ! -i eth+', iif: 'eth+', oif: undefined, neg: true },
    { line: '-A FORWARD --in-interface eth0.19 --out-interface wg0', iif: 'eth0.19', oif: 'wg0', neg: false, chain: 'FORWARD' },
    { line: '-A FORWARD -o br-1234567890ab', iif: undefined, oif: 'br-1234567890ab', neg: false, chain: 'FORWARD' },
  ])('$line', ({ line, iif, oif, neg, chain }) => {
    const r = parseOne(line, { chain });
    expect(r.ip.iif?.value).toBe(iif);
    expect(r.ip.oif?.value).toBe(oif);
    if (iif) expect(r.ip.iif!.negated).toBe(neg);
  });

  it.each([
    { line: '-A INPUT -p tcp', name: 'tcp', number: 6, negated: false },
    { line: '-A INPUT --protocol udp', name: 'udp', number: 17, negated: false },
    { line: '-A INPUT ! -p icmp', name: 'icmp', number: 1, negated: true },
    { line: '-A INPUT -p 47', name: '47', number: 47, negated: false },
    { line: '-A INPUT -p TCP', name: 'tcp', number: 6, negated: false },
    { line: '-A INPUT -p all', name: 'all', number: 0, negated: false },
    { line: '-A INPUT -p esp', name: 'esp', number: 50, negated: false },
    { line: '-A INPUT -p icmpv6', name: 'icmpv6', number: 58, negated: false },
    { line: '-A INPUT -p ipv6-icmp', name: 'ipv6-icmp', number: 58, negated: false },
  ])('$line', ({ line, name, number, negated }) => {
    const p = parseOne(line).ip.proto!;
    expect(p.value).toEqual({ name, number });
    expect(p.negated).toBe(negated);
  });

  it.each([
    { line: '-A INPUT -f', negated: false },
    { line: '-A INPUT --fragment', negated: false },
    { line: '-A INPUT ! -f', negated: true },
  ])('$line', ({ line, negated }) => {
    expect(parseOne(line).ip.fragment).toEqual({ negated, value: true });
  });
});

describe('matches and targets', () => {
  it.each([
    {
      name: 'explicit tcp match',
      line: '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
      matches: ['tcp dport=22'],
      target: 'jump:verdict:ACCEPT',
    },
    {
      name: '-p tcp enables tcp options without -m (implicit match)',
      line: '-A INPUT -p tcp --dport 53 -j ACCEPT',
      matches: ['tcp(implicit) dport=53'],
      target: 'jump:verdict:ACCEPT',
    },
    {
      name: 'implicit udp, then another module',
      line: '-A INPUT -p udp --dport 53 -m owner --uid-owner 1337 -j RETURN',
      matches: ['udp(implicit) dport=53', 'owner uid-owner=1337'],
      target: 'jump:verdict:RETURN',
    },
    {
      name: 'implicit icmp',
      line: '-A INPUT -p icmp --icmp-type destination-unreachable -j ACCEPT',
      matches: ['icmp(implicit) icmp-type=destination-unreachable'],
      target: 'jump:verdict:ACCEPT',
    },
    {
      name: 'negated option before and after -m',
      line: '-A INPUT -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m state --state NEW -j DROP',
      matches: ['tcp !tcp-flags=FIN,SYN,RST,ACK,SYN', 'state state=NEW'],
      target: 'jump:verdict:DROP',
    },
    {
      name: 'old negation form after the option',
      line: '-A INPUT -m state --state ! NEW -j DROP',
      matches: ['state !state=NEW'],
      target: 'jump:verdict:DROP',
    },
    {
      name: 'tcp options after another module go to tcp',
      line: '-A INPUT -p tcp -m tcp --sport 1 -m state --state NEW --dport 2 -j ACCEPT',
      matches: ['tcp sport=1 dport=2', 'state state=NEW'],
      target: 'jump:verdict:ACCEPT',
    },
    {
      name: 'match options after the target (ufw)',
      line: '-A INPUT -j LOG --log-prefix "[UFW BLOCK] " -m limit --limit 3/min --limit-burst 10',
      matches: ['limit limit=3/min limit-burst=10'],
      target: 'jump:extension:LOG log-prefix=[UFW BLOCK] ',
    },
    {
      name: 'target option after a later match',
      line: '-A INPUT -j LOG -m limit --limit 3/min --log-prefix x',
      matches: ['limit limit=3/min'],
      target: 'jump:extension:LOG log-prefix=x',
    },
    {
      name: 'flag options',
      line: '-A INPUT -m recent --set --name ssh --rsource -j ACCEPT',
      matches: ['recent set= name=ssh rsource='],
      target: 'jump:verdict:ACCEPT',
    },
    {
      name: 'two-argument option',
      line: '-A INPUT -m set --match-set kube-ips src,dst -j ACCEPT',
      matches: ['set match-set=kube-ips,src,dst'],
      target: 'jump:verdict:ACCEPT',
    },
    {
      name: 'long option aliases are canonicalised',
      line: '-A INPUT -p tcp -m tcp --destination-port 80 -m multiport --source-ports 1,2 -j ACCEPT',
      matches: ['tcp dport=80', 'multiport sports=1,2'],
      target: 'jump:verdict:ACCEPT',
    },
    {
      name: 'getopt prefix abbreviation (istio --to-port)',
      line: '-A PREROUTING -p udp --dport 53 -j REDIRECT --to-port 15053',
      matches: ['udp(implicit) dport=53'],
      target: 'jump:extension:REDIRECT to-ports=15053',
      table: 'nat' as const,
    },
    {
      name: 'unknown module kept generically, words up to the next option',
      line: '-A INPUT -m frobnicate --level 3 4 --flag -j ACCEPT',
      matches: ['frobnicate level=3,4 flag='],
      target: 'jump:verdict:ACCEPT',
    },
    {
      name: 'unknown extension target with options',
      line: '-A INPUT -j IPMARK --addr src',
      matches: [],
      target: 'jump:extension:IPMARK addr=src',
    },
    {
      name: 'goto a user chain',
      line: '-A INPUT -g X',
      matches: [],
      target: 'goto:chain:X',
    },
    {
      name: 'long jump spelling',
      line: '-A INPUT --jump Y',
      matches: [],
      target: 'jump:chain:Y',
    },
    {
      name: 'rule without target',
      line: '-A INPUT -m comment --comment "count only"',
      matches: ['comment comment=count only'],
      target: '(none)',
    },
    {
      name: 'escaped quote in a comment',
      line: '-A INPUT -m comment --comment "a \\"b\\"" -j ACCEPT',
      matches: ['comment comment=a "b"'],
      target: 'jump:verdict:ACCEPT',
    },
    {
      name: 'kube-proxy order: -m before -p, -d after',
      line: '-A INPUT -m comment --comment "ns/svc:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41/32 --dport 80 -j X',
      matches: ['comment comment=ns/svc:p80 cluster IP', 'tcp dport=80'],
      target: 'jump:chain:X',
    },
    {
      name: 'statistic',
      line: '-A INPUT -m statistic --mode random --probability 0.50000000000 -j Z',
      matches: ['statistic mode=random probability=0.50000000000'],
      target: 'jump:chain:Z',
    },
    {
      name: 'DNAT target options',
      line: '-A PREROUTING -p tcp -m tcp -j DNAT --to-destination 10.180.0.1:80',
      matches: ['tcp'],
      target: 'jump:extension:DNAT to-destination=10.180.0.1:80',
      table: 'nat' as const,
    },
    {
      name: 'MASQUERADE flag option',
      line: '-A POSTROUTING -j MASQUERADE --random-fully',
      matches: [],
      target: 'jump:extension:MASQUERADE random-fully=',
      table: 'nat' as const,
      chain: 'POSTROUTING',
    },
  ])('$name', ({ line, matches, target, table, chain }) => {
    const r = parseOne(line, { table, chain });
    expect(matchView(r)).toEqual(matches);
    expect(targetView(r)).toBe(target);
  });

  it('-c PKTS BYTES inside a rule sets counters', () => {
    expect(parseOne('-A INPUT -c 5 600 -j ACCEPT').counters).toEqual({ packets: 5, bytes: 600 });
  });

  it('[pkts:bytes] before a rule sets counters', () => {
    const { rules } = parseRules(['[12:3456] -A INPUT -j ACCEPT']);
    expect(rules[0].counters).toEqual({ packets: 12, bytes: 3456 });
  });

  it('keeps span and raw text', () => {
    const { rules } = parseRules(['[1:2] -A INPUT -j ACCEPT']);
    expect(rules[0].raw).toBe('[1:2] -A INPUT -j ACCEPT');
    expect(rules[0].span).toMatchObject({ file: 't.rules', line: 5, column: 7 });
    expect(targetColumn(rules[0])).toBe(19);
  });
});

describe('round trip: formatRule gives the canonical iptables-save text', () => {
  it.each([
    ['-A INPUT -s 10.0.0.0/8 -d 10.1.0.0/16 -i eth0 -o eth1 -p tcp -f -m tcp --dport 22 -j ACCEPT'],
    ['-A INPUT ! -s 10.0.0.0/8 ! -d 10.1.0.0/16 ! -i eth0 ! -o eth1 ! -p tcp ! -f -j DROP'],
    ['-A INPUT -m comment --comment "has space" -j ACCEPT'],
    ['-A INPUT -m comment --comment SSH -j ACCEPT'],
    ['-A INPUT -m comment --comment "\\"" -j ACCEPT'],
    ['-A INPUT -m comment --comment "!" -j ACCEPT'],
    ['-A INPUT -m comment --comment "ns/svc:http" -j ACCEPT'],
    ['-A INPUT -j LOG --log-prefix "!#*~%&/()=?" --log-level 6'],
    ['-A INPUT -p tcp -m tcp --dport 1720 -j CT --helper Q.931'],
    ['-A INPUT -m helper --helper "Q.931" -j ACCEPT'],
    ['-A INPUT -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -j DROP'],
    ['-A INPUT -m mark ! --mark 0x4000/0x4000 -j RETURN'],
    ['-A INPUT -g X'],
    ['-A INPUT'],
    ['-A INPUT -m recent --set --name DEFAULT --mask 255.255.255.255 --rsource'],
  ])('%s', (line) => expectRoundTrip(line));

  it.each([
    ['-A INPUT -p tcp --dport 53 -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 53 -j ACCEPT'],
    ['-A INPUT -j LOG --log-prefix "[UFW] " -m limit --limit 3/min', '-A INPUT -m limit --limit 3/min -j LOG --log-prefix "[UFW] "'],
    ['-A INPUT -m tcp -p tcp -d 10.0.0.1/32 --dport 80 -j X', '-A INPUT -d 10.0.0.1/32 -p tcp -m tcp --dport 80 -j X'],
    ['-A INPUT -s 192.168.0.1 -j ACCEPT', '-A INPUT -s 192.168.0.1/32 -j ACCEPT'],
    ['-A INPUT -s 10.1.2.3/8 -j ACCEPT', '-A INPUT -s 10.0.0.0/8 -j ACCEPT'],
    ['-A INPUT -p icmpv6 -j ACCEPT', '-A INPUT -p ipv6-icmp -j ACCEPT'],
    ['-A INPUT -p 6 -j ACCEPT', '-A INPUT -p tcp -j ACCEPT'],
    ['-A INPUT -p all -j ACCEPT', '-A INPUT -j ACCEPT'],
    ['-A INPUT -m comment --comment ns1/svc1:p80 -j ACCEPT', '-A INPUT -m comment --comment "ns1/svc1:p80" -j ACCEPT'],
    ['-A INPUT --source 1.2.3.4/32 --jump ACCEPT', '-A INPUT -s 1.2.3.4/32 -j ACCEPT'],
    ['-A INPUT -m state --state ! NEW -j DROP', '-A INPUT -m state ! --state NEW -j DROP'],
    ['-A PREROUTING -p tcp -j REDIRECT --to-port 15001', '-A PREROUTING -p tcp -j REDIRECT --to-ports 15001'],
  ])('%s → %s', (line, canonical) => {
    const table = line.startsWith('-A PREROUTING') ? 'nat' : 'filter';
    expectRoundTrip(line, canonical, { table });
  });

  it('formats a value with spaces in a non-string option with quotes so it reads back the same', () => {
    const r = parseOne('-A INPUT -m frobnicate --x "a b" -j ACCEPT');
    const again = parseOne(formatRule(r));
    expect(again.matches[0].options[0].args).toEqual(['a b']);
  });
});

describe('tables, chains, policies, counters', () => {
  it('parses a complete dump with all five tables', () => {
    const r = parseLines([
      '# Generated by iptables-save v1.8.9 (nf_tables) on Fri Nov 27 05:53:11 2026',
      '*raw',
      ':PREROUTING ACCEPT [10:1000]',
      ':OUTPUT ACCEPT [0:0]',
      'COMMIT',
      '*mangle',
      ':PREROUTING ACCEPT [0:0]',
      'COMMIT',
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      'COMMIT',
      '*filter',
      ':INPUT DROP [5:800]',
      ':FORWARD DROP [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':user-1 - [3:4]',
      '-A INPUT -j user-1',
      '-A INPUT -g user-1',
      '-A user-1 -j RETURN',
      'COMMIT',
      '*security',
      'COMMIT',
      '# Completed on Fri Nov 27 05:53:11 2026',
    ]);
    expect(r.diagnostics).toEqual([]);
    expect([...r.ruleset.tables.keys()]).toEqual(['raw', 'mangle', 'nat', 'filter', 'security']);
    const filter = r.ruleset.tables.get('filter')!;
    expect([...filter.chains.keys()]).toEqual(['INPUT', 'FORWARD', 'OUTPUT', 'user-1']);
    const input = filter.chains.get('INPUT')!;
    expect(input).toMatchObject({ builtin: true, policy: 'DROP', counters: { packets: 5, bytes: 800 } });
    expect(input.rules.map((x) => x.position)).toEqual([1, 2]);
    const user = filter.chains.get('user-1')!;
    expect(user).toMatchObject({ builtin: false, policy: null, references: 2, counters: { packets: 3, bytes: 4 } });
    expect(user.span).toMatchObject({ line: 16, column: 1 });
    // Builtin chains a block omits exist anyway (mangle declared only PREROUTING).
    expect([...r.ruleset.tables.get('mangle')!.chains.keys()]).toEqual(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);
    expect(r.ruleset.tables.get('mangle')!.chains.get('OUTPUT')!.span).toBeUndefined();
  });

  it('accepts "* mangle" with a space (iptables-restore uses strtok)', () => {
    const r = parseLines(['* mangle', '-A PREROUTING -j ACCEPT', 'COMMIT']);
    expect(r.diagnostics).toEqual([]);
    expect(r.ruleset.tables.get('mangle')!.chains.get('PREROUTING')!.rules).toHaveLength(1);
  });

  it('restore commands: -N -I -A -D -R -P -F -X -Z', () => {
    const r = parseLines([
      '*filter',
      '-N A',
      '-N B',
      '-A A -s 1.1.1.1 -j ACCEPT',
      '-A A -s 2.2.2.2 -j ACCEPT',
      '-I A -s 0.0.0.0/0 -j RETURN',
      '-I A 2 -s 3.3.3.3 -j DROP',
      '-D A -s 2.2.2.2/32 -j ACCEPT',
      '-R A 1 -s 4.4.4.4 -j RETURN',
      '-A B -j ACCEPT',
      '-F B',
      '-X B',
      '-P INPUT DROP',
      '[9:9] -A INPUT -j A',
      '-Z INPUT',
      '-N C',
      '-A C -j ACCEPT',
      '-D C 1',
      'COMMIT',
    ]);
    expect(r.diagnostics).toEqual([]);
    const filter = r.ruleset.tables.get('filter')!;
    expect([...filter.chains.keys()]).toEqual(['INPUT', 'FORWARD', 'OUTPUT', 'A', 'C']);
    expect(filter.chains.get('A')!.rules.map((x) => formatRule(x))).toEqual([
      '-A A -s 4.4.4.4/32 -j RETURN',
      '-A A -s 3.3.3.3/32 -j DROP',
      '-A A -s 1.1.1.1/32 -j ACCEPT',
    ]);
    expect(filter.chains.get('A')!.rules.map((x) => x.position)).toEqual([1, 2, 3]);
    expect(filter.chains.get('INPUT')!.policy).toBe('DROP');
    expect(filter.chains.get('INPUT')!.rules[0].counters).toEqual({ packets: 0, bytes: 0 });
    expect(filter.chains.get('C')!.rules).toEqual([]);
  });

  it('a second block of the same table replaces the first (restore flushes it)', () => {
    const r = parseLines(['*filter', '-A INPUT -j DROP', 'COMMIT', '*filter', '-A INPUT -j ACCEPT', 'COMMIT']);
    expect(diagList(r.diagnostics)).toEqual(['warning:duplicate-table@4:2']);
    expect(r.ruleset.tables.get('filter')!.chains.get('INPUT')!.rules.map((x) => x.target!.name)).toEqual(['ACCEPT']);
  });
});

describe('family detection', () => {
  it.each([
    { lines: ['# Generated by ip6tables-save v1.8.7 on x', '*filter', 'COMMIT'], family: 'ipv6' },
    { lines: ['# Generated by ip6tables-nft-save v1.8.7 on x', '*filter', 'COMMIT'], family: 'ipv6' },
    { lines: ['# Generated by iptables-save v1.8.7 on x', '*filter', 'COMMIT'], family: 'ipv4' },
    { lines: ['*filter', '-A INPUT -s fe80::/10 -j ACCEPT', 'COMMIT'], family: 'ipv6' },
    { lines: ['*filter', '-A INPUT -s 10.0.0.0/8 -j ACCEPT', 'COMMIT'], family: 'ipv4' },
    { lines: ['*filter', '-A INPUT -m rt --rt-type 0 -j DROP', 'COMMIT'], family: 'ipv6' },
    { lines: ['*filter', '-A INPUT -p ipv6-icmp -j ACCEPT', 'COMMIT'], family: 'ipv6' },
    { lines: ['*filter', '-A INPUT -j ACCEPT', 'COMMIT'], family: 'ipv4' },
  ])('$lines.1 → $family', ({ lines, family }) => {
    expect(parseLines(lines).ruleset.family).toBe(family);
  });

  it('an explicit family wins', () => {
    expect(parseLines(['*filter', 'COMMIT'], 'ipv6').ruleset.family).toBe('ipv6');
  });
});

describe('addresses read like iptables', () => {
  it.each([
    { text: '10.0.0.1', want: '10.0.0.1/32' },
    { text: '010.001.0.1', want: '10.1.0.1/32' },
    { text: '10.0.0.1/24', want: '10.0.0.0/24' },
    { text: '0.0.0.0/0', want: '0.0.0.0/0' },
  ])('$text → $want', ({ text, want }) => {
    expect(parseOne(`-A INPUT -s ${text}`).ip.src!.value.text).toBe(want);
  });

  it.each(['10.0.0.256', '10.0.0', '0x0a.0.0.1', '1.2.3.4.5', '10.0.0.1/40'])('%s is rejected', (text) => {
    const { result } = parseRules([`-A INPUT -s ${text}`]);
    expect(diagList(result.diagnostics)).toEqual(['bad-address@5:13']);
  });
});

describe('shared comment matches', () => {
  it('rules with the same comment share one immutable match; different comments do not', () => {
    const { rules } = parseRules([
      '-A INPUT -m comment --comment "ns/svc:http" -j ACCEPT',
      '-A INPUT -s 10.0.0.1 -m comment --comment "ns/svc:http" -j DROP',
      '-A INPUT -m comment --comment "ns/svc:https" -j ACCEPT',
      '-A INPUT -m comment --comment kubernetes service portals -j ACCEPT',
    ]);
    expect(rules[0].matches[0]).toBe(rules[1].matches[0]);
    expect(rules[2].matches[0]).not.toBe(rules[0].matches[0]);
    expect(rules.map((r) => r.matches[0].options[0].args)).toEqual([['ns/svc:http'], ['ns/svc:http'], ['ns/svc:https'], ['kubernetes service portals']]);
    expect(rules.map((r) => formatRule(r))).toEqual([
      '-A INPUT -m comment --comment "ns/svc:http" -j ACCEPT',
      '-A INPUT -s 10.0.0.1/32 -m comment --comment "ns/svc:http" -j DROP',
      '-A INPUT -m comment --comment "ns/svc:https" -j ACCEPT',
      '-A INPUT -m comment --comment "kubernetes service portals" -j ACCEPT',
    ]);
  });
});

describe('formatRuleset', () => {
  it('prints a whole save file: tables in kernel order, declarations, rules, COMMIT', () => {
    const r = parseLines(['*filter', ':INPUT DROP [3:4]', '-N X', '[5:6] -A X -p tcp --dport 22 -j ACCEPT', '-A INPUT -j X', 'COMMIT', '*raw', 'COMMIT']);
    expect(formatRuleset(r.ruleset, { counters: true })).toBe(
      [
        '*raw',
        ':PREROUTING ACCEPT [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        'COMMIT',
        '*filter',
        ':INPUT DROP [3:4]',
        ':FORWARD ACCEPT [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        ':X - [0:0]',
        '[0:0] -A INPUT -j X',
        '[5:6] -A X -p tcp -m tcp --dport 22 -j ACCEPT',
        'COMMIT',
        '',
      ].join('\n'),
    );
    expect(formatRuleset(r.ruleset)).toContain('\n-A X -p tcp -m tcp --dport 22 -j ACCEPT\n');
  });
});

describe('shared low-cardinality matches and option-less targets', () => {
  it('shares equal matches and targets within a table, never different ones', () => {
    const r = parseLines([
      '*filter',
      ':X - [0:0]',
      '-A INPUT -p tcp -m tcp --dport 80 -j X',
      '-A INPUT -p tcp -m tcp --dport 80 -j X',
      '-A INPUT -p tcp -m tcp ! --dport 80 -j ACCEPT',
      '-A INPUT -p tcp --dport 80 -g X',
      'COMMIT',
      '*nat',
      ':X - [0:0]',
      '-A PREROUTING -j X',
      'COMMIT',
    ]);
    expect(r.diagnostics).toEqual([]);
    const input = r.ruleset.tables.get('filter')!.chains.get('INPUT')!.rules;
    expect(input[0].matches[0]).toBe(input[1].matches[0]);
    expect(input[0].target).toBe(input[1].target);
    expect(input[2].matches[0]).not.toBe(input[0].matches[0]);
    expect(input[2].matches[0].options[0].negated).toBe(true);
    expect(input[3].matches[0]).not.toBe(input[0].matches[0]); // implicit vs explicit
    expect(input[3].matches[0].implicit).toBe(true);
    expect(input[3].target).not.toBe(input[0].target); // goto vs jump
    expect(input[3].target!.goto).toBe(true);
    const nat = r.ruleset.tables.get('nat')!.chains.get('PREROUTING')!.rules[0];
    expect(nat.target).not.toBe(input[0].target);
    expect(r.ruleset.tables.get('filter')!.chains.get('X')!.references).toBe(3);
    expect(input.map((x) => x.position)).toEqual([1, 2, 3, 4]);
  });
});
