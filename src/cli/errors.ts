/**
 * A user-facing failure: one clear line and an exit code. The CLI prints `iptscope: MESSAGE` and
 * exits with `code`; never a stack trace.
 */
export class CliError extends Error {
  constructor(
    message: string,
    /** Exit status: 2 for usage / unreadable input / environment problems, 1 for parse errors. */
    readonly code: number = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
