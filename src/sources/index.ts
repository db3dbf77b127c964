/**
 * `openSource`: turn a SOURCE argument into a LoadedSource. One ordered table of resolvers, each
 * claiming the arguments it understands; adding a kind of source is one entry here.
 *
 *   -            standard input (a dump or a capture bundle)
 *   live         the host's rules and context, read-only (src/sources/live.ts)
 *   a directory  a folder of dumps/bundles (src/sources/directory.ts)
 *   a file       an iptables-save / ip6tables-save dump, or a capture bundle
 *
 * Failures that make the source unusable (missing, unreadable, binary, no dumps in a directory)
 * are CliError with exit 2 and one line naming the file and the reason. Parse problems are not
 * failures: they are diagnostics inside the returned parse results.
 */
import { stat } from 'node:fs/promises';
import { CliError } from '../cli/errors.js';
import type { CliIO } from '../cli/io.js';
import { loadDirectory, sourceFromText } from './directory.js';
import { decodeDump, readDumpFile } from './file.js';
import type { LoadedSource } from './types.js';

/** A kind of source: `claims` says whether the argument is its kind; `open` loads it. */
export interface SourceResolver {
  name: string;
  claims(arg: string): Promise<boolean> | boolean;
  open(arg: string, io: CliIO): Promise<LoadedSource>;
}

async function isDirectory(arg: string): Promise<boolean> {
  try {
    return (await stat(arg)).isDirectory();
  } catch {
    return false;
  }
}

/** The resolvers in the order they are asked; the last (file) claims everything else. */
export const RESOLVERS: SourceResolver[] = [
  {
    name: 'stdin',
    claims: (arg) => arg === '-',
    async open(_arg, io) {
      const text = decodeDump(await io.readStdin(), 'stdin');
      const src = sourceFromText(text, '-');
      return src.kind === 'file' ? { ...src, kind: 'stdin', label: 'stdin', path: undefined } : src;
    },
  },
  {
    name: 'live',
    claims: (arg) => arg === 'live',
    async open() {
      const { loadLive } = await import('./live.js');
      return loadLive();
    },
  },
  {
    name: 'directory',
    claims: isDirectory,
    open: (arg) => loadDirectory(arg),
  },
  {
    name: 'file',
    claims: () => true,
    async open(arg) {
      return sourceFromText(await readDumpFile(arg), arg);
    },
  },
];

/**
 * Open SOURCE (a file path, `-`, `live`, a directory or a bundle). `undefined` (no SOURCE given)
 * is a usage error here; commands with a default source handle that before calling.
 */
export async function openSource(arg: string | undefined, io: CliIO): Promise<LoadedSource> {
  if (arg === undefined || arg === '') throw new CliError('missing SOURCE (a dump file, - for stdin, live, a directory or a capture bundle)', 2);
  for (const r of RESOLVERS) {
    if (await r.claims(arg)) return r.open(arg, io);
  }
  throw new CliError(`${arg}: not a source iptscope can open`, 2);
}

export { readDumpFile, decodeDump, binaryReason } from './file.js';
