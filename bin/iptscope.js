#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm run build`, run by `prepare` on `npm ci`).
import { main } from '../dist/cli/main.js';

// `iptscope show big.rules | head`: a closed pipe is the reader saying "enough", not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // Last line of defence: never a stack trace for the user, but say what happened.
    process.stderr.write(`iptscope: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.IPTSCOPE_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    process.exitCode = 70;
  },
);
