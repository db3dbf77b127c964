/**
 * The TUI's wiring of the SOURCES effects (src/cli/tui.ts `sourceCallbacks`) driven by the real
 * watcher and counter poller: what reaches the store when the file changes, breaks, goes and comes
 * back, and when counters are sampled. Checks the agreed callback contract end to end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createStore } from '../../src/app/store.js';
import { createController } from '../../src/app/controller.js';
import { sourceCallbacks, toPayload } from '../../src/cli/tui.js';
import { openSource } from '../../src/sources/index.js';
import { watchSource, type SourceWatcher } from '../../src/sources/watch.js';
import { pollCounters } from '../../src/app/effects/counters.js';
import { liveCounters, liveRate } from '../../src/app/counters.js';
import { sourceFromText } from '../../src/sources/directory.js';
import type { CliIO } from '../../src/cli/io.js';

const io: CliIO = { out: () => undefined, err: () => undefined, readStdin: async () => Buffer.alloc(0), isTTY: false, env: {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean, ms = 3000): Promise<number> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached');
    await sleep(10);
  }
  return Date.now() - t0;
}

const dump = (port: number, counters = '') =>
  `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${counters}-A INPUT -p tcp -m tcp --dport ${port} -j ACCEPT\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n`;

const closers: (() => unknown)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

describe('tui.ts wiring × watchSource', () => {
  it('reload with changes, failed reload keeps the ruleset, gone, and back', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'iptscope-wiring-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'rules');
    writeFileSync(file, dump(22));
    const source = await openSource(file, io);
    const store = createStore();
    const controller = createController(store, null);
    store.dispatch({ type: 'loaded', payload: toPayload(source, { watching: true }) });
    // As tui.ts does it.
    const w: SourceWatcher = watchSource(file, sourceCallbacks(store, controller, { family: () => store.getState().family, watching: true, demo: false }), { initial: source });
    closers.push(() => w.close());
    await w.ready;

    writeFileSync(file, dump(2222));
    await until(() => store.getState().sourceText.includes('2222'));
    expect(store.getState().changes.length).toBeGreaterThan(0);

    writeFileSync(file, '*filter\n-A NOPE -j ACCEPT\n');
    await until(() => store.getState().reloadError !== null);
    expect(store.getState().reloadError).toMatch(/keeping the last good ruleset/);
    expect(store.getState().reloadDiagnostics.length).toBeGreaterThan(0);
    expect(store.getState().sourceText).toContain('2222');

    unlinkSync(file);
    await until(() => store.getState().gone === file);
    expect(store.getState().sourceText).toContain('2222');

    // Back, but broken: no longer gone, the failure shown, the last good ruleset kept.
    writeFileSync(file, '*filter\n-A NOPE2 -j ACCEPT\n');
    await until(() => store.getState().gone === null);
    expect(store.getState().reloadError).toMatch(/keeping the last good ruleset/);
    expect(store.getState().sourceText).toContain('2222');

    writeFileSync(`${file}.tmp`, dump(8080));
    renameSync(`${file}.tmp`, file);
    const took = await until(() => store.getState().sourceText.includes('8080'));
    expect(took).toBeLessThan(1000);
    expect(store.getState().gone).toBeNull();
    expect(store.getState().reloadError).toBeNull();
  });
});

describe('tui.ts wiring × pollCounters', () => {
  it('samples reach the store as rates; a rules change reloads', async () => {
    let n = 0;
    const texts = [dump(22, '[0:0] '), dump(22, '[100:6000] '), dump(23, '[0:0] ')];
    const live = { ...sourceFromText(texts[0], 'live'), kind: 'live' as const, label: 'live host test' };
    const store = createStore();
    const controller = createController(store, null);
    store.dispatch({ type: 'loaded', payload: toPayload(live) });
    const p = pollCounters(20, sourceCallbacks(store, controller, { family: () => store.getState().family, watching: false, demo: false }), {
      initial: live,
      read: async () => ({ ...sourceFromText(texts[Math.min(n++, 2)], 'live'), kind: 'live' as const }),
    });
    closers.push(() => p.stop());
    const before = store.getState().rates;
    await until(() => store.getState().rates !== before && n >= 2);
    await until(() => (liveRate(store.getState().rates, 'filter', 'INPUT', 1)?.pps ?? 0) > 0 || store.getState().sourceText.includes('--dport 23'));
    if (!store.getState().sourceText.includes('--dport 23')) {
      // 100 packets and 6000 bytes between two reads: a rate on INPUT #1, its counters newer than the dump's.
      expect(liveCounters(store.getState().rates, 'filter', 'INPUT', 1)).toEqual({ packets: 100, bytes: 6000 });
      expect(liveRate(store.getState().rates, 'filter', 'INPUT', 2)).toEqual({ pps: 0, bps: 0 });
    }
    await until(() => store.getState().sourceText.includes('--dport 23'));
    expect(store.getState().changes.length).toBeGreaterThan(0);
  });
});
