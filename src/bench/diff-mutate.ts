/**
 * Benchmark input for the structural diff: a dump with a given fraction of its rules edited,
 * deleted or inserted, spread evenly over the whole dump (so thousands of chains change, as in a
 * large kube-proxy resync). Used by the diff bench section and by its tests, which check that the
 * diff reports exactly the mutations made.
 */

/** What mutateDump did. */
export interface Mutations {
  text: string;
  /** Rules edited in place (a comment match inserted): the diff should call them changed. */
  edited: number;
  /** Rules deleted. */
  deleted: number;
  /** Rules inserted (after a rule of the same chain). */
  inserted: number;
  /** Rules (`-A` lines) in the input. */
  rules: number;
}

/**
 * Mutate every `1/fraction`-th rule, cycling edit → delete → insert. `fraction` 0.01 = 1 % of rules.
 * Deterministic.
 */
export function mutateDump(text: string, fraction: number): Mutations {
  const every = Math.max(1, Math.round(1 / fraction));
  const lines = text.split('\n');
  const out: string[] = [];
  let rules = 0;
  let picked = 0;
  const m = { edited: 0, deleted: 0, inserted: 0 };
  for (const line of lines) {
    const head = /^(\[\d+:\d+\] )?-A (\S+) /.exec(line);
    if (!head) {
      out.push(line);
      continue;
    }
    rules++;
    if (rules % every !== Math.floor(every / 2)) {
      out.push(line);
      continue;
    }
    const counters = head[1] ?? '';
    const chain = head[2];
    const rest = line.slice(head[0].length);
    switch (picked++ % 3) {
      case 0:
        out.push(`${counters}-A ${chain} -m comment --comment "bench edit ${picked}" ${rest}`);
        m.edited++;
        break;
      case 1:
        m.deleted++;
        break;
      default:
        out.push(line);
        out.push(`${counters}-A ${chain} -s 198.51.${(picked >> 8) & 255}.${picked & 255}/32 -m comment --comment "bench insert ${picked}" -j RETURN`);
        m.inserted++;
    }
  }
  return { text: out.join('\n'), rules, ...m };
}
