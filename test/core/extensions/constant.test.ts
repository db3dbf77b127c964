/**
 * `constant` promises that a match's result for a value depends on nothing else: the engine reads
 * it once per rule instead of calling `evaluate`. Hold every extension that declares it to the
 * promise: for values it calls constant, `evaluate` must return that very object whatever the
 * packet, hook, table or host; for the others it must say undefined.
 */
import { describe, expect, it } from 'vitest';
import { MATCH_EXTENSIONS } from '../../../src/core/extensions/index.js';
import type { EvalContext } from '../../../src/core/extensions/types.js';
import type { Family, HookName, MatchOption, TableName } from '../../../src/core/model.js';
import { resolveContext } from '../../../src/core/netfilter/context.js';
import { compileHost } from '../../../src/core/netfilter/host.js';
import { buildPacket } from '../../../src/core/netfilter/packet.js';
import type { PacketSpec } from '../../../src/core/netfilter/types.js';

const o = (name: string, ...args: string[]): MatchOption => ({ name, negated: false, args });
const neg = (name: string, ...args: string[]): MatchOption => ({ name, negated: true, args });

/** [module, options, constant?] */
type Row = [module: string, options: MatchOption[], constant: boolean];
const ROWS: Row[] = [
  ['comment', [o('comment', 'default/web:http cluster IP')], true],
  ['comment', [o('comment', '')], true],
  ['statistic', [o('mode', 'random'), o('probability', '0.10000000009')], true],
  ['statistic', [o('mode', 'random'), neg('probability', '0.25')], true],
  ['statistic', [o('mode', 'random'), o('probability', '1')], true],
  ['statistic', [o('mode', 'nth'), o('every', '3'), o('packet', '1')], false],
];

const PACKETS: { spec: PacketSpec; family: Family }[] = [
  { spec: { proto: 'tcp', src: '10.244.1.5', sport: 40000, dst: '10.96.0.1', dport: 80, iif: 'eth0' }, family: 'ipv4' },
  { spec: { proto: 'udp', src: '192.168.1.9', sport: 53, dst: '10.244.1.5', dport: 5353, local: true, packetNumber: 4 }, family: 'ipv4' },
  { spec: { proto: 'icmpv6', src: 'fd00::1', dst: 'fd00::2', iif: 'eth0', packetNumber: 0 }, family: 'ipv6' },
];
const WHERE: [HookName, TableName][] = [
  ['PREROUTING', 'nat'],
  ['FORWARD', 'filter'],
  ['OUTPUT', 'mangle'],
];

describe('matches with a constant result keep the promise', () => {
  const host = compileHost(resolveContext({ interfaces: [{ name: 'eth0', kind: 'ether', addresses: ['10.244.1.1/24', 'fd00::9/64'] }] }).context);

  it('comment and statistic declare it (kube-proxy chains are made of them)', () => {
    const declaring = MATCH_EXTENSIONS.filter((e) => e.constant !== undefined).map((e) => e.name);
    expect(declaring).toContain('comment');
    expect(declaring).toContain('statistic');
  });

  it.each(ROWS)('%s %j: constant %s', (module, options, constant) => {
    const ext = MATCH_EXTENSIONS.find((e) => e.name === module)!;
    for (const { spec, family } of PACKETS) {
      const parsed = ext.parse(options, family);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      const k = ext.constant!(parsed.value);
      if (!constant) {
        expect(k).toBeUndefined();
        continue;
      }
      expect(k).toBeDefined();
      for (const [hook, table] of WHERE) {
        const ctx: EvalContext = { packet: buildPacket(spec, family), hook, table, chain: 'X', family, host };
        expect(ext.evaluate!(parsed.value, ctx)).toBe(k);
      }
    }
  });
});
