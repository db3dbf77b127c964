/**
 * Human units for counters and rates, as `iptables -L -v` prints them (K, M, G with 1000 steps)
 * but with one decimal below 10 so a glance tells 1.2M from 12M.
 */

const UNITS = ['', 'K', 'M', 'G', 'T', 'P'];

/** `1234` → `1.2K`, `520000` → `520K`, `999` → `999`. */
export function humanCount(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '-';
  if (n < 1000) return String(Math.round(n));
  let v = n;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  // 999.96K would print as 1000.0K: carry into the next unit.
  if (v >= 999.95 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return (v < 10 ? v.toFixed(1) : String(Math.round(v))) + UNITS[u];
}

/** A rate with a unit suffix: `12/s`, `1.5K/s`; empty for zero so quiet rules stay quiet. */
export function humanRate(perSecond: number): string {
  if (!(perSecond > 0)) return '';
  if (perSecond < 10) return `${perSecond.toFixed(1)}/s`;
  return `${humanCount(perSecond)}/s`;
}

/** Thousands separators for exact numbers in titles: `15449` → `15,449`. */
export function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

/** A mark as 0x-prefixed hex (`0x4000`). */
export function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}
