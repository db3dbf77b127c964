/**
 * The registry: every extension declares its options accurately (the parser's tokenizer relies on
 * optionNames / flagOptions / twoArgOptions), and the modules and targets the engine promises are
 * registered with evaluators.
 */
import { describe, expect, it } from 'vitest';
import { findMatch, findTarget, MATCH_EXTENSIONS, matchNames, TARGET_EXTENSIONS, targetNames } from '../../../src/core/extensions/index.js';

describe('registry', () => {
  it.each([...MATCH_EXTENSIONS, ...TARGET_EXTENSIONS].map((e) => [e.name, e] as const))('%s declares consistent options', (_n, ext) => {
    for (const f of ext.flagOptions ?? []) expect(ext.optionNames).toContain(f);
    for (const t of ext.twoArgOptions ?? []) expect(ext.optionNames).toContain(t);
    for (const f of ext.flagOptions ?? []) expect(ext.twoArgOptions ?? []).not.toContain(f);
    expect(new Set(ext.optionNames).size).toBe(ext.optionNames.length);
  });

  it.each([
    'tcp', 'udp', 'sctp', 'multiport', 'icmp', 'icmp6', 'iprange', 'addrtype', 'mark', 'connmark', 'conntrack', 'state', 'comment',
    'statistic', 'mac', 'physdev', 'length', 'ttl', 'hl', 'owner', 'set', 'limit', 'hashlimit', 'recent', 'connlimit', 'connbytes', 'nfacct',
    'rt', 'hbh', 'frag', 'ipv6header', 'policy', 'pkttype', 'helper', 'tos', 'dscp', 'ecn', 'u32', 'string', 'time', 'cgroup', 'socket',
    'rpfilter', 'devgroup', 'realm', 'cpu', 'quota', 'esp', 'ah', 'mh', 'ipvs',
  ])('match %s is registered with an evaluator', (name) => {
    const m = findMatch(name);
    expect(m, name).toBeDefined();
    expect(typeof m!.evaluate).toBe('function');
  });

  it.each([
    'REJECT', 'LOG', 'NFLOG', 'TRACE', 'AUDIT', 'NFQUEUE', 'MARK', 'CONNMARK', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP',
    'NOTRACK', 'CT', 'TPROXY', 'CLASSIFY', 'TOS', 'DSCP', 'TTL', 'HL', 'TCPMSS', 'CHECKSUM',
  ])('target %s is registered with apply', (name) => {
    const t = findTarget(name);
    expect(t, name).toBeDefined();
    expect(typeof t!.apply).toBe('function');
  });

  it.each([
    ['tcp', ['tcp-flags'], ['syn']],
    ['addrtype', [], ['limit-iface-in', 'limit-iface-out']],
    ['set', ['match-set'], ['return-nomatch']],
    ['physdev', [], ['physdev-is-bridged', 'physdev-is-in', 'physdev-is-out']],
    ['CONNMARK', [], ['save-mark', 'restore-mark']],
    ['MASQUERADE', [], ['random', 'random-fully']],
    ['CT', [], ['notrack']],
  ])('%s arity: two-arg %j, flags %j', (name, two, flags) => {
    const e = findMatch(name) ?? findTarget(name)!;
    for (const t of two) expect(e.twoArgOptions).toContain(t);
    for (const f of flags) expect(e.flagOptions).toContain(f);
  });

  it('names are sorted and unique', () => {
    expect(matchNames()).toEqual([...new Set(matchNames())].sort());
    expect(targetNames()).toEqual([...new Set(targetNames())].sort());
  });

  it.each([
    ['tcp', [{ name: 'dport', negated: false, args: ['99999'] }]],
    ['statistic', [{ name: 'mode', negated: false, args: ['weird'] }]],
    ['MARK', [{ name: 'set-xmark', negated: false, args: ['zz'] }]],
    ['DNAT', [{ name: 'to-destination', negated: false, args: ['1.2.3'] }]],
  ])('%s rejects bad options with a message naming them', (name, options) => {
    const e = findMatch(name) ?? findTarget(name)!;
    const r = e.parse(options, 'ipv4');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(new RegExp(name, 'i'));
  });
});
