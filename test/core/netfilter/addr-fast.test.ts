/**
 * The fast paths of address and port parsing give exactly what the straightforward versions gave:
 * parseIpUncached against ipaddr.js's isValidFourPartDecimal + parse + toString, parsePortSpan
 * against `text.split(/[-:]/)`.
 */
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { parsePortSpan } from '../../../src/core/extensions/targets/nat.js';
import { parseIp, parseIpUncached } from '../../../src/core/netfilter/addr.js';

function referenceIp(text: string): { family: string; text: string } | null {
  const t = text.trim();
  if (t.includes('/')) return null;
  try {
    if (ipaddr.IPv4.isValidFourPartDecimal(t)) return { family: 'ipv4', text: ipaddr.IPv4.parse(t).toString() };
    if (ipaddr.IPv6.isValid(t)) return { family: 'ipv6', text: ipaddr.IPv6.parse(t).toString() };
  } catch {
    return null;
  }
  return null;
}

function referencePorts(text: string): [number, number] | null {
  const [a, b] = text.split(/[-:]/);
  const lo = Number(a);
  const hi = b === undefined ? lo : Number(b);
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > 65535 || lo > hi) return null;
  return [lo, hi];
}

const ADDRESSES = [
  '10.0.0.1', '0.0.0.0', '255.255.255.255', '256.0.0.1', '10.0.0.256', '010.0.0.1', '10.00.0.1', '1.2.3', '1.2.3.4.5', '0x0a.0.0.1', '10.0.0.1 ',
  ' 10.0.0.1', '10.0.0.1/32', '', '.', '1..2.3', '1.2.3.-4', '+1.2.3.4', '1e1.2.3.4', '99999999999999999999.1.1.1', '::1', '2001:db8::1',
  '::ffff:10.0.0.1', 'fe80::1%eth0', 'gggg::1', '1:2:3:4:5:6:7:8:9', '10.0.0.1:80',
];
const PORTS = ['80', '80-90', '80:90', '90-80', '0', '65535', '65536', '', '-', ':', '80-', '-80', '80-90-100', '80:90:100', 'x', '8x', '1.5', ' 80', '80 ', '0x50', '1e2'];

describe('address and port fast paths', () => {
  it.each(ADDRESSES)('parseIpUncached(%j) is what ipaddr.js says', (t) => {
    const got = parseIpUncached(t);
    const want = referenceIp(t);
    expect(got === null ? null : { family: got.family, text: got.text }).toEqual(want);
    expect(parseIp(t)).toEqual(got);
  });

  it.each(PORTS)('parsePortSpan(%j) is what the split version says', (t) => {
    expect(parsePortSpan(t)).toEqual(referencePorts(t));
  });
});
