/**
 * A reload compares the rulesets once: the effect that notices the new load (the file watcher,
 * the live poller) computes the change summary, and the reducer takes it from the `loaded`
 * action (the same array reaches the state) instead of comparing again. `computeChanges` is
 * wrapped in a spy to count the comparisons.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { computeChanges } from '../../src/app/changes.js';
import { createController } from '../../src/app/controller.js';
import { pollCounters } from '../../src/app/effects/counters.js';
import { createStore } from '../../src/app/store.js';
import { sourceCallbacks, toPayload } from '../../src/cli/tui.js';
import { sourceFromText } from '../../src/sources/directory.js';
import type { LoadedSource } from '../../src/sources/types.js';
import { watchSource } from '../../src/sources/watch.js';

vi.mock('../../src/app/changes.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/app/changes.js')>();
  return { ...orig, computeChanges: vi.fn(orig.computeChanges) };
});
const spy = vi.mocked(computeChanges);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean, ms = 4000): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached');
    await sleep(10);
  }
}

const dump = (top: string[]) =>
  `*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-A - [0:0]\n[3:180] -A PREROUTING -j KUBE-SERVICES\n${top.join('\n')}${top.length ? '\n' : ''}[0:0] -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-A\n[0:0] -A KUBE-SERVICES -d 10.96.0.2/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A\n[0:0] -A KUBE-SVC-A -j DNAT --to-destination 10.244.0.5:443\nCOMMIT\n`;
const svc = (n: number) => `[0:0] -A KUBE-SERVICES -d 10.96.1.${n}/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A`;

const closers: (() => unknown)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

describe('one comparison per reload', () => {
  const cases: { name: string; top: string[]; want: string[] }[] = [
    { name: 'a Service inserted at the top', top: [svc(1)], want: ['added nat KUBE-SERVICES 1'] },
    { name: 'two Services inserted at the top', top: [svc(1), svc(2)], want: ['added nat KUBE-SERVICES 1', 'added nat KUBE-SERVICES 2'] },
  ];

  it.each(cases)('file watcher: $name', async ({ top, want }) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'iptscope-once-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'node.rules');
    writeFileSync(file, dump([]));
    await sleep(200); // older than the watcher's settle time
    const initial = sourceFromText(dump([]), file);
    const store = createStore();
    const controller = createController(store, null);
    store.dispatch({ type: 'loaded', payload: toPayload(initial, { watching: true }) });
    const w = watchSource(file, sourceCallbacks(store, controller, { family: () => 'ipv4', watching: true, demo: false }), { initial, settleMs: 50, pollMs: 100 });
    closers.push(() => w.close());
    await w.ready;
    spy.mockClear();
    writeFileSync(`${file}.tmp`, dump(top));
    renameSync(`${file}.tmp`, file);
    await until(() => store.getState().changes.length > 0);
    await sleep(300); // nothing else arrives
    expect(spy).toHaveBeenCalledTimes(1);
    const s = store.getState();
    // The reducer kept the effect's own result: the very array computeChanges returned.
    expect(s.changes).toBe(spy.mock.results[0].value);
    expect(s.changes.map((c) => `${c.kind} ${c.table} ${c.chain} ${c.position}`)).toEqual(want);
    expect(s.view).not.toBeNull();
    expect(s.previous?.ruleset).toBe(initial.rulesets.ipv4!.ruleset);
  });

  it.each(cases)('live poller: $name', async ({ top, want }) => {
    const live = (text: string): LoadedSource => ({ ...sourceFromText(text, 'live'), kind: 'live', label: 'live host test' });
    const initial = live(dump([]));
    const store = createStore();
    const controller = createController(store, null);
    store.dispatch({ type: 'loaded', payload: toPayload(initial) });
    spy.mockClear();
    let reads = 0;
    const p = pollCounters(20, sourceCallbacks(store, controller, { family: () => 'ipv4', watching: false, demo: false }), {
      initial,
      read: async () => (reads++ < 1 ? initial : live(dump(top))),
    });
    closers.push(() => p.stop());
    await until(() => store.getState().changes.length > 0);
    await until(() => reads >= 4); // more reads of the same rules: no more comparisons
    expect(spy).toHaveBeenCalledTimes(1);
    const s = store.getState();
    expect(s.changes).toBe(spy.mock.results[0].value);
    expect(s.changes.map((c) => `${c.kind} ${c.table} ${c.chain} ${c.position}`)).toEqual(want);
  });
});
