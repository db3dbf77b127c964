/**
 * `anyValue` promises that an extension's parse accepts any argument of those options: the
 * parser relies on it to skip the typed parse when it checks a rule of a known shape. Hold every
 * extension that declares it to the promise, with arguments chosen to break things.
 */
import { describe, expect, it } from 'vitest';
import { MATCH_EXTENSIONS, TARGET_EXTENSIONS } from '../../../src/core/extensions/index.js';
import type { Family, MatchOption } from '../../../src/core/model.js';

const NASTY = ['', ' ', 'x', '!', '-', '--', '"', '\\', '\u0000', '\u001b[31mred', '{bold}', 'ünïcødé ✓', 'a'.repeat(300), '10.0.0.1', '0x4000/0x4000', '-5', '"a b"'];
const FAMILIES: Family[] = ['ipv4', 'ipv6'];
const declaring = [...MATCH_EXTENSIONS, ...TARGET_EXTENSIONS].filter((e) => e.anyValue !== undefined);

describe('extensions that accept any value keep the promise', () => {
  it('the comment match declares it (the parser counts on it for kube-proxy dumps)', () => {
    expect(declaring.map((e) => e.name)).toContain('comment');
  });

  for (const ext of declaring) {
    it(`${ext.name}: parse accepts every argument of ${ext.anyValue!.join(', ')}`, () => {
      for (const family of FAMILIES) {
        if (ext.families && !ext.families.includes(family)) continue;
        for (const v of NASTY) {
          const options: MatchOption[] = ext.anyValue!.map((name) => ({ name, negated: false, args: [v] }));
          const r = ext.parse(options, family);
          expect(r.ok, `${ext.name} ${JSON.stringify(v)} (${family}): ${r.ok ? '' : r.message}`).toBe(true);
        }
      }
    });
  }
});
