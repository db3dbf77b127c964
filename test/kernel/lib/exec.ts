/**
 * Process helpers of the kernel harness: every command has a bounded run time, every long-lived
 * process is kept by pid and stopped by pid (never by name).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion (killed after `timeoutMs`); throws on a non-zero exit unless `check: false`. */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; check?: boolean } = {},
): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const res = { code, stdout, stderr };
      if (timedOut) reject(new Error(`${cmd} ${args.join(' ')}: timed out after ${timeoutMs} ms`));
      else if (opts.check !== false && code !== 0)
        reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${stderr.trim() || stdout.trim()}`));
      else resolve(res);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Run a command inside a network namespace. */
export function nsRun(
  ns: string,
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; check?: boolean } = {},
): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/**
 * A long-lived process with line-oriented stdout: `waitLine(pred, ms)` resolves with the first
 * line (seen so far or later) satisfying pred, or rejects after ms with what was seen.
 */
export class LineProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  private partial = '';
  private stderrText = '';
  private exited = false;
  private waiters: { from: number; pred: (l: string) => boolean; resolve: (i: number) => void }[] = [];
  readonly label: string;

  constructor(label: string, cmd: string, args: string[]) {
    this.label = label;
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => this.onData(d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.stderrText += d.toString()));
    this.child.stdin.on('error', () => undefined);
    this.child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiters) w.resolve(-1);
      this.waiters = [];
    });
    this.child.on('error', (err) => {
      this.stderrText += String(err);
      this.exited = true;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get stderr(): string {
    return this.stderrText;
  }

  get alive(): boolean {
    return !this.exited;
  }

  private onData(text: string): void {
    this.partial += text;
    let idx: number;
    while ((idx = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, idx);
      this.partial = this.partial.slice(idx + 1);
      this.lines.push(line);
      const i = this.lines.length - 1;
      this.waiters = this.waiters.filter((w) => {
        if (i >= w.from && w.pred(line)) {
          w.resolve(i);
          return false;
        }
        return true;
      });
    }
  }

  /** Index of the first line at or after `from` satisfying pred; -1 if the process exited first. */
  waitLine(pred: (l: string) => boolean, timeoutMs: number, from = 0): Promise<number> {
    for (let i = from; i < this.lines.length; i++) if (pred(this.lines[i]!)) return Promise.resolve(i);
    if (this.exited) return Promise.resolve(-1);
    return new Promise((resolve, reject) => {
      const w = { from, pred, resolve: (i: number) => (clearTimeout(t), resolve(i)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(
          new Error(
            `${this.label}: no expected output within ${timeoutMs} ms; got ${JSON.stringify(this.lines.slice(from))}` +
              (this.stderrText ? `; stderr ${JSON.stringify(this.stderrText.trim())}` : ''),
          ),
        );
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Wait until no new line arrives for quietMs (bounded by maxMs). */
  async quiet(quietMs: number, maxMs: number): Promise<void> {
    const start = Date.now();
    let count = this.lines.length;
    let last = Date.now();
    while (Date.now() - start < maxMs) {
      await sleep(Math.min(50, quietMs));
      if (this.lines.length !== count) {
        count = this.lines.length;
        last = Date.now();
      } else if (Date.now() - last >= quietMs) return;
    }
  }

  write(line: string): void {
    if (!this.exited) this.child.stdin.write(line + '\n');
  }

  /** Stop the process by its pid (SIGTERM, then SIGKILL) and wait for it to exit (bounded). */
  async stop(): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    try {
      this.child.stdin.end();
    } catch {
      /* already closed */
    }
    try {
      process.kill(this.child.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    const deadline = Date.now() + 2000;
    while (!this.exited && Date.now() < deadline) await sleep(20);
    if (!this.exited) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      const d2 = Date.now() + 1000;
      while (!this.exited && Date.now() < d2) await sleep(20);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
