/** Flag parsing shared by the subcommands that use node:util parseArgs. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs (strict, positionals allowed) whose errors become one line naming the command and
 * the offending flag, exit 2 — never node's multi-sentence message or a stack trace.
 */
export function parseFlags<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options });
  } catch (err) {
    throw new CliError(`${command}: ${(err as Error).message.split(/\n|\. /)[0]} (see iptscope ${command} --help)`, 2);
  }
}
