/**
 * Reading a dump from a file or standard input, with one clear reason when it cannot be used:
 * missing, unreadable, a directory, or binary (not an iptables-save text).
 */
import { readFile } from 'node:fs/promises';
import { CliError } from '../cli/errors.js';

/** How many leading bytes are checked for non-text bytes. */
const SNIFF = 64 * 1024;

/**
 * Why `buf` is not a text dump, or undefined when it is text. NUL bytes anywhere make it binary
 * (no iptables-save text has them); so does a start that is mostly non-text bytes.
 */
export function binaryReason(buf: Buffer): string | undefined {
  const nul = buf.indexOf(0);
  if (nul >= 0) return `binary file (NUL byte at offset ${nul}), not an iptables-save text`;
  const n = Math.min(buf.length, SNIFF);
  let odd = 0;
  for (let i = 0; i < n; i++) {
    const c = buf[i];
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || c === 127) odd++;
  }
  if (n > 0 && odd / n > 0.1) return 'binary file (control bytes), not an iptables-save text';
  return undefined;
}

/** Message for a failed read, by errno code. */
function readError(path: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const reason =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory, not a dump file'
          : code === 'ENOTDIR'
            ? 'a part of the path is not a directory'
            : code === 'ELOOP'
              ? 'too many symbolic links'
              : code === 'ERR_FS_FILE_TOO_LARGE'
                ? 'file too large'
                : `cannot read (${code ?? (err instanceof Error ? err.message : String(err))})`;
  return new CliError(`${path}: ${reason}`, 2);
}

/** Read a dump file as text; CliError (exit 2) naming the file and the reason when it cannot be used. */
export async function readDumpFile(path: string): Promise<string> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    throw readError(path, err);
  }
  return decodeDump(buf, path);
}

/** Decode a dump's bytes (UTF-8; invalid sequences become U+FFFD), rejecting binary data. */
export function decodeDump(buf: Buffer, label: string): string {
  const why = binaryReason(buf);
  if (why) throw new CliError(`${label}: ${why}`, 2);
  return buf.toString('utf8');
}
