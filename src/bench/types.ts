/**
 * The benchmark framework's contract: each area adds a section file `src/bench/<area>.ts`
 * exporting `export const section: BenchSection`; `npm run bench` (src/bench/run.ts) runs them.
 */

/** What a section gets from the runner. */
export interface BenchContext {
  /** `--quick`: smallest sizes and fewer repetitions (a smoke run, not figures to publish). */
  quick: boolean;
  /** A scratch directory for generated inputs (bench/out/, git-ignored). */
  workDir: string;
  /** The project root (where package.json is). */
  root: string;
  /** Progress lines (stderr), so stdout stays the report. */
  log(line: string): void;
}

/** One table of results. Cells are preformatted text; the runner aligns and prints them. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: string[][];
  /** Lines printed under the table (method, machine caveats, pass/fail against targets). */
  notes?: string[];
}

/** A benchmark section. */
export interface BenchSection {
  /** Short name used by `--only NAME`. */
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchTable[]>;
}

/** Median of numbers (mean of the middle two for an even count); NaN for none. */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
