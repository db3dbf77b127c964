/** Two paths side by side, differing rows marked, for mismatch messages. */
export function sideBySide(leftTitle: string, left: string[], rightTitle: string, right: string[]): string {
  const width = Math.max(leftTitle.length, ...left.map((s) => s.length), 10) + 2;
  const rows = [`    ${leftTitle.padEnd(width)}${rightTitle}`];
  const n = Math.max(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const l = left[i] ?? '';
    const r = right[i] ?? '';
    rows.push(`  ${l === r ? ' ' : '≠'} ${l.padEnd(width)}${r}`);
  }
  return rows.join('\n');
}
