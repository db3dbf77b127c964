/**
 * Watch a file source (dump or bundle) or a directory source with chokidar, reload on change and
 * hand the new load to the TUI with what changed since the previous good load (computed once,
 * from the rules' raw lines: src/app/changes.ts).
 *
 * How tools write files, and what the watcher does about it:
 * - atomic replace (write a temp file, rename it over): the parent directory is watched, so the
 *   rename is seen as a change of the path, whatever inode it now names;
 * - truncate then write, and partial writes: nothing is read until the file has been quiet for
 *   `settleMs`, and a read counts only when size, mtime and inode did not move while reading;
 *   an empty file is "not written yet" (an error, the last good load stays);
 * - deletion (or rename away): `onGone` once, the last good load stays; when the path comes back
 *   it is read again;
 * - a file that stops parsing (error diagnostics, a damaged bundle): `onError` with the failed
 *   load, the last good load stays; back to a good file → `onLoaded` again.
 * A slow poll (`pollMs`) backs chokidar up, so a missed event costs at most one poll interval.
 */
import { watch as chokidarWatch, type FSWatcher } from 'chokidar';
import { readFile, readdir, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import path from 'node:path';
import { CliError } from '../cli/errors.js';
import { diffSources, noChanges } from '../app/effects/changes.js';
import type { SourceCallbacks, SourceChanges } from '../app/effects/types.js';
import { asDirectorySource, listDumps, sourceFromText, type DirectoryEntry } from './directory.js';
import type { LoadedSource } from './types.js';

/** Options of watchSource. */
export interface WatchOptions {
  /** The source already loaded and shown: the baseline for the first change summary. */
  initial?: LoadedSource;
  /** Quiet time after the last change before reading (ms). Default 150. */
  settleMs?: number;
  /** Safety poll of the file's size/mtime/inode (ms). Default 500. */
  pollMs?: number;
}

/** A running watcher. */
export interface SourceWatcher {
  /** Resolves once chokidar is watching and the file was checked against `initial`. */
  ready: Promise<void>;
  /** Stop watching (idempotent). */
  close(): Promise<void>;
  /** Directory sources: load and watch another entry (calls onLoaded, or onError). */
  select(entryPath: string): Promise<void>;
}

/** Identity of a file version as far as stat can tell. */
function signature(st: { size: number; mtimeMs: number; ino: number } | undefined): string {
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'absent';
}

/** Error diagnostics of a load (all families). */
function errorsOf(source: LoadedSource): { count: number; first?: string } {
  let count = 0;
  let first: string | undefined;
  for (const r of Object.values(source.rulesets)) {
    for (const d of r?.diagnostics ?? []) {
      if (d.severity !== 'error') continue;
      count++;
      first ??= `${d.file}:${d.line}:${d.column}: ${d.message}`;
    }
  }
  return { count, first };
}

/** Same dump texts (every family)? */
function sameTexts(a: LoadedSource, b: LoadedSource): boolean {
  return a.texts.ipv4 === b.texts.ipv4 && a.texts.ipv6 === b.texts.ipv6;
}

/** Call a TUI callback; its failures must not stop the watcher (nor escape into a timer). */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // The consumer's bug; the watcher keeps going.
  }
}

/**
 * Watch `target`: a dump or bundle file, or a directory of them. Calls `onLoaded` with each new
 * good load (and its changes), `onError` for a load that fails, `onGone` when the file goes.
 */
