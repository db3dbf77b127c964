/** The CLI's window on the world: output streams, stdin and whether stdout is a terminal. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Read all of standard input (for SOURCE `-`). */
  readStdin(): Promise<Buffer>;
  /** True when stdout is a terminal (colour, TUI). */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** The real process's IO. */
export function processIO(): CliIO {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
  };
}
