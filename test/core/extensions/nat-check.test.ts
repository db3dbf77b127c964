/**
 * `check` promises `parse(...).ok` without building the value; the parser relies on it when it
 * checks DNAT/SNAT rules of an already-seen shape. Every extension that has `check` is held to it
 * on edge cases and on seeded random ranges, in both families, with the option present or not.
 */
import { describe, expect, it } from 'vitest';
import { MATCH_EXTENSIONS, TARGET_EXTENSIONS } from '../../../src/core/extensions/index.js';
import { isIPv4Text, parseIpUncached } from '../../../src/core/netfilter/addr.js';
import type { Family, MatchOption } from '../../../src/core/model.js';
import { prng } from '../../../src/gen/kubeproxy.js';

const EDGE = [
  '', ':', ':80', ':80-90', ':0', ':65535', ':65536', ':x', '10.0.0.1', '10.0.0.1:80', '10.0.0.1:80-90', '10.0.0.1:90-80', '10.0.0.1:',
  '10.0.0.1-10.0.0.9', '10.0.0.1-10.0.0.9:1000-2000', '10.0.0.1-', '-10.0.0.1', '10.0.0.1-2001:db8::1', '10.0.0.1-10.0.0.2-10.0.0.3',
  '256.0.0.1', '10.0.0.256', '010.0.0.1', '10.0.0', '10.0.0.1.1', ' 10.0.0.1', '10.0.0.1 ', '10.0.0.1/32', 'host', '2001:db8::1',
  '[2001:db8::1]:80', '[2001:db8::1]', '[2001:db8::1-2001:db8::9]:80', '[10.0.0.1]:80', '[::1]:99999', '::1', '10.0.0.1:80:90', '1e1.0.0.1',
  '0x1.0.0.1', '10.0.0.1:0x50', '10.0.0.1:-1', '10.0.0.1:80-', '99999999999.0.0.1', '10.0.0.1:1.5',
];

function randomRange(rnd: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const octet = (): string => pick(['0', '1', '9', '10', '99', '100', '199', '255', '256', '300', '010', '']);
  const v4 = (): string => [octet(), octet(), octet(), octet()].slice(0, pick([3, 4, 4, 4, 5])).join('.');
  const port = (): string => pick(['0', '1', '80', '65535', '65536', 'x', '', '-1']);
  let s = pick(['', v4(), v4(), `${v4()}-${v4()}`, '2001:db8::1', `[2001:db8::${pick(['1', 'g'])}]`]);
  if (rnd() < 0.7) s += ':' + (rnd() < 0.5 ? port() : `${port()}-${port()}`);
  return s;
}

const withCheck = [...MATCH_EXTENSIONS, ...TARGET_EXTENSIONS].filter((e) => e.check !== undefined);
const optionOf: Record<string, string> = { DNAT: 'to-destination', SNAT: 'to-source' };
const FAMILIES: Family[] = ['ipv4', 'ipv6'];

describe('check agrees with parse(...).ok', () => {
  it('DNAT and SNAT have one (the parser counts on it for kube-proxy dumps)', () => {
    expect(withCheck.map((e) => e.name).sort()).toEqual(expect.arrayContaining(['DNAT', 'SNAT']));
  });

  for (const ext of withCheck) {
    it(`${ext.name}: edge cases, random ranges, several or no options`, () => {
      const name = optionOf[ext.name];
      expect(name, `test knows the option of ${ext.name}`).toBeDefined();
      const rnd = prng(7);
      const values = [...EDGE, ...Array.from({ length: 2000 }, () => randomRange(rnd))];
      let accepted = 0;
      for (const family of FAMILIES) {
        const cases: MatchOption[][] = [[]];
        for (const v of values) cases.push([{ name, negated: false, args: [v] }]);
        for (let i = 0; i + 1 < values.length; i += 97) cases.push([{ name, negated: false, args: [values[i]] }, { name, negated: false, args: [values[i + 1]] }, { name: 'random', negated: false, args: [] }]);
        for (const options of cases) {
          const want = ext.parse(options, family).ok;
          if (want) accepted++;
          expect(ext.check!(options, family), `${ext.name} ${JSON.stringify(options.map((o) => o.args[0]))} (${family})`).toBe(want);
        }
      }
      // Both answers occur (the cases are not all valid or all invalid).
      expect(accepted).toBeGreaterThan(100);
    });
  }

  it('isIPv4Text is parseIpUncached(...)?.family === "ipv4"', () => {
    const rnd = prng(3);
    const texts = [...EDGE, ...Array.from({ length: 2000 }, () => randomRange(rnd).split(':')[0])];
    for (const t of texts) expect(isIPv4Text(t), JSON.stringify(t)).toBe(parseIpUncached(t)?.family === 'ipv4');
  });
});