export function watchSource(target: string, callbacks: SourceCallbacks, opts: WatchOptions = {}): SourceWatcher {
  const settleMs = opts.settleMs ?? 150;
  const pollMs = opts.pollMs ?? 500;
  let isDir = false;
  try {
    isDir = statSync(target).isDirectory();
  } catch {
    isDir = false;
  }
  const dir = isDir ? target : path.dirname(target);
  /** The watched file (directory mode: the selected entry). */
  let selected: string | undefined = isDir ? (opts.initial?.directory === target ? opts.initial.path : undefined) : target;
  let entries: DirectoryEntry[] = opts.initial?.entries?.map((e) => ({ ...e })) ?? [];

  let lastGood: { text?: string; source: LoadedSource } | undefined = opts.initial ? { source: opts.initial } : undefined;
  let lastEmitted: 'good' | 'error' | 'gone' | 'none' = opts.initial ? 'good' : 'none';
  let lastErrorText: string | undefined;
  let lastSig = '';
  let dirSig = '';
  let closed = false;
  let busy = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  /** Bumped by select(): checks started before it are stale. */
  let generation = 0;

  const wrap = (source: LoadedSource, file: string): LoadedSource => (isDir ? asDirectorySource(dir, entries, source, file) : source);

  const schedule = (delay = settleMs): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void check();
    }, delay);
  };

  /** Directory mode: re-list entries; when the list changed, re-announce the last good load with it. */
  const rescan = async (): Promise<void> => {
    const fresh = await listDumps(dir).catch(() => undefined);
    if (!fresh || closed) return;
    const changed = fresh.map((e) => e.path).join('\n') !== entries.map((e) => e.path).join('\n');
    entries = fresh;
    if (!selected && entries.length > 0) {
      selected = entries[0].path;
      return;
    }
    if (changed && lastGood && lastEmitted === 'good') {
      lastGood = { ...lastGood, source: asDirectorySource(dir, entries, lastGood.source, lastGood.source.path ?? selected ?? dir) };
      const src = lastGood.source;
      safely(() => callbacks.onLoaded(src, noChanges()));
    }
  };

  const check = async (): Promise<void> => {
    if (closed) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      if (isDir) await rescan();
      if (selected) await checkFile(selected);
    } catch (err) {
      safely(() => callbacks.onError(`${selected ?? dir}: ${err instanceof Error ? err.message : String(err)}`));
    } finally {
      busy = false;
      if (again && !closed) {
        again = false;
        schedule();
      }
    }
  };

  const checkFile = async (file: string): Promise<void> => {
    // select() may switch entries while this check awaits: a stale check must not emit.
    const gen = generation;
    let st1;
    try {
      st1 = await stat(file);
    } catch {
      if (closed || gen !== generation) return;
      lastSig = 'absent';
      if (lastEmitted !== 'gone') {
        lastEmitted = 'gone';
        lastErrorText = undefined;
        safely(() => callbacks.onGone(file));
      }
      return;
    }
    // Still being written (modified within the settle time): wait for quiet.
    const age = Date.now() - st1.mtimeMs;
    if (age < settleMs) {
      schedule(Math.max(20, settleMs - age + 5));
      return;
    }
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      schedule();
      return;
    }
    let st2;
    try {
      st2 = await stat(file);
    } catch {
      schedule();
      return;
    }
    if (signature(st1) !== signature(st2) || Buffer.byteLength(text, 'utf8') !== st2.size) {
      schedule();
      return;
    }
    if (closed || gen !== generation) return;
    lastSig = signature(st2);

    if (lastGood?.text === text) {
      // Back to the last good content (after an error or a disappearance): say so.
      if (lastEmitted !== 'good') {
        lastEmitted = 'good';
        lastErrorText = undefined;
        const src = lastGood.source;
        safely(() => callbacks.onLoaded(src, noChanges()));
      }
      return;
    }
    if (text === lastErrorText) return;
    if (text.trim() === '') {
      lastEmitted = 'error';
      lastErrorText = text;
      safely(() => callbacks.onError(`${file} is empty; keeping the last good ruleset`));
      return;
    }
    let source: LoadedSource;
    try {
      source = wrap(sourceFromText(text, file), file);
    } catch (err) {
      lastEmitted = 'error';
      lastErrorText = text;
      const msg = err instanceof CliError ? err.message : `${file}: ${err instanceof Error ? err.message : String(err)}`;
      safely(() => callbacks.onError(`${msg}; keeping the last good ruleset`));
      return;
    }
    // The first look at the file the TUI already shows (`initial`): the same text means nothing to
    // say, whatever its diagnostics (they are on screen already).
    if (lastGood && lastGood.text === undefined && lastEmitted === 'good' && sameTexts(lastGood.source, source)) {
      lastGood = { text, source: lastGood.source };
      return;
    }
    const errors = errorsOf(source);
    if (errors.count > 0) {
      lastEmitted = 'error';
      lastErrorText = text;
      safely(() =>
        callbacks.onError(
          `${file} has ${errors.count} error${errors.count === 1 ? '' : 's'}; keeping the last good ruleset — ${errors.first}`,
          source,
        ),
      );
      return;
    }
    const previous = lastGood;
    // Computed once, here (on raw rule lines: no rule is materialised); the TUI passes it on to
    // the reducer with the load rather than comparing again.
    const changes: SourceChanges | undefined = previous ? diffSources(previous.source, source) : undefined;
    lastGood = { text, source };
    lastEmitted = 'good';
    lastErrorText = undefined;
    safely(() => callbacks.onLoaded(source, changes));
  };

  // Watch the parent directory (depth 0) so renames over the file, deletion and re-creation are
  // all seen, whichever inode the path names.
  const resolvedDir = path.resolve(dir);
  const interesting = (p: string): boolean => {
    const r = path.resolve(p);
    if (r === resolvedDir) return true;
    if (isDir) return path.dirname(r) === resolvedDir;
    return selected !== undefined && r === path.resolve(selected);
  };
  const watcher: FSWatcher = chokidarWatch(dir, {
    ignoreInitial: true,
    depth: 0,
    persistent: true,
    ignored: (p: string) => !interesting(p),
  });
  watcher.on('all', (_event, p) => {
    if (interesting(p)) schedule();
  });
  watcher.on('error', (err) => {
    safely(() => callbacks.onError(`watching ${dir}: ${err instanceof Error ? err.message : String(err)}`));
  });

  // The safety poll: a missed or coalesced event costs at most pollMs.
  const poll = setInterval(() => {
    if (closed || busy || timer) return;
    void (async () => {
      if (isDir) {
        const names = await readdir(dir).then((n) => n.sort().join('\n'), () => '');
        if (names !== dirSig) {
          const first = dirSig === '';
          dirSig = names;
          if (!first) return schedule();
        }
      }
      if (!selected) return;
      const sig = await stat(selected).then(signature, () => 'absent');
      if (sig !== lastSig) schedule();
    })();
  }, pollMs);
  poll.unref?.();

  const ready = new Promise<void>((resolve) => {
    watcher.once('ready', () => {
      void (async () => {
        if (isDir) {
          dirSig = await readdir(dir).then((n) => n.sort().join('\n'), () => '');
        }
        await check();
        resolve();
      })();
    });
  });

  return {
    ready,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      clearInterval(poll);
      await watcher.close();
    },
    async select(entryPath: string) {
      if (!isDir) throw new CliError(`${target} is not a directory source`, 2);
      generation++;
      selected = entryPath;
      lastGood = undefined;
      lastEmitted = 'none';
      lastErrorText = undefined;
      lastSig = '';
      await check();
    },
  };
}
