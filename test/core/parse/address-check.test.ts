/** cidrOk (the parser's allocation-free check) agrees with parseCidr on every input. */
import { describe, expect, it } from 'vitest';
import type { Family } from '../../../src/core/model.js';
import { cidrOk } from '../../../src/core/parse/address.js';
import { parseCidr } from '../../../src/core/parse/index.js';

const TEXTS = [
  '10.0.0.1', '10.0.0.1/32', '10.0.0.0/8', '10.0.0.0/0', '10.0.0.0/33', '10.0.0.0/032', '10.0.0.0/0032', '10.0.0.0/', '10.0.0.0/x', '10.0.0.0/255.0.0.0',
  '10.0.0.0/255.0.255.0', '010.0.0.1', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.4/32/32', '', '/32', 'host.example', '::1', '2001:db8::/32',
  '2001:db8::1/129', '::ffff:1.2.3.4', '10.0.0.1,10.0.0.2', ' 10.0.0.1', '10.0.0.1 ', '1.2.3.4/3 2', '0.0.0.0', '255.255.255.255/31',
];
const FAMILIES: (Family | undefined)[] = [undefined, 'ipv4', 'ipv6'];

describe('cidrOk', () => {
  for (const family of FAMILIES) {
    it.each(TEXTS)(`%j in family ${family ?? 'unknown'}`, (t) => {
      expect(cidrOk(t, family)).toBe(parseCidr(t, family).ok);
    });
  }
});
