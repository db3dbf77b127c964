import { CliError } from './errors.js';
import type { CliIO } from './io.js';

/** `iptscope diff` (placeholder until its issue lands). */
export async function run(_args: string[], _io: CliIO): Promise<number> {
  throw new CliError('diff: not built yet');
}
