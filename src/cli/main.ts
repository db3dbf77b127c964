/**
 * `iptscope` command line: dispatches to one module per subcommand. Each module exports
 * `run(args, io)` and returns the exit code. Errors meant for the user are CliError (one line,
 * exit code); anything else is reported as an internal error by bin/iptscope.js.
 */
import { CliError } from './errors.js';
import type { CliIO } from './io.js';
import { processIO } from './io.js';

type Runner = (args: string[], io: CliIO) => Promise<number>;

/** Subcommands and the module that implements each (loaded lazily to keep start-up fast). */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: Runner }> }> = {
  show: { summary: 'list tables and chains, or one chain\'s rules', load: () => import('./show.js') },
  trace: { summary: 'step a packet through the ruleset as the kernel does', load: () => import('./trace.js') },
  diff: { summary: 'compare two rulesets, structurally and by behaviour', load: () => import('./diff.js') },
  lint: { summary: 'report diagnostics and suspicious rules', load: () => import('./lint.js') },
  capture: { summary: 'write the host\'s rules and context into one bundle file', load: () => import('./capture.js') },
  scenario: { summary: 'run scenarios (rules + context + packets + expected outcomes)', load: () => import('./scenario.js') },
  live: { summary: 'open the explorer on the live host (read-only)', load: () => import('./tui.js') },
};

export function usage(): string {
  const lines = [
    'usage: iptscope [SOURCE]            open the explorer (default: live host, else the demo)',
    '       iptscope COMMAND [ARGS] [--json]',
    '',
    'SOURCE: a dump file (iptables-save / ip6tables-save), - for stdin, live, or a capture bundle.',
    '',
    'commands:',
  ];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run `iptscope COMMAND --help` for a command\'s options.');
  return lines.join('\n') + '\n';
}

/** Run the CLI with argv (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === '--help' || first === '-h' || first === 'help') {
      io.out(usage());
      return 0;
    }
    if (first === '--version' || first === '-V') {
      io.out('iptscope 0.1.0\n');
      return 0;
    }
    if (first !== undefined && Object.hasOwn(COMMANDS, first)) {
      const mod = await COMMANDS[first].load();
      return await mod.run(first === 'live' ? ['live', ...rest] : rest, io);
    }
    // No command: open the explorer on SOURCE (or the default source).
    const tui = await import('./tui.js');
    return await tui.run(argv, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`iptscope: ${err.message}\n`);
      return err.code;
    }
    throw err;
  }
}
