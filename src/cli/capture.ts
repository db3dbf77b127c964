/**
 * `iptscope capture [-o FILE] [--timeout SECONDS]`: read the live host (read-only) and write its
 * rules and context into one capture bundle (see src/sources/bundle.ts for the format), so a
 * node's state can be copied off and stepped elsewhere with exactly the same context.
 */
import { rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError } from './errors.js';
import type { CliIO } from './io.js';
import { writeBundle } from '../sources/bundle.js';
import { loadLive } from '../sources/live.js';
import type { Family } from '../core/model.js';

const HELP = `usage: iptscope capture [-o FILE] [--timeout SECONDS]

Read this host's iptables rules (iptables-save -c and ip6tables-save -c, nft or legacy as the host
uses) and the context the kernel consults (interfaces, addresses, routes of every table, policy
rules, forwarding / rp_filter / route_localnet / bridge-nf sysctls, ipsets) into one text file.
Nothing on the host is changed. Needs root (sudo).

Open the bundle anywhere with any command: iptscope FILE, iptscope show FILE, iptscope trace FILE ….

options:
  -o, --output FILE    write the bundle to FILE (default: HOSTNAME-YYYYMMDDTHHMMSSZ.bundle in the
                       current directory; - writes to standard output)
  --timeout SECONDS    give up on a command after SECONDS (default 20)
  -h, --help           this help
`;

/** Parse a positive number of seconds for a flag, or throw naming the value. */
function seconds(flag: string, value: string | undefined): number {
  if (value === undefined) throw new CliError(`${flag} needs a value (seconds)`, 2);
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new CliError(`${flag}: "${value}" is not a positive number of seconds`, 2);
  return n;
}

export async function run(args: string[], io: CliIO): Promise<number> {
  let output: string | undefined;
  let timeoutMs = 20_000;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-h' || a === '--help') {
      io.out(HELP);
      return 0;
    } else if (a === '-o' || a === '--output') {
      output = args[++i];
      if (output === undefined || output === '') throw new CliError(`${a} needs a file name`, 2);
    } else if (a.startsWith('--output=')) {
      output = a.slice('--output='.length);
    } else if (a === '--timeout') {
      timeoutMs = seconds(a, args[++i]) * 1000;
    } else if (a.startsWith('--timeout=')) {
      timeoutMs = seconds('--timeout', a.slice('--timeout='.length)) * 1000;
    } else {
      throw new CliError(`capture: unexpected argument "${a}" (see iptscope capture --help)`, 2);
    }
  }

  const source = await loadLive({ timeoutMs, env: io.env });
  const text = writeBundle(source);
  const counts = (['ipv4', 'ipv6'] as Family[])
    .filter((f) => source.rulesets[f])
    .map((f) => {
      let n = 0;
      for (const t of source.rulesets[f]!.ruleset.tables.values()) for (const c of t.chains.values()) n += c.rules.length;
      return `${f} ${n} rule${n === 1 ? '' : 's'}`;
    })
    .join(', ');
  const ctx = source.context;
  const summary = `${counts}; ${ctx?.interfaces?.length ?? 0} interfaces, ${ctx?.routes?.length ?? 0} routes${
    source.meta.variant !== 'unknown' ? `; iptables-${source.meta.variant}` : ''
  }`;
  const notes = () => {
    for (const n of source.notes) io.err(`iptscope: note: ${n}\n`);
  };

  if (output === '-') {
    io.out(text);
    notes();
    io.err(`iptscope: captured ${source.meta.hostname || 'this host'}: ${summary}\n`);
    return 0;
  }
  const stamp = source.meta.capturedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const file = output ?? `${(source.meta.hostname || 'host').replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}.bundle`;
  // Write beside the target and rename: a reader (or a watcher) never sees half a bundle.
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text, { encoding: 'utf8', mode: 0o644 });
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    throw new CliError(`cannot write ${file}: ${e.code === 'EACCES' ? 'permission denied' : e.code === 'ENOENT' ? 'no such directory' : (e.code ?? e.message)}`, 2);
  }
  notes();
  io.err(`iptscope: wrote ${file}: ${summary}\n`);
  return 0;
}
